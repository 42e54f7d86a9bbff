"""When a VideoSubscription scans: the schedule syntax a CronJob accepts, and time zones.

A schedule is one of
- five cron fields (minute, hour, day of month, month, day of week) with lists, ranges,
  steps and the English names of months and days, e.g. ``0 */6 * * *`` or ``30 8 * * MON-FRI``;
- a macro: ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``)
  or ``@hourly``;
- ``@every <duration>``, a whole number of hours, minutes and seconds such as ``@every 10s``
  or ``@every 1h30m``, counted from the subscription's creation.

The cron fields are evaluated by ``cronsim`` in ``spec.timeZone`` (an IANA name; UTC when
unset), with Debian cron's handling of daylight-saving changes. Pure: no I/O beyond the
time zone database.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import zoneinfo
from typing import Final

from cronsim import CronSim, CronSimError

__all__ = [
    "MACROS",
    "SCHEDULE_PATTERN",
    "TIME_ZONE_PATTERN",
    "Due",
    "Schedule",
    "due",
    "parse",
    "zone",
]

#: The macros and the five fields each stands for (as the CronJob controller's parser).
MACROS: Final = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_EVERY: Final = re.compile(r"^@every ((?:[0-9]+[hms])+)$")
_EVERY_PART: Final = re.compile(r"([0-9]+)([hms])")
_UNIT_SECONDS: Final = {"h": 3600, "m": 60, "s": 1}
_MONTHS: Final = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC"
_DAYS: Final = "SUN MON TUE WED THU FRI SAT"
_NAMES: Final = frozenset(f"{_MONTHS} {_DAYS}".split())
#: What the apiserver checks of ``spec.schedule`` (the operator parses it fully).
SCHEDULE_PATTERN: Final = (
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every ([0-9]+[hms])+|"
    r"[0-9A-Za-z*,/?-]+( +[0-9A-Za-z*,/?-]+){4})$"
)
#: What the apiserver checks of ``spec.timeZone``: the shape of an IANA name.
TIME_ZONE_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"
_HINT: Final = (
    "use five cron fields such as `0 */6 * * *`, a macro such as `@daily`, or "
    "`@every <duration>` such as `@every 1h`"
)


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A parsed schedule: five cron fields, or a fixed interval from an anchor."""

    text: str
    cron: str | None = None
    every: datetime.timedelta | None = None


@dataclasses.dataclass(frozen=True)
class Due:
    """The slots of a schedule between the last one handled and now."""

    #: The most recent slot after the last handled one, at or before now (None: none due).
    latest: datetime.datetime | None
    #: How many slots fell in that span, counted up to the limit plus one.
    missed: int
    #: The first slot after now.
    next: datetime.datetime


def parse(text: str) -> Schedule:
    """Parse ``spec.schedule``; ValueError naming the field and the fix."""
    stripped = " ".join(text.split())
    every = _EVERY.fullmatch(stripped)
    if every is not None:
        seconds = sum(
            int(count) * _UNIT_SECONDS[unit] for count, unit in _EVERY_PART.findall(every[1])
        )
        if seconds < 1:
            msg = f"spec.schedule {text!r}: the interval of @every must be at least 1s"
            raise ValueError(msg)
        return Schedule(text=text, every=datetime.timedelta(seconds=seconds))
    if stripped.startswith("@"):
        if stripped not in MACROS:
            msg = f"spec.schedule {text!r} is not a known macro: {_HINT}"
            raise ValueError(msg)
        stripped = MACROS[stripped]
    fields = stripped.split(" ")
    if len(fields) != 5 or any("TZ=" in f.upper() for f in fields):
        msg = (
            f"spec.schedule {text!r} must have exactly five fields (the zone goes in "
            f"spec.timeZone): {_HINT}"
        )
        raise ValueError(msg)
    # cronsim also knows L, W and #, which a CronJob does not accept.
    words = set(re.findall(r"[A-Za-z]+", stripped.upper()))
    if "#" in stripped or words - _NAMES:
        msg = f"spec.schedule {text!r} uses L, W or #, which a CronJob does not accept: {_HINT}"
        raise ValueError(msg)
    try:
        CronSim(stripped.replace("?", "*"), datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    except CronSimError as exc:
        msg = f"spec.schedule {text!r} is not valid ({exc}): {_HINT}"
        raise ValueError(msg) from None
    return Schedule(text=text, cron=stripped.replace("?", "*"))


def zone(name: str | None) -> datetime.tzinfo:
    """The zone of ``spec.timeZone`` (UTC when unset); ValueError naming the field."""
    if name is None:
        return datetime.UTC
    if re.fullmatch(TIME_ZONE_PATTERN, name):
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    msg = (
        f"spec.timeZone {name!r} is not a time zone of the IANA database: use a name such "
        "as `Europe/Berlin`, `America/New_York` or `UTC`"
    )
    raise ValueError(msg)


def _every_due(
    every: datetime.timedelta,
    anchor: datetime.datetime,
    after: datetime.datetime,
    now: datetime.datetime,
) -> Due:
    step = every.total_seconds()
    elapsed = int((now - anchor).total_seconds() // step)
    upcoming = anchor + every * (max(elapsed, 0) + 1)
    if elapsed < 1:
        return Due(latest=None, missed=0, next=upcoming)
    handled = max(int((after - anchor).total_seconds() // step), 0)
    latest = anchor + every * elapsed
    if latest <= after:
        return Due(latest=None, missed=0, next=upcoming)
    return Due(latest=latest, missed=elapsed - handled, next=upcoming)


def due(
    schedule: Schedule,
    tz: datetime.tzinfo,
    *,
    anchor: datetime.datetime,
    after: datetime.datetime,
    now: datetime.datetime,
    limit: int,
) -> Due:
    """The slots in ``(after, now]``: the latest, how many (up to ``limit + 1``), the next.

    ``anchor`` is where ``@every`` counts from (the subscription's creation); cron fields
    ignore it.
    """
    if schedule.every is not None:
        return _every_due(schedule.every, anchor, after, now)
    assert schedule.cron is not None
    local_now = now.astimezone(tz)
    upcoming = next(CronSim(schedule.cron, local_now)).astimezone(datetime.UTC)
    # A reverse walk from a time with microseconds yields that very second first.
    probe = local_now if local_now.microsecond else local_now + datetime.timedelta(microseconds=1)
    latest = next(CronSim(schedule.cron, probe, reverse=True)).astimezone(datetime.UTC)
    if latest <= after:
        return Due(latest=None, missed=0, next=upcoming)
    missed = 0
    for slot in CronSim(schedule.cron, after.astimezone(tz)):
        if slot.astimezone(datetime.UTC) > now or missed > limit:
            break
        missed += 1
    return Due(latest=latest, missed=missed, next=upcoming)
