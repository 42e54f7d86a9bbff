"""Tests for videodl.operator.downloads and the admission loop against an in-memory API."""

from __future__ import annotations

import asyncio
import collections
import datetime
from typing import Any

from tests.unit.operator.fakes import FakeGate, FakeKube, FakeRecorder
from tests.unit.reconcile.download.builders import (
    T0,
    download,
    failure_message,
    pod_object,
    success_message,
)
from yt_dlp.version import __version__ as ytdlp_version

from videodl.api.status import Phase
from videodl.breaker import sites
from videodl.kube.client import ApiError
from videodl.operator.admission import Scheduler
from videodl.operator.downloads import DownloadController
from videodl.operator.metrics import Metrics
from videodl.operator.settings import AdmissionSettings, Settings
from videodl.reconcile.download import naming
from videodl.workerapi import environment


class Harness:
    """A controller and scheduler wired to fakes, with a controllable clock."""

    def __init__(
        self, *, max_running: int = 10, kube: FakeKube | None = None, gate: FakeGate | None = None
    ) -> None:
        self.kube = kube or FakeKube()
        self.recorder = FakeRecorder()
        self.gate = gate or FakeGate()
        self.now = T0
        settings = Settings(admission=AdmissionSettings(max_running=max_running, aging_seconds=600))
        self.controller = DownloadController(
            settings=settings,
            kube=self.kube,  # type: ignore[arg-type]
            recorder=self.recorder,  # type: ignore[arg-type]
            metrics=Metrics(),
            gate=self.gate,
            clock=lambda: self.now,
        )
        self.controller.ready.set()
        self.scheduler = Scheduler(self.controller, settings.admission, self.gate)

    def sync(self) -> None:
        """Deliver the fake cluster's current objects as watch events."""
        for body in self.kube.downloads.values():
            self.controller.observe(body, deleted=False)
        for pod in self.kube.pods.values():
            self.controller.observe_pod(pod, deleted=False)

    async def settle(self) -> None:
        """Reconcile every download, then run one admission pass."""
        self.sync()
        for key in list(self.kube.downloads):
            await self.controller.reconcile(key)
        await self.scheduler.run_pass()
        self.sync()

    def phase(self, name: str, namespace: str = "media") -> str | None:
        return (self.kube.downloads[(namespace, name)].get("status") or {}).get("phase")

    def finish(self, pod_name: str, namespace: str = "media", **status: Any) -> None:
        self.kube.set_pod_status(namespace, pod_name, status)


def succeeded(message: str | None = None) -> dict[str, Any]:
    return {
        "phase": "Succeeded",
        "containerStatuses": [
            {
                "name": "worker",
                "state": {
                    "terminated": {
                        "exitCode": 0,
                        "message": message or success_message(),
                        "finishedAt": "2026-01-01T00:00:10Z",
                    }
                },
            }
        ],
    }


class TestHappyPath:
    def test_three_writes_in_order(self) -> None:
        """The write-ahead Running, the Pod, Succeeded: three writes, in order, two Events."""

        async def scenario() -> Harness:
            h = Harness()
            h.kube.add_download(download())
            await h.settle()
            pod_name = h.kube.downloads[("media", "clip")]["status"]["workerPod"]
            h.finish(pod_name, **succeeded())
            await h.settle()
            await h.settle()
            return h

        h = asyncio.run(scenario())
        assert h.phase("clip") == "Succeeded"
        assert [w[:2] for w in h.kube.writes] == [
            ("patch", "videodownloads/status"),
            ("create", "pods"),
            ("patch", "videodownloads/status"),
        ]
        assert [r for _, r in h.recorder.events] == ["Started", "Succeeded"]
        assert h.gate.outcomes == [("clip", 1, "Succeeded")]
        assert h.controller.metrics.registry.get_sample_value("videodl_attempts_total") == 1

    def test_the_worker_is_told_its_extractor(self) -> None:
        """The Pod carries the extractor the operator found for the URL, so the worker
        need not search every extractor for it."""
        sites.warm_up()

        async def scenario() -> Harness:
            h = Harness()
            h.kube.add_download(download())
            await h.settle()
            return h

        h = asyncio.run(scenario())
        (pod,) = h.kube.pods.values()
        values = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
        hint = environment.ExtractorHint.parse(values.get(environment.EXTRACTOR))
        assert hint == environment.ExtractorHint(key="Generic", version=ytdlp_version)

    def test_refused_pod_is_not_an_attempt(self) -> None:
        """A Pod the apiserver refuses backs off, is created later, and counts one attempt."""

        async def scenario() -> Harness:
            h = Harness()
            h.kube.add_download(download(spec={"retry": {"backoff": {"initialSeconds": 5}}}))
            h.kube.fail_next_create = ApiError(
                403, "Forbidden", "no PriorityClass with name videodl-normal was found"
            )
            await h.settle()
            status = h.kube.downloads[("media", "clip")]["status"]
            assert (status["phase"], status["attempts"]) == ("BackingOff", 0)
            assert status["lastFailure"]["reason"] == "PodRejected"
            h.now = T0 + datetime.timedelta(seconds=10)
            await h.settle()
            return h

        h = asyncio.run(scenario())
        status = h.kube.downloads[("media", "clip")]["status"]
        assert (status["phase"], status["attempts"]) == ("Running", 1)
        assert len(h.kube.pods) == 1
        assert h.controller.metrics.registry.get_sample_value("videodl_attempts_total") == 1
        assert "PodRejected" in [r for _, r in h.recorder.events]

    def test_stale_watch_event_does_not_repeat_a_write(self) -> None:
        """An event older than the operator's own write is ignored, so nothing is written twice."""

        async def scenario() -> Harness:
            h = Harness()
            stale = h.kube.add_download(download())
            h.sync()
            await h.controller.reconcile(("media", "clip"))
            writes = len(h.kube.writes)
            h.controller.observe(stale, deleted=False)
            await h.controller.reconcile(("media", "clip"))
            assert len(h.kube.writes) == writes
            return h

        asyncio.run(scenario())


class TestCrashSafety:
    def test_restart_after_write_ahead_creates_the_recorded_pod_once(self) -> None:
        """A crash between the run's record and its Pod: the next operator creates that Pod."""

        async def scenario() -> tuple[FakeKube, str]:
            first = Harness()
            first.kube.add_download(download())
            first.kube.fail_next_create = ApiError(0, "ConnectionError", "operator died here")
            await first.settle()
            recorded = first.kube.downloads[("media", "clip")]["status"]["workerPod"]
            assert first.kube.pods == {}
            second = Harness(kube=first.kube)  # a new process: empty memory, same cluster
            await second.settle()
            await second.settle()
            return second.kube, recorded

        kube, recorded = asyncio.run(scenario())
        assert list(kube.pods) == [("media", recorded)]
        creates = [w for w in kube.writes if w[:2] == ("create", "pods")]
        assert creates == [("create", "pods", recorded), ("create", "pods", recorded)]
        assert kube.downloads[("media", "clip")]["status"]["attempts"] == 1


class TestFinishedDownloads:
    def test_a_pass_leaves_finished_ones_out_until_a_retry_brings_one_back(self) -> None:
        """A Failed download is out of the admission pass; a retry puts it back, and it runs."""

        async def scenario() -> Harness:
            h = Harness()
            h.kube.add_download(download(spec={"retry": {"maxAttempts": 1}}))
            await h.settle()
            pod_name = h.kube.downloads[("media", "clip")]["status"]["workerPod"]
            failed = failure_message("Permanent", "Unavailable", "gone", exit_code=11)
            h.finish(
                pod_name,
                phase="Failed",
                containerStatuses=[
                    {
                        "name": "worker",
                        "state": {"terminated": {"exitCode": 11, "message": failed}},
                    }
                ],
            )
            await h.settle()
            assert h.phase("clip") == "Failed"
            assert h.controller.objects.active_items() == []
            body = h.kube.downloads[("media", "clip")]
            body["metadata"]["annotations"] = {naming.ANNOTATION_RETRY: "again"}
            h.kube.add_download(body)
            await h.settle()
            await h.settle()
            return h

        h = asyncio.run(scenario())
        status = h.kube.downloads[("media", "clip")]["status"]
        assert (status["phase"], status["attempts"]) == ("Running", 1)
        assert len(h.kube.pods) == 2
        assert [key for key, _ in h.controller.objects.active_items()] == [("media", "clip")]


class TestAdmissionOrder:
    def test_limit_priority_and_creation_order(self) -> None:
        """With one slot, Critical goes first, then the rest in creation order."""

        async def scenario() -> list[str]:
            h = Harness(max_running=1)
            for index in range(4):
                created = T0 + datetime.timedelta(seconds=index)
                h.kube.add_download(download(f"n{index}", uid=f"uid-n{index}", created=created))
            h.kube.add_download(
                download(
                    "urgent",
                    uid="uid-urgent",
                    spec={"priority": "Critical"},
                    created=T0 + datetime.timedelta(seconds=10),
                )
            )
            started: list[str] = []
            for _ in range(12):
                await h.settle()
                for (_, name), body in h.kube.downloads.items():
                    status = body.get("status") or {}
                    if status.get("phase") == Phase.RUNNING and name not in started:
                        started.append(name)
                        h.finish(status["workerPod"], **succeeded())
                running = [
                    b
                    for b in h.kube.downloads.values()
                    if (b.get("status") or {}).get("phase") == "Running"
                ]
                assert len(running) <= 1
            return started

        started = asyncio.run(scenario())
        # n0 may start before urgent exists in the queue only if it was admitted first; here all
        # are queued together, so urgent leads.
        assert started == ["urgent", "n0", "n1", "n2", "n3"]

    def test_new_downloads_observed_together_start_by_priority(self) -> None:
        """A burst seen in one pass: the highest priority starts in one write; the others are
        recorded Queued in one write each, without an Event."""

        async def scenario() -> Harness:
            h = Harness(max_running=1)
            for index, priority in enumerate(("Low", "High", "Normal")):
                h.kube.add_download(
                    download(
                        priority.lower(),
                        uid=f"uid-{index}",
                        spec={"priority": priority},
                        created=T0 + datetime.timedelta(seconds=index),
                    )
                )
            await h.settle()
            return h

        h = asyncio.run(scenario())
        assert (h.phase("high"), h.phase("normal"), h.phase("low")) == (
            "Running",
            "Queued",
            "Queued",
        )
        status_writes = collections.Counter(
            w[2] for w in h.kube.writes if w[:2] == ("patch", "videodownloads/status")
        )
        assert status_writes == {"high": 1, "normal": 1, "low": 1}
        assert [r for _, r in h.recorder.events] == ["Started"]

    def test_gate_denial_blocks_and_frees_the_slot(self) -> None:
        """A download the gate denies is Blocked, and the next one takes the slot."""

        async def scenario() -> Harness:
            h = Harness(max_running=1, gate=FakeGate(deny={"a"}))
            h.kube.add_download(download("a", uid="uid-a", created=T0))
            h.kube.add_download(
                download("b", uid="uid-b", created=T0 + datetime.timedelta(seconds=1))
            )
            await h.settle()
            await h.settle()
            return h

        h = asyncio.run(scenario())
        assert h.phase("a") == "Blocked"
        assert h.phase("b") == "Running"
        ready = next(
            c
            for c in h.kube.downloads[("media", "a")]["status"]["conditions"]
            if c["type"] == "Ready"
        )
        assert ready["reason"] == "CircuitOpen"


class SlowGate(FakeGate):
    """Holds each outcome until ``release`` is set; logs considerations and outcomes in order."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.log: list[tuple[str, int]] = []

    async def consider(self, candidate: Any) -> Any:
        self.log.append(("consider", candidate.attempt))
        return await super().consider(candidate)

    async def attempt_finished(self, candidate: Any, outcome: Any) -> None:
        await self.release.wait()
        self.log.append(("outcome", candidate.attempt))
        await super().attempt_finished(candidate, outcome)


def test_the_next_attempt_waits_until_the_gate_knows_how_the_last_ended() -> None:
    """A failure seen after its backoff already ran out: the status that says so reaches the
    admission loop (through the watch) before the gate has taken the outcome, which may trip
    the site's breaker; the next attempt is asked about only once the gate has it."""

    async def scenario() -> tuple[Harness, list[tuple[str, int]]]:
        gate = SlowGate()
        h = Harness(gate=gate)
        spec = {"retry": {"maxAttempts": 5, "backoff": {"initialSeconds": 1, "maxSeconds": 1}}}
        h.kube.add_download(download(spec=spec))
        await h.settle()
        first = h.kube.downloads[("media", "clip")]["status"]["workerPod"]
        h.finish(
            first,
            phase="Failed",
            containerStatuses=[
                {
                    "name": "worker",
                    "state": {
                        "terminated": {
                            "exitCode": 10,
                            "message": failure_message("Throttled", "HTTPError429", "Too Many"),
                            "finishedAt": "2026-01-01T00:00:10Z",
                        }
                    },
                }
            ],
        )
        h.now = T0 + datetime.timedelta(seconds=60)  # seen late: the backoff is over
        h.sync()
        judging = asyncio.create_task(h.controller.reconcile(("media", "clip")))
        while h.phase("clip") != "BackingOff":
            await asyncio.sleep(0)
        h.sync()  # the watch brings the written status while the outcome is on its way
        passing = asyncio.create_task(h.scheduler.run_pass())
        for _ in range(50):
            await asyncio.sleep(0)
        asked_early = list(gate.log)
        gate.release.set()
        await judging
        await passing
        h.sync()
        await h.scheduler.run_pass()
        return h, asked_early

    h, asked_early = asyncio.run(scenario())
    assert asked_early == [("consider", 1)]
    assert h.gate.log == [("consider", 1), ("outcome", 1), ("consider", 2)]  # type: ignore[attr-defined]
    status = h.kube.downloads[("media", "clip")]["status"]
    assert (status["phase"], status["attempts"]) == ("Running", 2)
    assert len(h.kube.pods) == 2


class TestDeletionPolicy:
    def test_finalizer_before_the_pod(self) -> None:
        """With deletionPolicy Delete the finalizer is on the object before any Pod exists."""

        async def scenario() -> Harness:
            h = Harness()
            h.kube.add_download(download(spec={"deletionPolicy": "Delete"}))
            await h.settle()
            return h

        h = asyncio.run(scenario())
        finalizer_write = h.kube.writes.index(("patch", "videodownloads", "clip"))
        first_create = next(i for i, w in enumerate(h.kube.writes) if w[1] == "pods")
        assert finalizer_write < first_create
        assert naming.FINALIZER in h.kube.downloads[("media", "clip")]["metadata"]["finalizers"]


class TestPriorityChange:
    def test_bumping_a_queued_download_reorders_the_queue(self) -> None:
        """Raising spec.priority of a waiting download lets it start before older ones."""

        async def scenario() -> list[str]:
            h = Harness(max_running=1)
            for index, name in enumerate(["a", "b", "c"]):
                created = T0 + datetime.timedelta(seconds=index)
                h.kube.add_download(download(name, uid=f"uid-{name}", created=created))
            await h.settle()  # "a" runs, "b" and "c" wait
            h.kube.update_spec("media", "c", priority="High")
            started = ["a"]
            for _ in range(6):
                running = h.kube.downloads[("media", started[-1])]["status"]
                if running.get("phase") == "Running":
                    h.finish(running["workerPod"], **succeeded())
                await h.settle()
                for name in ("b", "c"):
                    phase = h.phase(name)
                    if phase in ("Running", "Succeeded") and name not in started:
                        started.append(name)
            observed = h.kube.downloads[("media", "c")]["status"]["observedGeneration"]
            assert observed == 2
            return started

        assert asyncio.run(scenario()) == ["a", "c", "b"]


def test_an_unschedulable_pod_learns_whether_other_workers_hold_places() -> None:
    """Nodes full of other workers will have room as they end; the observation says so.

    A worker that ends at once goes from Pending to Succeeded without ever being seen
    Running: what counts is being on a node and not finished."""
    h = Harness()
    h.controller.observe(download("waiting", uid="u-wait"), deleted=False)
    unplaced = pod_object("waiting-1", owner="waiting", owner_uid="u-wait", phase="Pending")
    unplaced["status"]["conditions"] = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 Insufficient cpu.",
        }
    ]
    h.controller.observe_pod(unplaced, deleted=False)
    record = h.controller.objects.get(("media", "waiting"))
    assert record is not None
    assert h.controller._observation(record).others_placed is False
    other = {"owner": "other", "owner_uid": "u-other"}
    queued = pod_object("other-1", **other, phase="Pending")
    h.controller.observe_pod(queued, deleted=False)
    assert h.controller._observation(record).others_placed is False
    placed = pod_object("other-1", **other, phase="Pending", node="node-1", resource_version="250")
    h.controller.observe_pod(placed, deleted=False)
    assert h.controller._observation(record).others_placed is True
    finished = pod_object(
        "other-1", **other, phase="Succeeded", node="node-1", resource_version="300"
    )
    h.controller.observe_pod(finished, deleted=False)
    assert h.controller._observation(record).others_placed is False


class TestPodRemovedAtOnce:
    """A worker Pod deleted with no grace period leaves no ``deletionTimestamp`` to see."""

    async def running(self, h: Harness) -> str:
        h.kube.add_download(download())
        await h.settle()
        h.kube.set_pod_status("media", self.recorded(h), {"phase": "Running"})
        await h.settle()
        return self.recorded(h)

    def recorded(self, h: Harness) -> str:
        return str(h.kube.downloads[("media", "clip")]["status"]["workerPod"])

    def remove(self, h: Harness, name: str) -> None:
        body = h.kube.pods.pop(("media", name))
        h.controller.observe_pod(body, deleted=True)

    def test_the_next_run_gets_a_new_pod(self) -> None:
        """The removed Pod's name is not created again: the attempt goes on in run 2."""

        async def scenario() -> tuple[Harness, str]:
            h = Harness()
            first = await self.running(h)
            self.remove(h, first)
            await h.controller.reconcile(("media", "clip"))
            return h, first

        h, first = asyncio.run(scenario())
        status = h.kube.downloads[("media", "clip")]["status"]
        assert naming.run_of(first) == 1
        assert naming.run_of(status["workerPod"]) == 2
        assert (status["phase"], status["attempts"]) == ("Running", 1)
        assert ("media", first) not in h.kube.pods
        assert ("media", status["workerPod"]) in h.kube.pods
        assert [w[2] for w in h.kube.writes if w[:2] == ("create", "pods")] == [
            first,
            status["workerPod"],
        ]
        assert "WorkerReplaced" in [r for _, r in h.recorder.events]

    def test_a_pod_gone_from_a_listing_counts_as_removed(self) -> None:
        """A relist that no longer has the Pod (deleted while the watch was down) is the same."""

        async def scenario() -> tuple[Harness, str]:
            h = Harness()
            first = await self.running(h)
            h.kube.pods.pop(("media", first))
            h.controller.forget_pod(("media", first))
            await h.controller.reconcile(("media", "clip"))
            return h, first

        h, first = asyncio.run(scenario())
        assert naming.run_of(self.recorded(h)) == 2
        assert ("media", first) not in h.kube.pods

    def test_the_memory_of_removed_pods_goes_with_the_download(self) -> None:
        """A finished download keeps no record of its removed Pods, nor a deleted one."""

        async def scenario() -> tuple[Harness, int, int, int]:
            h = Harness()
            first = await self.running(h)
            self.remove(h, first)
            await h.controller.reconcile(("media", "clip"))
            second = self.recorded(h)
            h.finish(second, **succeeded())
            await h.settle()
            self.remove(h, second)
            remembered = len(h.controller._gone)
            await h.controller.reconcile(("media", "clip"))
            other = Harness()
            gone = await self.running(other)
            self.remove(other, gone)
            before = len(other.controller._gone)
            other.controller.observe(other.kube.downloads[("media", "clip")], deleted=True)
            return h, remembered, before, len(other.controller._gone)

        h, remembered, before, after = asyncio.run(scenario())
        assert h.phase("clip") == "Succeeded"
        assert (remembered, before) == (1, 1)
        assert h.controller._gone == {}
        assert after == 0
