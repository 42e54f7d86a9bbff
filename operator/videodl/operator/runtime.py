"""The running operator's parts and their start and stop, in one place.

Built from :class:`~videodl.operator.settings.Settings`: the Kubernetes client, the
controller and its reconcile workers, the admission loop, the Event recorder and the
metrics endpoint. kopf's startup and cleanup handlers call :meth:`Runtime.start` and
:meth:`Runtime.stop`; nothing here knows kopf (see :mod:`videodl.operator.kopfsetup`).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from aiohttp import web
from kubernetes import client

from videodl.breaker.gate import BreakerGate
from videodl.breaker.metrics import BreakerMetrics
from videodl.kube import login
from videodl.kube.client import Client, Kube
from videodl.kube.events import Recorder
from videodl.kube.leader import Leadership, own_identity, own_namespace
from videodl.operator.admission import Scheduler
from videodl.operator.downloads import DownloadController
from videodl.operator.metrics import Metrics, serve
from videodl.operator.playlists import PlaylistController
from videodl.operator.settings import Settings
from videodl.operator.subscriptions import SubscriptionController
from videodl.operator.watching import Watching
from videodl.reconcile.download.gate import AdmissionGate

__all__ = ["Runtime", "StartupError"]

logger = logging.getLogger(__name__)


class StartupError(Exception):
    """The operator cannot start, and retrying would not help (e.g. the port is taken)."""


class Runtime:
    """Everything the operator runs besides kopf itself."""

    def __init__(self, settings: Settings, *, gate: AdmissionGate | None = None) -> None:
        self.settings = settings
        self.configuration = login.client_configuration(settings.kubeconfig)
        # One connection per concurrent request; the default pool is smaller.
        self.configuration.connection_pool_maxsize = 64
        self.api = client.ApiClient(self.configuration)
        self.kube = Kube(self.api, threads=48)
        self.metrics = Metrics()
        # Events get threads of their own: a backlog of them never delays a status write.
        self.events_kube = Kube(self.api, threads=2)
        self.recorder = Recorder(self.events_kube)
        # The per-site circuit breaker is the gate unless a test brings its own.
        self.breaker: BreakerGate | None = None
        if gate is None:
            self.breaker = gate = BreakerGate.from_settings(
                settings.breaker,
                client=self.kube.client,
                metrics=BreakerMetrics(self.metrics.registry),
                post_event=self.kube.create_event,
                wake=lambda: self.controller.changed.set(),  # noqa: PLW0108 - made below
            )
        self.gate: AdmissionGate = gate
        self.controller = DownloadController(
            settings=settings,
            kube=self.kube,
            recorder=self.recorder,
            metrics=self.metrics,
            gate=self.gate,
        )
        self.scheduler = Scheduler(self.controller, settings.admission, self.gate)
        self.playlists = PlaylistController(
            settings=settings,
            kube=self.kube,
            events=self.events_kube,
            metrics=self.metrics,
            gate=self.gate,
            indexer=settings.playlist,
        )
        self.subscriptions = SubscriptionController(
            settings=settings,
            kube=self.kube,
            events=self.events_kube,
            metrics=self.metrics,
            missed_warning=settings.missed_slots_warning,
        )
        # Watches hold their connections for minutes: a pool of their own, one each.
        namespaces = settings.watch.namespaces
        watch_configuration = copy.copy(self.configuration)
        watch_configuration.connection_pool_maxsize = 2 * max(len(namespaces), 1) + 2
        self.watch_api = client.ApiClient(watch_configuration)
        self.watching = Watching(
            self.controller,
            Client(self.watch_api),
            namespaces=namespaces,
            instance=settings.instance,
            playlists=self.playlists,
            subscriptions=self.subscriptions,
        )
        #: Set to stop kopf (and so the operator), e.g. when the Lease is lost.
        self.stop_flag = asyncio.Event()
        self.leadership: Leadership | None = None
        if settings.peering is not None:
            self.leadership = Leadership(
                self.kube,
                namespace=own_namespace(settings.breaker.configmap_namespace),
                name=settings.peering,
                identity=own_identity(),
            )
        self.metrics_port: int | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._http: web.AppRunner | None = None

    async def start(self) -> None:
        """Start the metrics endpoint, the Event poster, reconcile workers and admission.

        Raises :class:`StartupError` when the metrics endpoint cannot be served.
        """
        if self.breaker is not None:
            # Before the health endpoint: healthy means ready to admit downloads.
            await self.breaker.start()
        address, port = self.settings.metrics.bind_address, self.settings.metrics.port
        try:
            self._http, self.metrics_port = await serve(
                self.metrics, host=address, port=port, healthy=self.scheduler.healthy
            )
        except OSError as exc:
            # Retrying cannot free the port; stop with the reason instead.
            msg = (
                f"cannot serve metrics on {address}:{port} ({exc.strerror or exc}): "
                "choose another --metrics-port"
            )
            raise StartupError(msg) from exc
        logger.info("metrics and health endpoint on port %d", self.metrics_port)
        self.recorder.start(workers=2)
        self._tasks.append(asyncio.create_task(self.watching.run(), name="watching"))
        for index in range(self.settings.reconcile_workers):
            self._tasks.append(
                asyncio.create_task(self.controller.run_worker(), name=f"reconcile-{index}")
            )
        self._tasks.append(asyncio.create_task(self.scheduler.run(), name="admission"))
        for index in range(4):
            self._tasks.append(
                asyncio.create_task(self.playlists.run_worker(), name=f"playlist-{index}")
            )
        for index in range(2):
            self._tasks.append(
                asyncio.create_task(self.subscriptions.run_worker(), name=f"subscription-{index}")
            )
        if self.leadership is None:
            self.controller.leading.set()
            self.playlists.leading.set()
            self.subscriptions.leading.set()
        else:
            self._tasks.append(asyncio.create_task(self.leadership.run(), name="lease"))
            self._tasks.append(asyncio.create_task(self._follow_leadership(), name="leadership"))

    @property
    def lost_leadership(self) -> bool:
        return self.leadership is not None and self.leadership.lost.is_set()

    async def _follow_leadership(self) -> None:
        """Write only while holding the Lease; stop the operator when it is lost."""
        assert self.leadership is not None
        await self.leadership.leading.wait()
        self.controller.leading.set()
        self.playlists.leading.set()
        self.subscriptions.leading.set()
        self.controller.changed.set()
        await self.leadership.lost.wait()
        # Another replica may be writing already: stop at once, restart as a standby.
        self.controller.leading.clear()
        self.playlists.leading.clear()
        self.subscriptions.leading.clear()
        self.stop_flag.set()

    async def stop(self) -> None:
        """Stop everything started by :meth:`start` (workers are never left half-way)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.watching.stop()
        self.controller.queue.close()
        self.playlists.queue.close()
        self.subscriptions.queue.close()
        if self.breaker is not None:
            await self.breaker.stop()
        await self.recorder.stop()
        if self._http is not None:
            await self._http.cleanup()
            self._http = None
        if self.leadership is not None and not self.leadership.lost.is_set():
            await self.leadership.release()
        self.kube.close()
        self.events_kube.close()
