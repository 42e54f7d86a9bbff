"""A policy check over rendered manifests, standing in for kube-linter's default checks.

kube-linter cannot be built here (its module host is not served by the Go module proxy), so
this module checks the same rules, one function per kube-linter check, named after it. Each
returns a list of findings; an empty list means the manifests pass. Pure: manifests in,
findings out.
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


def privileged_container(manifests: Sequence[Manifest]) -> list[Finding]:
    """No container runs privileged."""
    return [
        Finding("privileged-container", _container_ref(m, c), "securityContext.privileged is true")
        for m in manifests
        for _, c in _containers(m)
        if (c.get("securityContext") or {}).get("privileged") is True
    ]


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


def run_as_non_root(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every container runs as non-root: runAsNonRoot or a non-zero runAsUser, pod or container."""
    findings = []
    for m in manifests:
        for pod, c in _containers(m):
            pod_context = pod.get("securityContext") or {}
            context = c.get("securityContext") or {}
            non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
            user = context.get("runAsUser", pod_context.get("runAsUser"))
            if user == 0 or (non_root is not True and not user):
                findings.append(
                    Finding(
                        "run-as-non-root",
                        _container_ref(m, c),
                        "needs runAsNonRoot: true or a non-zero runAsUser",
                    )
                )
    return findings


def no_read_only_root_fs(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every container has a read-only root file system."""
    return [
        Finding(
            "no-read-only-root-fs",
            _container_ref(m, c),
            "securityContext.readOnlyRootFilesystem must be true",
        )
        for m in manifests
        for _, c in _containers(m)
        if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True
    ]


def unset_requirements(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every container requests and limits both CPU and memory."""
    findings = []
    for m in manifests:
        for _, c in _containers(m):
            resources = c.get("resources") or {}
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (resources.get(kind) or {}).get(resource):
                        findings.append(
                            Finding(
                                f"unset-{resource}-requirements",
                                _container_ref(m, c),
                                f"resources.{kind}.{resource} is not set",
                            )
                        )
    return findings


def latest_tag(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every image is pinned by a tag other than latest, or by a digest."""
    findings = []
    for m in manifests:
        for _, c in _containers(m):
            image = str(c.get("image") or "")
            if "@sha256:" in image:
                continue
            last = image.rsplit("/", 1)[-1]
            tag = last.split(":", 1)[1] if ":" in last else ""
            if tag in ("", "latest"):
                findings.append(
                    Finding("latest-tag", _container_ref(m, c), f"image {image!r} is not pinned")
                )
    return findings


def no_liveness_or_readiness_probe(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every long-running container has a liveness and a readiness probe."""
    findings = []
    for m in manifests:
        if m.get("kind") == "Job":
            continue
        for _, c in _containers(m):
            for probe in ("livenessProbe", "readinessProbe"):
                if not c.get(probe):
                    findings.append(
                        Finding(
                            f"no-{probe.removesuffix('Probe')}-probe",
                            _container_ref(m, c),
                            f"{probe} is not set",
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


def mismatching_selector(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every workload's selector matches its own Pod template's labels."""
    findings = []
    for m in manifests:
        if _pod_template(m) is None or m.get("kind") == "Job":
            continue
        selector = ((m.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not _selects(selector, _template_labels(m)):
            findings.append(
                Finding("mismatching-selector", _ref(m), "selector does not match the template")
            )
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


def cluster_admin_role_binding(manifests: Sequence[Manifest]) -> list[Finding]:
    """No binding grants the cluster-admin ClusterRole."""
    return [
        Finding("cluster-admin-role-binding", _ref(m), "binds cluster-admin")
        for m in manifests
        if m.get("kind") in ("ClusterRoleBinding", "RoleBinding")
        and (m.get("roleRef") or {}).get("name") == "cluster-admin"
    ]


def wildcard_in_rules(manifests: Sequence[Manifest]) -> list[Finding]:
    """No RBAC rule uses "*" for verbs, resources or API groups."""
    findings = []
    for m in manifests:
        if m.get("kind") not in ("Role", "ClusterRole"):
            continue
        for rule in m.get("rules") or []:
            for field in ("verbs", "resources", "apiGroups"):
                if "*" in (rule.get(field) or []):
                    findings.append(Finding("wildcard-in-rules", _ref(m), f"{field} has '*'"))
    return findings


def access_to_secrets(manifests: Sequence[Manifest]) -> list[Finding]:
    """No Role or ClusterRole reads Secrets."""
    return [
        Finding("access-to-secrets", _ref(m), f"{rule.get('verbs')} on secrets")
        for m in manifests
        if m.get("kind") in ("Role", "ClusterRole")
        for rule in m.get("rules") or []
        if "secrets" in (rule.get("resources") or [])
        and {"get", "list", "watch"} & set(rule.get("verbs") or [])
    ]


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


def no_anti_affinity(manifests: Sequence[Manifest]) -> list[Finding]:
    """A workload with more than one replica spreads them with a Pod anti-affinity."""
    findings = []
    for m in manifests:
        if m.get("kind") not in ("Deployment", "StatefulSet") or _replicas(m) < 2:
            continue
        affinity = (((_pod_template(m) or {}).get("spec") or {}).get("affinity") or {}).get(
            "podAntiAffinity"
        ) or {}
        terms = [
            *(affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or []),
            *(
                t.get("podAffinityTerm") or {}
                for t in affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
            ),
        ]
        labels = _template_labels(m)
        if not any(
            _selects((t.get("labelSelector") or {}).get("matchLabels") or {}, labels) for t in terms
        ):
            findings.append(
                Finding(
                    "no-anti-affinity",
                    _ref(m),
                    f"{_replicas(m)} replicas without an anti-affinity on their own labels",
                )
            )
    return findings


def pod_disruption_budget(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every Deployment's Pods are covered by a PodDisruptionBudget that lets a drain proceed."""
    budgets = [m for m in manifests if m.get("kind") == "PodDisruptionBudget"]
    findings = []
    for budget in budgets:
        spec = budget.get("spec") or {}
        if spec.get("maxUnavailable") in (0, "0%"):
            findings.append(
                Finding("pdb-max-unavailable", _ref(budget), "maxUnavailable 0 blocks every drain")
            )
    for m in manifests:
        if m.get("kind") != "Deployment":
            continue
        labels = _template_labels(m)
        covering = [
            b
            for b in budgets
            if _namespace(b) == _namespace(m)
            and _selects(
                ((b.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}, labels
            )
        ]
        if not covering:
            findings.append(Finding("no-pod-disruption-budget", _ref(m), "no PDB selects its Pods"))
        for budget in covering:
            minimum = (budget.get("spec") or {}).get("minAvailable")
            if isinstance(minimum, int) and minimum >= _replicas(m) > 0:
                findings.append(
                    Finding(
                        "pdb-min-available",
                        _ref(budget),
                        f"minAvailable {minimum} >= {_replicas(m)} replicas blocks every drain",
                    )
                )
    return findings


def dangling_service(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every Service selects the Pods of some workload, on a port they declare."""
    findings = []
    workloads = [m for m in manifests if _pod_template(m) is not None]
    for service in manifests:
        if service.get("kind") != "Service":
            continue
        spec = service.get("spec") or {}
        selector = spec.get("selector") or {}
        namespace = (service.get("metadata") or {}).get("namespace")
        targets = [
            w
            for w in workloads
            if (w.get("metadata") or {}).get("namespace") == namespace
            and _selects(selector, _template_labels(w))
        ]
        if not targets:
            findings.append(Finding("dangling-service", _ref(service), "selects no Pods"))
            continue
        ports = {
            p.get(key)
            for w in targets
            for _, c in _containers(w)
            for p in c.get("ports") or []
            for key in ("name", "containerPort")
        }
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if target not in ports:
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
    privileged_container,
    privilege_escalation_container,
    drop_net_raw_capability,
    run_as_non_root,
    no_read_only_root_fs,
    unset_requirements,
    latest_tag,
    no_liveness_or_readiness_probe,
    probe_port,
    host_namespaces,
    mismatching_selector,
    service_account,
    cluster_admin_role_binding,
    wildcard_in_rules,
    access_to_secrets,
    env_var_secret,
    no_anti_affinity,
    pod_disruption_budget,
    dangling_service,
    dangling_servicemonitor,
)


def check(manifests: Sequence[Manifest]) -> list[Finding]:
    """Every finding of every check."""
    return [finding for rule in CHECKS for finding in rule(manifests)]
