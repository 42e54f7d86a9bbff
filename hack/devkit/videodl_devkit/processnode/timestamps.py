"""Kubernetes time formats: metav1.Time (RFC 3339, seconds) and MicroTime (microseconds)."""

from __future__ import annotations

import datetime


def rfc3339(moment: datetime.datetime) -> str:
    """Format a moment as metav1.Time does: UTC, whole seconds, a trailing Z."""
    utc = moment.astimezone(datetime.UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z"


def micro_time(moment: datetime.datetime) -> str:
    """Format a moment as metav1.MicroTime does: UTC, always six fractional digits."""
    utc = moment.astimezone(datetime.UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"


def parse(text: str) -> datetime.datetime:
    """Parse a Time or MicroTime string into an aware UTC datetime."""
    normalised = text.strip()
    if normalised.endswith(("Z", "z")):
        normalised = normalised[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(normalised)
    except ValueError as error:
        raise ValueError(f"not an RFC 3339 time: {text!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)
