"""Kubernetes Events about the breaker, attached to its ConfigMap.

One Event per transition of a site (``Tripped``, ``Probing``, ``Recovered``, ``ProbeFailed``,
``Reset``, ``ForcedOpen``) and one per administrator command that could not be applied
(``InvalidCommand``), so ``kubectl events -n <namespace> --for configmap/<name>`` tells the
breaker's story. The downloads it holds back get their own ``Blocked`` Events from the
operator. Pure: the caller posts the returned objects.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any, Final

from videodl.core import breaker

__all__ = ["COMPONENT", "ConfigMapRef", "command_error_event", "transition_event"]

COMPONENT: Final = "videodl-operator"
_WARNING_REASONS: Final = frozenset(
    {
        breaker.TransitionReason.TRIPPED,
        breaker.TransitionReason.PROBE_FAILED,
        breaker.TransitionReason.FORCED_OPEN,
    }
)
_MESSAGE_CHARS: Final = 1024


@dataclasses.dataclass(frozen=True)
class ConfigMapRef:
    """The breaker ConfigMap an Event is about."""

    namespace: str
    name: str
    uid: str


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _event(
    ref: ConfigMapRef,
    *,
    type_: str,
    reason: str,
    message: str,
    now: datetime,
    instance: str,
    suffix: str,
) -> dict[str, Any]:
    involved: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "namespace": ref.namespace,
        "name": ref.name,
    }
    if ref.uid:
        involved["uid"] = ref.uid
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{ref.name}.{suffix}", "namespace": ref.namespace},
        "involvedObject": involved,
        "type": type_,
        "reason": reason,
        "message": message[:_MESSAGE_CHARS],
        "source": {"component": COMPONENT},
        "reportingComponent": f"videodl.dev/{COMPONENT}",
        "reportingInstance": instance,
        "firstTimestamp": _stamp(now),
        "lastTimestamp": _stamp(now),
        "count": 1,
        "action": reason,
    }


def transition_event(
    ref: ConfigMapRef,
    *,
    site: str,
    transition: breaker.Transition,
    instance: str,
    suffix: str,
) -> dict[str, Any]:
    """The Event for one site's transition; ``suffix`` makes its name unique."""
    return _event(
        ref,
        type_="Warning" if transition.reason in _WARNING_REASONS else "Normal",
        reason=transition.reason.value,
        message=(
            f"site {site}: {transition.from_state.value} -> {transition.to_state.value}: "
            f"{transition.message}"
        ),
        now=transition.at,
        instance=instance,
        suffix=suffix,
    )


def command_error_event(
    ref: ConfigMapRef, *, error: str, now: datetime, instance: str, suffix: str
) -> dict[str, Any]:
    """The Event for an administrator command that could not be applied."""
    return _event(
        ref,
        type_="Warning",
        reason="InvalidCommand",
        message=error,
        now=now,
        instance=instance,
        suffix=suffix,
    )
