"""The watch on the breaker's ConfigMap: snapshots, deletions and reconnects."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from videodl.breaker import watch
from videodl.breaker.store import Snapshot

NS, NAME = "videodl-system", "videodl-breaker"


def _configmap(version: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": NAME, "namespace": NS, "uid": "u-1", "resourceVersion": version},
        "data": data,
    }


class FakeWatchClient:
    """Serves one list of watch events per connection, then blocks until released."""

    def __init__(self, connections: list[list[dict[str, Any]]]) -> None:
        self.connections = connections
        self.requests: list[tuple[str, dict[str, str], int]] = []
        self.released = threading.Event()

    def watch(
        self, path: str, *, query: Mapping[str, str] | None = None, timeout_seconds: int = 240
    ) -> Iterator[dict[str, Any]]:
        self.requests.append((path, dict(query or {}), timeout_seconds))
        if not self.connections:
            self.released.wait(5)
            return
        yield from self.connections.pop(0)


def _run(client: FakeWatchClient, expected: int) -> tuple[list[Snapshot | None], int]:
    seen: list[Snapshot | None] = []
    done = threading.Event()

    def on_change(snapshot: Snapshot | None) -> None:
        seen.append(snapshot)
        if len(seen) == expected:
            done.set()

    watcher = watch.ConfigMapWatch(
        client=client,  # type: ignore[arg-type]
        namespace=NS,
        name=NAME,
        on_change=on_change,
    )
    watcher.start()
    assert done.wait(5)
    client.released.set()
    watcher.stop(timeout=5)
    return seen, watcher.connections


class TestConfigMapWatch:
    def test_snapshots_and_deletion_reach_the_callback(self) -> None:
        """Added and modified objects arrive as snapshots, a deletion as None."""
        client = FakeWatchClient(
            [
                [
                    {"type": "ADDED", "object": _configmap("1", {})},
                    {"type": "MODIFIED", "object": _configmap("2", {"site": "v"})},
                    {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "3"}}},
                    {"type": "DELETED", "object": _configmap("4", {})},
                ]
            ]
        )
        seen, _ = _run(client, expected=3)
        assert [s.resource_version if s else None for s in seen] == ["1", "2", None]
        assert seen[1] is not None
        assert seen[1].data == {"site": "v"}
        path, query, timeout = client.requests[0]
        assert path == f"/api/v1/namespaces/{NS}/configmaps"
        assert query == {"fieldSelector": f"metadata.name={NAME}"}
        assert timeout == 240

    def test_reconnects_after_an_error_event(self) -> None:
        """A watch the apiserver ends with an error is opened again, from the current object."""
        gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "gone"}}
        client = FakeWatchClient(
            [
                [{"type": "ADDED", "object": _configmap("1", {})}, gone],
                [{"type": "ADDED", "object": _configmap("7", {})}],
            ]
        )
        seen, connections = _run(client, expected=2)
        assert [s.resource_version if s else None for s in seen] == ["1", "7"]
        assert connections >= 2
