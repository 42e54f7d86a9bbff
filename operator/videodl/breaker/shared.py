"""The breaker state every operator process shares through the ConfigMap: one process's side.

:class:`SharedState` keeps this process in step with the ConfigMap:

- a copy of it, kept current by a watch (:mod:`.watch`) and by the responses to this
  process's own writes, decoded per site, so the common admission check (a closed site)
  costs no API call;
- conditional writes of a site's state through :class:`~videodl.breaker.store.ConfigMapStore`
  that decide again on the fresh state after a conflict, so several operator processes never
  lose an update or hand out more probe slots than configured;
- administrators' commands (:mod:`.admin`), applied as soon as the copy shows them;
- announcements: every transition is announced once, by the process that wrote it, with a
  log line, the trip counter and an Event on the ConfigMap; every process keeps the state
  gauge of each site current from its copy.

What to write is decided by the admission gate (:mod:`.gate`) with the pure state machine
(:mod:`videodl.core.breaker`).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

from videodl.api.resource import MANAGER
from videodl.breaker import admin, events
from videodl.breaker.metrics import BreakerMetrics
from videodl.breaker.store import Change, ConfigMapStore, Snapshot
from videodl.breaker.watch import ConfigMapWatch
from videodl.core import breaker, breaker_state
from videodl.kube.cache import newer_or_same

__all__ = ["STORE_RETRY_SECONDS", "EventPoster", "SharedState", "Step"]

logger = logging.getLogger(__name__)

R = TypeVar("R")
EventPoster = Callable[[str, Mapping[str, Any]], Awaitable[None]]
"""Posts an Event object into a namespace (``Kube.create_event``)."""
Step = Callable[
    [breaker_state.SiteState], tuple[breaker_state.SiteState, breaker.Transition | None, R]
]
"""A pure step of the state machine: the new state, its transition and a result."""

#: Pause in recording outcomes after the ConfigMap could not be read or written.
STORE_RETRY_SECONDS: Final = 30
_AUTOMATIC_TRIPS: Final = frozenset(
    {breaker.TransitionReason.TRIPPED, breaker.TransitionReason.PROBE_FAILED}
)


def _newer(candidate: Snapshot, current: Snapshot | None) -> bool:
    if current is None:
        return True
    # The same version again (a watch event for this process's own write) changes nothing.
    return candidate.resource_version != current.resource_version and newer_or_same(
        candidate.resource_version, current.resource_version
    )


class SharedState:
    """This process's copy of the breaker ConfigMap, and every write and announcement."""

    def __init__(
        self,
        *,
        store: ConfigMapStore,
        metrics: BreakerMetrics | None,
        post_event: EventPoster | None,
        wake: Callable[[], None],
        clock: Callable[[], datetime.datetime],
        instance: str | None,
    ) -> None:
        self.store = store
        self._metrics = metrics
        self._post_event = post_event
        self._wake = wake
        self._clock = clock
        self._instance = instance or socket.gethostname()[:128] or MANAGER
        self._watch: ConfigMapWatch | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._snapshot: Snapshot | None = None
        self._decoded: dict[str, tuple[str, breaker_state.SiteState]] = {}
        #: The version of the copy at which every site was last found closed.
        self._closed_at: str | None = None
        #: One lock per site: writes for a site run one at a time, and an admission check
        #: waits for a write in flight (an outcome that may trip the site) before deciding.
        self._site_locks: dict[str, asyncio.Lock] = {}
        self._command_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self._commands_pending = False
        self._bad_values: set[tuple[str, str]] = set()
        #: Until when (monotonic) outcomes are not recorded because the ConfigMap failed.
        self._store_down_until = 0.0

    # --- life cycle ---------------------------------------------------------------------

    async def start(self, *, watch: bool) -> None:
        """Read (or create) the ConfigMap and, with ``watch``, start watching it."""
        self._loop = asyncio.get_running_loop()
        try:
            self.observe(await asyncio.to_thread(self.store.read))
        except Exception as exc:  # noqa: BLE001 - a breaker must never stop downloads
            logger.error(
                "circuit breaker ConfigMap %s/%s cannot be read or created (%s); every site "
                "counts as closed until it can be (check the namespace and RBAC)",
                self.store.namespace,
                self.store.name,
                exc,
            )
            self.pause_recording()
        if watch:
            self._watch = ConfigMapWatch(
                client=self.store.client,
                namespace=self.store.namespace,
                name=self.store.name,
                on_change=self._from_watch,
            )
            self._watch.start()

    async def stop(self) -> None:
        """Stop the watch and wait for Events still being posted."""
        if self._watch is not None:
            await asyncio.to_thread(self._watch.stop)
            self._watch = None
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def drain(self) -> None:
        """Wait until commands being applied and Events being posted are done."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    # --- recording pauses -------------------------------------------------------------------

    def recording_paused(self) -> bool:
        """Whether outcomes are dropped for now, the ConfigMap having been unusable."""
        return time.monotonic() < self._store_down_until

    def pause_recording(self) -> None:
        """Drop outcomes for :data:`STORE_RETRY_SECONDS`, or until the ConfigMap is seen."""
        self._store_down_until = time.monotonic() + STORE_RETRY_SECONDS

    # --- the ConfigMap copy ---------------------------------------------------------------

    def observe(self, snapshot: Snapshot | None) -> None:
        """Take a newer ConfigMap snapshot (``None``: it was deleted) into the copy."""
        if snapshot is None:
            self._snapshot = None
            self._decoded.clear()
            self._refresh_metrics({})
            self._wake()
            return
        if not _newer(snapshot, self._snapshot):
            return
        self._snapshot = snapshot
        self._store_down_until = 0.0  # it exists and can be read: record outcomes again
        self._refresh_metrics(snapshot.data)
        if any(a in snapshot.annotations for a in admin.COMMAND_ANNOTATIONS):
            self._schedule_commands()
        self._wake()

    def state(self, site: str) -> breaker_state.SiteState:
        """The state of ``site`` as last seen (closed when it has no key)."""
        value = self._snapshot.data.get(site) if self._snapshot is not None else None
        return self._decode(site, value)

    def every_site_closed(self) -> bool:
        """Whether every site is closed and no write is in flight: any download may start,
        whichever site it belongs to."""
        if any(lock.locked() for lock in self._site_locks.values()):
            return False
        snapshot = self._snapshot
        if snapshot is None:
            return True
        if self._closed_at != snapshot.resource_version:
            closed = all(
                self._decode(site, value).state is breaker_state.State.CLOSED
                for site, value in snapshot.data.items()
            )
            self._closed_at = snapshot.resource_version if closed else None
        return self._closed_at == snapshot.resource_version

    def _from_watch(self, snapshot: Snapshot | None) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.observe, snapshot)

    def _decode(self, site: str, value: str | None) -> breaker_state.SiteState:
        if value is None:
            return breaker_state.SiteState()
        cached = self._decoded.get(site)
        if cached is not None and cached[0] == value:
            return cached[1]
        try:
            state = breaker_state.SiteState.from_configmap_value(value)
        except breaker_state.BreakerStateError as exc:
            # A broken hand edit must not stop downloads: treat the site as closed (the next
            # write replaces the value) and say so once.
            if (site, value) not in self._bad_values:
                self._bad_values.add((site, value))
                logger.warning("site %s: %s; treating it as CLOSED", site, exc)
            state = breaker_state.SiteState()
        self._decoded[site] = (value, state)
        return state

    def _refresh_metrics(self, data: Mapping[str, str]) -> None:
        if self._metrics is None:
            return
        for site in data:
            self._metrics.set_state(site, self._decode(site, data[site]).state.value)
        for site in list(self._decoded):
            if site not in data:
                self._decoded.pop(site, None)
                self._metrics.forget(site)

    # --- writes ----------------------------------------------------------------------------

    async def wait_for_write(self, site: str) -> None:
        """Return once no write of ``site`` is in flight (at once when there is none)."""
        lock = self._site_locks.get(site)
        if lock is not None and lock.locked():
            async with lock:
                pass

    async def write(self, site: str, step: Step[R]) -> R:
        """Apply ``step`` to the latest state of ``site`` in a conditional write; its result.

        ``step`` runs again on the fresh state after each conflict, so it must be pure. A
        transition it makes is announced once the write went through.
        """

        def mutate(snapshot: Snapshot) -> Change[tuple[breaker.Transition | None, R]]:
            before = self._decode(site, snapshot.data.get(site))
            after, transition, result = step(before)
            data = {site: after.to_configmap_value()} if after != before else {}
            return Change((transition, result), data=data)

        lock = self._site_locks.setdefault(site, asyncio.Lock())
        async with lock:
            written = await asyncio.to_thread(self.store.update, mutate, start=self._snapshot)
            self.observe(written.snapshot)
        transition, result = written.result
        if transition is not None and written.wrote:
            self._announce(site, transition)
        return result

    def _schedule_commands(self) -> None:
        if self._commands_pending or self._loop is None:
            return
        self._commands_pending = True
        task = self._loop.create_task(self._apply_commands(), name="breaker-admin")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _apply_commands(self) -> None:
        def mutate(snapshot: Snapshot) -> Change[admin.Applied | None]:
            applied = admin.apply(snapshot.data, snapshot.annotations, now=self._clock())
            if applied is None:
                return Change(None)
            return Change(
                applied,
                data=applied.data,
                remove_annotations=applied.consumed,
                set_annotations={admin.ANNOTATION_LAST_COMMAND: applied.acknowledgement},
            )

        try:
            async with self._command_lock:
                written = await asyncio.to_thread(self.store.update, mutate, start=self._snapshot)
        except Exception:
            logger.exception("administrator command on the breaker ConfigMap not applied")
            return
        finally:
            self._commands_pending = False
        self.observe(written.snapshot)
        applied = written.result
        if applied is None or not written.wrote:
            return
        logger.info("breaker command applied: %s", applied.acknowledgement)
        for site, transition in applied.transitions:
            self._announce(site, transition)
        for error in applied.errors:
            logger.warning("breaker command refused: %s", error)
            self._post(
                events.command_error_event(
                    self._ref(),
                    error=error,
                    now=self._clock(),
                    instance=self._instance,
                    suffix=secrets.token_hex(8),
                )
            )

    # --- announcements ---------------------------------------------------------------------

    def _announce(self, site: str, transition: breaker.Transition) -> None:
        logger.info(
            "site %s: %s -> %s (%s): %s",
            site,
            transition.from_state.value,
            transition.to_state.value,
            transition.reason.value,
            transition.message,
        )
        if self._metrics is not None and transition.reason in _AUTOMATIC_TRIPS:
            self._metrics.tripped(site)
        self._post(
            events.transition_event(
                self._ref(),
                site=site,
                transition=transition,
                instance=self._instance,
                suffix=secrets.token_hex(8),
            )
        )
        if transition.to_state is not breaker_state.State.OPEN:
            self._wake()

    def _ref(self) -> events.ConfigMapRef:
        uid = self._snapshot.uid if self._snapshot is not None else ""
        return events.ConfigMapRef(namespace=self.store.namespace, name=self.store.name, uid=uid)

    def _post(self, event: dict[str, Any]) -> None:
        if self._post_event is None or self._loop is None:
            return
        task = self._loop.create_task(self._post_quietly(event))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _post_quietly(self, event: dict[str, Any]) -> None:
        assert self._post_event is not None
        try:
            await self._post_event(self.store.namespace, event)
        except Exception as exc:  # noqa: BLE001 - an Event is a courtesy, never worth a failure
            logger.debug("breaker event %s not posted: %s", event.get("reason"), exc)
