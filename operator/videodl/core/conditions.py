"""kstatus-style conditions of a VideoDownload, computed from its phase.

A VideoDownload carries three conditions; their types, polarity and reasons are declared
once in :mod:`videodl.api.status` (``ConditionType``, ``ConditionReason``), and which phases
set each one ``True`` is declared once in :data:`POLICY`:

``Ready`` (normal polarity)
    ``True`` only when the download succeeded; ``False`` from the first reconcile on.
``Reconciling`` (abnormal polarity: ``True`` means "not done yet")
    ``True`` while the operator is still working toward the file without anyone's help:
    ``Pending``, ``Queued``, ``Running``, ``BackingOff`` and ``Blocked``. ``Blocked`` (the
    site's circuit breaker is open) counts as reconciling because it resolves on its own when
    the breaker closes; it is a wait, not a dead end, so ``kubectl wait`` and kstatus-based
    tools (Flux, Argo CD, kpt) keep waiting rather than report a failure.
``Stalled`` (abnormal polarity)
    ``True`` when the download failed for good (``Failed``): it will not progress without a
    change (a manual retry).

``Suspended`` is none of these: the user asked it to stop, so it is not reconciling, not
stalled, and not ready; kstatus reads that as ``Current``.

All three are always present, so ``kubectl wait --for=condition=Stalled=false`` and printer
columns work without special cases. ``lastTransitionTime`` changes only when a condition's
status changes; reason, message and ``observedGeneration`` are refreshed every time.

:func:`kstatus` reimplements kstatus's generic rules so tests and docs can show what
GitOps tools will conclude from a status.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from videodl.api.status import (
    MESSAGE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    REASON_PATTERN,
    ConditionType,
    Phase,
)

__all__ = [
    "POLICY",
    "KStatus",
    "compute",
    "kstatus",
]

_ACTIVE = frozenset({Phase.PENDING, Phase.QUEUED, Phase.RUNNING, Phase.BACKING_OFF, Phase.BLOCKED})

#: Whether each owned condition is ``True`` in a phase.
POLICY: Final[Mapping[ConditionType, frozenset[Phase]]] = {
    ConditionType.READY: frozenset({Phase.SUCCEEDED}),
    ConditionType.RECONCILING: _ACTIVE,
    ConditionType.STALLED: frozenset({Phase.FAILED}),
}

# metav1.Condition's validation, as status.conditions declares it.
_REASON = re.compile(REASON_PATTERN)


def compute(
    *,
    phase: Phase | str,
    reason: str,
    message: str,
    generation: int,
    now: datetime,
    previous: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Return the new ``status.conditions`` list (camelCase dicts, as metav1.Condition).

    The owned conditions come first (Ready, Reconciling, Stalled), each with ``reason`` and
    ``message``; conditions of other types in ``previous`` are kept as they were, after them.
    """
    phase = _phase(phase)
    if not _REASON.fullmatch(reason) or len(reason) > REASON_MAX_LENGTH:
        msg = (
            f"condition reason {reason!r} is not valid: use a CamelCase word of letters, "
            "digits, '_', ',' or ':' starting with a letter (for example 'BackingOff')"
        )
        raise ValueError(msg)
    if generation < 0:
        msg = f"generation must be 0 or more (metadata.generation), got {generation}"
        raise ValueError(msg)
    if now.tzinfo is None:
        msg = "now must be a timezone-aware datetime (for example datetime.now(UTC))"
        raise ValueError(msg)
    if len(message) > MESSAGE_MAX_LENGTH:
        message = message[: MESSAGE_MAX_LENGTH - 1] + "…"
    stamp = now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    before = {c.get("type"): c for c in previous}
    owned: list[dict[str, Any]] = []
    for kind, true_in in POLICY.items():
        status = "True" if phase in true_in else "False"
        old = before.get(kind.value, {})
        since = old.get("lastTransitionTime")
        if old.get("status") != status or not isinstance(since, str) or not since:
            since = stamp
        owned.append(
            {
                "type": kind.value,
                "status": status,
                "reason": reason,
                "message": message,
                "lastTransitionTime": since,
                "observedGeneration": generation,
            }
        )
    owned_types = {kind.value for kind in POLICY}
    others = [dict(c) for c in previous if c.get("type") not in owned_types]
    return owned + others


class KStatus(enum.StrEnum):
    """The statuses kstatus computes for a resource."""

    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    CURRENT = "Current"
    TERMINATING = "Terminating"


def kstatus(obj: Mapping[str, Any]) -> KStatus:
    """Return what kstatus concludes for a custom resource ``obj`` (a dict as read from the API).

    The rules, in order, as in sigs.k8s.io/cli-utils ``pkg/kstatus/status``: a
    ``metadata.deletionTimestamp`` means ``Terminating``; a ``status.observedGeneration``
    that differs from ``metadata.generation`` means ``InProgress``; then the first condition
    in the list that is ``Reconciling=True`` (``InProgress``) or ``Stalled=True``
    (``Failed``) decides; otherwise the resource is ``Current``. (kstatus's rules for
    built-in kinds such as Deployment do not apply to custom resources and are left out.)
    """
    metadata = _mapping(obj.get("metadata"), "metadata")
    status = _mapping(obj.get("status"), "status")
    if metadata.get("deletionTimestamp"):
        return KStatus.TERMINATING
    generation = _optional_int(metadata, "generation", "metadata")
    observed = _optional_int(status, "observedGeneration", "status")
    if generation is not None and observed is not None and generation != observed:
        return KStatus.IN_PROGRESS
    conditions = status.get("conditions") or []
    if not isinstance(conditions, list):
        msg = f"status.conditions must be a list, got {type(conditions).__name__}"
        raise TypeError(msg)
    for index, condition in enumerate(conditions):
        entry = _mapping(condition, f"status.conditions[{index}]")
        if entry.get("status") != "True":
            continue
        if entry.get("type") == ConditionType.RECONCILING:
            return KStatus.IN_PROGRESS
        if entry.get("type") == ConditionType.STALLED:
            return KStatus.FAILED
    return KStatus.CURRENT


def _phase(value: Phase | str) -> Phase:
    try:
        return Phase(value)
    except ValueError:
        allowed = ", ".join(p.value for p in Phase)
        msg = f"phase must be one of {allowed}, got {value!r}"
        raise ValueError(msg) from None


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        msg = f"{where} must be an object, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def _optional_int(container: Mapping[str, Any], key: str, where: str) -> int | None:
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{where}.{key} must be an integer, got {value!r}"
        raise TypeError(msg)
    return value
