"""Tests for videodl.reconcile.playlist.naming: deterministic names, valid labels."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from videodl.reconcile.playlist import naming

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
NAMES = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,250}[a-z0-9])?", fullmatch=True)


class TestChildName:
    def test_deterministic(self) -> None:
        """The same playlist and video id give the same name; another id another name."""
        assert naming.child_name("shows", "abc") == naming.child_name("shows", "abc")
        assert naming.child_name("shows", "abc") != naming.child_name("shows", "abd")
        assert naming.child_name("shows", "abc").startswith("shows-")

    @given(NAMES, st.text(min_size=1, max_size=300))
    def test_valid(self, playlist: str, video_id: str) -> None:
        """Every child name is a DNS label of at most 63 characters."""
        name = naming.child_name(playlist, video_id)
        assert len(name) <= 63
        assert DNS_LABEL.fullmatch(name)


class TestLabels:
    @given(st.text(min_size=1, max_size=200))
    def test_video_label_valid(self, video_id: str) -> None:
        """Any id becomes a valid label value: itself when it is one, else its hash."""
        label = naming.video_label(video_id)
        assert len(label) <= 63
        assert LABEL_VALUE.fullmatch(label)

    def test_plain_id_kept(self) -> None:
        """A label-safe id is used as it is."""
        assert naming.video_label("dQw4w9WgXcQ") == "dQw4w9WgXcQ"

    @given(NAMES)
    def test_chunk_and_pod_names(self, playlist: str) -> None:
        """Chunk names are subdomains of at most 253; indexer Pod names DNS labels."""
        chunks = naming.chunk_names(playlist, "uid-1", 10)
        assert len(set(chunks)) == 10
        assert all(len(c) <= 253 for c in chunks)
        pod = naming.indexer_pod_name(playlist, "uid-1", 3, 2)
        assert len(pod) <= 63
        assert DNS_LABEL.fullmatch(pod)
