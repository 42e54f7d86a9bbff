"""Every reason of an Event the download state machine posts, declared once with its type.

An Event's ``reason`` is a CamelCase word people filter on (``kubectl events --for vdl/NAME``,
alert rules), so it is part of the operator's interface: ``docs/monitoring.md`` lists each one,
and a test checks that list against :class:`Reason`. Its ``type`` is ``Normal`` when the
download moved on as expected and ``Warning`` when something needs a look. The plans build
their Events with :meth:`videodl.reconcile.download.plan.Event.of`, which takes the type
from here. Pure: no I/O.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["NORMAL", "WARNING", "Reason"]

NORMAL: Final = "Normal"
WARNING: Final = "Warning"


class Reason(enum.StrEnum):
    """The reason of an Event about a VideoDownload; :attr:`type` is the Event's type."""

    #: ``Normal`` or ``Warning``: the type every Event with this reason has.
    type: str

    def __new__(cls, value: str, type_: str) -> Reason:
        member = str.__new__(cls, value)
        member._value_ = value
        member.type = type_
        return member

    # --- the phases (one Event per phase change) ------------------------------------------

    QUEUED = "Queued", NORMAL
    """Queued: after the first checks, on resuming, or again after a manual retry."""
    STARTED = "Started", NORMAL
    """An attempt started; the message names its worker Pod."""
    RETRYING = "Retrying", WARNING
    """An attempt failed and will be retried; the message has the failure and the next time."""
    BLOCKED = "Blocked", WARNING
    """An admission gate (the site's circuit breaker) held the download back, or its worker
    Pod could not start (the message names the missing Secret or claim, or the scheduler's
    reason)."""
    SUCCEEDED = "Succeeded", NORMAL
    """The download is done; the message has the title, the number of files and the bytes."""
    FAILED = "Failed", WARNING
    """The operator gave up: a permanent failure, or no attempts left."""
    SUSPENDED = "Suspended", NORMAL
    """``spec.suspend`` became true; a running worker was stopped."""

    # --- within a phase -------------------------------------------------------------------

    WORKER_REPLACED = "WorkerReplaced", WARNING
    """Kubernetes stopped the worker Pod (eviction, preemption, deletion); a new Pod continues
    the same attempt, which is not counted again."""
    POD_REJECTED = "PodRejected", WARNING
    """The apiserver refused the worker Pod; the message has a hint where one is known."""
    RETRY_REQUESTED = "RetryRequested", NORMAL
    """The ``videodl.dev/retry`` annotation was acted on: a fresh budget of attempts."""

    # --- deletion with ``deletionPolicy: Delete`` -----------------------------------------

    FILES_DELETED = "FilesDeleted", NORMAL
    """The cleanup Pod removed the downloaded files; the finalizer is released."""
    CLEANUP_FAILED = "CleanupFailed", WARNING
    """A cleanup Pod failed (and is retried), or the operator gave up and released the
    finalizer; the message names the files left."""
    CLEANUP_REFUSED = "CleanupRefused", WARNING
    """A result path pointed outside the download's directory and was not deleted."""
    FILES_KEPT = "FilesKept", NORMAL
    """Files were not deleted because another download owns them (it wrote them, or keeps
    them too); the message names them."""
