"""The operator installed by the chart works with the chart's ServiceAccount and nothing more.

The release goes into a namespace that enforces PodSecurity ``restricted``. Its Deployment
runs on the process node with the chart's own ServiceAccount token (in-cluster config, no
kubeconfig): it completes a download, retries transient failures, fails a permanent one,
trips the circuit breaker for a throttling host, and its metrics cover every series the
Grafana dashboard queries.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClusterHandle
from tests.unit.chart import dashboard, release

from videodl_devkit.mediaserver import MediaServer

MEDIA_CACHE = Path(tempfile.gettempdir()) / "videodl-test-media"
THROTTLED_HOST = "localhost"  # the media server under a second name: a second breaker site


class Deployed:
    """The release, its namespace and the media server the downloads come from."""

    def __init__(self, cluster: ClusterHandle, media: MediaServer) -> None:
        self.cluster = cluster
        self.media = media
        self.namespace = f"chart-op-{uuid.uuid4().hex[:6]}"
        self.name = self.namespace
        self.port = release.free_port()
        self.account = f"{self.name}-videodl-operator"

    def apply(self, manifest: dict[str, Any]) -> None:
        self.cluster.kubectl(
            "apply", "--namespace", self.namespace, "-f", "-", input=json.dumps(manifest)
        )

    def download(self, name: str, url: str, **spec: Any) -> None:
        """Create a VideoDownload into the claim "media"."""
        self.apply(
            {
                "apiVersion": "videodl.dev/v1alpha1",
                "kind": "VideoDownload",
                "metadata": {"name": name},
                "spec": {
                    "url": url,
                    "output": {"persistentVolumeClaim": {"claimName": "media"}},
                    **spec,
                },
            }
        )

    def get(self, name: str) -> dict[str, Any]:
        return release.get_json(self.cluster, "videodownload", name, "--namespace", self.namespace)

    def wait_phase(self, name: str, *phases: str, timeout: float = 240.0) -> dict[str, Any]:
        """Wait until the download is in one of ``phases``; returns the object."""
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            obj = self.get(name)
            status = obj.get("status", {})
            if status.get("phase") in phases:
                return obj
            time.sleep(0.5)
        msg = f"{name} did not reach {'/'.join(phases)} in {timeout:.0f}s; status: {status}"
        raise AssertionError(msg)

    def scrape(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as reply:
            return reply.read().decode()

    def healthy(self) -> bool:
        """Whether the operator answers on its health endpoint (the process node runs no
        probes, so a Running Pod may still be starting)."""
        try:
            return self.scrape("/healthz").strip() == "ok"
        except OSError:
            return False


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == kind)


@pytest.fixture(scope="module")
def deployed(cluster: ClusterHandle) -> Iterator[Deployed]:
    """The chart installed in a namespace enforcing PodSecurity restricted, with a claim."""
    with MediaServer(MEDIA_CACHE) as media:
        setup = Deployed(cluster, media)
        cluster.kubectl("create", "namespace", setup.namespace)
        cluster.kubectl(
            "label",
            "namespace",
            setup.namespace,
            "pod-security.kubernetes.io/enforce=restricted",
            "pod-security.kubernetes.io/enforce-version=latest",
        )
        values = release.deep_merge(
            release.process_node_values(setup.name, setup.port),
            # Three counted failures in a row open a site (the flaky download's two 503s do
            # not), for long enough to look at it.
            {"breaker": {"failureThreshold": 3, "openSeconds": 600, "openJitter": 0}},
        )
        try:
            with release.installed(cluster, setup.name, setup.namespace, values):
                setup.apply(
                    {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "metadata": {"name": "media"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                )
                release.wait_for("the operator's health endpoint", setup.healthy, timeout=60)
                yield setup
        finally:
            cluster.kubectl("delete", "namespace", setup.namespace, "--wait=false", check=False)


def test_operator_runs_in_a_restricted_namespace_as_the_chart_account(deployed: Deployed) -> None:
    """The operator Pod is admitted under restricted, with the chart's account and no kubeconfig."""
    namespace = deployed.namespace
    privileged = deployed.cluster.kubectl(
        "run", "privileged", "--namespace", namespace, "--image=x:1", "--restart=Never",
        '--overrides={"spec":{"containers":[{"name":"privileged","image":"x:1",'
        '"command":["true"],"securityContext":{"privileged":true}}]}}',
        check=False,
    )  # fmt: skip
    assert privileged.returncode != 0
    assert "violates PodSecurity" in privileged.stderr
    pods = release.get_json(
        deployed.cluster,
        "pods",
        "--namespace",
        namespace,
        "-l",
        "app.kubernetes.io/component=operator",
    )["items"]
    assert len(pods) == 1
    pod = pods[0]
    assert pod["status"]["phase"] == "Running"
    assert pod["spec"]["serviceAccountName"] == deployed.account
    env = {e["name"] for e in pod["spec"]["containers"][0]["env"]}
    assert "VIDEODL_KUBECONFIG" not in env
    assert deployed.healthy()


def test_download_succeeds(deployed: Deployed) -> None:
    """A download goes to Succeeded; its worker Pod was admitted under restricted."""
    deployed.download("plain", deployed.media.url("/media/video.mp4"))
    obj = deployed.wait_phase("plain", "Succeeded", "Failed")
    assert obj["status"]["phase"] == "Succeeded"
    assert _condition(obj, "Ready")["status"] == "True"
    files = obj["status"]["result"]["files"]
    assert [f["sizeBytes"] for f in files] == [deployed.media.library.video.stat().st_size]
    worker = release.get_json(
        deployed.cluster, "pod", obj["status"]["workerPod"], "--namespace", deployed.namespace
    )
    assert worker["spec"]["serviceAccountName"] == "videodl-worker"
    assert worker["status"]["phase"] == "Succeeded"


def test_transient_failures_are_retried(deployed: Deployed) -> None:
    """A server answering 503 twice, then 200, ends Succeeded at attempt 3."""
    key = uuid.uuid4().hex[:8]
    deployed.download(
        "flaky",
        deployed.media.url(f"/flaky/{key}/2/video.mp4"),
        retry={"maxAttempts": 5, "backoff": {"initialSeconds": 1, "factor": 1, "maxSeconds": 1}},
    )
    obj = deployed.wait_phase("flaky", "Succeeded", "Failed", timeout=360)
    assert obj["status"]["phase"] == "Succeeded"
    assert obj["status"]["attempts"] == 3


def test_permanent_failure_fails_at_once(deployed: Deployed) -> None:
    """A 404 ends Failed after one attempt, with Stalled=True."""
    deployed.download("gone", deployed.media.url("/status/404/gone.mp4"))
    obj = deployed.wait_phase("gone", "Succeeded", "Failed")
    assert obj["status"]["phase"] == "Failed"
    assert obj["status"]["attempts"] == 1
    assert _condition(obj, "Stalled")["status"] == "True"


def test_breaker_trips_for_a_throttling_site(deployed: Deployed) -> None:
    """Three 429s in a row open the host's breaker: the download waits Blocked, others go on."""
    deployed.media.set_host_mode(THROTTLED_HOST, 429)
    try:
        deployed.download(
            "throttled",
            deployed.media.url("/media/video.mp4", host=THROTTLED_HOST),
            retry={
                "maxAttempts": 10,
                "backoff": {"initialSeconds": 1, "factor": 1, "maxSeconds": 1},
            },
        )
        obj = deployed.wait_phase("throttled", "Blocked", timeout=360)
    finally:
        deployed.media.set_host_mode(THROTTLED_HOST, None)
    reasons = {c.get("reason") for c in obj["status"]["conditions"]}
    assert "CircuitOpen" in reasons, obj["status"]
    assert obj["status"]["attempts"] == 3, obj["status"]
    state = release.get_json(
        deployed.cluster, "configmap", "videodl-breaker", "--namespace", deployed.namespace
    )
    opened = [key for key, value in state.get("data", {}).items() if "OPEN" in value]
    assert opened, state.get("data")
    # Another host is not held back.
    deployed.download("unaffected", deployed.media.url("/media/video.mp4"))
    assert (
        deployed.wait_phase("unaffected", "Succeeded", "Failed")["status"]["phase"] == "Succeeded"
    )


def test_metrics_cover_the_dashboard(deployed: Deployed) -> None:
    """A real scrape has every series the dashboard queries, the breaker's included."""
    exposition = deployed.scrape("/metrics")
    assert 'videodl_downloads_total{failure_class="none",result="succeeded"}' in exposition
    assert dashboard.missing_metrics(dashboard.load(), exposition) == set()


def test_operator_was_never_refused(deployed: Deployed) -> None:
    """Nothing the operator did in the tests above was forbidden by RBAC."""
    log = release.operator_log(deployed.cluster, deployed.namespace)
    assert "metrics and health endpoint" in log
    # Any 403 that is an authorization denial names the user and what it "cannot" do; a 403
    # for a namespace being deleted under a queued download is not about RBAC.
    denials = [
        line
        for line in log.splitlines()
        if "forbidden" in line.lower()
        and re.search(
            r"\bcannot (get|list|watch|create|update|patch|delete|deletecollection)\b", line
        )
    ]
    assert denials == []
