"""Our policy checks (what kube-score lacks) pass on the chart and catch each breach."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from . import policy, rendering

VALUE_SETS = {
    "defaults": {},
    "all options, namespaced": rendering.ALL_OPTIONS_NAMESPACED,
    "all options, cluster-wide": rendering.ALL_OPTIONS_CLUSTER,
    "replicas 0": {"operator": {"replicas": 0}},
}


@pytest.fixture(scope="module")
def defaults() -> list[dict[str, Any]]:
    """The manifests rendered with default values."""
    return rendering.render()


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_rendered_chart_has_no_findings(values: dict[str, Any]) -> None:
    """Every check passes on the chart as rendered with each value set."""
    findings = policy.check(rendering.render(values))
    assert findings == [], "\n".join(map(str, findings))


def _container(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = rendering.one(manifests, "Deployment")
    return deployment["spec"]["template"]["spec"]["containers"][0]


def _pod(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return rendering.one(manifests, "Deployment")["spec"]["template"]["spec"]


Breach = Callable[[list[dict[str, Any]]], object]

BREACHES: dict[str, tuple[str, Breach]] = {
    "escalation": (
        "privilege-escalation-container",
        lambda m: _container(m)["securityContext"].pop("allowPrivilegeEscalation"),
    ),
    "added capability": (
        "privilege-escalation-container",
        lambda m: _container(m)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
    ),
    "net raw kept": (
        "drop-net-raw-capability",
        lambda m: _container(m)["securityContext"]["capabilities"].update(drop=["CHOWN"]),
    ),
    "probe port": (
        "liveness-port",
        lambda m: _container(m)["livenessProbe"]["httpGet"].update(port="health"),
    ),
    "host network": ("host-network", lambda m: _pod(m).update(hostNetwork=True)),
    "host pid": ("host-pid", lambda m: _pod(m).update(hostPID=True)),
    "readiness port": (
        "readiness-port",
        lambda m: _container(m)["readinessProbe"]["httpGet"].update(port=9999),
    ),
    "default account": ("default-service-account", lambda m: _pod(m).pop("serviceAccountName")),
    "missing account": (
        "non-existent-service-account",
        lambda m: _pod(m).update(serviceAccountName="nobody"),
    ),
    "literal secret": (
        "env-var-secret",
        lambda m: _container(m)["env"].append({"name": "API_TOKEN", "value": "hunter2"}),
    ),
    "pdb blocks drains": (
        "pdb-max-unavailable",
        lambda m: rendering.one(m, "PodDisruptionBudget")["spec"].update(maxUnavailable=0),
    ),
    "pdb min available": (
        "pdb-min-available",
        lambda m: rendering.one(m, "PodDisruptionBudget")["spec"].update(
            minAvailable=1, maxUnavailable=None
        ),
    ),
    "service port": (
        "invalid-target-ports",
        lambda m: rendering.one(m, "Service")["spec"]["ports"][0].update(targetPort="http"),
    ),
}


@pytest.mark.parametrize(("expected", "breach"), BREACHES.values(), ids=BREACHES.keys())
def test_each_check_catches_its_breach(
    defaults: list[dict[str, Any]], expected: str, breach: Breach
) -> None:
    """Breaking one rule in the rendered chart makes exactly that check report it."""
    manifests = copy.deepcopy(defaults)
    breach(manifests)
    checks = {finding.check for finding in policy.check(manifests)}
    assert checks == {expected}


def test_dangling_servicemonitor_is_caught() -> None:
    """A ServiceMonitor whose endpoint port the Service lacks is reported."""
    manifests = rendering.render({"metrics": {"serviceMonitor": {"enabled": True}}})
    rendering.one(manifests, "ServiceMonitor")["spec"]["endpoints"][0]["port"] = "web"
    checks = {finding.check for finding in policy.check(manifests)}
    assert checks == {"dangling-servicemonitor"}
