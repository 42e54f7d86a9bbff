"""Benchmark (not a test): what one admission pass costs, by how many downloads are finished.

The operator's view holds 20 running downloads (the cluster-wide limit), 200 queued ones,
and 0, 1000 or 10 000 finished ones; one admission pass decides that nothing can start
(the limit is reached), so it writes nothing and the figure is the pass alone: walking the
downloads it must consider and ordering the queue. Each case runs its passes interleaved
with the others, round by round, so a noisy neighbour slows all of them alike. Reported:
the median and 90th percentile of a pass, and the median's ratio to the case with no
finished downloads (a pass that costs what waits, not what exists, stays near 1).

Run: ``python tests/benchmarks/bench_admission_pass.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import statistics
import time
from typing import Any, cast

from videodl.kube.client import Kube
from videodl.kube.events import Recorder
from videodl.operator.admission import Scheduler
from videodl.operator.downloads import DownloadController
from videodl.operator.metrics import Metrics
from videodl.operator.settings import AdmissionSettings, Settings
from videodl.reconcile.download.gate import AdmissionGate

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
RUNNING = 20
QUEUED = 200
FINISHED = (0, 1000, 10_000)


def _stamp(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _download(index: int, status: dict[str, Any]) -> dict[str, Any]:
    created = T0 + datetime.timedelta(seconds=index)
    return {
        "apiVersion": "videodl.dev/v1alpha1",
        "kind": "VideoDownload",
        "metadata": {
            "name": f"d{index:05d}",
            "namespace": f"ns{index % 10}",
            "uid": f"00000000-0000-4000-8000-{index:012d}",
            "generation": 1,
            "resourceVersion": str(1000 + index),
            "creationTimestamp": _stamp(created),
        },
        "spec": {
            "url": f"http://media.local/v/{index}.mp4",
            "priority": ("Low", "Normal", "High")[index % 3],
            "output": {"persistentVolumeClaim": {"claimName": "media"}},
        },
        "status": {"observedGeneration": 1, "attempts": 1, **status},
    }


def _scheduler(finished: int) -> Scheduler:
    settings = Settings(admission=AdmissionSettings(max_running=RUNNING, aging_seconds=600))
    controller = DownloadController(
        settings=settings,
        # A pass that admits nothing makes no request and posts no Event.
        kube=cast(Kube, None),
        recorder=cast(Recorder, None),
        metrics=Metrics(),
        gate=cast(AdmissionGate, None),
        clock=lambda: T0 + datetime.timedelta(hours=1),
    )
    index = 0
    for _ in range(RUNNING):
        pod = f"d{index:05d}-1"
        controller.observe(_download(index, {"phase": "Running", "workerPod": pod}), deleted=False)
        index += 1
    for _ in range(QUEUED):
        controller.observe(_download(index, {"phase": "Queued"}), deleted=False)
        index += 1
    for _ in range(finished):
        done = {"phase": "Succeeded", "completionTime": _stamp(T0), "workerPod": f"d{index}-1"}
        controller.observe(_download(index, done), deleted=False)
        index += 1
    return Scheduler(controller, settings.admission, cast(AdmissionGate, None))


async def _timed_pass(scheduler: Scheduler) -> float:
    began = time.perf_counter()
    await scheduler.run_pass()
    return time.perf_counter() - began


async def measure(rounds: int) -> dict[int, list[float]]:
    schedulers = {finished: _scheduler(finished) for finished in FINISHED}
    times: dict[int, list[float]] = {finished: [] for finished in FINISHED}
    for scheduler in schedulers.values():
        await scheduler.run_pass()  # warm up
    for _ in range(rounds):
        for finished, scheduler in schedulers.items():
            times[finished].append(await _timed_pass(scheduler))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    times = asyncio.run(measure(args.rounds))
    base = statistics.median(times[0])
    print(f"admission pass, {RUNNING} running, {QUEUED} queued, {args.rounds} rounds")
    print(f"{'finished':>9} {'median ms':>10} {'p90 ms':>8} {'ratio':>6}")
    for finished, samples in times.items():
        median = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"{finished:>9} {median * 1e3:>10.2f} {p90 * 1e3:>8.2f} {median / base:>6.2f}")


if __name__ == "__main__":
    main()
