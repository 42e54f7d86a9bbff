"""Names, labels, annotations and the finalizer the operator puts on objects.

Worker Pod names are a pure function of the download and the run number, so a restarted
operator that finds a run recorded in status creates exactly the Pod the crashed one meant
to create (or finds it already there). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

from videodl.api import resource

__all__ = [
    "ANNOTATION_RETRY",
    "ANNOTATION_RETRY_HANDLED",
    "COMPONENT_CLEANUP",
    "COMPONENT_WORKER",
    "FINALIZER",
    "LABEL_ATTEMPT",
    "LABEL_COMPONENT",
    "LABEL_DOWNLOAD",
    "LABEL_INSTANCE",
    "LABEL_MANAGED_BY",
    "LABEL_NAME",
    "LABEL_RUN",
    "WORKER_APP",
    "cleanup_pod_name",
    "download_label",
    "pod_selector",
    "run_of",
    "worker_pod_name",
]

LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
LABEL_INSTANCE: Final = "app.kubernetes.io/instance"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_DOWNLOAD: Final = "videodl.dev/download"
LABEL_RUN: Final = "videodl.dev/run"
LABEL_ATTEMPT: Final = "videodl.dev/attempt"

WORKER_APP: Final = "videodl-worker"
COMPONENT_WORKER: Final = "worker"
COMPONENT_CLEANUP: Final = "cleanup"

#: Set to a new value (any string, e.g. a timestamp) to retry a Failed download.
ANNOTATION_RETRY: Final = "videodl.dev/retry"
#: The last ``videodl.dev/retry`` value the operator acted on (written by the operator).
ANNOTATION_RETRY_HANDLED: Final = "videodl.dev/retry-handled"
#: Held by downloads with ``deletionPolicy: Delete`` until their files are removed.
FINALIZER: Final = "videodl.dev/cleanup"

# Pod names become host names, which are limited to one DNS label.
_POD_NAME_MAX = 63
_LABEL_VALUE_MAX = 63
_RUN_SUFFIX = re.compile(r"-r([1-9][0-9]*)$")


def _short_hash(uid: str) -> str:
    return hashlib.sha256(uid.encode()).hexdigest()[:6]


def _prefixed(name: str, uid: str, suffix: str) -> str:
    tail = f"-{_short_hash(uid)}-{suffix}"
    head = name[: _POD_NAME_MAX - len(tail)].rstrip("-.")
    return f"{head}{tail}"


def worker_pod_name(name: str, uid: str, run: int) -> str:
    """Name of the worker Pod of ``run`` (1-based): ``<name>-<hash of uid>-r<run>``.

    The hash of the uid keeps Pods of a deleted download (still being garbage collected)
    apart from those of a new download with the same name. At most 63 characters.
    """
    if run < 1:
        msg = f"run must be 1 or more, got {run}"
        raise ValueError(msg)
    return _prefixed(name, uid, f"r{run}")


def cleanup_pod_name(name: str, uid: str, round_: int) -> str:
    """Name of the ``round_``-th Pod (1-based) removing the files of a deleted download."""
    return _prefixed(name, uid, f"cleanup{round_}")


def run_of(pod_name: str | None) -> int | None:
    """The run number encoded in a worker Pod name, or None if it is not one."""
    if not pod_name:
        return None
    match = _RUN_SUFFIX.search(pod_name)
    return int(match[1]) if match else None


def download_label(name: str, uid: str) -> str:
    """Value of ``videodl.dev/download``: the name, or the uid when the name is too long."""
    return name if len(name) <= _LABEL_VALUE_MAX else uid


def pod_selector(instance: str) -> str:
    """Label selector of every Pod this operator instance manages."""
    return f"{LABEL_MANAGED_BY}={resource.MANAGER},{LABEL_INSTANCE}={instance}"
