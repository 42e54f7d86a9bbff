"""`helm test` passes on a freshly installed release, and fails when the operator is not healthy.

The release goes into a namespace that enforces PodSecurity ``restricted``. On the process
node, the test Pods run this checkout's Python (``tests.command``) and reach the operator's
/healthz on loopback (``tests.healthzUrl``), since Services are not reachable there.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from tests.conftest import ClusterHandle
from tests.unit.chart import release


def _values(name: str, port: int, healthz_port: int) -> dict[str, Any]:
    return release.deep_merge(
        release.process_node_values(name, port),
        {
            "tests": {
                "command": [sys.executable],
                "healthzUrl": f"http://127.0.0.1:{healthz_port}/healthz",
            }
        },
    )


def _helm_test(cluster: ClusterHandle, name: str, namespace: str) -> Any:
    return release.helm(
        cluster, "test", name, "--namespace", namespace, "--timeout", "120s", check=False
    )


_SUITE = re.compile(r"^TEST SUITE:\s+(\S+)\n(?:.*\n)*?Phase:\s+(\w+)$", re.MULTILINE)


def _phases(output: str) -> dict[str, str]:
    """The phase helm test reports for each hook, by name."""
    return dict(_SUITE.findall(output))


def _test_objects(cluster: ClusterHandle, namespace: str) -> list[str]:
    done = cluster.kubectl(
        "get", "pods,serviceaccounts,roles,rolebindings", "--namespace", namespace,
        "-l", "app.kubernetes.io/component=test", "-o", "name",
    )  # fmt: skip
    return done.stdout.split()


def test_helm_test_passes_after_install(cluster: ClusterHandle, namespace: str) -> None:
    """After helm install, both test hooks succeed and are deleted; a dead /healthz fails."""
    cluster.kubectl(
        "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    name = f"helm-test-{namespace[-6:]}"  # short: object names carry it (at most 63)
    port = release.free_port()
    with release.installed(cluster, name, namespace, _values(name, port, port)):
        done = _helm_test(cluster, name, namespace)
        assert done.returncode == 0, done.stdout + done.stderr
        test = f"{name}-videodl-operator-test"
        phases = _phases(done.stdout)
        assert phases[f"{test}-api"] == "Succeeded", done.stdout
        assert phases[f"{test}-healthz"] == "Succeeded", done.stdout
        assert set(phases.values()) == {"Succeeded"}, done.stdout
        # hook-succeeded: the Pods and their account are gone once the tests pass.
        assert _test_objects(cluster, namespace) == []

        # Nothing listens on this port: the health check, and so helm test, must fail.
        dead = _values(name, port, release.free_port())
        release.install(cluster, name, namespace, dead, upgrade=True)
        done = _helm_test(cluster, name, namespace)
        assert done.returncode != 0
        assert f"{test}-healthz" in done.stdout + done.stderr
