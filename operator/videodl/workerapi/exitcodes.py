"""Exit codes of the worker process, one per failure class.

The operator imports these to tell outcomes apart even when the termination message is
missing (a killed container writes none). Pure: no I/O.

Codes avoid 1 and 2 (an uncaught Python exception, a usage error) and 128+N (killed by
signal N), so an exit code that is none of these is recognisably something else.
"""

from __future__ import annotations

import enum

from videodl.api.status import FailureClass

__all__ = ["ExitCode", "failure_class_of", "for_failure_class"]


class ExitCode(enum.IntEnum):
    """How the worker process ends."""

    #: Downloaded, or already recorded in the download archive.
    SUCCEEDED = 0
    #: Worth retrying soon: 5xx, connection reset, timeout, SIGTERM.
    TRANSIENT = 10
    #: The site is limiting us: HTTP 429, bot checks, "try again later".
    THROTTLED = 11
    #: Retrying cannot help: 404, private or removed video, unsupported URL, bad spec,
    #: a refused output path or connection.
    PERMANENT = 12
    #: A bug or an unexpected error in the worker itself; retried like Transient.
    INTERNAL_ERROR = 13


_BY_CLASS = {
    FailureClass.TRANSIENT: ExitCode.TRANSIENT,
    FailureClass.THROTTLED: ExitCode.THROTTLED,
    FailureClass.PERMANENT: ExitCode.PERMANENT,
}


def for_failure_class(failure_class: FailureClass) -> ExitCode:
    """The exit code the worker uses for a failure of ``failure_class``."""
    return _BY_CLASS[failure_class]


def failure_class_of(exit_code: int) -> FailureClass | None:
    """The failure class an exit code stands for; None for success.

    Anything the worker does not produce on purpose (1 from a crash, 137 from the OOM
    killer, ``INTERNAL_ERROR``) counts as ``Transient``: retrying is the safe default
    and the attempt limit bounds it.
    """
    if exit_code == ExitCode.SUCCEEDED:
        return None
    if exit_code == ExitCode.THROTTLED:
        return FailureClass.THROTTLED
    if exit_code == ExitCode.PERMANENT:
        return FailureClass.PERMANENT
    return FailureClass.TRANSIENT
