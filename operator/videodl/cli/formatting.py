"""Human-readable sizes, speeds, durations, ages and progress bars. Pure: no I/O."""

from __future__ import annotations

import datetime
import math
from typing import Final

__all__ = ["age", "bar", "bytes_text", "duration", "percent_text", "speed_text"]

_UNITS: Final = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_BAR_FULL: Final = "█"
_BAR_EMPTY: Final = "░"


def bytes_text(size: float | None) -> str:
    """``1.5MiB`` style (binary units, one decimal above bytes); empty when unknown."""
    if size is None or not math.isfinite(size) or size < 0:
        return ""
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def speed_text(bytes_per_second: float | None) -> str:
    """``2.0MiB/s``; empty when unknown."""
    text = bytes_text(bytes_per_second)
    return f"{text}/s" if text else ""


def duration(seconds: float | None) -> str:
    """A duration the way kubectl prints ages: ``45s``, ``3m12s``, ``2h5m``, ``3d4h``.

    Empty when unknown; negative durations count as zero.
    """
    if seconds is None or not math.isfinite(seconds):
        return ""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


def age(moment: datetime.datetime | None, now: datetime.datetime) -> str:
    """How long ago ``moment`` was, as :func:`duration` prints it; empty when unknown."""
    if moment is None:
        return ""
    return duration((now - moment).total_seconds())


def percent_text(percent: float | None) -> str:
    """``42%`` (``42.5%`` below 10% so early progress shows); empty when unknown."""
    if percent is None or not math.isfinite(percent):
        return ""
    clamped = min(100.0, max(0.0, percent))
    return f"{clamped:.1f}%" if clamped < 10 and clamped != int(clamped) else f"{int(clamped)}%"


def bar(percent: float | None, width: int = 20) -> str:
    """A text progress bar of ``width`` cells, e.g. ``██████░░░░``; empty when unknown."""
    if percent is None or not math.isfinite(percent) or width < 1:
        return ""
    filled = round(width * min(100.0, max(0.0, percent)) / 100)
    return _BAR_FULL * filled + _BAR_EMPTY * (width - filled)
