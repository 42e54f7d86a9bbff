"""Every Prometheus metric of the operator, and the HTTP endpoint serving them.

One registry of the operator's own (no process-global default registry), filled in one
place per reconcile from the status before and after the write (:meth:`Metrics.record_status`)
and once per admission pass (:meth:`Metrics.set_queue`). The endpoint serves ``/metrics``
and ``/healthz`` (for the liveness probe) from the operator's event loop, so a stuck loop
fails the probe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import prometheus_client
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from videodl.api.playlist import PlaylistPhase
from videodl.api.spec import Priority
from videodl.api.status import FailureClass, Phase, VideoDownloadStatus
from videodl.api.subscription import SubscriptionPhase

__all__ = ["Metrics", "serve"]

_DURATION_BUCKETS: Final = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
_BYTES_BUCKETS: Final = tuple(float(2**n) for n in range(16, 38, 2))  # 64 KiB .. 128 GiB
_RECONCILE_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_NONE: Final = "none"


class Metrics:
    """The operator's metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.downloads = Counter(
            "videodl_downloads_total",
            "Downloads that finished, by result (succeeded, failed) and failure class.",
            ["result", "failure_class"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "videodl_queue_depth",
            "Downloads waiting for a worker slot (Queued, Blocked, BackingOff), by priority.",
            ["priority"],
            registry=registry,
        )
        self.running_workers = Gauge(
            "videodl_running_workers",
            "Downloads holding a worker slot (phase Running).",
            registry=registry,
        )
        self.attempts = Counter(
            "videodl_attempts_total",
            "Attempts started: worker Pods created for a new attempt (not replacements).",
            registry=registry,
        )
        self.retries = Counter(
            "videodl_retries_total",
            "Failed attempts that will be retried after a backoff, by failure class.",
            ["failure_class"],
            registry=registry,
        )
        self.replacements = Counter(
            "videodl_worker_replacements_total",
            "Worker Pods replaced after Kubernetes stopped them (not counted as attempts).",
            registry=registry,
        )
        self.download_duration = Histogram(
            "videodl_download_duration_seconds",
            "Seconds from the first attempt's start to success or final failure.",
            ["result"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.download_bytes = Histogram(
            "videodl_download_bytes",
            "Bytes written by a successful download, all its files together.",
            buckets=_BYTES_BUCKETS,
            registry=registry,
        )
        self.reconcile_errors = Counter(
            "videodl_reconcile_errors_total",
            "Reconciles or admissions that failed with an error and were retried.",
            registry=registry,
        )
        self.reconcile_duration = Histogram(
            "videodl_reconcile_duration_seconds",
            "Seconds one reconcile of a download took, its API calls included.",
            buckets=_RECONCILE_BUCKETS,
            registry=registry,
        )
        self.playlists = Gauge(
            "videodl_playlists",
            "VideoPlaylists by phase (those without a phase yet count as Pending).",
            ["phase"],
            registry=registry,
        )
        self.playlist_children_created = Counter(
            "videodl_playlist_children_created_total",
            "VideoDownloads the operator created as children of VideoPlaylists.",
            registry=registry,
        )
        self.subscriptions = Gauge(
            "videodl_subscriptions",
            "VideoSubscriptions by phase (those without a phase yet count as Pending).",
            ["phase"],
            registry=registry,
        )
        self.subscription_scans = Counter(
            "videodl_subscription_scans_total",
            "Scans of VideoSubscriptions that finished, by result (succeeded, failed).",
            ["result"],
            registry=registry,
        )
        self.subscription_slots_skipped = Counter(
            "videodl_subscription_slots_skipped_total",
            "Slots of VideoSubscriptions skipped, by reason (MissSchedule, ScanAlreadyActive).",
            ["reason"],
            registry=registry,
        )
        self.subscription_downloads_created = Counter(
            "videodl_subscription_downloads_created_total",
            "VideoDownloads the operator created for new videos of VideoSubscriptions.",
            registry=registry,
        )
        self.subscription_pruned = Counter(
            "videodl_subscription_pruned_total",
            "VideoDownloads of VideoSubscriptions deleted by retention.",
            registry=registry,
        )
        # Series exist from the start, so rates and absent() behave before the first event.
        for result in ("succeeded", "failed"):
            self.download_duration.labels(result=result)
        self.downloads.labels(result="succeeded", failure_class=_NONE)
        for failure_class in FailureClass:
            self.downloads.labels(result="failed", failure_class=failure_class.value)
            self.retries.labels(failure_class=failure_class.value)
        for priority in Priority:
            self.queue_depth.labels(priority=priority.value)
        for playlist_phase in PlaylistPhase:
            self.playlists.labels(phase=playlist_phase.value)
        for subscription_phase in SubscriptionPhase:
            self.subscriptions.labels(phase=subscription_phase.value)
        for result in ("succeeded", "failed"):
            self.subscription_scans.labels(result=result)
        for reason in ("MissSchedule", "ScanAlreadyActive"):
            self.subscription_slots_skipped.labels(reason=reason)

    def set_playlists(self, phases: Mapping[str, int]) -> None:
        """Publish how many VideoPlaylists are in each phase."""
        for phase in PlaylistPhase:
            self.playlists.labels(phase=phase.value).set(phases.get(phase.value, 0))

    def set_subscriptions(self, phases: Mapping[str, int]) -> None:
        """Publish how many VideoSubscriptions are in each phase."""
        for phase in SubscriptionPhase:
            self.subscriptions.labels(phase=phase.value).set(phases.get(phase.value, 0))

    def record_status(self, old: VideoDownloadStatus, new: VideoDownloadStatus) -> None:
        """Count what changed between two statuses the operator wrote one after the other."""
        if (
            new.phase == Phase.RUNNING
            and old.phase == Phase.RUNNING
            and new.worker_pod != old.worker_pod
        ):
            self.replacements.inc()
        if new.phase == old.phase:
            return
        failure = new.last_failure
        if new.phase == Phase.BACKING_OFF and failure is not None:
            self.retries.labels(failure_class=failure.failure_class.value).inc()
        elif new.phase == Phase.SUCCEEDED:
            self.downloads.labels(result="succeeded", failure_class=_NONE).inc()
            self._observe_duration("succeeded", new)
            if new.result is not None:
                self.download_bytes.observe(sum(f.size_bytes for f in new.result.files))
        elif new.phase == Phase.FAILED:
            failure_class = failure.failure_class.value if failure else _NONE
            self.downloads.labels(result="failed", failure_class=failure_class).inc()
            self._observe_duration("failed", new)

    def _observe_duration(self, result: str, status: VideoDownloadStatus) -> None:
        if status.start_time is None or status.completion_time is None:
            return
        seconds = (status.completion_time - status.start_time).total_seconds()
        self.download_duration.labels(result=result).observe(max(seconds, 0.0))

    def set_queue(self, waiting: Mapping[Priority, int], running: int) -> None:
        """Publish the queue depth per priority and the number of running workers."""
        for priority in Priority:
            self.queue_depth.labels(priority=priority.value).set(waiting.get(priority, 0))
        self.running_workers.set(running)

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return prometheus_client.generate_latest(self.registry)


async def serve(
    metrics: Metrics,
    *,
    host: str,
    port: int,
    healthy: Callable[[], bool],
) -> tuple[web.AppRunner, int]:
    """Start the HTTP endpoint; returns the runner (to stop it) and the bound port."""

    async def metrics_handler(_: web.Request) -> web.Response:
        return web.Response(
            body=metrics.exposition(),
            headers={"Content-Type": prometheus_client.CONTENT_TYPE_LATEST},
        )

    async def health_handler(_: web.Request) -> web.Response:
        if healthy():
            return web.Response(text="ok\n")
        return web.Response(status=503, text="admission loop is not making progress\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", health_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host=host, port=port)
    await site.start()
    bound = port
    for address in runner.addresses:
        # TCP addresses are (host, port) or (host, port, flowinfo, scope_id).
        if isinstance(address, tuple) and len(address) >= 2:
            bound = int(address[1])
            break
    return runner, bound
