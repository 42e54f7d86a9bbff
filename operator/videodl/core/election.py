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

from videodl.core.times import format_micro_time, parse_time

__all__ = ["Decision", "Verdict", "decide"]


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


def decide(
    spec: Mapping[str, Any] | None,
    *,
    identity: str,
    now: datetime.datetime,
    duration_seconds: int,
) -> Decision:
    """This replica's move, given the Lease's current ``spec`` (None when it does not exist)."""
    stamp = format_micro_time(now)
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
