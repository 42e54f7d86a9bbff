"""With two replicas exactly one operator is active, and the other takes over when it dies.

The release is installed with two replicas (so it renders the Lease, its Role and the
``--peering`` flag), then its Deployment is scaled to zero: on the process node every Pod
shares the host's network, and two replicas would fight over the metrics port. The test
runs the Deployment's container twice as local processes instead, with the Deployment's
command, arguments and environment, a metrics port each, and a kubeconfig holding a token
of the chart's ServiceAccount (no admin rights).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClusterHandle
from tests.unit.chart import release

from videodl_devkit.mediaserver import MediaServer

MEDIA_CACHE = Path(tempfile.gettempdir()) / "videodl-test-media"


class Replica:
    """One operator process started from the Deployment's container spec."""

    def __init__(self, name: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.name = name
        self.port = port
        self.process = process
        self.log = log

    def metric(self, sample: str) -> float | None:
        """The value of one sample line (name and labels as written), None if absent."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(sample + " "):
                return float(line.rsplit(" ", 1)[1])
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


class Peers:
    """The release, its namespace, the media server and the two replicas."""

    def __init__(self, cluster: ClusterHandle, media: MediaServer, workdir: Path) -> None:
        self.cluster = cluster
        self.media = media
        self.workdir = workdir
        self.namespace = f"chart-peer-{uuid.uuid4().hex[:6]}"
        self.account = f"{self.namespace}-videodl-operator"
        self.replicas: list[Replica] = []

    def start_replica(self, deployment: dict[str, Any], pod_name: str) -> Replica:
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        port = release.free_port()
        env = release.container_environment(container, pod_name=pod_name, namespace=self.namespace)
        env["VIDEODL_METRICS_PORT"] = str(port)
        env["VIDEODL_KUBECONFIG"] = str(self.workdir / "operator.kubeconfig")
        env["PATH"] = os.environ["PATH"]
        # The Pod's emptyDir at the scratch dir: a directory of this replica's own.
        scratch = self.workdir / f"{pod_name}-scratch"
        scratch.mkdir()
        env["HOME"] = env["TMPDIR"] = str(scratch)
        log = self.workdir / f"{pod_name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*container["command"], *container["args"]],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        replica = Replica(pod_name, port, process, log)
        self.replicas.append(replica)
        return replica

    def lease_holder(self) -> str | None:
        lease = release.get_json(self.cluster, "lease", "videodl", "--namespace", self.namespace)
        return lease.get("spec", {}).get("holderIdentity")

    def active(self) -> Replica | None:
        """The running replica that says it holds the Lease, once the Lease has a holder.

        Two running replicas both claiming it would break the promise: that fails at once.
        """
        if not self.lease_holder():
            return None
        claiming = [
            replica
            for replica in self.replicas
            if replica.process.poll() is None
            and "now the active replica" in replica.log.read_text(errors="replace")
        ]
        assert len(claiming) <= 1, f"{len(claiming)} replicas are active at once"
        return claiming[0] if claiming else None

    def download(self, name: str) -> dict[str, Any]:
        manifest = {
            "apiVersion": "videodl.dev/v1alpha1",
            "kind": "VideoDownload",
            "metadata": {"name": name},
            "spec": {
                "url": self.media.url("/media/video.mp4"),
                "output": {"persistentVolumeClaim": {"claimName": "media"}},
            },
        }
        self.cluster.kubectl(
            "apply", "--namespace", self.namespace, "-f", "-", input=json.dumps(manifest)
        )

        def finished() -> dict[str, Any] | None:
            obj = release.get_json(
                self.cluster, "videodownload", name, "--namespace", self.namespace
            )
            return obj if obj.get("status", {}).get("phase") in ("Succeeded", "Failed") else None

        return release.wait_for(f"download {name} to finish", finished, timeout=120)


@pytest.fixture
def peers(cluster: ClusterHandle, tmp_path: Path) -> Iterator[Peers]:
    """The chart with two replicas, run as two local processes with the chart's token."""
    with MediaServer(MEDIA_CACHE) as media:
        setup = Peers(cluster, media, tmp_path)
        namespace = setup.namespace
        cluster.kubectl("create", "namespace", namespace)
        values = release.deep_merge(
            release.process_node_values(namespace, release.free_port()),
            {"operator": {"replicas": 2}},
        )
        try:
            release.install(cluster, namespace, namespace, values, wait=False)
            cluster.kubectl(
                "scale", "deployment", f"{namespace}-videodl-operator", "--replicas=0",
                "--namespace", namespace,
            )  # fmt: skip
            release.wait_for(
                "the Deployment's Pods to go",
                lambda: not release.get_json(
                    cluster, "pods", "--namespace", namespace,
                    "-l", "app.kubernetes.io/component=operator",
                )["items"],
            )  # fmt: skip
            claim = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "media"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
            cluster.kubectl("apply", "--namespace", namespace, "-f", "-", input=json.dumps(claim))
            release.service_account_kubeconfig(
                cluster, namespace, setup.account, tmp_path / "operator.kubeconfig"
            )
            yield setup
        finally:
            for replica in setup.replicas:
                replica.stop()
            release.uninstall(cluster, namespace, namespace)
            cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_one_replica_is_active_and_the_other_takes_over(peers: Peers) -> None:
    """Only the Lease holder starts workers; killed, it is replaced by the standby."""
    deployment = release.get_json(
        peers.cluster, "deployment", f"{peers.namespace}-videodl-operator",
        "--namespace", peers.namespace,
    )  # fmt: skip
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == ["--peering=videodl"]
    first = peers.start_replica(deployment, "replica-a")
    second = peers.start_replica(deployment, "replica-b")
    leader = release.wait_for("a replica to hold the Lease", peers.active, timeout=60)
    standby = second if leader is first else first

    assert peers.download("one")["status"]["phase"] == "Succeeded"
    assert leader.metric("videodl_attempts_total") == 1.0
    assert standby.metric("videodl_attempts_total") == 0.0

    leader.process.send_signal(signal.SIGKILL)
    leader.process.wait(timeout=30)
    started = time.monotonic()
    release.wait_for("the standby to take the Lease", lambda: peers.active() is standby, timeout=60)
    takeover = time.monotonic() - started
    assert takeover < 45, f"the standby took {takeover:.0f}s to take over"

    assert peers.download("two")["status"]["phase"] == "Succeeded"
    assert standby.metric("videodl_attempts_total") == 1.0
    log = standby.log.read_text(errors="replace")
    assert "orbidden" not in log
