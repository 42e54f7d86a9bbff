"""Installing the chart into a real cluster with helm, for the end-to-end tests.

The process node ignores images and runs each container's command as a local process, so
the release is installed with values that point the operator's and the workers' commands at
this checkout's Python (:func:`process_node_values`); everything else is the chart as
shipped: its ServiceAccounts, RBAC, settings and security contexts.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import yaml

from videodl_devkit import testing

from . import rendering

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

LEVELS = ("lowest", "low", "normal", "high", "critical")


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, mappings recursively."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def process_node_values(release: str, metrics_port: int) -> dict[str, Any]:
    """Values that let the chart's Pods run on the process node, and keep releases apart.

    Commands run this checkout's Python; PriorityClass names carry the release name, since
    PriorityClasses are cluster-wide and other tests may install their own.
    """
    python = sys.executable
    return {
        "operator": {"command": [python, "-m", "videodl.operator"]},
        "workers": {
            "command": [python, "-m", "videodl.worker"],
            "cleanupCommand": [python, "-m", "videodl.cleanup"],
            # The tests' media server is on loopback, which workers refuse otherwise.
            "allowedNetworks": testing.LOOPBACK_NETWORKS.split(","),
        },
        "metrics": {"port": metrics_port},
        "admission": {"intervalSeconds": 0.5},
        "priorityClasses": {
            "classes": {
                level: {"name": f"{release}-{level}", "value": 1000 * (index + 1)}
                for index, level in enumerate(LEVELS)
            }
        },
    }


def helm(
    cluster: ClusterHandle, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """helm against the cluster under test."""
    return rendering.helm(*args, f"--kubeconfig={cluster.kubeconfig}", check=check)


def _with_values(args: list[str], values: Mapping[str, Any], directory: str) -> list[str]:
    path = pathlib.Path(directory) / "values.yaml"
    path.write_text(yaml.safe_dump(dict(values)), encoding="utf-8")
    return [*args, "--values", str(path)]


def install(
    cluster: ClusterHandle,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    *,
    upgrade: bool = False,
    wait: bool = True,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``helm install`` (or ``helm upgrade``); with ``wait``, returns when the Pods run."""
    verb = "upgrade" if upgrade else "install"
    args = [verb, release, str(rendering.CHART), "--namespace", namespace]
    if wait:
        args += ["--wait", "--timeout", "180s"]
    with tempfile.TemporaryDirectory() as tmp:
        return helm(cluster, *_with_values(args, values, tmp), check=check)


def uninstall(cluster: ClusterHandle, release: str, namespace: str) -> None:
    """``helm uninstall --wait``; a release that is already gone is fine."""
    done = helm(cluster, "uninstall", release, "--namespace", namespace, "--wait", check=False)
    if done.returncode != 0 and "not found" not in done.stderr:
        msg = f"helm uninstall {release} failed:\n{done.stderr}"
        raise AssertionError(msg)


@contextlib.contextmanager
def installed(
    cluster: ClusterHandle, release: str, namespace: str, values: Mapping[str, Any]
) -> Iterator[None]:
    """The release for the duration of the block; uninstalled afterwards, even on failure."""
    try:
        install(cluster, release, namespace, values)
        yield
    finally:
        uninstall(cluster, release, namespace)


def manifest_objects(cluster: ClusterHandle, release: str, namespace: str) -> list[dict[str, Any]]:
    """The objects of the release's current revision, as helm rendered them."""
    done = helm(cluster, "get", "manifest", release, "--namespace", namespace)
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def object_ref(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(apiVersion, kind, namespace or "", name) of an object."""
    meta = obj["metadata"]
    return (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])


def exists(cluster: ClusterHandle, ref: tuple[str, str, str, str]) -> bool:
    """Whether the object still exists (a NotFound answer means it does not)."""
    api_version, kind, namespace, name = ref
    group, _, version = api_version.rpartition("/")
    resource = f"{kind}.{version}.{group}" if group else kind
    args = ["get", resource, name, "-o", "name", "--ignore-not-found"]
    if namespace:
        args += ["--namespace", namespace]
    return bool(cluster.kubectl(*args).stdout.strip())


def labelled_objects(cluster: ClusterHandle, release: str) -> list[str]:
    """Every object, of every listable kind, labelled as belonging to the release."""
    kinds = cluster.kubectl("api-resources", "--verbs=list", "-o", "name").stdout.split()
    # Events are not objects the chart makes; they stay behind by design of Kubernetes.
    kinds = [k for k in kinds if k not in ("events", "events.events.k8s.io")]
    done = cluster.kubectl(
        "get",
        ",".join(kinds),
        "--all-namespaces",
        "-l",
        f"app.kubernetes.io/instance={release},app.kubernetes.io/managed-by=Helm",
        "-o",
        "name",
    )
    return done.stdout.split()


def wait_for(what: str, probe: Any, *, timeout: float = 120.0, interval: float = 0.5) -> Any:
    """Call ``probe`` until it returns something truthy; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    msg = f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})"
    raise AssertionError(msg)


def get_json(cluster: ClusterHandle, *args: str) -> Any:
    """``kubectl get ... -o json``, decoded."""
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


_CAN_I_ROW = re.compile(r"\s{2,}")


def can_i_list(cluster: ClusterHandle, user: str, namespace: str) -> set[tuple[str, str, str]]:
    """``kubectl auth can-i --list`` for ``user`` in ``namespace``: (resource, names, verb).

    Non-resource URLs (/healthz, /api, ...) are left out: every user may read them.
    """
    done = cluster.kubectl("auth", "can-i", "--list", f"--as={user}", "--namespace", namespace)
    rows: set[tuple[str, str, str]] = set()
    for line in done.stdout.splitlines()[1:]:
        if not line or line[0].isspace():
            continue
        resource, _urls, names, verbs = _CAN_I_ROW.split(line.strip())
        for verb in verbs.strip("[]").split():
            rows.add((resource, names, verb))
    return rows


def operator_log(cluster: ClusterHandle, namespace: str) -> str:
    """The output of every operator container in ``namespace``.

    On the local cluster it comes from the process node's log files (which also keep the
    output of restarted containers); elsewhere from ``kubectl logs``.
    """
    if cluster.storage_dir is None:
        return cluster.kubectl(
            "logs", "--namespace", namespace, "-l", "app.kubernetes.io/component=operator",
            "--all-containers", "--tail=-1",
        ).stdout  # fmt: skip
    logs_root = cluster.storage_dir.parent / "logs"
    parts = [
        path.read_text(errors="replace")
        for path in sorted(logs_root.glob(f"{namespace}_*/operator/*.log"))
    ]
    return "\n".join(parts)


def service_account_kubeconfig(
    cluster: ClusterHandle, namespace: str, account: str, path: pathlib.Path
) -> pathlib.Path:
    """A kubeconfig at ``path`` that authenticates with a fresh token of ``account``."""
    token = cluster.kubectl(
        "create", "token", account, "--namespace", namespace, "--duration=1h"
    ).stdout.strip()
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    server = admin["clusters"][0]["cluster"]
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "cluster", "cluster": server}],
                "users": [{"name": account, "user": {"token": token}}],
                "contexts": [{"name": "sa", "context": {"cluster": "cluster", "user": account}}],
                "current-context": "sa",
            }
        ),
        encoding="utf-8",
    )
    return path


def container_environment(
    container: Mapping[str, Any], *, pod_name: str, namespace: str
) -> dict[str, str]:
    """A container's env as a kubelet would set it (values and the Pod's name and namespace)."""
    fields = {"metadata.name": pod_name, "metadata.namespace": namespace}
    env: dict[str, str] = {}
    for variable in container.get("env") or []:
        source = variable.get("valueFrom")
        if source is None:  # the API leaves out an empty value
            env[variable["name"]] = variable.get("value", "")
        else:
            env[variable["name"]] = fields[source["fieldRef"]["fieldPath"]]
    return env
