"""Tests for the list-then-watch loop, with a scripted stand-in for the API client."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from kubernetes.client.exceptions import ApiException

from videodl_devkit.processnode import watchloop


def obj(name: str, version: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": version}}


class ScriptedKube:
    """Answers lists and watches from scripts; sets stop when the scripts run out."""

    def __init__(
        self,
        lists: list[Any],
        watches: list[list[dict[str, Any]] | Exception],
        stop: threading.Event,
    ) -> None:
        self.lists = lists
        self.watches = watches
        self.stop = stop
        self.watch_versions: list[str] = []

    def get(self, api_path: str, *, query: Any = None) -> dict[str, Any]:
        answer = self.lists.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def watch(self, api_path: str, *, query: Any, timeout_seconds: int) -> Iterator[dict[str, Any]]:
        self.watch_versions.append(str(query["resourceVersion"]))
        if not self.watches:
            self.stop.set()
            return
        script = self.watches.pop(0)
        if isinstance(script, Exception):
            raise script
        yield from script


def run(
    kube: ScriptedKube, stop: threading.Event, on_event: Any = None
) -> tuple[list[list[str]], list[tuple[str, str]]]:
    listed: list[list[str]] = []
    events: list[tuple[str, str]] = []

    def record(kind: str, item: dict[str, Any]) -> None:
        events.append((kind, item["metadata"]["name"]))
        if on_event is not None:
            on_event(kind, item)

    watchloop.run(
        kube,  # type: ignore[arg-type]
        "/api/v1/pods",
        query={},
        on_list=lambda items: listed.append([i["metadata"]["name"] for i in items]),
        on_event=record,
        stop=stop,
        logger=logging.getLogger("test"),
    )
    return listed, events


class TestRun:
    def test_list_then_watch_from_the_list_version(self) -> None:
        """The watch starts at the list's resourceVersion and continues from the last event."""
        stop = threading.Event()
        kube = ScriptedKube(
            lists=[{"metadata": {"resourceVersion": "10"}, "items": [obj("a", "9")]}],
            watches=[
                [
                    {"type": "ADDED", "object": obj("b", "11")},
                    {"type": "BOOKMARK", "object": obj("", "12")},
                ],
                [{"type": "DELETED", "object": obj("a", "13")}],
            ],
            stop=stop,
        )
        listed, events = run(kube, stop)
        assert listed == [["a"]]
        assert events == [("ADDED", "b"), ("DELETED", "a")]
        assert kube.watch_versions == ["10", "12", "13"]

    def test_gone_relists(self) -> None:
        """A 410 Gone error event leads to a fresh list and a watch from its version."""
        stop = threading.Event()
        kube = ScriptedKube(
            lists=[
                {"metadata": {"resourceVersion": "5"}, "items": [obj("a", "5")]},
                {"metadata": {"resourceVersion": "50"}, "items": [obj("b", "50")]},
            ],
            watches=[[{"type": "ERROR", "object": {"code": 410, "message": "too old"}}]],
            stop=stop,
        )
        listed, _ = run(kube, stop)
        assert listed == [["a"], ["b"]]
        assert kube.watch_versions == ["5", "50"]

    def test_gone_status_relists(self) -> None:
        """A watch refused with HTTP 410 also leads to a fresh list."""
        stop = threading.Event()
        kube = ScriptedKube(
            lists=[
                {"metadata": {"resourceVersion": "5"}, "items": []},
                {"metadata": {"resourceVersion": "60"}, "items": []},
            ],
            watches=[ApiException(status=410, reason="Gone")],
            stop=stop,
        )
        run(kube, stop)
        assert kube.watch_versions == ["5", "60"]

    def test_failures_are_retried(self) -> None:
        """A failing list or a broken stream is retried after a pause, not fatal."""
        stop = threading.Event()
        kube = ScriptedKube(
            lists=[
                ConnectionError("refused"),
                {"metadata": {"resourceVersion": "1"}, "items": []},
                {"metadata": {"resourceVersion": "2"}, "items": []},
            ],
            watches=[RuntimeError("stream broke")],
            stop=stop,
        )
        listed, _ = run(kube, stop)
        assert listed == [[], []]

    def test_handler_errors_do_not_stop_the_loop(self) -> None:
        """An exception from the event handler is logged and the next event still arrives."""
        stop = threading.Event()
        kube = ScriptedKube(
            lists=[{"metadata": {"resourceVersion": "1"}, "items": []}],
            watches=[
                [
                    {"type": "ADDED", "object": obj("bad", "2")},
                    {"type": "ADDED", "object": obj("good", "3")},
                ]
            ],
            stop=stop,
        )

        def explode(kind: str, item: dict[str, Any]) -> None:
            if item["metadata"]["name"] == "bad":
                raise ValueError("bad pod")

        _, events = run(kube, stop, explode)
        assert events == [("ADDED", "bad"), ("ADDED", "good")]
