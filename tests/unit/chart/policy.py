"""The policy checks over rendered manifests that no tool run here covers.

kube-score (tests/unit/chart/kubescore.py, test_kube_score.py) checks the chart; kube-linter
cannot be built here (the Go module proxy refuses its module host). These are kube-linter's
default checks that kube-score lacks, one function each, named after the kube-linter check:

- ``privilege-escalation-container`` (allowPrivilegeEscalation false, no added capability)
  and ``drop-net-raw-capability``: kube-score's security checks are only privileged, UID/GID,
  read-only root and seccomp.
- ``host-network``/``host-pid``/``host-ipc``: kube-score does not look at host namespaces.
- ``liveness-port``/``readiness-port``: kube-score wants probes, never checks their port.
- ``default-service-account``/``non-existent-service-account``: kube-score ignores accounts.
- ``env-var-secret``: kube-score only finds duplicated variables.
- ``pdb-max-unavailable``/``pdb-min-available``: kube-score wants a budget with a policy,
  not one that lets a drain proceed.
- ``invalid-target-ports``: kube-score's service-targets-pod matches the selector only.
- ``dangling-servicemonitor``: kube-score does not read ServiceMonitors.

checkov (tried, not used: see docs/install.md) covers the first two. Gone, since kube-score
checks them: privileged-container, run-as-non-root, no-read-only-root-fs,
unset-*-requirements, latest-tag, no-*-probe, mismatching-selector, no-anti-affinity,
no-pod-disruption-budget, dangling-service. Gone, since test_rbac.py pins every grant to the
exact set the code uses: cluster-admin-role-binding, wildcard-in-rules, access-to-secrets.

Each check returns a list of findings; an empty list means the manifests pass. Pure:
manifests in, findings out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

Manifest = Mapping[str, Any]

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One rule broken by one object."""

    check: str
    obj: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.obj}: {self.message}"


def _ref(manifest: Manifest) -> str:
    meta = manifest.get("metadata") or {}
    namespace = meta.get("namespace")
    where = f"{namespace}/" if namespace else ""
    return f"{manifest.get('kind')} {where}{meta.get('name')}"


def _namespace(manifest: Manifest) -> str | None:
    return (manifest.get("metadata") or {}).get("namespace")


def _pod_template(manifest: Manifest) -> Mapping[str, Any] | None:
    if manifest.get("kind") not in WORKLOAD_KINDS:
        return None
    template = (manifest.get("spec") or {}).get("template")
    return template if isinstance(template, Mapping) else None


def _containers(manifest: Manifest) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(pod spec, container) for every container and init container of a workload."""
    template = _pod_template(manifest)
    if template is None:
        return
    spec = template.get("spec") or {}
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            yield spec, container


def _container_ref(manifest: Manifest, container: Mapping[str, Any]) -> str:
    return f"{_ref(manifest)} container {container.get('name')!r}"


def _replicas(manifest: Manifest) -> int:
    replicas = (manifest.get("spec") or {}).get("replicas", 1)
    return int(replicas) if replicas is not None else 1


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _template_labels(manifest: Manifest) -> Mapping[str, str]:
    template = _pod_template(manifest) or {}
    return (template.get("metadata") or {}).get("labels") or {}


def privilege_escalation_container(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every container sets allowPrivilegeEscalation: false and adds no capability."""
    findings = []
    for m in manifests:
        for _, c in _containers(m):
            context = c.get("securityContext") or {}
            if context.get("allowPrivilegeEscalation") is not False:
                findings.append(
                    Finding(
                        "privilege-escalation-container",
                        _container_ref(m, c),
                        "securityContext.allowPrivilegeEscalation must be false",
                    )
                )
            added = (context.get("capabilities") or {}).get("add") or []
            if added:
                findings.append(
                    Finding(
                        "privilege-escalation-container",
                        _container_ref(m, c),
                        f"adds capabilities {added}",
                    )
                )
    return findings


def drop_net_raw_capability(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every container drops NET_RAW (dropping ALL counts)."""
    findings = []
    for m in manifests:
        for _, c in _containers(m):
            dropped = ((c.get("securityContext") or {}).get("capabilities") or {}).get("drop")
            if not {"ALL", "NET_RAW"} & set(dropped or []):
                findings.append(
                    Finding(
                        "drop-net-raw-capability",
                        _container_ref(m, c),
                        "capabilities.drop has neither ALL nor NET_RAW",
                    )
                )
    return findings


def probe_port(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every httpGet/tcpSocket probe names a port the container declares."""
    findings = []
    for m in manifests:
        for _, c in _containers(m):
            names = {p.get("name") for p in c.get("ports") or []}
            numbers = {p.get("containerPort") for p in c.get("ports") or []}
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                action = (c.get(probe) or {}).get("httpGet") or (c.get(probe) or {}).get(
                    "tcpSocket"
                )
                if action is None:
                    continue
                port = action.get("port")
                if port not in names and port not in numbers:
                    findings.append(
                        Finding(
                            f"{probe.removesuffix('Probe')}-port",
                            _container_ref(m, c),
                            f"{probe} port {port!r} is not a port of the container",
                        )
                    )
    return findings


def host_namespaces(manifests: Sequence[Manifest]) -> list[Finding]:
    """No Pod shares the host's network, PID or IPC namespace."""
    findings = []
    for m in manifests:
        spec = (_pod_template(m) or {}).get("spec") or {}
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(field) is True:
                findings.append(Finding(f"host-{field[4:].lower()}", _ref(m), f"{field} is true"))
    return findings


def service_account(manifests: Sequence[Manifest]) -> list[Finding]:
    """Workloads use a named ServiceAccount that the manifests create in the same namespace."""
    accounts = {
        ((m.get("metadata") or {}).get("namespace"), (m.get("metadata") or {}).get("name"))
        for m in manifests
        if m.get("kind") == "ServiceAccount"
    }
    findings = []
    for m in manifests:
        template = _pod_template(m)
        if template is None:
            continue
        name = (template.get("spec") or {}).get("serviceAccountName")
        if not name or name == "default":
            findings.append(
                Finding("default-service-account", _ref(m), "runs as the default ServiceAccount")
            )
        elif ((m.get("metadata") or {}).get("namespace"), name) not in accounts:
            findings.append(
                Finding(
                    "non-existent-service-account",
                    _ref(m),
                    f"ServiceAccount {name!r} is not among the manifests",
                )
            )
    return findings


def env_var_secret(manifests: Sequence[Manifest]) -> list[Finding]:
    """No environment variable whose name suggests a secret has a literal value."""
    markers = ("SECRET", "PASSWORD", "TOKEN", "APIKEY", "API_KEY")
    return [
        Finding("env-var-secret", _container_ref(m, c), f"{e.get('name')} holds a literal value")
        for m in manifests
        for _, c in _containers(m)
        for e in c.get("env") or []
        if any(k in str(e.get("name", "")).upper() for k in markers) and e.get("value")
    ]


def pod_disruption_budget(manifests: Sequence[Manifest]) -> list[Finding]:
    """No PodDisruptionBudget blocks every drain (kube-linter's pdb-* checks)."""
    findings = []
    for budget in manifests:
        if budget.get("kind") != "PodDisruptionBudget":
            continue
        spec = budget.get("spec") or {}
        if spec.get("maxUnavailable") in (0, "0%"):
            findings.append(
                Finding("pdb-max-unavailable", _ref(budget), "maxUnavailable 0 blocks every drain")
            )
        minimum = spec.get("minAvailable")
        if not isinstance(minimum, int):
            continue
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        findings += [
            Finding(
                "pdb-min-available",
                _ref(budget),
                f"minAvailable {minimum} >= {_replicas(m)} replicas blocks every drain",
            )
            for m in manifests
            if m.get("kind") == "Deployment"
            and _namespace(m) == _namespace(budget)
            and _selects(selector, _template_labels(m))
            and minimum >= _replicas(m) > 0
        ]
    return findings


def invalid_target_ports(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every Service port targets a port that the Pods it selects declare."""
    findings = []
    workloads = [m for m in manifests if _pod_template(m) is not None]
    for service in manifests:
        if service.get("kind") != "Service":
            continue
        spec = service.get("spec") or {}
        selector = spec.get("selector") or {}
        targets = [
            w
            for w in workloads
            if _namespace(w) == _namespace(service) and _selects(selector, _template_labels(w))
        ]
        ports = {
            p.get(key)
            for w in targets
            for _, c in _containers(w)
            for p in c.get("ports") or []
            for key in ("name", "containerPort")
        }
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if targets and target not in ports:
                findings.append(
                    Finding(
                        "invalid-target-ports",
                        _ref(service),
                        f"targetPort {target!r} is no port of the selected Pods",
                    )
                )
    return findings


def dangling_servicemonitor(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every ServiceMonitor selects a Service of the manifests, on a named port it has."""
    findings = []
    services = [m for m in manifests if m.get("kind") == "Service"]
    for monitor in manifests:
        if monitor.get("kind") != "ServiceMonitor":
            continue
        spec = monitor.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        names = ((spec.get("namespaceSelector") or {}).get("matchNames")) or [
            (monitor.get("metadata") or {}).get("namespace")
        ]
        selected = [
            s
            for s in services
            if (s.get("metadata") or {}).get("namespace") in names
            and _selects(selector, (s.get("metadata") or {}).get("labels") or {})
        ]
        if not selected:
            findings.append(Finding("dangling-servicemonitor", _ref(monitor), "selects no Service"))
            continue
        ports = {p.get("name") for s in selected for p in (s.get("spec") or {}).get("ports") or []}
        for endpoint in spec.get("endpoints") or []:
            if endpoint.get("port") not in ports:
                findings.append(
                    Finding(
                        "dangling-servicemonitor",
                        _ref(monitor),
                        f"endpoint port {endpoint.get('port')!r} is not a port of the Service",
                    )
                )
    return findings


CHECKS: tuple[Callable[[Sequence[Manifest]], list[Finding]], ...] = (
    privilege_escalation_container,
    drop_net_raw_capability,
    host_namespaces,
    probe_port,
    service_account,
    env_var_secret,
    pod_disruption_budget,
    invalid_target_ports,
    dangling_servicemonitor,
)


def check(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every finding of every check."""
    return [finding for rule in CHECKS for finding in rule(manifests)]
