"""Kubernetes Events about the breaker, attached to its ConfigMap.

One Event per transition of a site (``Tripped``, ``Probing``, ``Recovered``, ``ProbeFailed``,
``Reset``, ``ForcedOpen``) and one per administrator command that could not be applied
(``InvalidCommand``), so ``kubectl events -n <namespace> --for configmap/<name>`` tells the
breaker's story. The downloads it holds back get their own ``Blocked`` Events from the
operator. The objects come from the one Event builder, :func:`videodl.kube.events.event_object`;
nothing here posts them, the caller does.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Final

from videodl.core import breaker
from videodl.kube import events

__all__ = ["ConfigMapRef", "command_error_event", "transition_event"]

_WARNING_REASONS: Final = frozenset(
    {
        breaker.TransitionReason.TRIPPED,
        breaker.TransitionReason.PROBE_FAILED,
        breaker.TransitionReason.FORCED_OPEN,
    }
)


@dataclasses.dataclass(frozen=True)
class ConfigMapRef:
    """The breaker ConfigMap an Event is about."""

    namespace: str
    name: str
    #: Empty while the ConfigMap has not been read; the Event then names it only.
    uid: str

    def involved(self) -> events.InvolvedObject:
        """The ConfigMap as the Event's ``involvedObject``."""
        return events.InvolvedObject(
            api_version="v1",
            kind="ConfigMap",
            namespace=self.namespace,
            name=self.name,
            uid=self.uid,
        )


def transition_event(
    ref: ConfigMapRef,
    *,
    site: str,
    transition: breaker.Transition,
    instance: str,
    suffix: str,
) -> dict[str, Any]:
    """The Event for one site's transition; ``suffix`` makes its name unique."""
    return events.event_object(
        ref.involved(),
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
    return events.event_object(
        ref.involved(),
        type_="Warning",
        reason="InvalidCommand",
        message=error,
        now=now,
        instance=instance,
        suffix=suffix,
    )
