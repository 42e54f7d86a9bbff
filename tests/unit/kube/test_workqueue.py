"""Tests for videodl.kube.workqueue: de-duplicated, one-at-a-time keys."""

from __future__ import annotations

import asyncio

from videodl.kube.workqueue import WorkQueue


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


class TestWorkQueue:
    def test_duplicates_collapse(self) -> None:
        """A key added twice while waiting is processed once."""

        async def scenario() -> list[str]:
            queue: WorkQueue[str] = WorkQueue()
            for key in ("a", "b", "a", "a"):
                queue.add(key)
            got = [await queue.get(), await queue.get()]
            assert len(queue) == 0
            return got

        assert run(scenario()) == ["a", "b"]

    def test_added_while_processing_comes_back_after_done(self) -> None:
        """A key added while in flight is not handed out twice, but comes back after done."""

        async def scenario() -> list[str]:
            queue: WorkQueue[str] = WorkQueue()
            queue.add("a")
            first = await queue.get()
            queue.add("a")
            assert len(queue) == 0  # not while "a" is processed
            queue.done(first)
            second = await asyncio.wait_for(queue.get(), timeout=1)
            return [first, second]

        assert run(scenario()) == ["a", "a"]

    def test_waiting_consumers_wake(self) -> None:
        """A consumer waiting on an empty queue gets the next key."""

        async def scenario() -> str:
            queue: WorkQueue[str] = WorkQueue()
            waiter = asyncio.create_task(queue.get())
            await asyncio.sleep(0)
            queue.add("x")
            return await asyncio.wait_for(waiter, timeout=1)

        assert run(scenario()) == "x"

    def test_add_after(self) -> None:
        """A delayed key arrives after its delay."""

        async def scenario() -> float:
            queue: WorkQueue[str] = WorkQueue()
            loop = asyncio.get_running_loop()
            started = loop.time()
            queue.add_after("late", 0.05)
            await asyncio.wait_for(queue.get(), timeout=1)
            return loop.time() - started

        elapsed = run(scenario())
        assert isinstance(elapsed, float)
        assert elapsed >= 0.04
