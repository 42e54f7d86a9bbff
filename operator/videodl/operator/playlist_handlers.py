"""The kopf registrations of VideoPlaylists, their indexer Pods and their children.

Watching handlers only, as for VideoDownloads (:mod:`videodl.operator.handlers`): index
handlers fill the view before anything is decided after a start, so a restarted operator
sees every child it created before it creates any more; event handlers queue the owning
playlist. Children are the VideoDownloads labelled ``videodl.dev/playlist``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from videodl.api import playlist
from videodl.api.resource import GROUP, PLURAL, VERSION
from videodl.operator.playlists import PlaylistController
from videodl.reconcile.download import naming as download_naming
from videodl.reconcile.playlist import naming

__all__ = ["register"]


def register(
    registry: kopf.OperatorRegistry, controller: PlaylistController, pod_labels: Mapping[str, str]
) -> None:
    """Register the playlist handlers on ``registry``."""
    indexer_labels = {
        **pod_labels,
        download_naming.LABEL_COMPONENT: naming.COMPONENT_INDEXER,
    }
    child_labels = {naming.LABEL_PLAYLIST: kopf.PRESENT}

    def wake(key: tuple[str, str] | None) -> None:
        controller.ready.set()
        if key is not None:
            controller.queue.add(key)

    @kopf.index(GROUP, VERSION, playlist.PLURAL, registry=registry)
    async def videoplaylist_view(body: kopf.Body, **_: Any) -> None:
        controller.observe_playlist(body, deleted=False)

    @kopf.on.event(GROUP, VERSION, playlist.PLURAL, registry=registry)
    async def videoplaylist_changed(type: str | None, body: kopf.Body, **_: Any) -> None:
        wake(controller.observe_playlist(body, deleted=type == "DELETED"))

    @kopf.index(GROUP, VERSION, PLURAL, labels=child_labels, registry=registry)
    async def child_view(body: kopf.Body, **_: Any) -> None:
        controller.observe_child(body, deleted=False)

    @kopf.on.event(GROUP, VERSION, PLURAL, labels=child_labels, registry=registry)
    async def child_changed(type: str | None, body: kopf.Body, **_: Any) -> None:
        wake(controller.observe_child(body, deleted=type == "DELETED"))

    @kopf.index("", "v1", "pods", labels=indexer_labels, registry=registry)
    async def indexer_view(body: kopf.Body, **_: Any) -> None:
        controller.observe_pod(body, deleted=False)

    @kopf.on.event("", "v1", "pods", labels=indexer_labels, registry=registry)
    async def indexer_changed(type: str | None, body: kopf.Body, **_: Any) -> None:
        wake(controller.observe_pod(body, deleted=type == "DELETED"))
