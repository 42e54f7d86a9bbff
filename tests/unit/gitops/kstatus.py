"""Run the real kstatus library on objects: ``hack/kstatus``, built by hack/build-binaries.sh.

The GitOps claims of docs/gitops.md (which phase Flux waits on, passes or fails) are what
``sigs.k8s.io/cli-utils/pkg/kstatus/status.Compute`` concludes, so the tests ask it rather
than a reading of its rules. The unit tests give it stored or computed objects; the end-to-end
tests give it objects read from the apiserver.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import pathlib
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from videodl_devkit import binaries

#: What status.Compute answers (cli-utils ``status.Status``), for the objects we give it.
STATUSES = ("InProgress", "Current", "Failed", "Terminating")


@dataclasses.dataclass(frozen=True)
class Result:
    """One object's answer: its name, kstatus's status and message, or the library's error."""

    name: str
    status: str
    message: str
    error: str = ""


@functools.cache
def binary() -> pathlib.Path:
    """The kstatus command, built (once, cached) with the control plane's binaries."""
    path = binaries.ensure() / "kstatus"
    if not path.is_file():
        msg = f"{path} is missing: run `bash hack/build-binaries.sh` (it builds hack/kstatus)"
        raise AssertionError(msg)
    return path


def run(args: Sequence[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the kstatus command with ``args``, ``stdin`` as its input; never raises on exit."""
    return subprocess.run(
        [str(binary()), *args], input=stdin, capture_output=True, text=True, check=False, timeout=60
    )


def parse(stdout: str) -> list[Result]:
    """The command's output, one Result per line."""
    found = []
    for line in stdout.splitlines():
        answer = json.loads(line)
        found.append(
            Result(
                name=answer["name"],
                status=answer.get("status", ""),
                message=answer.get("message", ""),
                error=answer.get("error", ""),
            )
        )
    return found


def compute_all(objects: Sequence[Mapping[str, Any]]) -> list[Result]:
    """status.Compute of every object (dicts as read from the API), in order, in one run.

    An object the library refuses has its ``error`` set and an empty status.
    """
    listed = {"apiVersion": "v1", "kind": "List", "items": [dict(o) for o in objects]}
    done = run([], json.dumps(listed))
    if done.returncode not in (0, 1):
        msg = f"kstatus failed ({done.returncode}):\n{done.stderr}"
        raise AssertionError(msg)
    results = parse(done.stdout)
    assert len(results) == len(objects), done.stderr
    return results


def compute(obj: Mapping[str, Any]) -> str:
    """status.Compute's status of one object; the library refusing it fails the test."""
    (result,) = compute_all([obj])
    assert not result.error, f"kstatus refused {result.name!r}: {result.error}"
    return result.status
