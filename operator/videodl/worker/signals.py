"""Stopping on SIGTERM: raise out of whatever the download is doing, keep the partial file.

The kubelet sends SIGTERM when the Pod is deleted (suspend, deadline, node drain). The
handler raises :class:`Terminated` in the main thread, which unwinds yt-dlp at once
(even out of a blocking socket read) without deleting the ``.part`` file, so the next
attempt resumes from it with an HTTP range request. yt-dlp's ffmpeg runner kills its
child process when an exception passes through it.
"""

from __future__ import annotations

import signal
from types import FrameType

__all__ = ["Terminated", "ignore", "install", "restore"]


class Terminated(BaseException):
    """SIGTERM (or SIGINT) arrived; the attempt stops and counts as transient.

    A BaseException so that no ``except Exception`` inside yt-dlp swallows it.
    """

    def __init__(self, signal_number: int) -> None:
        self.signal_number = signal_number
        super().__init__(f"stopped by {signal.Signals(signal_number).name}")


def _raise_terminated(signal_number: int, _frame: FrameType | None) -> None:
    # Once is enough: the unwinding that follows must not be interrupted again.
    ignore()
    raise Terminated(signal_number)


def install() -> None:
    """Make SIGTERM and SIGINT raise Terminated in the main thread."""
    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGINT, _raise_terminated)


def ignore() -> None:
    """Ignore SIGTERM and SIGINT (while writing the outcome, after the work is done)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def restore() -> None:
    """Put back the default handlers."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
