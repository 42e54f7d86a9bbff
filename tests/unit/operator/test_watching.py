"""Tests for videodl.operator.watching: what the informers' deliveries do to the view."""

from __future__ import annotations

import asyncio

from tests.unit.operator.test_downloads import Harness
from tests.unit.reconcile.download.builders import download, pod_object, worker_name

from videodl.operator.watching import _Downloads, _Pods


def test_an_object_queues_its_download_and_wakes_admission() -> None:
    h = Harness()
    receiver = _Downloads(h.controller, None)
    h.controller.changed.clear()
    receiver.on_object(download(), deleted=False)
    assert ("media", "clip") in h.controller.objects
    assert h.controller.changed.is_set()
    assert asyncio.run(asyncio.wait_for(h.controller.queue.get(), 1)) == ("media", "clip")


def test_a_listing_forgets_downloads_deleted_while_nobody_watched() -> None:
    h = Harness()
    receiver = _Downloads(h.controller, None)
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
    receiver = _Downloads(h.controller, None)
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
