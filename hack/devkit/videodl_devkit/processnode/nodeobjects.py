"""The Node and its Lease as a kubelet writes them (object bodies only, no I/O)."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from videodl_devkit.processnode import timestamps

NODE_IP = "127.0.0.1"
LEASE_NAMESPACE = "kube-node-lease"


@dataclasses.dataclass(frozen=True)
class Capacity:
    """What the node offers the scheduler; allocatable equals capacity."""

    cpu: str
    memory: str
    pods: int
    ephemeral_storage: str

    def as_resources(self) -> dict[str, str]:
        return {
            "cpu": self.cpu,
            "memory": self.memory,
            "pods": str(self.pods),
            "ephemeral-storage": self.ephemeral_storage,
        }


@dataclasses.dataclass(frozen=True)
class Facts:
    """Host facts reported in status.nodeInfo."""

    machine_id: str
    boot_id: str
    kernel_version: str
    os_image: str
    architecture: str
    kubelet_version: str
    runtime_version: str
    #: The HTTPS port the apiserver reaches the node's kubelet endpoint on (0: none).
    kubelet_port: int = 0


_CONDITIONS = (
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)


def labels(name: str, architecture: str) -> dict[str, str]:
    """The well-known labels a kubelet puts on its Node."""
    return {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": architecture,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": architecture,
        "videodl.dev/process-node": "true",
    }


def status(
    name: str,
    capacity: Capacity,
    facts: Facts,
    *,
    now: datetime.datetime,
    since: datetime.datetime,
) -> dict[str, Any]:
    """The Node status: Ready since `since`, heartbeat at `now`."""
    return {
        "capacity": capacity.as_resources(),
        "allocatable": capacity.as_resources(),
        "conditions": [
            {
                "type": kind,
                "status": value,
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": timestamps.rfc3339(now),
                "lastTransitionTime": timestamps.rfc3339(since),
            }
            for kind, value, reason, message in _CONDITIONS
        ],
        "addresses": [
            {"type": "InternalIP", "address": NODE_IP},
            {"type": "Hostname", "address": name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": facts.kubelet_port}},
        "nodeInfo": {
            "machineID": facts.machine_id,
            "systemUUID": facts.machine_id,
            "bootID": facts.boot_id,
            "kernelVersion": facts.kernel_version,
            "osImage": facts.os_image,
            "containerRuntimeVersion": facts.runtime_version,
            "kubeletVersion": facts.kubelet_version,
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": facts.architecture,
        },
    }


def node(
    name: str,
    capacity: Capacity,
    facts: Facts,
    *,
    now: datetime.datetime,
) -> dict[str, Any]:
    """The Node object to register: well-known labels, no taints, Ready status."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels(name, facts.architecture)},
        "spec": {},
        "status": status(name, capacity, facts, now=now, since=now),
    }


def lease(
    name: str, node_uid: str, *, duration_seconds: int, now: datetime.datetime
) -> dict[str, Any]:
    """The node's Lease in kube-node-lease, owned by the Node so it goes away with it."""
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": name,
            "namespace": LEASE_NAMESPACE,
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}
            ],
        },
        "spec": lease_spec(name, duration_seconds=duration_seconds, now=now),
    }


def lease_spec(name: str, *, duration_seconds: int, now: datetime.datetime) -> dict[str, Any]:
    """The Lease spec a heartbeat writes."""
    return {
        "holderIdentity": name,
        "leaseDurationSeconds": duration_seconds,
        "renewTime": timestamps.micro_time(now),
    }


def architecture(machine: str) -> str:
    """Map `uname -m` to the GOARCH name Kubernetes uses."""
    return {
        "x86_64": "amd64",
        "aarch64": "arm64",
        "armv7l": "arm",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
    }.get(machine, machine)
