"""Run the real helm binary on the chart, and read what it renders."""

from __future__ import annotations

import pathlib
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from videodl_devkit import binaries

REPO = pathlib.Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "videodl-operator"
RELEASE = "videodl"
NAMESPACE = "videodl-system"

Manifest = dict[str, Any]

# Every optional part of the chart switched on (the ServiceMonitor, the dashboard, the worker
# NetworkPolicy, peering replicas), with a namespaced watch list.
ALL_OPTIONS_NAMESPACED: Mapping[str, Any] = {
    "operator": {"replicas": 3},
    "watch": {"namespaces": ["media", "archive"]},
    "workers": {
        "networkPolicy": {
            "enabled": True,
            "egressExcept": ["10.0.0.0/8", "fd00::/8"],
            "apiServer": {"cidrs": ["10.96.0.1/32"], "port": 443},
        }
    },
    "metrics": {
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "dashboard": {"enabled": True},
    },
    "breaker": {"configMap": {"create": False}},
}

# The same, cluster-wide.
ALL_OPTIONS_CLUSTER: Mapping[str, Any] = {
    **ALL_OPTIONS_NAMESPACED,
    "watch": {"namespaces": []},
    "workers": {**ALL_OPTIONS_NAMESPACED["workers"], "namespaces": ["media", "archive"]},
}


def helm_binary() -> pathlib.Path:
    """The helm built with the control plane (offline Kubernetes version 1.34)."""
    return binaries.ensure() / "helm"


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run helm; with ``check`` a failure raises with its stderr."""
    done = subprocess.run(
        [str(helm_binary()), *args], capture_output=True, text=True, check=False, timeout=120
    )
    if check and done.returncode != 0:
        msg = f"helm {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
        raise AssertionError(msg)
    return done


def values_file(values: Mapping[str, Any], directory: pathlib.Path) -> pathlib.Path:
    """Write ``values`` as a YAML values file in ``directory``."""
    path = directory / "values.yaml"
    path.write_text(yaml.safe_dump(dict(values)), encoding="utf-8")
    return path


def template_args(values: Mapping[str, Any] | None, extra: Sequence[str] = ()) -> list[str]:
    """Arguments of ``helm template`` for the chart (values go through a temporary file)."""
    return ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, *extra]


def render_raw(
    values: Mapping[str, Any] | None = None, *, extra: Sequence[str] = (), check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``helm template`` with ``values``; returns the finished process."""
    with tempfile.TemporaryDirectory() as tmp:
        args = template_args(values, extra)
        if values:
            args += ["--values", str(values_file(values, pathlib.Path(tmp)))]
        return helm(*args, check=check)


def render(values: Mapping[str, Any] | None = None, *, extra: Sequence[str] = ()) -> list[Manifest]:
    """The manifests ``helm template`` renders with ``values`` (CRDs left out)."""
    return [doc for doc in yaml.safe_load_all(render_raw(values, extra=extra).stdout) if doc]


def by_kind(manifests: Sequence[Manifest], kind: str) -> list[Manifest]:
    """The manifests of one kind."""
    return [m for m in manifests if m.get("kind") == kind]


def one(manifests: Sequence[Manifest], kind: str, name: str | None = None) -> Manifest:
    """The single manifest of ``kind`` (and ``name``); fails when there is not exactly one."""
    found = [m for m in by_kind(manifests, kind) if name is None or m["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]
