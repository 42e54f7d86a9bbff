"""Kubernetes timestamps: RFC 3339 strings read and written in one way. Pure: no I/O."""

from __future__ import annotations

import datetime

__all__ = ["format_micro_time", "format_time", "parse_time"]


def parse_time(value: object) -> datetime.datetime | None:
    """An RFC 3339 timestamp as Kubernetes writes it, or None when absent or unreadable.

    A timestamp without a zone is taken as UTC, which is what the apiserver means.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=datetime.UTC)


def format_time(moment: datetime.datetime) -> str:
    """A metav1.Time: RFC 3339 to the second, in UTC, with ``Z``."""
    stamp = moment.astimezone(datetime.UTC).isoformat(timespec="seconds")
    return stamp.replace("+00:00", "Z")


def format_micro_time(moment: datetime.datetime) -> str:
    """A metav1.MicroTime (Leases, Events' eventTime): RFC 3339 with microseconds, in UTC."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
