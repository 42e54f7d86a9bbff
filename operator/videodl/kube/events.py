"""Kubernetes Events: the one builder of core/v1 Event objects, and the operator's poster.

Events are a courtesy to people running ``kubectl describe``; a reconcile never waits for
one and never fails because one could not be posted. :func:`event_object` builds the Event
about any object (:class:`InvolvedObject`): the VideoDownloads, whose Events
:class:`Recorder` posts in the background so that ``kubectl describe vdl`` and
``kubectl events`` show them, and the circuit breaker's ConfigMap
(:mod:`videodl.breaker.events`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import secrets
import socket
from typing import Any, Final

from videodl.api.resource import API_VERSION, KIND, MANAGER
from videodl.core import times
from videodl.kube.client import ApiError, Kube
from videodl.reconcile.download import plan

__all__ = ["InvolvedObject", "Recorder", "event_object"]

_MAX_PENDING: Final = 10_000
_MESSAGE_CHARS: Final = 1024

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class InvolvedObject:
    """The object an Event is about, as its ``involvedObject`` names it."""

    api_version: str
    kind: str
    namespace: str
    name: str
    #: Empty when not known (the object could not be read); the reference then omits it.
    uid: str = ""
    resource_version: str | None = None

    def reference(self) -> dict[str, Any]:
        """The ``involvedObject`` field."""
        reference: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
        }
        if self.uid:
            reference["uid"] = self.uid
        if self.resource_version:
            reference["resourceVersion"] = self.resource_version
        return reference


def event_object(
    involved: InvolvedObject,
    *,
    type_: str,
    reason: str,
    message: str,
    now: datetime.datetime,
    instance: str,
    suffix: str,
) -> dict[str, Any]:
    """The core/v1 Event object about ``involved``; ``suffix`` makes its name unique.

    ``type_`` is ``Normal`` or ``Warning``; ``reason`` is CamelCase and also the action.
    """
    stamp = times.format_time(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{involved.name}.{suffix}", "namespace": involved.namespace},
        "involvedObject": involved.reference(),
        "type": type_,
        "reason": reason,
        "message": message[:_MESSAGE_CHARS],
        "source": {"component": MANAGER},
        "reportingComponent": f"videodl.dev/{MANAGER}",
        "reportingInstance": instance,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "eventTime": None,
        "count": 1,
        "action": reason,
    }


class Recorder:
    """Posts Events from a background task; drops them when the backlog is absurd."""

    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=_MAX_PENDING)
        self._instance = socket.gethostname()[:128] or MANAGER
        self._tasks: list[asyncio.Task[None]] = []
        self.posted = 0

    def record(
        self,
        *,
        namespace: str,
        name: str,
        uid: str,
        resource_version: str | None,
        events: tuple[plan.Event, ...],
    ) -> None:
        """Queue ``events`` about one VideoDownload."""
        now = datetime.datetime.now(datetime.UTC)
        involved = InvolvedObject(
            api_version=API_VERSION,
            kind=KIND,
            namespace=namespace,
            name=name,
            uid=uid,
            resource_version=resource_version,
        )
        for event in events:
            body = event_object(
                involved,
                type_=event.type,
                reason=event.reason,
                message=event.message,
                now=now,
                instance=self._instance,
                suffix=secrets.token_hex(8),
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
