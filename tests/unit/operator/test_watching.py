"""Tests for videodl.operator.watching: what the informers' deliveries do to the view."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.unit.operator.fakes import FakeGate
from tests.unit.operator.test_downloads import Harness
from tests.unit.reconcile.download.builders import download, pod_object, worker_name

from videodl.api import playlist as playlist_api
from videodl.api import resource
from videodl.api import subscription as subscription_api
from videodl.operator.metrics import Metrics
from videodl.operator.playlists import PlaylistController
from videodl.operator.settings import Settings
from videodl.operator.subscriptions import SubscriptionController
from videodl.operator.watching import _Downloads, _Playlists, _Pods
from videodl.reconcile.download import naming
from videodl.reconcile.playlist import naming as playlist_naming
from videodl.reconcile.playlist.settings import IndexerSettings
from videodl.reconcile.subscription import naming as subscription_naming


def test_an_object_queues_its_download_and_wakes_admission() -> None:
    h = Harness()
    receiver = _Downloads(h.controller, None, None)
    h.controller.changed.clear()
    receiver.on_object(download(), deleted=False)
    assert ("media", "clip") in h.controller.objects
    assert h.controller.changed.is_set()
    assert asyncio.run(asyncio.wait_for(h.controller.queue.get(), 1)) == ("media", "clip")


def test_a_listing_forgets_downloads_deleted_while_nobody_watched() -> None:
    h = Harness()
    receiver = _Downloads(h.controller, None, None)
    receiver.on_object(download("kept", uid="u1"), deleted=False)
    receiver.on_object(download("gone", uid="u2"), deleted=False)
    receiver.on_object(download("elsewhere", "other", uid="u3"), deleted=False)
    receiver.on_listed("media", frozenset({("media", "kept")}))
    assert sorted(k for k, _ in h.controller.objects.items()) == [
        ("media", "kept"),
        ("other", "elsewhere"),
    ]
    receiver.on_listed(None, frozenset({("media", "kept")}))
    assert [k for k, _ in h.controller.objects.items()] == [("media", "kept")]


def test_a_late_event_does_not_bring_a_forgotten_download_back() -> None:
    h = Harness()
    receiver = _Downloads(h.controller, None, None)
    stale = download("gone", uid="u2", resource_version="5")
    receiver.on_object(stale, deleted=False)
    receiver.on_listed("media", frozenset())
    receiver.on_object(stale, deleted=False)
    assert ("media", "gone") not in h.controller.objects


def test_a_listing_forgets_pods_and_queues_their_owner() -> None:
    h = Harness()
    receiver = _Pods(h.controller, None)
    name = worker_name(1)
    receiver.on_object(pod_object(name), deleted=False)
    assert h.controller.pods.known() == [("media", name)]
    receiver.on_listed("media", frozenset())
    assert h.controller.pods.known() == []
    assert asyncio.run(asyncio.wait_for(h.controller.queue.get(), 1)) == ("media", "clip")


def playlist_controller() -> PlaylistController:
    return PlaylistController(
        settings=Settings(),
        kube=None,  # type: ignore[arg-type]
        events=None,  # type: ignore[arg-type]
        metrics=Metrics(),
        gate=FakeGate(),  # type: ignore[arg-type]
        indexer=IndexerSettings(),
    )


def playlist_object(name: str = "shows", uid: str = "pl-uid") -> dict[str, Any]:
    return {
        "apiVersion": resource.API_VERSION,
        "kind": playlist_api.KIND,
        "metadata": {"name": name, "namespace": "media", "uid": uid, "resourceVersion": "7"},
        "spec": {"url": "https://media.example/feed.rss"},
    }


def child_of(name: str, uid: str, playlist: str = "shows", owner_uid: str = "pl-uid") -> Any:
    body = download(name, uid=uid)
    body["metadata"]["labels"] = {playlist_naming.LABEL_PLAYLIST: playlist}
    body["metadata"]["ownerReferences"] = [
        {"kind": playlist_api.KIND, "name": playlist, "uid": owner_uid, "controller": True}
    ]
    return body


def test_a_child_download_is_in_both_views_and_queues_its_playlist() -> None:
    h = Harness()
    playlists = playlist_controller()
    _Playlists(playlists, None).on_object(playlist_object(), deleted=False)
    assert asyncio.run(asyncio.wait_for(playlists.queue.get(), 1)) == ("media", "shows")
    playlists.queue.done(("media", "shows"))
    receiver = _Downloads(h.controller, playlists, None)
    receiver.on_object(child_of("shows-1", "c1"), deleted=False)
    receiver.on_object(download("alone", uid="c2"), deleted=False)
    assert ("media", "shows-1") in h.controller.objects
    assert playlists.children.known() == [("media", "shows-1")]
    assert asyncio.run(asyncio.wait_for(playlists.queue.get(), 1)) == ("media", "shows")
    receiver.on_listed("media", frozenset({("media", "alone")}))
    assert playlists.children.known() == []


def test_an_indexer_pod_goes_to_the_playlists_only() -> None:
    h = Harness()
    playlists = playlist_controller()
    body = pod_object("shows-index-1", owner="shows", owner_uid="pl-uid")
    body["metadata"]["labels"][naming.LABEL_COMPONENT] = playlist_naming.COMPONENT_INDEXER
    _Pods(h.controller, playlists).on_object(body, deleted=False)
    assert playlists.pods.known() == [("media", "shows-index-1")]
    assert h.controller.pods.known() == []


def subscription_controller() -> SubscriptionController:
    return SubscriptionController(
        settings=Settings(),
        kube=None,  # type: ignore[arg-type]
        events=None,  # type: ignore[arg-type]
        metrics=Metrics(),
    )


def owned_by_subscription(body: dict[str, Any], name: str = "chan") -> dict[str, Any]:
    body["metadata"]["labels"] = {subscription_naming.LABEL_SUBSCRIPTION: name}
    body["metadata"]["ownerReferences"] = [
        {"kind": subscription_api.KIND, "name": name, "uid": "sub-uid", "controller": True}
    ]
    return body


def test_scans_and_downloads_of_a_subscription_queue_it() -> None:
    h = Harness()
    playlists = playlist_controller()
    subscriptions = subscription_controller()
    scan = owned_by_subscription(playlist_object("chan-29000000", uid="scan-uid"))
    _Playlists(playlists, subscriptions).on_object(scan, deleted=False)
    assert subscriptions.scans.known() == [("media", "chan-29000000")]
    assert playlists.objects.get(("media", "chan-29000000")) is not None
    assert asyncio.run(asyncio.wait_for(subscriptions.queue.get(), 1)) == ("media", "chan")
    subscriptions.queue.done(("media", "chan"))
    receiver = _Downloads(h.controller, playlists, subscriptions)
    receiver.on_object(owned_by_subscription(download("chan-abc", uid="d1")), deleted=False)
    assert subscriptions.downloads.known() == [("media", "chan-abc")]
    assert playlists.children.known() == []
    assert asyncio.run(asyncio.wait_for(subscriptions.queue.get(), 1)) == ("media", "chan")
    receiver.on_listed("media", frozenset())
    assert subscriptions.downloads.known() == []
