"""How worker and cleanup Pods are built: the operator's settings for them. Pure: no I/O.

The operator reads these from its flags and environment (:mod:`videodl.operator.settings`);
the Pod builder (:mod:`.podspec`) and the state machine's observation (:mod:`.plan`) take
them as a plain value, so this layer never depends on how they were configured.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping

from videodl.api.spec import Priority
from videodl.workerapi.s3 import S3Defaults

__all__ = ["WorkerSettings", "default_priority_class_names"]


def default_priority_class_names() -> dict[Priority, str]:
    """``videodl-<level>`` for every priority level, e.g. ``videodl-critical``."""
    return {level: f"videodl-{level.value.lower()}" for level in Priority}


@dataclasses.dataclass(frozen=True)
class WorkerSettings:
    """How worker Pods are built."""

    image: str = "ghcr.io/videodl/worker:0.1.0"
    command: tuple[str, ...] = (sys.executable, "-m", "videodl.worker")
    #: Command of the short Pod that deletes files of a download with ``deletionPolicy: Delete``.
    cleanup_command: tuple[str, ...] = (sys.executable, "-m", "videodl.cleanup")
    service_account: str = "videodl-worker"
    #: PriorityClass per priority level; a level missing here gets no priorityClassName.
    priority_class_names: Mapping[Priority, str] = dataclasses.field(
        default_factory=default_priority_class_names
    )
    requests: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: {"cpu": "100m", "memory": "128Mi"}
    )
    limits: Mapping[str, str] = dataclasses.field(default_factory=lambda: {"memory": "1Gi"})
    #: Claim used when ``spec.output.persistentVolumeClaim`` is not set.
    default_claim: str | None = None
    #: Defaults for ``spec.output.s3`` fields left unset.
    s3: S3Defaults = dataclasses.field(default_factory=S3Defaults)
    #: Longest an attempt may run when ``spec.activeDeadlineSeconds`` is not set.
    active_deadline_seconds: int = 6 * 3600
    progress_interval_seconds: float = 5.0
    termination_grace_seconds: int = 30
    #: Where worker Pods mount their scratch emptyDir (their root file system is read-only).
    scratch_dir: str = "/tmp"  # noqa: S108 - a mount point inside the worker Pod
    #: Networks (normalised CIDRs) workers may connect to besides public addresses; the
    #: worker refuses loopback, link-local, private and cluster-internal ones otherwise.
    allowed_networks: tuple[str, ...] = ()
    #: How long a worker Pod no node fits may wait for preemption before its slot is freed.
    unschedulable_grace_seconds: float = 30.0
    #: Longest a worker Pod may stay unstarted when Kubernetes gives no reason.
    start_timeout_seconds: float = 300.0
    #: Seconds between two tries of a download whose worker could not start (Blocked).
    blocked_retry_seconds: float = 20.0
