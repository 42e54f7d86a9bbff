"""What the operator watches: the operator's kinds and their Pods, listed then watched.

One :class:`~videodl.kube.informer.Informer` per kind and watched namespace (or one per
kind for the whole cluster) feeds the controllers' views: every object goes into its view
and queues its owner for a reconcile, and every change to a download wakes the admission
loop. A download that belongs to a playlist (label ``videodl.dev/playlist``) is also a
child in the playlist controller's view, and an indexer Pod is the playlist's; downloads and
scans (VideoPlaylists) labelled ``videodl.dev/subscription`` are also in the subscription
controller's view. The views
are complete, and the controllers :attr:`~videodl.kube.controller.Controller.ready`, only
once every informer has delivered its first listing: a restarted operator has seen every
download (so the limits count every running one), every child and every Pod before it
decides anything. A listing also drops what was deleted while nobody watched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from videodl.kube.cache import Key
from videodl.kube.client import Client, Resource, core_path
from videodl.kube.informer import Informer, Receiver
from videodl.operator.downloads import DownloadController
from videodl.operator.playlists import PlaylistController
from videodl.operator.subscriptions import SubscriptionController
from videodl.reconcile.download import naming
from videodl.reconcile.playlist import naming as playlist_naming
from videodl.reconcile.subscription import naming as subscription_naming

__all__ = ["Watching"]


def _labels(body: Mapping[str, Any]) -> Mapping[str, str]:
    labels = (body.get("metadata") or {}).get("labels") or {}
    return labels if isinstance(labels, Mapping) else {}


def _in_scope(key: Key, namespace: str | None, keys: frozenset[Key]) -> bool:
    """Whether ``key`` is in the listed scope but not in the listing (deleted meanwhile)."""
    return (namespace is None or key[0] == namespace) and key not in keys


class _Downloads:
    """Receives VideoDownloads into the download view, and children into their owners'."""

    def __init__(
        self,
        controller: DownloadController,
        playlists: PlaylistController | None,
        subscriptions: SubscriptionController | None,
    ) -> None:
        self._controller = controller
        self._playlists = playlists
        self._subscriptions = subscriptions

    def on_object(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        controller = self._controller
        key = controller.observe(body, deleted=deleted)
        controller.queue.add(key)
        controller.changed.set()
        playlists = self._playlists
        if playlists is not None and playlist_naming.LABEL_PLAYLIST in _labels(body):
            owner = playlists.observe_child(body, deleted=deleted)
            if owner is not None:
                playlists.queue.add(owner)
        subscriptions = self._subscriptions
        if subscriptions is not None and subscription_naming.LABEL_SUBSCRIPTION in _labels(body):
            owner = subscriptions.observe_download(body, deleted=deleted)
            if owner is not None:
                subscriptions.queue.add(owner)

    def on_listed(self, namespace: str | None, keys: frozenset[Key]) -> None:
        controller = self._controller
        for key, _ in list(controller.objects.items()):
            if _in_scope(key, namespace, keys):
                name_only = {"metadata": {"namespace": key[0], "name": key[1]}}
                self.on_object(name_only, deleted=True)
        if self._playlists is not None:
            _forget_owned(self._playlists, self._playlists.children, namespace, keys)
        if self._subscriptions is not None:
            _forget_owned(self._subscriptions, self._subscriptions.downloads, namespace, keys)


class _Pods:
    """Receives the operator's Pods: worker and cleanup Pods, and playlists' indexers."""

    def __init__(
        self, controller: DownloadController, playlists: PlaylistController | None
    ) -> None:
        self._controller = controller
        self._playlists = playlists

    def on_object(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        playlists = self._playlists
        component = _labels(body).get(naming.LABEL_COMPONENT)
        if playlists is not None and component == playlist_naming.COMPONENT_INDEXER:
            owner = playlists.observe_pod(body, deleted=deleted)
            if owner is not None:
                playlists.queue.add(owner)
            return
        controller = self._controller
        owner = controller.observe_pod(body, deleted=deleted)
        if owner is not None:
            controller.queue.add(owner)
            controller.changed.set()

    def on_listed(self, namespace: str | None, keys: frozenset[Key]) -> None:
        controller = self._controller
        for key in controller.pods.known():
            if _in_scope(key, namespace, keys):
                gone = controller.forget_pod(key)
                if gone is not None and gone.owner_name is not None:
                    controller.queue.add((gone.namespace, gone.owner_name))
                    controller.changed.set()
        if self._playlists is not None:
            _forget_owned(self._playlists, self._playlists.pods, namespace, keys)


class _Playlists:
    """Receives VideoPlaylists into the playlist view, and scans into the subscriptions'."""

    def __init__(
        self, playlists: PlaylistController, subscriptions: SubscriptionController | None
    ) -> None:
        self._playlists = playlists
        self._subscriptions = subscriptions

    def on_object(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        self._playlists.queue.add(self._playlists.observe_playlist(body, deleted=deleted))
        subscriptions = self._subscriptions
        if subscriptions is not None and subscription_naming.LABEL_SUBSCRIPTION in _labels(body):
            owner = subscriptions.observe_scan(body, deleted=deleted)
            if owner is not None:
                subscriptions.queue.add(owner)

    def on_listed(self, namespace: str | None, keys: frozenset[Key]) -> None:
        for key, record in list(self._playlists.objects.items()):
            if _in_scope(key, namespace, keys):
                metadata = {"namespace": key[0], "name": key[1], "uid": record.uid}
                self._playlists.queue.add(
                    self._playlists.observe_playlist({"metadata": metadata}, deleted=True)
                )
        if self._subscriptions is not None:
            _forget_owned(self._subscriptions, self._subscriptions.scans, namespace, keys)


class _Subscriptions:
    """Receives VideoSubscriptions into the subscription view."""

    def __init__(self, subscriptions: SubscriptionController) -> None:
        self._subscriptions = subscriptions

    def on_object(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        subscriptions = self._subscriptions
        subscriptions.queue.add(subscriptions.observe_subscription(body, deleted=deleted))

    def on_listed(self, namespace: str | None, keys: frozenset[Key]) -> None:
        for key, record in list(self._subscriptions.objects.items()):
            if _in_scope(key, namespace, keys):
                metadata = {"namespace": key[0], "name": key[1], "uid": record.uid}
                self.on_object({"metadata": metadata}, deleted=True)


def _forget_owned(
    owners_controller: PlaylistController | SubscriptionController,
    store: Any,
    namespace: str | None,
    keys: frozenset[Key],
) -> None:
    """Drop views of owned objects that a listing no longer has; queue their owners."""
    owners = {record.uid: key for key, record in owners_controller.objects.items()}
    for key in store.known():
        if _in_scope(key, namespace, keys):
            gone = store.forget(key)
            owner = owners.get(gone.owner_uid) if gone is not None and gone.owner_uid else None
            if owner is not None:
                owners_controller.queue.add(owner)


def _pods_path(namespace: str | None) -> str:
    return "/api/v1/pods" if namespace is None else core_path("pods", namespace)


def _path(resource: Resource, namespace: str | None) -> str:
    if namespace is None:
        return f"/apis/{resource.group}/{resource.version}/{resource.plural}"
    return resource.path(namespace)


class Watching:
    """The informers of the operator; :meth:`run` marks the controllers ready once synced."""

    def __init__(
        self,
        controller: DownloadController,
        client: Client,
        *,
        namespaces: Sequence[str],
        instance: str,
        playlists: PlaylistController | None = None,
        subscriptions: SubscriptionController | None = None,
    ) -> None:
        self._controller = controller
        self._playlists = playlists
        self._subscriptions = subscriptions
        self._client = client
        self._scopes: list[str | None] = list(namespaces) or [None]
        self._selector = naming.pod_selector(instance)
        self.informers: list[Informer] = []

    def _informer(
        self, path: str, receiver: Receiver, scope: str | None, selector: str | None = None
    ) -> Informer:
        return Informer(
            self._client,
            path,
            receiver=receiver,
            loop=asyncio.get_running_loop(),
            namespace=scope,
            label_selector=selector,
        )

    async def run(self) -> None:
        """Start every informer, then mark the views complete once each has listed."""
        downloads = _Downloads(self._controller, self._playlists, self._subscriptions)
        pods = _Pods(self._controller, self._playlists)
        for scope in self._scopes:
            self.informers.append(
                self._informer(_path(self._controller.resource, scope), downloads, scope)
            )
            self.informers.append(self._informer(_pods_path(scope), pods, scope, self._selector))
            if self._playlists is not None:
                playlists = _Playlists(self._playlists, self._subscriptions)
                self.informers.append(
                    self._informer(_path(self._playlists.resource, scope), playlists, scope)
                )
            if self._subscriptions is not None:
                subscriptions = _Subscriptions(self._subscriptions)
                self.informers.append(
                    self._informer(_path(self._subscriptions.resource, scope), subscriptions, scope)
                )
        for informer in self.informers:
            informer.start()
        await asyncio.gather(*(informer.synced.wait() for informer in self.informers))
        for controller in (self._controller, self._playlists, self._subscriptions):
            if controller is not None:
                controller.ready.set()
                controller.changed.set()

    def stop(self) -> None:
        for informer in self.informers:
            informer.stop(timeout=0.1)
