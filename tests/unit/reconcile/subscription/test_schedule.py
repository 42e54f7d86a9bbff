"""Tests for videodl.api.schedule: the CronJob schedule syntax, time zones and due slots."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.api import schedule

T0 = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("*/5 * * * *", "*/5 * * * *"),
        ("0 9 * * MON-FRI", "0 9 * * MON-FRI"),
        ("0  0 1 JAN *", "0 0 1 JAN *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("0 0 ? * *", "0 0 * * *"),
    ],
)
def test_cron_fields_and_macros(text: str, cron: str) -> None:
    assert schedule.parse(text).cron == cron


def test_every_is_an_interval() -> None:
    assert schedule.parse("@every 1h30m10s").every == datetime.timedelta(seconds=5410)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("61 * * * *", "not valid"),
        ("* * * *", "exactly five fields"),
        ("0 0 * * * *", "exactly five fields"),
        ("CRON_TZ=UTC 0 * * * *", "spec.timeZone"),
        ("TZ=Europe/Berlin 0 * * * *", "spec.timeZone"),
        ("0 0 L * *", "L, W or #"),
        ("0 0 * * 1#2", "L, W or #"),
        ("@often", "not a known macro"),
        ("@every 0s", "at least 1s"),
    ],
)
def test_bad_schedules_name_the_field_and_the_fix(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=r"spec\.schedule") as caught:
        schedule.parse(text)
    assert words in str(caught.value)


def test_time_zones() -> None:
    assert schedule.zone(None) is datetime.UTC
    assert str(schedule.zone("Europe/Berlin")) == "Europe/Berlin"
    for bad in ("Mars/Olympus_Mons", "../etc/passwd", "Europe/"):
        with pytest.raises(ValueError, match=r"spec\.timeZone .* IANA"):
            schedule.zone(bad)


def test_the_latest_missed_slot_and_the_count() -> None:
    due = schedule.due(
        schedule.parse("*/5 * * * *"),
        datetime.UTC,
        anchor=T0,
        after=T0 - 60 * MINUTE,
        now=T0 + 2 * MINUTE,
        limit=100,
    )
    assert due.latest == T0
    assert due.missed == 12
    assert due.next == T0 + 5 * MINUTE


def test_a_slot_exactly_now_is_due() -> None:
    due = schedule.due(
        schedule.parse("*/5 * * * *"), datetime.UTC, anchor=T0, after=T0 - MINUTE, now=T0, limit=9
    )
    assert due.latest == T0


def test_nothing_due_after_the_last_handled_slot() -> None:
    due = schedule.due(
        schedule.parse("*/5 * * * *"), datetime.UTC, anchor=T0, after=T0, now=T0 + MINUTE, limit=9
    )
    assert due.latest is None
    assert due.missed == 0


def test_the_count_stops_past_the_limit() -> None:
    due = schedule.due(
        schedule.parse("* * * * *"),
        datetime.UTC,
        anchor=T0,
        after=T0 - datetime.timedelta(days=30),
        now=T0,
        limit=100,
    )
    assert due.missed == 101
    assert due.latest == T0


def test_cron_fields_are_read_in_the_time_zone() -> None:
    berlin = schedule.zone("Europe/Berlin")
    due = schedule.due(
        schedule.parse("0 9 * * *"),
        berlin,
        anchor=T0,
        after=T0 - datetime.timedelta(days=1),
        now=T0,
        limit=9,
    )
    # 09:00 in Berlin in January is 08:00 UTC.
    assert due.latest == datetime.datetime(2026, 1, 1, 8, tzinfo=datetime.UTC)


def test_every_counts_from_the_anchor() -> None:
    every = schedule.parse("@every 10s")
    due = schedule.due(
        every,
        datetime.UTC,
        anchor=T0,
        after=T0 + datetime.timedelta(seconds=10),
        now=T0 + datetime.timedelta(seconds=45),
        limit=9,
    )
    assert due.latest == T0 + datetime.timedelta(seconds=40)
    assert due.missed == 3
    assert due.next == T0 + datetime.timedelta(seconds=50)


@given(
    st.integers(min_value=1, max_value=7200),
    st.integers(min_value=0, max_value=100_000),
    st.integers(min_value=0, max_value=100_000),
)
def test_every_slots_fall_on_the_grid_in_the_span(step: int, after_s: int, span_s: int) -> None:
    every = datetime.timedelta(seconds=step)
    after = T0 + datetime.timedelta(seconds=after_s)
    now = after + datetime.timedelta(seconds=span_s)
    due = schedule.due(
        schedule.Schedule(text="", every=every),
        datetime.UTC,
        anchor=T0,
        after=after,
        now=now,
        limit=10**9,
    )
    assert now < due.next <= now + every
    if due.latest is not None:
        assert after < due.latest <= now
        assert (due.latest - T0) % every == datetime.timedelta(0)
        assert due.latest + every > now
        slots = [T0 + every * k for k in range(1, (now - T0) // every + 1)]
        assert due.missed == sum(after < s <= now for s in slots)
    else:
        assert due.missed == 0


@given(st.sampled_from(["*/7 * * * *", "0 */3 * * *", "15 10 * * MON", "@hourly"]))
def test_cron_latest_is_the_last_slot_before_next(text: str) -> None:
    parsed = schedule.parse(text)
    now = T0 + datetime.timedelta(seconds=12345)
    due = schedule.due(
        parsed, datetime.UTC, anchor=T0, after=now - datetime.timedelta(days=8), now=now, limit=9
    )
    assert due.latest is not None
    assert due.latest <= now < due.next
    again = schedule.due(parsed, datetime.UTC, anchor=T0, after=due.latest, now=now, limit=9)
    assert again.latest is None
