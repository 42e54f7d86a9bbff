"""Tests for videodl.worker.kube.KubernetesProgressSink with a stand-in API object."""

from __future__ import annotations

import threading
from typing import Any

from videodl.api.status import Progress
from videodl.worker.kube import KubernetesProgressSink


class FakeCustomObjects:
    """Records patches; the first one blocks until released, like a slow apiserver."""

    def __init__(self, *, fail: bool = False) -> None:
        self.patches: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.first_started = threading.Event()
        self.fail = fail

    def patch_namespaced_custom_object_status(self, **call: Any) -> None:
        if not self.first_started.is_set():
            self.first_started.set()
            self.release.wait(5)
        self.patches.append(call)
        if self.fail:
            msg = "403 Forbidden"
            raise RuntimeError(msg)


class TestKubernetesProgressSink:
    def test_patches_the_status_subresource(self) -> None:
        """Each update is a merge patch of status.progress on the named object."""
        api = FakeCustomObjects()
        api.release.set()
        sink = KubernetesProgressSink(name="clip", namespace="media", custom_objects=api)
        sink.publish(Progress(percent=5.0))
        sink.close()
        (call,) = api.patches
        assert (call["group"], call["version"], call["plural"]) == (
            "videodl.dev",
            "v1alpha1",
            "videodownloads",
        )
        assert (call["namespace"], call["name"]) == ("media", "clip")
        assert call["_content_type"] == "application/merge-patch+json"
        assert call["body"]["status"]["progress"]["percent"] == 5.0
        assert sink.sent == 1

    def test_slow_apiserver_gets_only_the_newest_update(self) -> None:
        """While a patch is in flight, newer updates replace each other; none blocks."""
        api = FakeCustomObjects()
        sink = KubernetesProgressSink(name="clip", namespace="media", custom_objects=api)
        sink.publish(Progress(percent=1.0))
        assert api.first_started.wait(5)
        for percent in (2.0, 3.0, 4.0):
            sink.publish(Progress(percent=percent))
        api.release.set()
        sink.close()
        sent = [call["body"]["status"]["progress"]["percent"] for call in api.patches]
        assert sent == [1.0, 4.0]

    def test_failures_are_counted_not_raised(self) -> None:
        """A refused patch (e.g. missing RBAC) never reaches the download."""
        api = FakeCustomObjects(fail=True)
        api.release.set()
        sink = KubernetesProgressSink(name="clip", namespace="media", custom_objects=api)
        sink.publish(Progress(percent=1.0))
        sink.close()
        assert (sink.sent, sink.failures) == (0, 1)
