"""Tests for the container-log requests of the process node's kubelet endpoint."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl_devkit.processnode import containerlogs
from videodl_devkit.processnode.containerlogs import LogRequest, RequestError


class TestParse:
    def test_path_and_query_as_the_apiserver_sends_them(self) -> None:
        """The apiserver's proxied request names namespace, Pod, container and the options."""
        request = containerlogs.parse(
            "/containerLogs/media/clip-abc-r1/worker?follow=true&tailLines=10&limitBytes=500"
            "&previous=false&timestamps=true"
        )
        assert request == LogRequest(
            namespace="media",
            pod="clip-abc-r1",
            container="worker",
            follow=True,
            tail_lines=10,
            limit_bytes=500,
        )

    def test_defaults(self) -> None:
        """Without a query everything is sent once, from the latest run."""
        assert containerlogs.parse("/containerLogs/a/b/c") == LogRequest("a", "b", "c")

    @pytest.mark.parametrize(
        ("target", "status", "text"),
        [
            ("/containerLogs/a/b", 404, "no such endpoint"),
            ("/exec/a/b/c", 404, "no such endpoint"),
            ("/containerLogs/a/b/c?tailLines=x", 400, "tailLines='x' is not a whole number"),
            ("/containerLogs/a/b/c?limitBytes=-1", 400, "limitBytes must be 0 or more"),
        ],
    )
    def test_bad_requests(self, target: str, status: int, text: str) -> None:
        """A wrong path is 404, a bad option 400, each with a message saying why."""
        with pytest.raises(RequestError, match=text) as caught:
            containerlogs.parse(target)
        assert caught.value.status == status


class TestChooseRun:
    def test_latest_or_previous(self) -> None:
        """The latest restart is served; previous is the one before, if any."""
        assert containerlogs.choose_run([0, 2, 1], previous=False) == 2
        assert containerlogs.choose_run([0, 2, 1], previous=True) == 1
        assert containerlogs.choose_run([0], previous=True) is None
        assert containerlogs.choose_run([], previous=False) is None


class TestTail:
    def test_last_lines(self) -> None:
        """tailLines keeps the last lines, a last line without newline counting as one."""
        assert containerlogs.tail(b"a\nb\nc\n", 2) == b"b\nc\n"
        assert containerlogs.tail(b"a\nb\nc", 1) == b"c"
        assert containerlogs.tail(b"a\nb\n", 0) == b""
        assert containerlogs.tail(b"a\nb\n", None) == b"a\nb\n"
        assert containerlogs.tail(b"a\n", 5) == b"a\n"

    @given(st.lists(st.text(alphabet="xyz", max_size=5), max_size=10), st.integers(0, 12))
    def test_is_a_suffix_with_at_most_n_lines(self, lines: list[str], count: int) -> None:
        """The tail is a suffix of the log with min(n, all) lines."""
        data = "".join(line + "\n" for line in lines).encode()
        kept = containerlogs.tail(data, count)
        assert data.endswith(kept)
        assert kept.count(b"\n") == min(count, len(lines))
