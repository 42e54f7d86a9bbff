"""The breaker gate: admissions, recorded outcomes, commands, Events and metrics."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from videodl.api.spec import Priority
from videodl.api.status import Failure, FailureClass
from videodl.breaker import admin, sites
from videodl.breaker.gate import BreakerGate
from videodl.breaker.metrics import BreakerMetrics
from videodl.breaker.store import ConfigMapStore
from videodl.core import breaker_config, breaker_state
from videodl.kube.client import ApiError
from videodl.reconcile.download import outcome as attempt
from videodl.reconcile.download.gate import Candidate

from .conftest import FakeConfigMapApi

NS, NAME = "videodl-system", "videodl-breaker"
HOST_A = "http://127.0.0.1:8080/media/video.mp4"
HOST_B = "http://localhost:8080/media/video.mp4"
SITE_A, SITE_B = "127.0.0.1_8080", "localhost_8080"
START = datetime(2030, 5, 1, 12, 0, 0, tzinfo=UTC)
CONFIG = breaker_config.BreakerConfig(
    failure_threshold=3, open_base_seconds=10, open_max_seconds=100, open_jitter=0.0
)
THROTTLED = attempt.Failed(
    Failure(failure_class=FailureClass.THROTTLED, reason="HTTPError429", message="HTTP 429")
)
GONE = attempt.Failed(
    Failure(failure_class=FailureClass.PERMANENT, reason="HTTPError404", message="HTTP 404")
)
SUCCEEDED = attempt.Succeeded(result=None, skipped=False, finished_at=None)


def _candidate(name: str, url: str = HOST_A, attempt_no: int = 1) -> Candidate:
    return Candidate(
        namespace="videos",
        name=name,
        uid=f"uid-{name}-0000",
        url=url,
        priority=Priority.NORMAL,
        attempt=attempt_no,
    )


class Harness:
    """One gate (one operator process) over a fake apiserver shared with other harnesses."""

    def __init__(self, api: FakeConfigMapApi, clock: list[datetime]) -> None:
        self.api = api
        self.clock = clock
        self.registry = CollectorRegistry()
        self.events: list[Mapping[str, Any]] = []
        self.wakes = 0
        self.store = ConfigMapStore(client=api, namespace=NS, name=NAME)  # type: ignore[arg-type]
        self.gate = BreakerGate(
            store=self.store,
            config=CONFIG,
            metrics=BreakerMetrics(self.registry),
            post_event=self._post,
            wake=self._wake,
            clock=lambda: self.clock[0],
            rng=random.Random(0),
            instance="test",
            watch=False,
        )

    async def _post(self, namespace: str, event: Mapping[str, Any]) -> None:
        assert namespace == NS
        self.events.append(event)

    def _wake(self) -> None:
        self.wakes += 1

    def reasons(self) -> list[str]:
        return [e["reason"] for e in self.events]

    def sample(self, metric: str, site: str) -> float | None:
        return self.registry.get_sample_value(metric, {"site": site})

    def stored(self, site: str) -> breaker_state.SiteState:
        return breaker_state.SiteState.from_configmap_value(
            self.api.objects[(NS, NAME)]["data"][site]
        )

    async def trip_a(self) -> None:
        for i in range(CONFIG.failure_threshold):
            await self.gate.attempt_finished(_candidate(f"a{i}"), THROTTLED)
        await self.gate.drain()


def _run(api: FakeConfigMapApi, scenario: Any) -> None:
    async def main() -> None:
        clock = [START]
        harness = Harness(api, clock)
        await harness.gate.start()
        try:
            await scenario(harness, clock)
        finally:
            await harness.gate.stop()

    asyncio.run(main())


class TestAdmission:
    def test_closed_sites_are_admitted_without_writes(self, fake_api: FakeConfigMapApi) -> None:
        """A closed site costs no API call per admission."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            fake_api.calls.clear()
            for i in range(5):
                assert (await h.gate.consider(_candidate(f"d{i}"))).allowed
            assert fake_api.calls == []

        _run(fake_api, scenario)

    def test_while_every_site_is_closed_a_new_url_does_not_wait_for_its_site(
        self, fake_api: FakeConfigMapApi
    ) -> None:
        """Finding a new URL's site takes milliseconds; with every site closed the answer
        is the same whichever it is, so the site is found after the admission."""
        release = threading.Event()
        looked_up: list[str] = []

        def slow_site(url: str) -> str:
            release.wait(5)
            looked_up.append(url)
            return sites.site_of(url)

        async def main() -> None:
            gate = BreakerGate(
                store=ConfigMapStore(client=fake_api, namespace=NS, name=NAME),  # type: ignore[arg-type]
                config=CONFIG,
                clock=lambda: START,
                resolve_site=slow_site,
                watch=False,
            )
            await gate.start()
            try:
                verdict = await asyncio.wait_for(gate.consider(_candidate("new")), 1)
                assert verdict.allowed
                assert looked_up == []
                release.set()
                for _ in range(100):
                    if looked_up:
                        break
                    await asyncio.sleep(0.01)
                assert looked_up == [HOST_A]
            finally:
                release.set()
                await gate.stop()

        asyncio.run(main())

    def test_a_new_url_of_an_open_site_is_denied(self, fake_api: FakeConfigMapApi) -> None:
        """Once a site is open, a URL never seen before is matched to its site first."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            await h.trip_a()
            verdict = await h.gate.consider(_candidate("new", HOST_A + "?v=2"))
            assert (verdict.allowed, verdict.reason) == (False, "CircuitOpen")
            assert (await h.gate.consider(_candidate("b", HOST_B + "?v=2"))).allowed

        _run(fake_api, scenario)

    def test_trips_after_the_threshold_and_blocks_only_that_site(
        self, fake_api: FakeConfigMapApi
    ) -> None:
        """Three throttled outcomes open host A; A is denied until a stated time, B runs."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            await h.gate.attempt_finished(_candidate("a0"), THROTTLED)
            await h.gate.attempt_finished(_candidate("a1"), THROTTLED)
            assert (await h.gate.consider(_candidate("next"))).allowed
            await h.gate.attempt_finished(_candidate("a2"), THROTTLED)
            await h.gate.drain()
            verdict = await h.gate.consider(_candidate("next"))
            assert not verdict.allowed
            assert verdict.reason == "CircuitOpen"
            assert verdict.message.startswith(
                f"site {SITE_A}: circuit open until 2030-05-01T12:00:10Z"
            )
            assert (await h.gate.consider(_candidate("b", HOST_B))).allowed
            assert h.stored(SITE_A).state is breaker_state.State.OPEN
            assert h.reasons() == ["Tripped"]
            assert h.events[0]["type"] == "Warning"
            assert h.sample("videodl_breaker_state", SITE_A) == 1
            assert h.sample("videodl_breaker_trips_total", SITE_A) == 1
            assert h.sample("videodl_breaker_rejected_admissions_total", SITE_A) == 1

        _run(fake_api, scenario)

    def test_a_check_waits_for_an_outcome_being_written(self, fake_api: FakeConfigMapApi) -> None:
        """An admission asked while the tripping outcome is in flight sees the trip."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            for i in range(CONFIG.failure_threshold - 1):
                await h.gate.attempt_finished(_candidate(f"a{i}"), THROTTLED)
            fake_api.before_patch = lambda: time.sleep(0.3)  # a slow apiserver
            tripping = asyncio.create_task(h.gate.attempt_finished(_candidate("last"), THROTTLED))
            await asyncio.sleep(0.05)
            verdict = await h.gate.consider(_candidate("next"))
            await tripping
            assert (verdict.allowed, verdict.reason) == (False, "CircuitOpen")
            # Another site does not wait for it.
            assert (await h.gate.consider(_candidate("b", HOST_B))).allowed

        _run(fake_api, scenario)

    def test_a_download_is_counted_once_per_open_period(self, fake_api: FakeConfigMapApi) -> None:
        """Asking again about the same blocked download does not count another rejection."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            await h.trip_a()
            for _ in range(4):
                await h.gate.consider(_candidate("x"))
            await h.gate.consider(_candidate("y"))
            assert h.sample("videodl_breaker_rejected_admissions_total", SITE_A) == 2

        _run(fake_api, scenario)

    def test_permanent_failures_and_interruptions_never_trip(
        self, fake_api: FakeConfigMapApi
    ) -> None:
        """Gone videos and evictions say nothing about the site."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            for i in range(10):
                await h.gate.attempt_finished(_candidate(f"g{i}"), GONE)
                await h.gate.attempt_finished(
                    _candidate(f"i{i}"), attempt.Interrupted("Evicted", "node pressure")
                )
            assert (await h.gate.consider(_candidate("next"))).allowed
            assert SITE_A not in (fake_api.objects[(NS, NAME)].get("data") or {})
            assert h.events == []

        _run(fake_api, scenario)


class TestHalfOpen:
    def test_one_probe_then_recovery(self, fake_api: FakeConfigMapApi) -> None:
        """After the open period exactly one download probes; its success closes the site."""

        async def scenario(h: Harness, clock: list[datetime]) -> None:
            await h.trip_a()
            clock[0] = START + timedelta(seconds=11)
            probe = _candidate("p")
            assert (await h.gate.consider(probe)).allowed
            other = await h.gate.consider(_candidate("q"))
            assert (other.allowed, other.reason) == (False, "CircuitProbesBusy")
            # Asking again for the probe (a repeated pass) does not take a second slot.
            assert (await h.gate.consider(probe)).allowed
            assert len(h.stored(SITE_A).probes) == 1
            assert h.sample("videodl_breaker_state", SITE_A) == 2
            wakes = h.wakes
            await h.gate.attempt_finished(probe, SUCCEEDED)
            await h.gate.drain()
            assert h.stored(SITE_A).state is breaker_state.State.CLOSED
            assert (await h.gate.consider(_candidate("q"))).allowed
            assert h.reasons() == ["Tripped", "Probing", "Recovered"]
            assert h.sample("videodl_breaker_state", SITE_A) == 0
            assert h.wakes > wakes

        _run(fake_api, scenario)

    def test_a_failed_probe_reopens_for_longer(self, fake_api: FakeConfigMapApi) -> None:
        """A probe's failure opens the site again for twice the base duration."""

        async def scenario(h: Harness, clock: list[datetime]) -> None:
            await h.trip_a()
            clock[0] = START + timedelta(seconds=11)
            probe = _candidate("p")
            assert (await h.gate.consider(probe)).allowed
            await h.gate.attempt_finished(probe, THROTTLED)
            await h.gate.drain()
            state = h.stored(SITE_A)
            assert state.state is breaker_state.State.OPEN
            assert state.open_until == clock[0] + timedelta(seconds=20)
            assert h.reasons() == ["Tripped", "Probing", "ProbeFailed"]
            assert h.sample("videodl_breaker_trips_total", SITE_A) == 2

        _run(fake_api, scenario)

    def test_two_processes_never_admit_two_probes(self, fake_api: FakeConfigMapApi) -> None:
        """A second process with a stale copy loses the conditional write and is denied."""

        async def scenario(h: Harness, clock: list[datetime]) -> None:
            other = Harness(fake_api, clock)
            await other.gate.start()
            await h.trip_a()
            other.gate.observe(other.store.read())  # both now know the site is open
            clock[0] = START + timedelta(seconds=11)
            assert (await h.gate.consider(_candidate("p1"))).allowed
            # ``other`` has not seen that write (no watch here): its copy still says OPEN.
            verdict = await other.gate.consider(_candidate("p2"))
            assert (verdict.allowed, verdict.reason) == (False, "CircuitProbesBusy")
            assert [p.id for p in h.stored(SITE_A).probes] == ["videos/p1#1@uid-p1-0"]
            assert other.store.conflicts_total == 1
            await other.gate.stop()

        _run(fake_api, scenario)


class TestCommands:
    def _annotate(self, api: FakeConfigMapApi, annotations: dict[str, str]) -> None:
        api.edit(NS, NAME, {"metadata": {"annotations": annotations}})

    def test_reset_annotation_closes_at_once_and_is_acknowledged(
        self, fake_api: FakeConfigMapApi
    ) -> None:
        """``videodl.dev/reset=all`` closes the site, is removed and acknowledged."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            await h.trip_a()
            self._annotate(fake_api, {admin.ANNOTATION_RESET: "all"})
            h.gate.observe(h.store.read())
            await h.gate.drain()
            annotations = fake_api.objects[(NS, NAME)]["metadata"]["annotations"]
            assert admin.ANNOTATION_RESET not in annotations
            assert annotations[admin.ANNOTATION_LAST_COMMAND].endswith(
                "reset=all: closed 1 site(s)"
            )
            assert h.stored(SITE_A).state is breaker_state.State.CLOSED
            assert (await h.gate.consider(_candidate("next"))).allowed
            assert h.reasons() == ["Tripped", "Reset"]

        _run(fake_api, scenario)

    def test_force_open_until(self, fake_api: FakeConfigMapApi) -> None:
        """``force-open`` with ``until`` blocks the site until then, then it probes."""

        async def scenario(h: Harness, clock: list[datetime]) -> None:
            h.store.read()
            self._annotate(
                fake_api, {admin.ANNOTATION_FORCE_OPEN: f"{SITE_B},until=2030-05-01T13:00:00Z"}
            )
            h.gate.observe(h.store.read())
            await h.gate.drain()
            verdict = await h.gate.consider(_candidate("b", HOST_B))
            assert not verdict.allowed
            assert "until 2030-05-01T13:00:00Z" in verdict.message
            assert "forced open by an administrator" in verdict.message
            clock[0] = datetime(2030, 5, 1, 13, 0, 1, tzinfo=UTC)
            assert (await h.gate.consider(_candidate("b", HOST_B))).allowed
            await h.gate.drain()
            assert h.reasons() == ["ForcedOpen", "Probing"]

        _run(fake_api, scenario)

    def test_a_bad_command_is_reported_and_removed(self, fake_api: FakeConfigMapApi) -> None:
        """An unreadable command becomes a Warning Event and an acknowledgement saying why."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            h.store.read()
            self._annotate(fake_api, {admin.ANNOTATION_FORCE_OPEN: "x,until=soon"})
            h.gate.observe(h.store.read())
            await h.gate.drain()
            annotations = fake_api.objects[(NS, NAME)]["metadata"]["annotations"]
            assert admin.ANNOTATION_FORCE_OPEN not in annotations
            assert "error" in annotations[admin.ANNOTATION_LAST_COMMAND]
            assert h.reasons() == ["InvalidCommand"]
            assert "RFC 3339" in h.events[0]["message"]

        _run(fake_api, scenario)

    def test_plain_edits_are_read_back(self, fake_api: FakeConfigMapApi) -> None:
        """An edited key is honoured; a broken one does not stop downloads."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            h.store.read()
            opened = {"state": "OPEN", "forced": True, "openUntil": None, "lastReason": "maint"}
            fake_api.edit(NS, NAME, {"data": {SITE_A: json.dumps(opened)}})
            h.gate.observe(h.store.read())
            verdict = await h.gate.consider(_candidate("a"))
            assert not verdict.allowed
            assert "until an administrator resets it" in verdict.message
            assert h.sample("videodl_breaker_state", SITE_A) == 1
            fake_api.edit(NS, NAME, {"data": {SITE_A: "{broken"}})
            h.gate.observe(h.store.read())
            assert (await h.gate.consider(_candidate("a"))).allowed
            fake_api.edit(NS, NAME, {"data": {SITE_A: None}})
            h.gate.observe(h.store.read())
            assert h.sample("videodl_breaker_state", SITE_A) is None

        _run(fake_api, scenario)

    def test_a_deleted_configmap_starts_again_closed(self, fake_api: FakeConfigMapApi) -> None:
        """Deleting the ConfigMap closes every site; the next write recreates it."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            await h.trip_a()
            fake_api.delete(NS, NAME)
            h.gate.observe(None)
            assert (await h.gate.consider(_candidate("a"))).allowed
            await h.gate.attempt_finished(_candidate("a"), THROTTLED)
            assert h.stored(SITE_A).consecutive_failures == 1

        _run(fake_api, scenario)


class TestFailures:
    def test_an_unwritable_state_keeps_the_download_waiting(
        self, fake_api: FakeConfigMapApi
    ) -> None:
        """When claiming a probe slot fails, the download waits with a clear reason."""

        async def scenario(h: Harness, clock: list[datetime]) -> None:
            await h.trip_a()
            clock[0] = START + timedelta(seconds=11)

            def forbidden(*args: object, **kwargs: object) -> dict[str, Any]:
                raise ApiError(403, "Forbidden", "configmaps is forbidden")

            fake_api.patch_config_map = forbidden  # type: ignore[method-assign]
            verdict = await h.gate.consider(_candidate("p"))
            assert (verdict.allowed, verdict.reason) == (False, "CircuitStateUnavailable")
            assert "could not be updated" in verdict.message

        _run(fake_api, scenario)

    def test_an_unusable_configmap_leaves_sites_closed(self, fake_api: FakeConfigMapApi) -> None:
        """Without its namespace the breaker admits everything and stops asking for a while."""

        def no_namespace(namespace: str, body: dict[str, Any]) -> dict[str, Any]:
            raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')

        fake_api.create_config_map = no_namespace  # type: ignore[method-assign]

        async def scenario(h: Harness, _: list[datetime]) -> None:
            assert (await h.gate.consider(_candidate("a"))).allowed
            fake_api.calls.clear()
            for i in range(CONFIG.failure_threshold + 1):
                await h.gate.attempt_finished(_candidate(f"a{i}"), THROTTLED)
            assert fake_api.calls == []  # paused since the failed start
            assert (await h.gate.consider(_candidate("b"))).allowed

        _run(fake_api, scenario)

    def test_other_errors_reach_the_caller(self, fake_api: FakeConfigMapApi) -> None:
        """A passing apiserver failure is not hidden: the operator logs it and goes on."""

        async def scenario(h: Harness, _: list[datetime]) -> None:
            def unavailable(*args: object, **kwargs: object) -> dict[str, Any]:
                raise ApiError(503, "ServiceUnavailable", "the server is currently unavailable")

            fake_api.patch_config_map = unavailable  # type: ignore[method-assign]
            with pytest.raises(ApiError, match="ServiceUnavailable"):
                await h.gate.attempt_finished(_candidate("a"), THROTTLED)

        _run(fake_api, scenario)
