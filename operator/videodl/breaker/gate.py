"""The circuit breaker as the operator's admission gate: admit per site, record outcomes.

:class:`BreakerGate` implements :class:`videodl.reconcile.download.gate.AdmissionGate`. For each
download the admission loop wants to start it finds the site (:mod:`.sites`), asks the pure
state machine (:func:`videodl.core.breaker.admit`) and answers allowed, or denied with the
machine's reason (``CircuitOpen``, ``CircuitProbesBusy``) and a message that says until
when. For each finished attempt it records the outcome (:mod:`.evidence`).

The state it decides on is this process's copy of the shared ConfigMap, and whatever
changes a site's state is a conditional write; both, and the administrators' commands and
the announcements of transitions, are :class:`~videodl.breaker.shared.SharedState`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import random
from collections.abc import Callable
from typing import Final

from videodl.breaker import evidence, sites
from videodl.breaker.metrics import BreakerMetrics
from videodl.breaker.settings import BreakerSettings
from videodl.breaker.shared import STORE_RETRY_SECONDS, EventPoster, SharedState
from videodl.breaker.store import ConfigMapStore, Snapshot
from videodl.core import breaker, breaker_config, breaker_state
from videodl.kube.client import ApiError, Client
from videodl.reconcile.download.gate import Candidate, Verdict
from videodl.reconcile.download.outcome import Outcome

__all__ = ["UNAVAILABLE", "BreakerGate"]

logger = logging.getLogger(__name__)

#: Verdict reason when the state could not be read or written (the download waits).
UNAVAILABLE: Final = "CircuitStateUnavailable"
_MAX_REJECTIONS_REMEMBERED: Final = 10_000
_MAX_SITES_REMEMBERED: Final = 50_000
#: Answers that mean the ConfigMap cannot be used at all: forbidden, namespace not found.
_UNUSABLE: Final = frozenset({403, 404})


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class BreakerGate:
    """Admits downloads per site through the shared breaker state in the ConfigMap."""

    def __init__(
        self,
        *,
        store: ConfigMapStore,
        config: breaker_config.BreakerConfig,
        metrics: BreakerMetrics | None = None,
        post_event: EventPoster | None = None,
        wake: Callable[[], None] | None = None,
        clock: Callable[[], datetime.datetime] = _utc_now,
        rng: random.Random | None = None,
        resolve_site: Callable[[str], str] = sites.site_of,
        instance: str | None = None,
        watch: bool = True,
    ) -> None:
        self._config = config
        self._metrics = metrics
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._resolve_site = resolve_site
        self._watch = watch
        self._shared = SharedState(
            store=store,
            metrics=metrics,
            post_event=post_event,
            wake=wake or (lambda: None),
            clock=clock,
            instance=instance,
        )
        self._rejections: set[tuple[str, str, str]] = set()
        self._sites: dict[str, str] = {}
        self._finding: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(
        cls,
        settings: BreakerSettings,
        *,
        client: Client,
        metrics: BreakerMetrics | None,
        post_event: EventPoster | None,
        wake: Callable[[], None] | None,
    ) -> BreakerGate:
        """The gate an operator runs with: its ConfigMap, tunables, Events and metrics."""
        store = ConfigMapStore(
            client=client,
            namespace=settings.configmap_namespace,
            name=settings.configmap_name,
        )
        return cls(
            store=store,
            config=settings.config,
            metrics=metrics,
            post_event=post_event,
            wake=wake,
        )

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Load the site table, read (or create) the ConfigMap and start watching it."""
        await asyncio.to_thread(sites.warm_up)
        await self._shared.start(watch=self._watch)

    async def stop(self) -> None:
        """Stop the watch and wait for Events still being posted."""
        for task in list(self._finding):
            task.cancel()
        await self._shared.stop()

    async def drain(self) -> None:
        """Wait until commands being applied and Events being posted are done."""
        await self._shared.drain()

    def observe(self, snapshot: Snapshot | None) -> None:
        """Take a newer ConfigMap snapshot (``None``: it was deleted) into the copy."""
        self._shared.observe(snapshot)

    # --- AdmissionGate --------------------------------------------------------------------

    async def consider(self, candidate: Candidate) -> Verdict:
        """Allow, or deny while the candidate's site is open or its probe slots are taken."""
        if candidate.url not in self._sites and self._shared.every_site_closed():
            # Its site is closed, whichever it is: admit now, and find the site (which takes
            # milliseconds for a new URL) away from the admission, for its outcome.
            self._find_site_later(candidate.url)
            return Verdict.allow()
        try:
            site = await self._site(candidate.url)
        except ValueError:
            return Verdict.allow()  # no host: the download fails on its own, not the site
        pid = _probe_id(candidate)
        # An outcome of this site may be being written (and trip it): decide on its result.
        await self._shared.wait_for_write(site)
        state = self._shared.state(site)
        decision, after = breaker.admit(state, now=self._clock(), probe_id=pid, config=self._config)
        if after != state:
            # The check changes the state (half-open now, a probe slot taken): decide again
            # on the fresh state inside a conditional write.
            def step(
                current: breaker_state.SiteState,
            ) -> tuple[breaker_state.SiteState, breaker.Transition | None, breaker.Decision]:
                result, new = breaker.admit(
                    current, now=self._clock(), probe_id=pid, config=self._config
                )
                return new, result.transition, result

            try:
                decision = await self._shared.write(site, step)
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
        self._count_rejection(site, pid, self._shared.state(site))
        return Verdict.deny(decision.reason.value, f"site {site}: {decision.message}")

    async def attempt_finished(self, candidate: Candidate, outcome: Outcome) -> None:
        """Record how an attempt ended (site-wide failures count, see :mod:`.evidence`)."""
        found = evidence.evidence_of(outcome)
        if found is None:
            return
        try:
            site = await self._site(candidate.url)
        except ValueError:
            return
        pid = _probe_id(candidate)

        def step(
            current: breaker_state.SiteState,
        ) -> tuple[breaker_state.SiteState, breaker.Transition | None, None]:
            new, transition = breaker.record(
                current,
                found.outcome,
                now=self._clock(),
                probe_id=pid,
                rng=self._rng,
                config=self._config,
                detail=found.detail,
            )
            return new, transition, None

        if self._shared.recording_paused():
            logger.debug("site %s: outcome of %s not recorded: ConfigMap unavailable", site, pid)
            return
        try:
            await self._shared.write(site, step)
        except ApiError as exc:
            if exc.status not in _UNUSABLE:
                raise
            # Without a usable ConfigMap (no namespace, no RBAC) every outcome would cost
            # failing requests: pause recording for a while, warn once per pause.
            self._shared.pause_recording()
            logger.warning(
                "site %s: outcome not recorded, circuit breaker ConfigMap %s/%s unusable "
                "(%s %s); outcomes are dropped for %ds",
                site,
                self._shared.store.namespace,
                self._shared.store.name,
                exc.status,
                exc.reason,
                STORE_RETRY_SECONDS,
            )

    # --- helpers ---------------------------------------------------------------------------

    def _count_rejection(self, site: str, pid: str, state: breaker_state.SiteState) -> None:
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

    def _find_site_later(self, url: str) -> None:
        async def find() -> None:
            with contextlib.suppress(ValueError):
                await self._site(url)

        task = asyncio.get_running_loop().create_task(find())
        self._finding.add(task)
        task.add_done_callback(self._finding.discard)

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
    return evidence.probe_id(
        namespace=candidate.namespace,
        name=candidate.name,
        uid=candidate.uid,
        attempt=candidate.attempt,
    )
