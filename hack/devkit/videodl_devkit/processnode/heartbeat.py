"""Registering the Node and keeping it alive: Node status and the kube-node-lease Lease."""

from __future__ import annotations

import datetime
import importlib.metadata
import logging
import os
import pathlib
import threading
import uuid

from kubernetes.client.exceptions import ApiException

from videodl_devkit.processnode import kubeapi, nodeobjects


def _read(path: str, default: str) -> str:
    try:
        return pathlib.Path(path).read_text(encoding="utf-8").strip() or default
    except OSError:
        return default


def _os_image() -> str:
    for line in _read("/etc/os-release", "").splitlines():
        key, _, value = line.partition("=")
        if key == "PRETTY_NAME":
            return value.strip().strip('"')
    return "Linux"


def host_facts(kube: kubeapi.Kube, node_name: str) -> nodeobjects.Facts:
    """Facts about this host for status.nodeInfo; the kubelet version is the apiserver's."""
    version = kubeapi.retrying(lambda: kube.get("/version"))
    try:
        runtime = importlib.metadata.version("videodl")
    except importlib.metadata.PackageNotFoundError:
        runtime = "unknown"
    uname = os.uname()
    fallback_id = uuid.uuid5(uuid.NAMESPACE_DNS, node_name).hex
    return nodeobjects.Facts(
        machine_id=_read("/etc/machine-id", fallback_id),
        boot_id=_read("/proc/sys/kernel/random/boot_id", fallback_id),
        kernel_version=uname.release,
        os_image=_os_image(),
        architecture=nodeobjects.architecture(uname.machine),
        kubelet_version=str(version.get("gitVersion", "v0.0.0")),
        runtime_version=f"process-node://{runtime}",
    )


def disk_size(path: pathlib.Path) -> str:
    """The size of the file system holding path, as a quantity (the node's ephemeral storage)."""
    stats = os.statvfs(path)
    return str(stats.f_blocks * stats.f_frsize)


class Heartbeat:
    """Keeps one Node registered, Ready, and its Lease renewed."""

    def __init__(
        self,
        kube: kubeapi.Kube,
        *,
        name: str,
        capacity: nodeobjects.Capacity,
        facts: nodeobjects.Facts,
        lease_seconds: int,
        logger: logging.Logger,
    ) -> None:
        self._kube = kube
        self._name = name
        self._capacity = capacity
        self._facts = facts
        self._lease_seconds = lease_seconds
        self._logger = logger
        self._since = datetime.datetime.now(datetime.UTC)
        self._node_uid = ""

    @property
    def node_path(self) -> str:
        return kubeapi.path("api", "v1", "nodes", self._name)

    def register(self) -> None:
        """Create the Node, or refresh its labels and status when it already exists."""
        now = datetime.datetime.now(datetime.UTC)
        existing = self._kube.get_or_none(self.node_path)
        if existing is None:
            body = nodeobjects.node(self._name, self._capacity, self._facts, now=now)
            try:
                created = kubeapi.retrying(
                    lambda: self._kube.request("POST", "/api/v1/nodes", body=body)
                )
                self._node_uid = str(created["metadata"]["uid"])
                self._logger.info("registered Node %s", self._name)
            except ApiException as error:
                if error.status != 409:
                    raise
                existing = self._kube.get_or_none(self.node_path)
        if existing is not None:
            self._node_uid = str(existing["metadata"]["uid"])
            labels = nodeobjects.labels(self._name, self._facts.architecture)
            kubeapi.retrying(
                lambda: self._kube.request(
                    "PATCH",
                    self.node_path,
                    body={"metadata": {"labels": labels}},
                    content_type=kubeapi.STRATEGIC,
                )
            )
            self._logger.info("Node %s already registered; taking it over", self._name)
        self.beat()

    def beat(self) -> None:
        """Post Ready status and renew the Lease once."""
        now = datetime.datetime.now(datetime.UTC)
        status = nodeobjects.status(
            self._name, self._capacity, self._facts, now=now, since=self._since
        )
        try:
            self._kube.request(
                "PATCH",
                self.node_path + "/status",
                body={"status": status},
                content_type=kubeapi.STRATEGIC,
            )
        except ApiException as error:
            if error.status != 404:
                raise
            self._logger.warning("Node %s disappeared; registering it again", self._name)
            self.register()
            return
        self._renew_lease(now)

    def _renew_lease(self, now: datetime.datetime) -> None:
        lease_path = kubeapi.path(
            "apis", "coordination.k8s.io", "v1", "namespaces", nodeobjects.LEASE_NAMESPACE,
            "leases", self._name,
        )  # fmt: skip
        spec = nodeobjects.lease_spec(self._name, duration_seconds=self._lease_seconds, now=now)
        try:
            self._kube.request("PATCH", lease_path, body={"spec": spec}, content_type=kubeapi.MERGE)
        except ApiException as error:
            if error.status != 404:
                raise
            body = nodeobjects.lease(
                self._name, self._node_uid, duration_seconds=self._lease_seconds, now=now
            )
            collection = lease_path.rsplit("/", 1)[0]
            try:
                self._kube.request("POST", collection, body=body)
            except ApiException as create_error:
                # kube-node-lease appears shortly after the apiserver starts.
                if create_error.status not in (404, 409):
                    raise
                self._logger.debug("Lease not created yet: %s", create_error.reason)

    def run(self, stop: threading.Event, interval: float) -> None:
        """Beat every interval seconds until stop is set; failures are logged and retried."""
        while not stop.wait(interval):
            try:
                self.beat()
            except Exception as error:  # noqa: BLE001 - a missed beat is retried next time
                self._logger.warning("heartbeat of Node %s failed: %s", self._name, error)
