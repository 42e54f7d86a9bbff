"""kstatus-style conditions of a VideoDownload, computed from its phase. Pure: no I/O.

A VideoDownload carries three conditions; their types, polarity and reasons are declared
once in :mod:`videodl.api.status` (``ConditionType``, ``ConditionReason``), and which phases
set each one ``True`` is declared once in :data:`POLICY`:

``Ready`` (normal polarity)
    ``True`` when the download succeeded, and while it is suspended (reason ``Suspended``);
    ``False`` otherwise, from the first reconcile on.
``Reconciling`` (abnormal polarity: ``True`` means "not done yet")
    ``True`` while the operator is still working toward the file without anyone's help:
    ``Pending``, ``Queued``, ``Running``, ``BackingOff`` and ``Blocked``. ``Blocked`` (the
    site's circuit breaker is open) counts as reconciling because it resolves on its own when
    the breaker closes; it is a wait, not a dead end, so ``kubectl wait`` and kstatus-based
    tools (Flux, kpt) keep waiting rather than report a failure.
``Stalled`` (abnormal polarity)
    ``True`` when the download failed for good (``Failed``): it will not progress without a
    change (a manual retry).

``Suspended`` is settled the way its owner asked: nothing will happen until ``spec.suspend``
is set back to false, so a GitOps wait on it must pass rather than time out. kstatus
(``sigs.k8s.io/cli-utils/pkg/kstatus/status``) decides a custom resource from
``Reconciling`` and ``Stalled`` first and then falls back to ``Ready``: ``Ready=False``
is ``InProgress``, ``Ready=True`` (or no ``Ready`` at all) is ``Current``. So a suspended
download is ``Ready=True`` with reason ``Suspended``, neither reconciling nor stalled, which
kstatus reads as ``Current`` and Flux's health check passes. Scripts that need the file
wait for ``status.phase`` ``Succeeded`` instead of ``Ready``.

All three are always present, so ``kubectl wait --for=condition=Stalled=false`` and printer
columns work without special cases. ``lastTransitionTime`` changes only when a condition's
status changes; reason, message and ``observedGeneration`` are refreshed every time.

What kstatus concludes from these conditions is tested with the library itself
(``hack/kstatus``), not with a reading of its rules.
"""

from __future__ import annotations

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
    "compute",
]

_ACTIVE = frozenset({Phase.PENDING, Phase.QUEUED, Phase.RUNNING, Phase.BACKING_OFF, Phase.BLOCKED})

#: Whether each owned condition is ``True`` in a phase.
POLICY: Final[Mapping[ConditionType, frozenset[Phase]]] = {
    # Suspended is settled as its owner asked: kstatus's Ready fallback makes it Current.
    ConditionType.READY: frozenset({Phase.SUCCEEDED, Phase.SUSPENDED}),
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


def _phase(value: Phase | str) -> Phase:
    try:
        return Phase(value)
    except ValueError:
        allowed = ", ".join(p.value for p in Phase)
        msg = f"phase must be one of {allowed}, got {value!r}"
        raise ValueError(msg) from None
