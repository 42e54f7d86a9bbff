"""Tests for videodl.reconcile.download.naming: deterministic Pod names and labels."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.reconcile.download import naming

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAMES = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,80}[a-z0-9])?", fullmatch=True)


class TestWorkerPodName:
    def test_same_input_same_name(self) -> None:
        """The name depends only on the download's name, uid and run."""
        assert naming.worker_pod_name("clip", "uid-1", 2) == naming.worker_pod_name(
            "clip", "uid-1", 2
        )
        assert naming.worker_pod_name("clip", "uid-1", 2) != naming.worker_pod_name(
            "clip", "uid-2", 2
        )
        assert naming.worker_pod_name("clip", "uid-1", 2).endswith("-r2")

    @given(NAMES, st.uuids(), st.integers(min_value=1, max_value=10**6))
    def test_valid_and_reversible(self, name: str, uid: object, run: int) -> None:
        """Every name is a DNS label of at most 63 characters whose run can be read back."""
        pod_name = naming.worker_pod_name(name, str(uid), run)
        assert len(pod_name) <= 63
        assert DNS_LABEL.match(pod_name)
        assert naming.run_of(pod_name) == run

    def test_run_must_be_positive(self) -> None:
        """Run 0 does not exist."""
        with pytest.raises(ValueError, match="run must be 1 or more"):
            naming.worker_pod_name("clip", "uid", 0)

    def test_run_of_other_names(self) -> None:
        """Names without a run suffix have no run."""
        assert naming.run_of(None) is None
        assert naming.run_of("clip-abc123-cleanup1") is None
        assert naming.run_of("clip-r0") is None


class TestLabels:
    def test_long_names_use_the_uid(self) -> None:
        """A name too long for a label value is replaced by the uid."""
        assert naming.download_label("short", "uid") == "short"
        assert naming.download_label("x" * 64, "uid") == "uid"

    def test_selector(self) -> None:
        """The Pod selector names the manager and the instance."""
        assert naming.pod_selector("prod") == (
            "app.kubernetes.io/managed-by=videodl-operator,app.kubernetes.io/instance=prod"
        )
