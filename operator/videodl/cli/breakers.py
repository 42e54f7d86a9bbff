"""The breaker of every site, read from the breaker's ConfigMap, and the commands to it.

The commands are the annotations the operator already obeys
(:mod:`videodl.breaker.admin`): this module only writes them, the operator applies them.
Pure: no I/O.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from videodl.breaker import admin
from videodl.breaker.keys import validate_key
from videodl.cli import formatting
from videodl.core.breaker_state import BreakerStateError, SiteState, State
from videodl.core.times import format_time

__all__ = ["BreakerLine", "force_open_annotation", "lines", "reset_annotation"]


class BreakerLine(BaseModel):
    """One site's breaker."""

    model_config = ConfigDict(frozen=True)

    site: str
    state: str
    failures: int
    window: str
    open_until: str
    probes: int
    forced: bool
    reason: str
    last_failure: str
    changed: str


def lines(data: Mapping[str, str], *, now: datetime.datetime) -> list[BreakerLine]:
    """Every site in the ConfigMap's ``data``, by site key; a broken value says so."""
    result = []
    for site in sorted(data):
        try:
            state = SiteState.from_configmap_value(data[site])
        except BreakerStateError as exc:
            result.append(
                BreakerLine(
                    site=site, state="Invalid", failures=0, window="", open_until="", probes=0,
                    forced=False, reason=str(exc), last_failure="", changed="",
                )
            )  # fmt: skip
            continue
        until = ""
        if state.state == State.OPEN:
            until = "until reset" if state.open_until is None else format_time(state.open_until)
        live = [p for p in state.probes if p.expires_at > now]
        result.append(
            BreakerLine(
                site=site,
                state=state.state.value,
                failures=state.consecutive_failures,
                window=state.window,
                open_until=until,
                probes=len(live),
                forced=state.forced,
                reason=state.last_reason,
                last_failure=state.last_failure,
                changed=formatting.age(state.last_transition_time, now),
            )
        )
    return result


def reset_annotation(sites: tuple[str, ...] | None) -> dict[str, str]:
    """The annotation that closes ``sites`` (None: every site); raises ValueError on a bad key."""
    value = "all" if sites is None else ",".join(validate_key(s) for s in sites)
    admin.parse_reset(value)
    return {admin.ANNOTATION_RESET: value}


def force_open_annotation(site: str, until: datetime.datetime | None) -> dict[str, str]:
    """The annotation that opens ``site`` until ``until`` (None: until reset)."""
    value = validate_key(site)
    if until is not None:
        value += f",until={format_time(until)}"
    admin.parse_force_open(value)
    return {admin.ANNOTATION_FORCE_OPEN: value}
