"""The circuit breaker as the operator's admission gate: consult, update, announce.

:class:`BreakerGate` implements :class:`videodl.reconcile.download.gate.AdmissionGate`. For each
download the admission loop wants to start it finds the site (:mod:`.sites`), asks the pure
state machine (:func:`videodl.core.breaker.admit`) and answers allowed, or denied with the
machine's reason (``CircuitOpen``, ``CircuitProbesBusy``) and a message that says until
when. For each finished attempt it records the outcome (:mod:`.outcomes`). It also applies
administrators' commands (:mod:`.admin`) found on the ConfigMap.

Reads come from an in-memory copy of the ConfigMap kept current by a watch
(:mod:`.watch`) and by the responses to this process's own writes, so the common case (a
closed site) costs no API call. Anything that changes a site's state is a conditional write
through :class:`~videodl.breaker.store.ConfigMapStore` that re-decides on the fresh state
after a conflict, so several operator processes never lose an update or hand out more probe
slots than configured. Every transition is announced once, by the process that wrote it:
an Event on the ConfigMap, a log line and the trip counter; every process keeps the state
gauge of each site current from the watch.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

from kubernetes import client

from videodl.breaker import admin, events, outcomes, sites
from videodl.breaker.metrics import BreakerMetrics
from videodl.breaker.store import Change, ConfigMapStore, Snapshot
from videodl.breaker.watch import ConfigMapWatch
from videodl.core import breaker
from videodl.operator.settings import BreakerSettings
from videodl.reconcile.download.gate import Candidate, Verdict
from videodl.reconcile.download.outcome import Outcome

__all__ = ["BreakerGate", "EventPoster", "breaker_config"]

logger = logging.getLogger(__name__)

R = TypeVar("R")
EventPoster = Callable[[str, Mapping[str, Any]], Awaitable[None]]
"""Posts an Event object into a namespace (``Kube.create_event``)."""

#: Verdict reason when the state could not be read or written (the download waits).
UNAVAILABLE: Final = "CircuitStateUnavailable"
_AUTOMATIC_TRIPS: Final = frozenset(
    {breaker.TransitionReason.TRIPPED, breaker.TransitionReason.PROBE_FAILED}
)
_MAX_REJECTIONS_REMEMBERED: Final = 10_000
_MAX_SITES_REMEMBERED: Final = 50_000
#: Pause in recording outcomes after the ConfigMap could not be read or written.
STORE_RETRY_SECONDS: Final = 30
#: Answers that mean the ConfigMap cannot be used at all: forbidden, namespace not found.
_UNUSABLE: Final = frozenset({403, 404})


def breaker_config(settings: BreakerSettings) -> breaker.BreakerConfig:
    """The state machine's tunables from the operator's breaker settings."""
    return breaker.BreakerConfig(
        failure_threshold=settings.failure_threshold,
        window_size=settings.window_size,
        failure_ratio=settings.failure_ratio,
        min_calls=settings.min_calls,
        open_base_seconds=settings.open_seconds,
        open_max_seconds=settings.max_open_seconds,
        open_jitter=settings.open_jitter,
        half_open_probes=settings.probes,
        probe_timeout_seconds=settings.probe_timeout_seconds,
        close_after_successes=settings.close_after_successes,
    )


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _newer(candidate: Snapshot, current: Snapshot | None) -> bool:
    if current is None:
        return True
    try:
        return int(candidate.resource_version) > int(current.resource_version)
    except ValueError:
        # resourceVersions are opaque in general; every apiserver in use sends integers.
        return candidate.resource_version != current.resource_version


class BreakerGate:
    """Admits downloads per site through the shared breaker state in the ConfigMap."""

    def __init__(
        self,
        *,
        store: ConfigMapStore,
        config: breaker.BreakerConfig,
        metrics: BreakerMetrics | None = None,
        post_event: EventPoster | None = None,
        wake: Callable[[], None] | None = None,
        clock: Callable[[], datetime.datetime] = _utc_now,
        rng: random.Random | None = None,
        resolve_site: Callable[[str], str] = sites.site_of,
        instance: str | None = None,
        watch: bool = True,
    ) -> None:
        self._store = store
        self._config = config
        self._metrics = metrics
        self._post_event = post_event
        self._wake = wake or (lambda: None)
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._resolve_site = resolve_site
        self._instance = instance or socket.gethostname()[:128] or events.COMPONENT
        self._watch_enabled = watch
        self._watch: ConfigMapWatch | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._snapshot: Snapshot | None = None
        self._decoded: dict[str, tuple[str, breaker.SiteState]] = {}
        #: One lock per site: writes for a site run one at a time, and an admission check
        #: waits for a write in flight (an outcome that may trip the site) before deciding.
        self._site_locks: dict[str, asyncio.Lock] = {}
        self._command_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self._commands_pending = False
        self._rejections: set[tuple[str, str, str]] = set()
        self._bad_values: set[tuple[str, str]] = set()
        self._sites: dict[str, str] = {}
        #: Until when (monotonic) outcomes are not recorded because the ConfigMap failed.
        self._store_down_until = 0.0

    @classmethod
    def from_settings(
        cls,
        settings: BreakerSettings,
        *,
        api: client.ApiClient,
        metrics: BreakerMetrics | None,
        post_event: EventPoster | None,
        wake: Callable[[], None] | None,
    ) -> BreakerGate:
        """The gate an operator runs with: its ConfigMap, tunables, Events and metrics."""
        store = ConfigMapStore(
            api=client.CoreV1Api(api),
            namespace=settings.configmap_namespace,
            name=settings.configmap_name,
        )
        return cls(
            store=store,
            config=breaker_config(settings),
            metrics=metrics,
            post_event=post_event,
            wake=wake,
        )

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Load the site table, read (or create) the ConfigMap and start watching it."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(sites.warm_up)
        try:
            self.observe(await asyncio.to_thread(self._store.read))
        except Exception as exc:  # noqa: BLE001 - a breaker must never stop downloads
            logger.error(
                "circuit breaker ConfigMap %s/%s cannot be read or created (%s); every site "
                "counts as closed until it can be (check the namespace and RBAC)",
                self._store.namespace,
                self._store.name,
                exc,
            )
            self._store_down_until = time.monotonic() + STORE_RETRY_SECONDS
        if self._watch_enabled:
            self._watch = ConfigMapWatch(
                api=self._store.api,
                namespace=self._store.namespace,
                name=self._store.name,
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

    # --- AdmissionGate --------------------------------------------------------------------

    async def consider(self, candidate: Candidate) -> Verdict:
        """Allow, or deny while the candidate's site is open or its probe slots are taken."""
        try:
            site = await self._site(candidate.url)
        except ValueError:
            return Verdict.allow()  # no host: the download fails on its own, not the site
        pid = _probe_id(candidate)
        lock = self._site_locks.get(site)
        if lock is not None and lock.locked():
            async with lock:
                pass  # an outcome of this site is being written: decide on its result
        state = self._state(site)
        decision, after = breaker.admit(state, now=self._clock(), probe_id=pid, config=self._config)
        if after != state:
            # The check changes the state (half-open now, a probe slot taken): decide again
            # on the fresh state inside a conditional write.
            def step(
                current: breaker.SiteState,
            ) -> tuple[breaker.SiteState, breaker.Transition | None, breaker.Decision]:
                result, new = breaker.admit(
                    current, now=self._clock(), probe_id=pid, config=self._config
                )
                return new, result.transition, result

            try:
                decision = await self._write(site, step)
            except Exception as exc:  # one download waits; the admission loop goes on
                logger.warning("breaker state of %s not written: %s", site, exc, exc_info=True)
                return Verdict.deny(
                    UNAVAILABLE,
                    f"site {site}: the circuit breaker state could not be updated ({exc}); "
                    "asking again shortly",
                )
        if decision.admitted:
            if decision.probe:
                logger.info("site %s: %s admitted as probe", site, pid)
            return Verdict.allow()
        self._count_rejection(site, pid, self._state(site))
        return Verdict.deny(decision.reason.value, f"site {site}: {decision.message}")

    async def attempt_finished(self, candidate: Candidate, outcome: Outcome) -> None:
        """Record how an attempt ended (site-wide failures count, see :mod:`.outcomes`)."""
        evidence = outcomes.evidence_of(outcome)
        if evidence is None:
            return
        try:
            site = await self._site(candidate.url)
        except ValueError:
            return
        pid = _probe_id(candidate)

        def step(
            current: breaker.SiteState,
        ) -> tuple[breaker.SiteState, breaker.Transition | None, None]:
            new, transition = breaker.record(
                current,
                evidence.outcome,
                now=self._clock(),
                probe_id=pid,
                rng=self._rng,
                config=self._config,
                detail=evidence.detail,
            )
            return new, transition, None

        if time.monotonic() < self._store_down_until:
            logger.debug("site %s: outcome of %s not recorded: ConfigMap unavailable", site, pid)
            return
        try:
            await self._write(site, step)
        except client.ApiException as exc:
            if exc.status not in _UNUSABLE:
                raise
            # Without a usable ConfigMap (no namespace, no RBAC) every outcome would cost
            # failing requests: pause recording for a while, warn once per pause.
            self._store_down_until = time.monotonic() + STORE_RETRY_SECONDS
            logger.warning(
                "site %s: outcome not recorded, circuit breaker ConfigMap %s/%s unusable "
                "(%s %s); outcomes are dropped for %ds",
                site,
                self._store.namespace,
                self._store.name,
                exc.status,
                exc.reason,
                STORE_RETRY_SECONDS,
            )

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

    def site_states(self) -> dict[str, breaker.SiteState]:
        """Every site's state as last seen."""
        data = self._snapshot.data if self._snapshot is not None else {}
        return {site: self._state(site) for site in data}

    def _from_watch(self, snapshot: Snapshot | None) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.observe, snapshot)

    def _state(self, site: str) -> breaker.SiteState:
        value = self._snapshot.data.get(site) if self._snapshot is not None else None
        return self._decode(site, value)

    def _decode(self, site: str, value: str | None) -> breaker.SiteState:
        if value is None:
            return breaker.SiteState()
        cached = self._decoded.get(site)
        if cached is not None and cached[0] == value:
            return cached[1]
        try:
            state = breaker.SiteState.from_configmap_value(value)
        except breaker.BreakerStateError as exc:
            # A broken hand edit must not stop downloads: treat the site as closed (the next
            # write replaces the value) and say so once.
            if (site, value) not in self._bad_values:
                self._bad_values.add((site, value))
                logger.warning("site %s: %s; treating it as CLOSED", site, exc)
            state = breaker.SiteState()
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

    async def _write(
        self,
        site: str,
        step: Callable[[breaker.SiteState], tuple[breaker.SiteState, breaker.Transition | None, R]],
    ) -> R:
        def mutate(snapshot: Snapshot) -> Change[tuple[breaker.Transition | None, R]]:
            before = self._decode(site, snapshot.data.get(site))
            after, transition, result = step(before)
            data = {site: after.to_configmap_value()} if after != before else {}
            return Change((transition, result), data=data)

        lock = self._site_locks.setdefault(site, asyncio.Lock())
        async with lock:
            written = await asyncio.to_thread(self._store.update, mutate, start=self._snapshot)
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
                written = await asyncio.to_thread(self._store.update, mutate, start=self._snapshot)
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
        if transition.to_state is not breaker.State.OPEN:
            self._wake()

    def _count_rejection(self, site: str, pid: str, state: breaker.SiteState) -> None:
        # Count a download once per open (or half-open) period, not once per admission pass.
        period = str(state.last_transition_time or state.opened_at or "")
        key = (site, pid, period)
        if key in self._rejections:
            return
        if len(self._rejections) >= _MAX_REJECTIONS_REMEMBERED:
            self._rejections.clear()
        self._rejections.add(key)
        if self._metrics is not None:
            self._metrics.rejected_admission(site)

    def _ref(self) -> events.ConfigMapRef:
        uid = self._snapshot.uid if self._snapshot is not None else ""
        return events.ConfigMapRef(namespace=self._store.namespace, name=self._store.name, uid=uid)

    def _post(self, event: dict[str, Any]) -> None:
        if self._post_event is None or self._loop is None:
            return
        task = self._loop.create_task(self._post_quietly(event))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _post_quietly(self, event: dict[str, Any]) -> None:
        assert self._post_event is not None
        try:
            await self._post_event(self._store.namespace, event)
        except Exception as exc:  # noqa: BLE001 - an Event is a courtesy, never worth a failure
            logger.debug("breaker event %s not posted: %s", event.get("reason"), exc)

    async def _site(self, url: str) -> str:
        site = self._sites.get(url)
        if site is None:
            # Matching a new URL against every extractor takes milliseconds: not on the loop.
            site = await asyncio.to_thread(self._resolve_site, url)
            if len(self._sites) >= _MAX_SITES_REMEMBERED:
                self._sites.clear()
            self._sites[url] = site
        return site


def _probe_id(candidate: Candidate) -> str:
    return outcomes.probe_id(
        namespace=candidate.namespace,
        name=candidate.name,
        uid=candidate.uid,
        attempt=candidate.attempt,
    )
