"""Leader election over a coordination.k8s.io Lease, as a pure decision per renewal round.

With ``--peering NAME`` several replicas run: all of them watch and keep the in-memory view
warm, but only the one holding the Lease ``NAME`` writes. A replica takes the Lease when
nobody holds it or the holder has not renewed it within ``leaseDurationSeconds``; the
holder renews it every round. Pure: the Lease and the time are arguments.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping
from typing import Any

__all__ = ["Decision", "Verdict", "decide", "format_time", "parse_time"]


class Verdict(enum.StrEnum):
    """What this replica does in a round."""

    ACQUIRE = "Acquire"
    RENEW = "Renew"
    STANDBY = "Standby"


@dataclasses.dataclass(frozen=True)
class Decision:
    """The verdict and, unless standing by, the Lease spec to write."""

    verdict: Verdict
    spec: Mapping[str, Any] | None = None


def format_time(moment: datetime.datetime) -> str:
    """A Lease MicroTime: RFC 3339 with microseconds, in UTC."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: object) -> datetime.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def decide(
    spec: Mapping[str, Any] | None,
    *,
    identity: str,
    now: datetime.datetime,
    duration_seconds: int,
) -> Decision:
    """This replica's move, given the Lease's current ``spec`` (None when it does not exist)."""
    stamp = format_time(now)
    current = spec or {}
    holder = current.get("holderIdentity") or None
    renewed = parse_time(current.get("renewTime")) or parse_time(current.get("acquireTime"))
    held_for = int(current.get("leaseDurationSeconds") or duration_seconds)
    expired = renewed is None or now >= renewed + datetime.timedelta(seconds=held_for)
    if holder == identity and not expired:
        return Decision(
            Verdict.RENEW,
            {**current, "renewTime": stamp, "leaseDurationSeconds": duration_seconds},
        )
    if holder is None or expired:
        transitions = int(current.get("leaseTransitions") or 0)
        return Decision(
            Verdict.ACQUIRE,
            {
                "holderIdentity": identity,
                "leaseDurationSeconds": duration_seconds,
                "acquireTime": stamp,
                "renewTime": stamp,
                "leaseTransitions": transitions + (1 if holder not in (None, identity) else 0),
            },
        )
    return Decision(Verdict.STANDBY)
