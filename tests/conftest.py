"""Fixtures shared by every test tier.

End-to-end tests get a real local control plane (built once, started once per session) with
one process node, or an existing cluster when ``VIDEODL_KUBECONFIG`` names its kubeconfig.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client, config

E2E_DIR = pathlib.Path(__file__).parent / "e2e"


@dataclasses.dataclass(frozen=True)
class ClusterHandle:
    """How tests reach the cluster under test."""

    kubeconfig: pathlib.Path
    server: str
    kubectl_binary: str
    storage_dir: pathlib.Path | None
    log_dir: pathlib.Path | None

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against the cluster; on ``check`` a failure raises with its stderr."""
        done = subprocess.run(
            [self.kubectl_binary, f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and done.returncode != 0:
            msg = f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
            raise AssertionError(msg)
        return done

    def api_client(self) -> client.ApiClient:
        """A new admin ApiClient."""
        return config.new_client_from_config(config_file=str(self.kubeconfig))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in pathlib.Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cluster() -> Iterator[ClusterHandle]:
    """The cluster under test: local unless VIDEODL_KUBECONFIG points at another one."""
    external = os.environ.get("VIDEODL_KUBECONFIG")
    if external:
        kubectl = shutil.which("kubectl")
        assert kubectl, "VIDEODL_KUBECONFIG is set, so kubectl must be on PATH"
        api = config.new_client_from_config(config_file=external)
        yield ClusterHandle(
            kubeconfig=pathlib.Path(external),
            server=api.configuration.host,
            kubectl_binary=kubectl,
            storage_dir=None,
            log_dir=None,
        )
        return
    from videodl_devkit import cluster as local

    with local.running() as running:
        yield ClusterHandle(
            kubeconfig=running.kubeconfig,
            server=running.server,
            kubectl_binary=str(running.bin_dir / "kubectl"),
            storage_dir=running.storage_dir,
            log_dir=running.log_dir,
        )


@pytest.fixture
def namespace(cluster: ClusterHandle, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"{slug}-{uuid.uuid4().hex[:6]}"
    api = client.CoreV1Api(cluster.api_client())
    api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    api.delete_namespace(name, propagation_policy="Background")
