"""A compact, typed view of a worker or cleanup Pod: only what reconciling needs.

The operator keeps one :class:`PodView` per managed Pod in memory instead of whole Pod
objects, which keeps its footprint small with thousands of downloads. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

from videodl.core.times import parse_time
from videodl.reconcile.download import naming

__all__ = ["PodView", "Termination"]

_FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


@dataclasses.dataclass(frozen=True, slots=True)
class Termination:
    """How the Pod's (first) container ended."""

    exit_code: int
    reason: str | None
    message: str
    finished_at: datetime.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class PodView:
    """What the operator knows about one of its Pods."""

    namespace: str
    name: str
    uid: str
    resource_version: str
    owner_uid: str | None
    owner_name: str | None
    component: str
    run: int | None
    attempt: int | None
    phase: str
    deleting: bool
    #: Kubernetes marked the Pod for disruption (eviction, preemption, node shutdown).
    disrupted: bool
    reason: str | None = None
    message: str | None = None
    started_at: datetime.datetime | None = None
    termination: Termination | None = None
    created_at: datetime.datetime | None = None
    #: The scheduler's message while ``PodScheduled`` is False for ``Unschedulable``.
    unschedulable: str | None = None
    #: The worker container's ``waiting`` reason and message, while it waits.
    waiting: tuple[str, str] | None = None
    #: The worker container has run (it is running, or terminated).
    container_started: bool = False
    #: The node the scheduler placed the Pod on (None: not placed yet).
    node_name: str | None = None

    @property
    def finished(self) -> bool:
        """The Pod reached Succeeded or Failed: its process is gone."""
        return self.phase in _FINISHED_PHASES

    @property
    def active(self) -> bool:
        """The Pod may still run (or start) a process."""
        return not self.finished

    @classmethod
    def from_pod(cls, pod: Mapping[str, Any]) -> PodView:
        """Summarise a Pod object as the apiserver returns it."""
        metadata = pod.get("metadata") or {}
        status = pod.get("status") or {}
        labels = metadata.get("labels") or {}
        owner = next(
            (ref for ref in metadata.get("ownerReferences") or [] if ref.get("controller")),
            None,
        )
        conditions = status.get("conditions") or []
        disrupted = any(
            c.get("type") == "DisruptionTarget" and c.get("status") == "True" for c in conditions
        )
        unschedulable = next(
            (
                str(c.get("message") or "no node fits")
                for c in conditions
                if c.get("type") == "PodScheduled"
                and c.get("status") == "False"
                and c.get("reason") == "Unschedulable"
            ),
            None,
        )
        container = (status.get("containerStatuses") or [{}])[0]
        state = container.get("state") or {}
        waiting = state.get("waiting")
        return cls(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=str(metadata.get("resourceVersion", "")),
            owner_uid=str(owner["uid"]) if owner and owner.get("uid") else None,
            owner_name=str(owner["name"]) if owner and owner.get("name") else None,
            component=str(labels.get(naming.LABEL_COMPONENT, naming.COMPONENT_WORKER)),
            run=_int(labels.get(naming.LABEL_RUN)),
            attempt=_int(labels.get(naming.LABEL_ATTEMPT)),
            phase=str(status.get("phase") or "Pending"),
            deleting=metadata.get("deletionTimestamp") is not None,
            disrupted=disrupted,
            reason=status.get("reason") or None,
            message=status.get("message") or None,
            started_at=parse_time(status.get("startTime")),
            termination=_termination(status),
            created_at=parse_time(metadata.get("creationTimestamp")),
            unschedulable=unschedulable,
            waiting=(
                (str(waiting.get("reason") or ""), str(waiting.get("message") or ""))
                if isinstance(waiting, Mapping)
                else None
            ),
            container_started=bool(
                state.get("running") or state.get("terminated") or container.get("lastState")
            ),
            node_name=(pod.get("spec") or {}).get("nodeName") or None,
        )


def _int(value: object) -> int | None:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _termination(status: Mapping[str, Any]) -> Termination | None:
    statuses = status.get("containerStatuses") or []
    if not statuses:
        return None
    state = (statuses[0].get("state") or {}).get("terminated")
    if not state:
        return None
    return Termination(
        exit_code=int(state.get("exitCode", 0)),
        reason=state.get("reason") or None,
        message=str(state.get("message") or ""),
        finished_at=parse_time(state.get("finishedAt")),
    )
