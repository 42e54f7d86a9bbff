"""Tests for videodl.worker.kube: the progress sink with a stand-in client, and its login."""

from __future__ import annotations

import pathlib
import socket
import threading
from typing import Any

import pytest
from kubernetes import client
from kubernetes import config as kube_config

from videodl.api.status import Progress
from videodl.kube import login
from videodl.kube.client import ApiError, Client
from videodl.worker import egress, guard, kube
from videodl.worker.kube import KubernetesProgressSink


class FakeClient:
    """Records requests; the first one blocks until released, like a slow apiserver."""

    def __init__(self, *, fail: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.first_started = threading.Event()
        self.fail = fail

    def request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        if not self.first_started.is_set():
            self.first_started.set()
            self.release.wait(5)
        self.requests.append({"method": method, "path": path, **options})
        if self.fail:
            raise ApiError(403, "Forbidden", "videodownloads/status is forbidden")
        return {}


class ConnectingClient:
    """Opens a real connection per request, as the apiserver client does."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.connected = 0

    def request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        socket.create_connection(self.address, timeout=2).close()
        self.connected += 1
        return {}


def sink_on(fake: FakeClient) -> KubernetesProgressSink:
    return KubernetesProgressSink(name="clip", namespace="media", kube=fake)


class TestKubernetesProgressSink:
    def test_the_patcher_is_not_held_by_the_egress_guard(self, tmp_path: pathlib.Path) -> None:
        """The apiserver is a cluster-internal address, yet progress patches still reach it."""
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(4)
            connecting = ConnectingClient(listener.getsockname())
            attempt = guard.Guard(output_dir=tmp_path, policy=egress.Policy())
            with guard.active(attempt):
                sink = KubernetesProgressSink(name="clip", namespace="media", kube=connecting)  # type: ignore[arg-type]
                sink.publish(Progress(percent=5.0))
                sink.close()
        assert connecting.connected == 1
        assert sink.failures == 0
        assert attempt.refusals == []

    def test_patches_the_status_subresource(self) -> None:
        """Each update is a merge patch of status.progress on the named object."""
        fake = FakeClient()
        fake.release.set()
        sink = sink_on(fake)
        sink.publish(Progress(percent=5.0))
        sink.close()
        (call,) = fake.requests
        assert call["method"] == "PATCH"
        assert (
            call["path"] == "/apis/videodl.dev/v1alpha1/namespaces/media/videodownloads/clip/status"
        )
        assert call["content_type"] == "application/merge-patch+json"
        assert call["timeout"] == 10
        assert call["body"]["status"]["progress"]["percent"] == 5.0
        assert sink.sent == 1

    def test_slow_apiserver_gets_only_the_newest_update(self) -> None:
        """While a patch is in flight, newer updates replace each other; none blocks."""
        fake = FakeClient()
        sink = sink_on(fake)
        sink.publish(Progress(percent=1.0))
        assert fake.first_started.wait(5)
        for percent in (2.0, 3.0, 4.0):
            sink.publish(Progress(percent=percent))
        fake.release.set()
        sink.close()
        sent = [call["body"]["status"]["progress"]["percent"] for call in fake.requests]
        assert sent == [1.0, 4.0]

    def test_failures_are_counted_not_raised(self) -> None:
        """A refused patch (e.g. missing RBAC) never reaches the download."""
        fake = FakeClient(fail=True)
        fake.release.set()
        sink = sink_on(fake)
        sink.publish(Progress(percent=1.0))
        sink.close()
        assert (sink.sent, sink.failures) == (0, 1)


class TestConnect:
    def test_logs_in_as_the_product_does(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The sink's client uses videodl.kube.login with no kubeconfig: in-cluster first."""
        asked: list[str | None] = []
        configuration = client.Configuration()
        configuration.host = "https://apiserver.test:6443"

        def client_configuration(kubeconfig: str | None) -> client.Configuration:
            asked.append(kubeconfig)
            return configuration

        monkeypatch.setattr(login, "client_configuration", client_configuration)
        connected = kube.connect()
        assert isinstance(connected, Client)
        assert asked == [None]
        assert connected.api.configuration.host == "https://apiserver.test:6443"

    def test_the_sink_logs_in_from_its_own_thread(self) -> None:
        """Without a client the sink logs in from the patcher thread, so the download
        does not wait for the Kubernetes client to load."""
        fake = FakeClient()
        fake.release.set()
        threads: list[str] = []

        def log_in() -> Client:
            threads.append(threading.current_thread().name)
            return fake  # type: ignore[return-value]

        sink = KubernetesProgressSink(name="clip", namespace="media", login=log_in)
        sink.publish(Progress(percent=7.0))
        sink.close()
        assert threads == ["progress-patcher"]
        assert [call["body"]["status"]["progress"]["percent"] for call in fake.requests] == [7.0]

    def test_a_failed_login_costs_progress_only(self, caplog: pytest.LogCaptureFixture) -> None:
        """No service account token, no apiserver: the updates are dropped, said once."""

        def log_in() -> Client:
            raise kube_config.ConfigException("Service host/port is not set.")

        sink = KubernetesProgressSink(name="clip", namespace="media", login=log_in)
        sink.publish(Progress(percent=7.0))
        sink.publish(Progress(percent=9.0))
        sink.close()
        assert (sink.sent, sink.failures) == (0, 0)
        (record,) = [r for r in caplog.records if r.name == "videodl.worker.kube"]
        assert "could not log in to the apiserver: Service host/port is not set." in (
            record.getMessage()
        )

    def test_the_default_login_is_connect(self) -> None:
        assert KubernetesProgressSink.__init__.__kwdefaults__["login"] is kube.connect
