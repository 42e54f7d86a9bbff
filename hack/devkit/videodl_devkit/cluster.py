"""A whole local cluster: the control plane plus one process node that runs Pods locally."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator

from kubernetes import client, config

import videodl
import videodl_devkit
from videodl_devkit import binaries, controlplane, processes

NODE_NAME = "videodl-node-1"


@dataclasses.dataclass
class LocalCluster:
    """A running local cluster; ``kubeconfig`` is an admin kubeconfig for it."""

    plane: controlplane.ControlPlane
    node: processes.Child
    bin_dir: pathlib.Path

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.plane.admin_kubeconfig

    @property
    def server(self) -> str:
        return self.plane.server

    @property
    def storage_dir(self) -> pathlib.Path:
        return self.plane.state_dir / "node" / "volumes"

    @property
    def log_dir(self) -> pathlib.Path:
        return self.plane.log_dir

    def stop(self) -> None:
        self.node.stop(grace=30.0)
        self.plane.stop()


def _wait_node_ready(kubeconfig: pathlib.Path, node: processes.Child, deadline: float) -> None:
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))  # type: ignore[no-untyped-call]
    while time.monotonic() < deadline:
        if not node.alive():
            msg = f"the process node exited with {node.popen.returncode}:\n{node.tail()}"
            raise controlplane.ControlPlaneError(msg)
        with contextlib.suppress(client.ApiException):
            status = api.read_node(NODE_NAME).status
            conditions = (status.conditions if status else None) or []
            if any(c.type == "Ready" and c.status == "True" for c in conditions):
                # The default ServiceAccount is what Pods need; it appears once the
                # controller-manager's service-account controller has run.
                api.read_namespaced_service_account("default", "default")
                return
        time.sleep(0.3)
    msg = f"the process node did not become Ready:\n{node.tail()}"
    raise controlplane.ControlPlaneError(msg)


def image_paths() -> list[str]:
    """The host directories Pods run from: Python, the virtualenv and the sources.

    On the process node they play the part of the worker image's files, so they must stay
    visible in containers that mount volumes over a parent (a checkout under /tmp).
    """
    checkout = pathlib.Path(videodl_devkit.__file__).resolve().parents[3]
    roots = {
        *([checkout] if (checkout / "pyproject.toml").is_file() else []),
        pathlib.Path(sys.prefix),
        pathlib.Path(sys.base_prefix),
        *(pathlib.Path(p).parent for p in videodl.__path__),
        *(pathlib.Path(p).parent for p in videodl_devkit.__path__),
    }
    resolved = sorted({r.resolve() for r in roots} | roots, key=lambda p: len(p.parts))
    kept: list[pathlib.Path] = []
    for root in resolved:
        if not any(root.is_relative_to(k) for k in kept):
            kept.append(root)
    return [str(k) for k in kept]


def start(
    state_dir: pathlib.Path | None = None,
    timeout: float = 180.0,
    *,
    rate: controlplane.ClientRate = controlplane.LOCAL_RATE,
) -> LocalCluster:
    """Build (once) and start a local cluster in ``state_dir`` (a new temporary directory).

    ``rate``: the controller-manager's and scheduler's client QPS and burst.
    """
    bin_dir = binaries.ensure()
    state = state_dir or pathlib.Path(tempfile.mkdtemp(prefix="videodl-cluster-"))
    plane = controlplane.ControlPlane(bin_dir=bin_dir, state_dir=state, rate=rate)
    deadline = time.monotonic() + timeout
    plane.start(timeout=timeout)
    try:
        assert plane.certs is not None
        node = processes.start(
            "process-node",
            [
                sys.executable,
                "-m",
                "videodl_devkit.processnode",
                f"--kubeconfig={plane.kubeconfig_for('process-node', plane.certs.node)}",
                f"--node-name={NODE_NAME}",
                f"--state-dir={state / 'node'}",
                f"--kubelet-port={controlplane.free_port()}",
                f"--kubelet-cert={plane.certs.kubelet_serving.cert}",
                f"--kubelet-key={plane.certs.kubelet_serving.key}",
                f"--client-ca={plane.certs.ca_cert}",
                *(f"--image-path={path}" for path in image_paths()),
            ],
            log_dir=plane.log_dir,
            env={**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"},
        )
        plane.children.insert(0, node)  # stopped last-in-first-out: the node goes first
        _wait_node_ready(plane.admin_kubeconfig, node, deadline)
    except BaseException:
        plane.stop()
        raise
    plane.children.remove(node)
    return LocalCluster(plane=plane, node=node, bin_dir=bin_dir)


@contextlib.contextmanager
def running(
    state_dir: pathlib.Path | None = None,
    *,
    keep: bool = False,
    rate: controlplane.ClientRate = controlplane.LOCAL_RATE,
) -> Iterator[LocalCluster]:
    """A local cluster for the duration of the block; its state is removed unless ``keep``."""
    cluster = start(state_dir, rate=rate)
    try:
        yield cluster
    finally:
        cluster.stop()
        if not keep and state_dir is None:
            shutil.rmtree(cluster.plane.state_dir, ignore_errors=True)
