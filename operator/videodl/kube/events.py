"""Kubernetes Events about VideoDownloads, posted in the background.

Events are a courtesy to people running ``kubectl describe``; a reconcile never waits for
one and never fails because one could not be posted. They are core/v1 Events with the
VideoDownload as ``involvedObject``, so ``kubectl describe vdl`` and ``kubectl events``
show them.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
import socket
from typing import Any, Final

from videodl.api.resource import API_VERSION, KIND
from videodl.kube.client import ApiError, Kube
from videodl.reconcile.download import transitions

__all__ = ["COMPONENT", "Recorder", "event_object"]

COMPONENT: Final = "videodl-operator"
_MAX_PENDING: Final = 10_000

logger = logging.getLogger(__name__)


def event_object(
    *,
    namespace: str,
    name: str,
    uid: str,
    resource_version: str | None,
    event: transitions.Event,
    now: datetime.datetime,
    instance: str,
) -> dict[str, Any]:
    """The core/v1 Event object for ``event`` about one VideoDownload."""
    stamp = now.astimezone(datetime.UTC)
    involved: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": name,
        "namespace": namespace,
        "uid": uid,
    }
    if resource_version:
        involved["resourceVersion"] = resource_version
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": involved,
        "type": event.type,
        "reason": event.reason,
        "message": event.message[:1024],
        "source": {"component": COMPONENT},
        "reportingComponent": f"videodl.dev/{COMPONENT}",
        "reportingInstance": instance,
        "firstTimestamp": stamp.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "lastTimestamp": stamp.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "eventTime": None,
        "count": 1,
        "action": event.reason,
    }


class Recorder:
    """Posts Events from a background task; drops them when the backlog is absurd."""

    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=_MAX_PENDING)
        self._instance = socket.gethostname()[:128] or COMPONENT
        self._tasks: list[asyncio.Task[None]] = []
        self.posted = 0

    def record(
        self,
        *,
        namespace: str,
        name: str,
        uid: str,
        resource_version: str | None,
        events: tuple[transitions.Event, ...],
    ) -> None:
        """Queue ``events`` about one VideoDownload."""
        now = datetime.datetime.now(datetime.UTC)
        for event in events:
            body = event_object(
                namespace=namespace,
                name=name,
                uid=uid,
                resource_version=resource_version,
                event=event,
                now=now,
                instance=self._instance,
            )
            try:
                self._queue.put_nowait(body)
            except asyncio.QueueFull:
                logger.warning("event backlog full; dropped %s %s", event.reason, name)

    def start(self, workers: int = 4) -> None:
        self._tasks = [asyncio.create_task(self._run(), name="events") for _ in range(workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _run(self) -> None:
        while True:
            body = await self._queue.get()
            try:
                await self._kube.create_event(body["metadata"]["namespace"], body)
                self.posted += 1
            except ApiError as exc:
                # The object's namespace may be gone already; an Event is not worth a retry.
                logger.debug("event %s not posted: %s", body["reason"], exc)
            finally:
                self._queue.task_done()
