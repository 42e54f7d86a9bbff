"""kube-score passes on the chart, apart from the findings ignored below, and catches breaches.

Each ignore names a kube-score check and the object it is about, and says why the chart is
right as it is; an ignore that no longer matches anything fails the suite, so the table stays
true. Every other finding, of any grade below full marks, fails.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from . import kubescore, rendering

FULLNAME = "videodl-videodl-operator"
OPERATOR = f"Deployment {FULLNAME}"

# (kube-score check, "<Kind> <name>") -> why the chart keeps what kube-score reports.
IGNORED: dict[tuple[str, str], str] = {
    ("container-image-pull-policy", OPERATOR): (
        "The image is pinned (the chart's appVersion as tag, or image.digest; 'latest' is "
        "refused), so IfNotPresent runs the image Always would, without making every restart "
        "depend on the registry. Always only re-checks imagePullSecrets; image.pullPolicy "
        "takes it where a cluster wants that."
    ),
    ("pod-networkpolicy", OPERATOR): (
        "Who reaches the operator (Prometheus, on the metrics port) and what it reaches (the "
        "apiserver, at addresses of the cluster's own) differ per cluster, so the chart leaves "
        "the operator's NetworkPolicy to the cluster. The workers, which fetch from the "
        "internet, get one (workers.networkPolicy)."
    ),
    ("deployment-replicas", OPERATOR): (
        "One replica is the default on purpose: a single operator is active at a time (with "
        "operator.replicas 2 or more a Lease elects it and the others stand by), and the "
        "Service in front of it serves metrics only. With 2 or more replicas this is not "
        "reported."
    ),
    ("networkpolicy-targets-pod", f"NetworkPolicy {FULLNAME}-worker"): (
        "It selects the worker Pods, which the operator creates at run time (one per download "
        "attempt); the chart renders none, so kube-score sees no Pod that it matches."
    ),
    **{
        ("pod-networkpolicy", f"Pod {FULLNAME}-test-{check}"): (
            "A `helm test` Pod, alive for one check: what it reaches (the apiserver, or the "
            "metrics Service) is at addresses of the cluster's own, as for the operator, so "
            "its NetworkPolicy is the cluster's to write."
        )
        for check in ("api", "healthz")
    },
}

VALUE_SETS = {
    "defaults": {},
    "all options, namespaced": rendering.ALL_OPTIONS_NAMESPACED,
    "all options, cluster-wide": rendering.ALL_OPTIONS_CLUSTER,
    "replicas 0": {"operator": {"replicas": 0}},
}

# Two replicas: peering, anti-affinity and the PodDisruptionBudget all apply, so kube-score
# runs its Deployment checks in full and reports nothing but ignored findings.
PEERING = {"operator": {"replicas": 2}}


def remaining(findings: list[kubescore.Finding]) -> list[kubescore.Finding]:
    """The findings that no ignore covers."""
    return [f for f in findings if (f.check, f.obj) not in IGNORED]


@pytest.fixture(scope="module")
def peering() -> list[dict[str, Any]]:
    """The manifests rendered with two operator replicas."""
    return rendering.render(PEERING)


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_rendered_chart_has_no_findings(values: dict[str, Any]) -> None:
    """kube-score reports nothing but ignored findings on the chart rendered with each set."""
    left = remaining(kubescore.score(rendering.render(values)))
    assert left == [], "\n".join(map(str, left))


def test_every_ignore_still_matches() -> None:
    """Each ignored finding is still reported for some value set: no ignore is stale."""
    seen = {
        (f.check, f.obj)
        for values in VALUE_SETS.values()
        for f in kubescore.score(rendering.render(values))
    }
    assert set(IGNORED) - seen == set()


def test_deployment_without_limits_fails() -> None:
    """A Deployment whose container sets no resource limits is reported as critical."""
    manifests = rendering.render()
    container = rendering.one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    del container["resources"]["limits"]
    left = remaining(kubescore.score(manifests))
    assert {(f.check, f.grade) for f in left} == {
        ("container-resources", "CRITICAL"),
        ("container-ephemeral-storage-request-and-limit", "CRITICAL"),
    }, "\n".join(map(str, left))


def _pod(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return rendering.one(manifests, "Deployment")["spec"]["template"]["spec"]


def _container(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return _pod(manifests)["containers"][0]


Breach = Callable[[list[dict[str, Any]]], object]

# What the hand-written checks (kube-linter's defaults, in policy.py before kube-score) used
# to catch and kube-score catches now: a breach and the one check that must report it.
BREACHES: dict[str, tuple[str, Breach]] = {
    "privileged": (
        "container-security-context-privileged",
        lambda m: _container(m)["securityContext"].update(privileged=True),
    ),
    "root user": (
        "container-security-context-user-group-id",
        lambda m: _pod(m)["securityContext"].update(runAsUser=0),
    ),
    "writable root": (
        "container-security-context-readonlyrootfilesystem",
        lambda m: _container(m)["securityContext"].update(readOnlyRootFilesystem=False),
    ),
    "no seccomp profile": (
        "container-seccomp-profile",
        lambda m: _pod(m)["securityContext"].pop("seccompProfile"),
    ),
    "no cpu limit": (
        "container-resources",
        lambda m: _container(m)["resources"]["limits"].pop("cpu"),
    ),
    "no memory request": (
        "container-resources",
        lambda m: _container(m)["resources"]["requests"].pop("memory"),
    ),
    "latest": (
        "container-image-tag",
        lambda m: _container(m).update(image="example.org/op:latest"),
    ),
    "no readiness probe": ("pod-probes", lambda m: _container(m).pop("readinessProbe")),
    "no liveness probe": ("pod-probes", lambda m: _container(m).pop("livenessProbe")),
    "identical probes": (
        "pod-probes-identical",
        lambda m: _container(m).update(readinessProbe=_container(m)["livenessProbe"]),
    ),
    "long port name": (
        "container-ports-check",
        lambda m: _container(m)["ports"][0].update(name="metrics-and-health"),
    ),
    "duplicate env": (
        "environment-variable-key-duplication",
        lambda m: _container(m)["env"].append(dict(_container(m)["env"][0])),
    ),
    "selector": (
        "deployment-pod-selector-labels-match-template-metadata-labels",
        lambda m: rendering.one(m, "Deployment")["spec"]["selector"]["matchLabels"].update(
            {"app.kubernetes.io/instance": "other"}
        ),
    ),
    "no anti-affinity": ("deployment-has-host-podantiaffinity", lambda m: _pod(m).pop("affinity")),
    "no pdb": (
        "deployment-has-poddisruptionbudget",
        lambda m: m.remove(rendering.one(m, "PodDisruptionBudget")),
    ),
    "dangling service": (
        "service-targets-pod",
        lambda m: rendering.one(m, "Service")["spec"]["selector"].update(
            {"app.kubernetes.io/component": "nothing"}
        ),
    ),
    "node port": (
        "service-type",
        lambda m: rendering.one(m, "Service")["spec"].update(type="NodePort"),
    ),
}


@pytest.mark.parametrize(("expected", "breach"), BREACHES.values(), ids=BREACHES.keys())
def test_each_breach_is_reported(
    peering: list[dict[str, Any]], expected: str, breach: Breach
) -> None:
    """Breaking one rule in the rendered chart makes kube-score report exactly that check."""
    manifests = copy.deepcopy(peering)
    breach(manifests)
    left = remaining(kubescore.score(manifests))
    assert {f.check for f in left} == {expected}, "\n".join(map(str, left))
