"""Tests for videodl.kube.informer: paged lists, resumed watches, relists after 410."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from videodl.kube.cache import Key
from videodl.kube.client import ApiError
from videodl.kube.informer import Informer


def obj(name: str, version: int, namespace: str = "media") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "resourceVersion": str(version)}}


class ScriptedClient:
    """A collection's LIST pages and WATCH streams, played in order."""

    def __init__(
        self,
        objects: list[dict[str, Any]],
        watches: list[list[dict[str, Any]] | Exception],
        *,
        version: int = 100,
    ) -> None:
        self.objects = objects
        self.watches = watches
        self.version = version
        self.requests: list[dict[str, str]] = []
        self.watched_from: list[str] = []
        self.done = threading.Event()

    def request(
        self, method: str, path: str, *, query: Mapping[str, str] | None = None, **_: Any
    ) -> dict[str, Any]:
        assert method == "GET"
        query = dict(query or {})
        self.requests.append(query)
        start = int(query.get("continue") or 0)
        size = int(query["limit"])
        items = self.objects[start : start + size]
        more = start + size < len(self.objects)
        metadata = {"resourceVersion": str(self.version)}
        if more:
            metadata["continue"] = str(start + size)
        return {"metadata": metadata, "items": items}

    def watch(
        self, path: str, *, query: Mapping[str, str] | None = None, timeout_seconds: int = 0
    ) -> Iterator[dict[str, Any]]:
        self.watched_from.append(dict(query or {})["resourceVersion"])
        if not self.watches:
            self.done.set()
            threading.Event().wait(0.05)
            return
        script = self.watches.pop(0)
        if isinstance(script, Exception):
            raise script
        yield from script


class Recording:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bool]] = []
        self.listed: list[tuple[str | None, frozenset[Key]]] = []

    def on_object(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        meta = body["metadata"]
        self.seen.append((meta["name"], meta["resourceVersion"], deleted))

    def on_listed(self, namespace: str | None, keys: frozenset[Key]) -> None:
        self.listed.append((namespace, keys))


def run(
    client: ScriptedClient,
    receiver: Recording | None = None,
    on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    **kwargs: Any,
) -> tuple[Recording, Informer]:
    """Run an informer over ``client`` until its script is played (``on_loop``: called
    with the event loop first)."""
    receiving = receiver or Recording()

    async def scenario() -> tuple[Recording, Informer]:
        loop = asyncio.get_running_loop()
        if on_loop is not None:
            on_loop(loop)
        informer = Informer(
            client,  # type: ignore[arg-type]
            "/apis/videodl.dev/v1alpha1/namespaces/media/videodownloads",
            receiver=receiving,
            loop=loop,
            namespace="media",
            **kwargs,
        )
        informer.start()
        await asyncio.wait_for(informer.synced.wait(), 5)
        while not client.done.is_set():
            await asyncio.sleep(0.01)
        informer.stop()
        await asyncio.sleep(0.05)  # deliveries queued before the stop
        return receiving, informer

    return asyncio.run(scenario())


def test_lists_in_pages_then_watches_from_the_list_version() -> None:
    objects = [obj(f"d{i}", 10 + i) for i in range(7)]
    client = ScriptedClient(
        objects, [[{"type": "MODIFIED", "object": obj("d1", 120)}]], version=100
    )
    receiver, informer = run(client, page_size=3)
    assert [q.get("continue") for q in client.requests] == [None, "3", "6"]
    assert all(q["limit"] == "3" for q in client.requests)
    assert [name for name, _, _ in receiver.seen[:7]] == [f"d{i}" for i in range(7)]
    assert receiver.seen[7] == ("d1", "120", False)
    ((namespace, keys),) = receiver.listed
    assert namespace == "media"
    assert keys == {("media", f"d{i}") for i in range(7)}
    assert client.watched_from[0] == "100"
    assert informer.listings == 1


def test_a_watch_resumes_from_the_last_version_seen_and_bookmarks_count() -> None:
    client = ScriptedClient(
        [obj("d0", 10)],
        [
            [{"type": "ADDED", "object": obj("d1", 110)}],
            [{"type": "BOOKMARK", "object": obj("", 150)}],
            [{"type": "DELETED", "object": obj("d0", 160)}],
        ],
    )
    receiver, informer = run(client)
    assert client.watched_from[:3] == ["100", "110", "150"]
    assert ("d0", "160", True) in receiver.seen
    assert informer.listings == 1


def test_gone_lists_again_and_reports_what_exists() -> None:
    client = ScriptedClient(
        [obj("d0", 10), obj("d1", 11)],
        [[{"type": "ERROR", "object": {"code": 410, "message": "too old"}}]],
    )
    client_objects_after = [obj("d1", 200)]

    original = client.request

    def relisted(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if len(client.requests) >= 1:
            client.objects = client_objects_after
        return original(method, path, **kwargs)

    client.request = relisted  # type: ignore[method-assign]
    receiver, informer = run(client)
    assert informer.listings == 2
    assert [keys for _, keys in receiver.listed] == [
        {("media", "d0"), ("media", "d1")},
        {("media", "d1")},
    ]


def test_a_broken_connection_is_retried_from_the_same_version() -> None:
    client = ScriptedClient(
        [obj("d0", 10)],
        [ApiError(0, "ConnectionError", "reset"), [{"type": "ADDED", "object": obj("d2", 130)}]],
    )
    receiver, informer = run(client)
    assert client.watched_from[:2] == ["100", "100"]
    assert ("d2", "130", False) in receiver.seen
    assert informer.listings == 1


def test_the_label_selector_goes_with_every_request() -> None:
    client = ScriptedClient([obj("p0", 10)], [])
    run(client, label_selector="app.kubernetes.io/managed-by=videodl-operator")
    assert client.requests[0]["labelSelector"] == "app.kubernetes.io/managed-by=videodl-operator"


def test_a_kind_not_installed_lists_as_empty_and_is_looked_for_again() -> None:
    client = ScriptedClient([obj("d0", 10)], [])
    original = client.request
    calls = {"n": 0}

    def missing_first(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return original(method, path, **kwargs)

    client.request = missing_first  # type: ignore[method-assign]
    receiver, informer = run(client)
    assert receiver.listed[0] == ("media", frozenset())
    assert ("media", frozenset({("media", "d0")})) in receiver.listed
    assert informer.listings == 2


class Flaky(Recording):
    """Fails on one object, as a receiver with a bug would."""

    def on_object(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        if body["metadata"]["name"] == "d3":
            raise RuntimeError("receiver failed")
        super().on_object(body, deleted=deleted)


def test_objects_arrive_in_order_in_batches_and_a_failing_one_drops_no_other() -> None:
    """Deliveries are handed to the loop in batches: fewer wake-ups than objects, the order
    kept, and an object the receiver fails on leaves the others delivered."""
    objects = [obj(f"d{i}", 10 + i) for i in range(2000)]
    client = ScriptedClient(objects, [[{"type": "MODIFIED", "object": obj("d1", 5000)}]])

    wakes = 0

    def count_wakes(loop: asyncio.AbstractEventLoop) -> None:
        original = loop.call_soon_threadsafe

        def counted(callback: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal wakes
            wakes += 1
            return original(callback, *args, **kwargs)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]

    receiver, _ = run(client, Flaky(), count_wakes)
    names = [name for name, _, _ in receiver.seen]
    assert names == [f"d{i}" for i in range(2000) if i != 3] + ["d1"]
    assert len(receiver.listed) == 1
    assert wakes < len(objects) / 2
