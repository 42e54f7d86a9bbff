"""helm lint and helm template pass with default values and with every optional part on."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from . import rendering

VALUE_SETS = {
    "defaults": {},
    "all options, namespaced": rendering.ALL_OPTIONS_NAMESPACED,
    "all options, cluster-wide": rendering.ALL_OPTIONS_CLUSTER,
}


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_helm_lint_strict_passes(values: dict[str, Any], tmp_path: pathlib.Path) -> None:
    """`helm lint --strict` reports no error and no warning."""
    done = rendering.helm(
        "lint",
        "--strict",
        str(rendering.CHART),
        "--values",
        str(rendering.values_file(values, tmp_path)),
    )
    assert "0 chart(s) failed" in done.stdout
    assert "[WARNING]" not in done.stdout
    assert "[ERROR]" not in done.stdout


def test_default_render_has_the_expected_objects() -> None:
    """Default values render the operator, RBAC, worker policy, classes, breaker, Service, PDB
    and the `helm test` hooks."""
    kinds = sorted(m["kind"] for m in rendering.render())
    assert kinds == sorted(
        [
            "ServiceAccount",  # operator
            "ServiceAccount",  # worker, in the release namespace
            "ClusterRole",
            "ClusterRoleBinding",
            "ClusterRole",  # worker
            "RoleBinding",  # worker
            "ValidatingAdmissionPolicy",  # worker status
            "ValidatingAdmissionPolicyBinding",
            "ValidatingAdmissionPolicy",  # indexer chunks
            "ValidatingAdmissionPolicyBinding",
            "Role",  # breaker ConfigMap
            "RoleBinding",
            "ConfigMap",  # breaker
            "Deployment",
            "Service",
            "PodDisruptionBudget",
            *["PriorityClass"] * 5,
            *["ServiceAccount", "Role", "RoleBinding", "Pod", "Pod"],  # helm test hooks
        ]
    )


def test_all_options_render_the_optional_objects() -> None:
    """Every optional part appears when switched on, in every namespace it belongs to."""
    manifests = rendering.render(rendering.ALL_OPTIONS_NAMESPACED)
    assert len(rendering.by_kind(manifests, "ServiceMonitor")) == 1
    assert len(rendering.by_kind(manifests, "Lease")) == 1
    policies = rendering.by_kind(manifests, "NetworkPolicy")
    assert sorted(p["metadata"]["namespace"] for p in policies) == ["archive", "media"]
    dashboards = [
        m
        for m in rendering.by_kind(manifests, "ConfigMap")
        if "grafana_dashboard" in m["metadata"].get("labels", {})
    ]
    assert len(dashboards) == 1


def test_optional_objects_are_absent_by_default() -> None:
    """Without asking, no ServiceMonitor, dashboard, NetworkPolicy or Lease renders."""
    kinds = {m["kind"] for m in rendering.render()}
    assert not kinds & {"ServiceMonitor", "NetworkPolicy", "Lease"}


def test_render_refuses_a_too_old_kubernetes() -> None:
    """The chart's kubeVersion range refuses Kubernetes 1.29."""
    done = rendering.render_raw(extra=["--kube-version", "1.29.0"], check=False)
    assert done.returncode != 0
    assert "kubeVersion" in done.stderr or "incompatible" in done.stderr


def test_render_accepts_the_oldest_supported_kubernetes() -> None:
    """Kubernetes 1.30 (a vendor build with a suffix) is inside the range."""
    done = rendering.render_raw(extra=["--kube-version", "v1.30.2-eks-1"], check=False)
    assert done.returncode == 0, done.stderr
