"""What a finished attempt tells the breaker, and the id an attempt holds a probe slot by.

Only evidence about the whole site counts: ``Throttled`` failures (429, bot checks) and
``Transient`` failures that come from the site or the way to it (5xx, 408, connection
errors, timeouts, TLS errors, cut-off bodies). A transient failure of the attempt's own
making (a full volume, a stopped Pod, a worker bug, an unrecognised yt-dlp error) says
nothing about the site, nor does a ``Permanent`` failure of one video: both are recorded
as ``Permanent``, which leaves the state alone and only frees a probe slot. An attempt that
Kubernetes interrupted (eviction, preemption, deletion) is not recorded at all: it runs
again under the same attempt number, so a probe keeps its slot. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import re

from videodl.api.status import FailureClass
from videodl.core import breaker
from videodl.reconcile.download import outcome as attempt_outcome

__all__ = ["Evidence", "evidence_of", "probe_id"]

_SITE_WIDE_TRANSIENT = frozenset({"ConnectionError", "Timeout", "TLSError", "IncompleteRead"})
_SITE_HTTP_STATUS = re.compile(r"^HTTPError(5[0-9][0-9]|408)$")
_DETAIL_CHARS = 160


@dataclasses.dataclass(frozen=True)
class Evidence:
    """An outcome as the breaker records it, with a short detail for ``lastFailure``."""

    outcome: breaker.Outcome
    detail: str = ""


def _site_wide(reason: str) -> bool:
    return reason in _SITE_WIDE_TRANSIENT or bool(_SITE_HTTP_STATUS.match(reason))


def evidence_of(result: attempt_outcome.Outcome) -> Evidence | None:
    """The breaker's view of a finished attempt; ``None`` when it must not be recorded."""
    if isinstance(result, attempt_outcome.Succeeded):
        return Evidence(breaker.Outcome.SUCCESS)
    if isinstance(result, attempt_outcome.Interrupted):
        return None
    failure = result.failure
    message = " ".join(failure.message.split())
    detail = f"{failure.reason}: {message}" if message else failure.reason
    detail = detail[:_DETAIL_CHARS]
    if failure.failure_class is FailureClass.THROTTLED:
        return Evidence(breaker.Outcome.THROTTLED, detail)
    if failure.failure_class is FailureClass.TRANSIENT and _site_wide(failure.reason):
        return Evidence(breaker.Outcome.TRANSIENT, detail)
    return Evidence(breaker.Outcome.PERMANENT, detail)


def probe_id(*, namespace: str, name: str, uid: str, attempt: int) -> str:
    """The probe id of one attempt: ``<namespace>/<name>#<attempt>@<uid prefix>``.

    Stable across the runs of one attempt (an interrupted attempt is run again under the
    same number), so a re-run probe is re-admitted without taking a second slot; the uid
    prefix keeps a re-created download of the same name apart.
    """
    return f"{namespace}/{name}#{attempt}@{uid[:8]}"
