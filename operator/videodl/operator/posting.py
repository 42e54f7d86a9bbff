"""Events about the operator's own kinds, posted without holding up the reconcile.

A reconcile hands an Event over and goes on; a background task posts it, and a failure
to post is logged, never raised: an Event is a report, not part of the state.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from videodl.api.resource import API_VERSION
from videodl.kube.client import ApiError, Kube
from videodl.kube.events import InvolvedObject, event_object

__all__ = ["EventPoster", "Posted"]

logger = logging.getLogger(__name__)


class Posted(Protocol):
    """What an Event needs of the object it is about."""

    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def uid(self) -> str: ...
    @property
    def resource_version(self) -> str | None: ...


class EventPoster:
    """Posts ``(type, reason, message)`` Events about objects of one kind."""

    def __init__(
        self,
        events: Kube,
        *,
        kind: str,
        instance: str,
        clock: Callable[[], datetime.datetime],
    ) -> None:
        self._events = events
        self._kind = kind
        self._instance = instance
        self._clock = clock
        #: Events being posted (kept referenced until they are done).
        self._pending: set[asyncio.Task[None]] = set()

    def post(self, about: Posted, event: tuple[str, str, str]) -> None:
        kind, reason, message = event
        involved = InvolvedObject(
            api_version=API_VERSION,
            kind=self._kind,
            namespace=about.namespace,
            name=about.name,
            uid=about.uid,
            resource_version=about.resource_version,
        )
        body = event_object(
            involved,
            type_=kind,
            reason=reason,
            message=message,
            now=self._clock(),
            instance=self._instance,
            suffix=secrets.token_hex(8),
        )
        task = asyncio.get_running_loop().create_task(self._send(about.namespace, body))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, namespace: str, body: Mapping[str, Any]) -> None:
        try:
            await self._events.create_event(namespace, body)
        except ApiError as exc:
            logger.debug("event %s not posted: %s", body.get("reason"), exc)
