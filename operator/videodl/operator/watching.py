"""What the operator watches: its VideoDownloads and their Pods, listed and then watched.

One :class:`~videodl.kube.informer.Informer` per kind and watched namespace (or one per
kind for the whole cluster) feeds the controller's view: every object goes into the view
and queues its download for a reconcile, and every change wakes the admission loop. The
view is complete, and the controller :attr:`~videodl.kube.controller.Controller.ready`,
only once every informer has delivered its first listing: a restarted operator has seen
every download (so the limits count every running one) and every worker Pod before it
decides anything. A listing also drops what was deleted while nobody watched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from videodl.kube.cache import Key
from videodl.kube.client import VIDEODOWNLOADS, Client, core_path
from videodl.kube.informer import Informer
from videodl.operator.downloads import DownloadController
from videodl.reconcile.download import naming

__all__ = ["Watching"]


class _Downloads:
    """Receives VideoDownloads into the controller's view."""

    def __init__(self, controller: DownloadController) -> None:
        self._controller = controller

    def on_object(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        controller = self._controller
        key = controller.observe(body, deleted=deleted)
        controller.queue.add(key)
        controller.changed.set()

    def on_listed(self, namespace: str | None, keys: frozenset[Key]) -> None:
        controller = self._controller
        for key, _ in list(controller.objects.items()):
            if (namespace is None or key[0] == namespace) and key not in keys:
                name_only = {"metadata": {"namespace": key[0], "name": key[1]}}
                self.on_object(name_only, deleted=True)


class _Pods:
    """Receives the operator's Pods into the controller's view of them."""

    def __init__(self, controller: DownloadController) -> None:
        self._controller = controller

    def on_object(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        controller = self._controller
        owner = controller.observe_pod(body, deleted=deleted)
        if owner is not None:
            controller.queue.add(owner)
            controller.changed.set()

    def on_listed(self, namespace: str | None, keys: frozenset[Key]) -> None:
        controller = self._controller
        for key in controller.pods.known():
            if (namespace is None or key[0] == namespace) and key not in keys:
                gone = controller.pods.forget(key)
                if gone is not None and gone.owner_name is not None:
                    controller.queue.add((gone.namespace, gone.owner_name))
                    controller.changed.set()


def _pods_path(namespace: str | None) -> str:
    return "/api/v1/pods" if namespace is None else core_path("pods", namespace)


def _downloads_path(namespace: str | None) -> str:
    if namespace is None:
        resource = VIDEODOWNLOADS
        return f"/apis/{resource.group}/{resource.version}/{resource.plural}"
    return VIDEODOWNLOADS.path(namespace)


class Watching:
    """The informers of the operator; :meth:`run` marks the controller ready once synced."""

    def __init__(
        self,
        controller: DownloadController,
        client: Client,
        *,
        namespaces: Sequence[str],
        instance: str,
    ) -> None:
        self._controller = controller
        self._client = client
        self._scopes: list[str | None] = list(namespaces) or [None]
        self._selector = naming.pod_selector(instance)
        self.informers: list[Informer] = []

    async def run(self) -> None:
        """Start every informer, then mark the view complete once each has listed."""
        loop = asyncio.get_running_loop()
        downloads, pods = _Downloads(self._controller), _Pods(self._controller)
        for scope in self._scopes:
            self.informers.append(
                Informer(
                    self._client,
                    _downloads_path(scope),
                    receiver=downloads,
                    loop=loop,
                    namespace=scope,
                )
            )
            self.informers.append(
                Informer(
                    self._client,
                    _pods_path(scope),
                    receiver=pods,
                    loop=loop,
                    namespace=scope,
                    label_selector=self._selector,
                )
            )
        for informer in self.informers:
            informer.start()
        await asyncio.gather(*(informer.synced.wait() for informer in self.informers))
        self._controller.ready.set()
        self._controller.changed.set()

    def stop(self) -> None:
        for informer in self.informers:
            informer.stop(timeout=0.1)
