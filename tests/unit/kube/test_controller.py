"""Tests for videodl.kube.controller: the machinery, run on a made-up kind of its own.

The toy kind ``Gadget`` (``toys.example.com/v1``, plural ``gadgets``) has its own record
type and reconcile; the fake client keeps objects by URL path like an apiserver (merge
patches, resourceVersions, 409 on a stale metadata patch) and records every request.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest

from videodl.kube.cache import Key
from videodl.kube.client import ApiError, Resource
from videodl.kube.controller import Controller, KeyedLocks, retry_delay

GADGETS = Resource("toys.example.com", "v1", "gadgets")


@dataclasses.dataclass(frozen=True)
class GadgetRecord:
    """What the toy controller keeps of a Gadget."""

    name: str
    uid: str
    resource_version: str | None
    colour: str
    painted: str | None


def read_gadget(body: Mapping[str, Any]) -> GadgetRecord:
    metadata = body["metadata"]
    return GadgetRecord(
        name=metadata["name"],
        uid=metadata["uid"],
        resource_version=metadata.get("resourceVersion"),
        colour=body["spec"]["colour"],
        painted=(body.get("status") or {}).get("painted"),
    )


def merge(old: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class FakeClient:
    """Objects by URL path; ``requests`` lists (method, path) of every call."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._versions = itertools.count(1)

    def add(self, name: str, colour: str, namespace: str = "toys") -> dict[str, Any]:
        body = {
            "apiVersion": "toys.example.com/v1",
            "kind": "Gadget",
            "metadata": {"namespace": namespace, "name": name, "uid": f"uid-{name}"},
            "spec": {"colour": colour},
        }
        self.objects[GADGETS.path(namespace, name)] = body
        return self._bump(body)

    def _bump(self, body: dict[str, Any]) -> dict[str, Any]:
        body["metadata"]["resourceVersion"] = str(next(self._versions))
        return copy.deepcopy(body)

    async def request(
        self, method: str, path: str, *, body: Any = None, **_: Any
    ) -> dict[str, Any]:
        self.requests.append((method, path))
        target = path.removesuffix("/status")
        stored = self.objects.get(target)
        if stored is None:
            raise ApiError(404, "NotFound", path)
        if method == "PATCH" and path.endswith("/status"):
            stored["status"] = merge(stored.get("status") or {}, body["status"])
            return self._bump(stored)
        if method == "PATCH":
            metadata = dict(body["metadata"])
            if metadata.pop("resourceVersion") != stored["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", "the object has been modified")
            stored["metadata"] = merge(stored["metadata"], metadata)
            return self._bump(stored)
        if method == "DELETE":
            assert body["preconditions"] == {"uid": stored["metadata"]["uid"]}
            del self.objects[target]
            return {}
        raise AssertionError(f"unexpected {method} {path}")


async def no_pause() -> None:
    await asyncio.sleep(0)


class GadgetController(Controller[GadgetRecord]):
    """Paints each Gadget: writes ``status.painted`` to its ``spec.colour``."""

    def __init__(self, client: FakeClient, **kwargs: Any) -> None:
        super().__init__(kube=client, resource=GADGETS, read=read_gadget, **kwargs)  # type: ignore[arg-type]
        self.calls: list[Key] = []
        self.running: set[Key] = set()
        self.overlaps = 0
        #: Exceptions to raise from the next reconciles, in order.
        self.failures: list[Exception] = []
        #: Awaited inside each reconcile, holding the key's lock.
        self.pause: Callable[[], Awaitable[None]] = no_pause

    async def reconcile(self, key: Key) -> None:
        # Counted before taking the lock: the work queue alone keeps a key to one worker.
        if key in self.running:
            self.overlaps += 1
        self.running.add(key)
        try:
            async with self.locks[key]:
                self.calls.append(key)
                await self.pause()
                if self.failures:
                    raise self.failures.pop(0)
                record = self.objects.get(key)
                if record is not None and record.painted != record.colour:
                    await self.patch_status(key, {"status": {"painted": record.colour}})
        finally:
            self.running.discard(key)


class Errors:
    """Counts like a Prometheus counter."""

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1) -> None:
        self.value += amount


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.001)


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class TestResource:
    def test_paths(self) -> None:
        """A kind's paths are built from its group, version and plural, names quoted."""
        assert GADGETS.path("toys") == "/apis/toys.example.com/v1/namespaces/toys/gadgets"
        assert GADGETS.path("toys", "a b") == (
            "/apis/toys.example.com/v1/namespaces/toys/gadgets/a%20b"
        )


class TestRetryDelay:
    def test_doubles_up_to_the_maximum(self) -> None:
        """The delay doubles with each failure in a row and stops growing at the maximum."""
        assert [retry_delay(n) for n in range(1, 5)] == [0.5, 1.0, 2.0, 4.0]
        assert retry_delay(20) == 60.0
        assert retry_delay(3, base=0.01, maximum=0.03) == 0.03


class TestKeyedLocks:
    def test_one_lock_per_key(self) -> None:
        """The same key gets the same lock until forgotten; other keys get their own."""
        locks: KeyedLocks[str] = KeyedLocks()
        assert locks["a"] is locks["a"]
        assert locks["a"] is not locks["b"]
        first = locks["a"]
        locks.forget("a")
        assert locks["a"] is not first


class TestController:
    def test_status_patches_go_to_the_kinds_path(self) -> None:
        """A reconcile's status patch is a merge patch of the toy kind's status subresource."""

        async def scenario() -> tuple[FakeClient, GadgetController]:
            client = FakeClient()
            controller = GadgetController(client)
            key = controller.observe(client.add("a", "red"), deleted=False)
            await controller.reconcile(key)
            return client, controller

        client, controller = asyncio.run(scenario())
        path = "/apis/toys.example.com/v1/namespaces/toys/gadgets/a"
        assert client.requests == [("PATCH", f"{path}/status")]
        assert client.objects[path]["status"] == {"painted": "red"}
        record = controller.objects.get(("toys", "a"))
        assert record is not None
        assert record.painted == "red"  # the write's response is in the view

    def test_nothing_runs_before_ready_and_leading(self) -> None:
        """Workers wait for the complete view and for leadership before they reconcile."""

        async def scenario() -> list[list[Key]]:
            client = FakeClient()
            controller = GadgetController(client)
            key = controller.observe(client.add("a", "red"), deleted=False)
            controller.queue.add(key)
            workers = [asyncio.create_task(controller.run_worker()) for _ in range(2)]
            seen = []
            await asyncio.sleep(0.02)
            seen.append(list(controller.calls))
            controller.leading.set()
            await asyncio.sleep(0.02)
            seen.append(list(controller.calls))
            controller.ready.set()
            await until(lambda: bool(controller.calls))
            seen.append(list(controller.calls))
            await stop(workers)
            return seen

        assert asyncio.run(scenario()) == [[], [], [("toys", "a")]]

    def test_keys_are_deduplicated_and_never_reconciled_twice_at_once(self) -> None:
        """A burst of additions of one key costs one more reconcile, never a concurrent one."""

        async def scenario() -> GadgetController:
            client = FakeClient()
            controller = GadgetController(client)
            for name in ("a", "b"):
                controller.observe(client.add(name, "red"), deleted=False)
            gate = asyncio.Event()

            async def pause() -> None:
                await gate.wait()

            controller.pause = pause
            controller.ready.set()
            controller.leading.set()
            workers = [asyncio.create_task(controller.run_worker()) for _ in range(4)]
            for _ in range(5):
                controller.queue.add(("toys", "a"))
            controller.queue.add(("toys", "b"))
            await until(lambda: len(controller.running) == 2)
            for _ in range(5):  # while "a" is in flight
                controller.queue.add(("toys", "a"))
            await asyncio.sleep(0.02)
            assert controller.running == {("toys", "a"), ("toys", "b")}
            gate.set()
            await until(lambda: len(controller.calls) == 3 and not controller.running)
            await asyncio.sleep(0.02)
            await stop(workers)
            return controller

        controller = asyncio.run(scenario())
        assert sorted(controller.calls) == [("toys", "a"), ("toys", "a"), ("toys", "b")]
        assert controller.overlaps == 0

    def test_the_lock_keeps_other_writes_out(self) -> None:
        """Another writer of the same object waits for the reconcile holding its lock."""

        async def scenario() -> list[str]:
            client = FakeClient()
            controller = GadgetController(client)
            key = controller.observe(client.add("a", "red"), deleted=False)
            order: list[str] = []

            async def pause() -> None:
                order.append("reconcile starts")
                await asyncio.sleep(0.02)
                order.append("reconcile ends")

            controller.pause = pause

            async def admit() -> None:
                await asyncio.sleep(0.005)
                async with controller.locks[key]:
                    order.append("other write")

            await asyncio.gather(controller.reconcile(key), admit())
            return order

        assert asyncio.run(scenario()) == ["reconcile starts", "reconcile ends", "other write"]

    def test_failed_reconcile_is_retried_with_a_growing_delay(self) -> None:
        """An exception counts an error and retries the key later, each time waiting longer."""

        async def scenario() -> tuple[GadgetController, list[float], Errors, FakeClient]:
            client = FakeClient()
            errors = Errors()
            controller = GadgetController(client, errors=errors, retry_base=0.02)
            controller.failures = [RuntimeError("first"), RuntimeError("second")]
            times: list[float] = []
            loop = asyncio.get_running_loop()

            async def pause() -> None:
                times.append(loop.time())

            controller.pause = pause
            key = controller.observe(client.add("a", "red"), deleted=False)
            controller.ready.set()
            controller.leading.set()
            worker = asyncio.create_task(controller.run_worker())
            controller.queue.add(key)
            await until(lambda: len(times) == 3)
            await until(lambda: not controller.running)
            await stop([worker])
            return controller, times, errors, client

        controller, times, errors, client = asyncio.run(scenario())
        assert controller.calls == [("toys", "a")] * 3
        first_wait, second_wait = times[1] - times[0], times[2] - times[1]
        assert first_wait >= 0.015
        assert second_wait >= 0.035  # doubled
        assert errors.value == 2
        assert client.requests == [("PATCH", GADGETS.path("toys", "a") + "/status")]

    def test_metadata_patch_carries_the_version_read(self) -> None:
        """A metadata patch on a changed object is refused, and the key is queued again."""

        async def scenario() -> tuple[GadgetRecord | None, GadgetRecord | None, int]:
            client = FakeClient()
            controller = GadgetController(client)
            key = controller.observe(client.add("a", "red"), deleted=False)
            record = controller.objects.get(key)
            assert record is not None
            labels = {"labels": {"checked": "yes"}}
            patched = await controller.patch_metadata(
                key, labels, resource_version=record.resource_version
            )
            stale = await controller.patch_metadata(
                key, labels, resource_version=record.resource_version
            )
            return patched, stale, len(controller.queue)

        patched, stale, queued = asyncio.run(scenario())
        assert patched is not None
        assert patched.resource_version == "2"
        assert stale is None
        assert queued == 1

    def test_delete_and_forget(self) -> None:
        """Deleting names the uid; the deleted object's record and lock are forgotten."""

        async def scenario() -> tuple[FakeClient, GadgetController]:
            client = FakeClient()
            controller = GadgetController(client)
            body = client.add("a", "red")
            key = controller.observe(body, deleted=False)
            lock = controller.locks[key]
            await controller.delete(key, uid="uid-a")
            controller.observe(body, deleted=True)
            assert controller.locks[key] is not lock
            with pytest.raises(ApiError) as gone:
                await controller.delete(key, uid="uid-a")
            assert gone.value.not_found
            return client, controller

        client, controller = asyncio.run(scenario())
        assert client.objects == {}
        assert controller.objects.get(("toys", "a")) is None
        assert client.requests == [("DELETE", GADGETS.path("toys", "a"))] * 2
