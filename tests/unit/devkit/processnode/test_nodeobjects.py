"""Tests for the Node and Lease bodies."""

from __future__ import annotations

import dataclasses
import datetime

from videodl_devkit.processnode import nodeobjects

NOW = datetime.datetime(2026, 1, 1, 0, 0, 10, tzinfo=datetime.UTC)
SINCE = datetime.datetime(2026, 1, 1, 0, 0, 0, tzinfo=datetime.UTC)
CAPACITY = nodeobjects.Capacity(cpu="8", memory="16Gi", pods=110, ephemeral_storage="1000")
FACTS = nodeobjects.Facts(
    machine_id="m",
    boot_id="b",
    kernel_version="6.1",
    os_image="Debian",
    architecture="amd64",
    kubelet_version="v1.34.4",
    runtime_version="process-node://0.1.0",
)


class TestNode:
    def test_schedulable_ready_node(self) -> None:
        """The Node has capacity = allocatable, Ready=True, loopback address and no taints."""
        node = nodeobjects.node("n1", CAPACITY, FACTS, now=NOW)
        status = node["status"]
        assert (
            status["capacity"]
            == status["allocatable"]
            == {
                "cpu": "8",
                "memory": "16Gi",
                "pods": "110",
                "ephemeral-storage": "1000",
            }
        )
        ready = next(c for c in status["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
        assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
        assert status["nodeInfo"]["kubeletVersion"] == "v1.34.4"
        assert "taints" not in node["spec"]
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "n1"

    def test_heartbeat_moves_but_transition_stays(self) -> None:
        """A heartbeat updates lastHeartbeatTime and keeps lastTransitionTime at the start."""
        status = nodeobjects.status("n1", CAPACITY, FACTS, now=NOW, since=SINCE)
        for condition in status["conditions"]:
            assert condition["lastHeartbeatTime"] == "2026-01-01T00:00:10Z"
            assert condition["lastTransitionTime"] == "2026-01-01T00:00:00Z"

    def test_kubelet_endpoint_port(self) -> None:
        """The Node tells the apiserver the port of its kubelet endpoint (0 without one)."""
        status = nodeobjects.status("n1", CAPACITY, FACTS, now=NOW, since=SINCE)
        assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 0}}
        served = dataclasses.replace(FACTS, kubelet_port=10250)
        status = nodeobjects.status("n1", CAPACITY, served, now=NOW, since=SINCE)
        assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}


class TestLease:
    def test_lease_is_owned_by_the_node(self) -> None:
        """The Lease lives in kube-node-lease, names its holder and is owned by the Node."""
        lease = nodeobjects.lease("n1", "uid-1", duration_seconds=40, now=NOW)
        assert lease["metadata"]["namespace"] == "kube-node-lease"
        assert lease["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
        assert lease["spec"] == {
            "holderIdentity": "n1",
            "leaseDurationSeconds": 40,
            "renewTime": "2026-01-01T00:00:10.000000Z",
        }

    def test_architecture_names(self) -> None:
        """uname machine names map to Kubernetes architecture names."""
        assert nodeobjects.architecture("x86_64") == "amd64"
        assert nodeobjects.architecture("aarch64") == "arm64"
        assert nodeobjects.architecture("riscv64") == "riscv64"
