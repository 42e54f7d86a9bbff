"""Run kube-score (github.com/zegl/kube-score) on manifests, and read what it reports.

``hack/build-binaries.sh`` builds kube-score from its Go module next to helm. :func:`score`
writes the manifests to a file, runs ``kube-score score --output-format json`` on it and
returns one :class:`Finding` per check an object does not pass fully; which findings the
chart accepts, and why, is for the caller to say (``test_kube_score.py``).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from videodl_devkit import binaries

# The Kubernetes the chart is tested on (K8S_VERSION in hack/build-binaries.sh); kube-score
# judges apiVersions against it.
KUBERNETES_VERSION = "v1.34"

# kube-score's optional checks that the chart is held to as well: a seccomp profile on every
# Pod, and container ports with a containerPort and unique names of at most 15 characters.
OPTIONAL_CHECKS = ("container-seccomp-profile", "container-ports-check")

# kube-score's grades (scorecard.Grade); anything below ALL_OK is a finding.
GRADES = {1: "CRITICAL", 5: "WARNING", 7: "ALMOST_OK"}
ALL_OK = 10


@dataclasses.dataclass(frozen=True)
class Finding:
    """One kube-score check that one object does not pass fully."""

    check: str
    obj: str  # "<Kind> <name>", as the ignore table names objects
    namespace: str
    grade: str
    comments: tuple[str, ...]

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        kind, _, name = self.obj.partition(" ")
        return f"[{self.grade}] {self.check} {kind} {where}{name}: {'; '.join(self.comments)}"


def binary() -> pathlib.Path:
    """kube-score in the binaries directory (a link to its own cache directory)."""
    path = binaries.ensure() / "kube-score"
    if not path.is_file():
        msg = f"{path} is missing: run hack/build-binaries.sh (or unset VIDEODL_BIN_DIR)"
        raise AssertionError(msg)
    return path


def _comment(comment: Mapping[str, Any]) -> str:
    path = comment.get("path") or ""
    summary = str(comment.get("summary") or "")
    return f"({path}) {summary}" if path else summary


def findings(report: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """The checks below full marks, from kube-score's JSON report (v2). Pure."""
    found = []
    for scored in report:
        kind = scored["type_meta"]["kind"]
        meta = scored.get("object_meta") or {}
        for result in scored["checks"]:
            if result["skipped"] or result["grade"] >= ALL_OK:
                continue
            found.append(
                Finding(
                    check=result["check"]["id"],
                    obj=f"{kind} {meta.get('name')}",
                    namespace=meta.get("namespace") or "",
                    grade=GRADES.get(result["grade"], str(result["grade"])),
                    comments=tuple(_comment(c) for c in result.get("comments") or []),
                )
            )
    return found


def score(manifests: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """Every finding of kube-score's default checks and :data:`OPTIONAL_CHECKS`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "manifests.yaml"
        path.write_text(yaml.safe_dump_all([dict(m) for m in manifests]), encoding="utf-8")
        args = [str(binary()), "score", "--output-format", "json", "--color", "never"]
        args += ["--kubernetes-version", KUBERNETES_VERSION]
        for check in OPTIONAL_CHECKS:
            args += ["--enable-optional-test", check]
        done = subprocess.run(
            [*args, str(path)], capture_output=True, text=True, check=False, timeout=60
        )
    # kube-score exits 1 when some check is critical; anything else is its own failure.
    if done.returncode not in (0, 1):
        msg = f"kube-score failed ({done.returncode}):\n{done.stderr}"
        raise AssertionError(msg)
    return findings(json.loads(done.stdout))
