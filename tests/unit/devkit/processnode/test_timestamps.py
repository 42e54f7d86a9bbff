"""Tests for Kubernetes time formats."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl_devkit.processnode import timestamps

MOMENT = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


class TestFormats:
    def test_rfc3339_is_whole_seconds_utc(self) -> None:
        """metav1.Time has whole seconds and a Z."""
        assert timestamps.rfc3339(MOMENT.replace(microsecond=999)) == "2026-01-02T03:04:05Z"

    def test_micro_time_always_has_six_digits(self) -> None:
        """MicroTime keeps six fractional digits even when they are zero."""
        assert timestamps.micro_time(MOMENT) == "2026-01-02T03:04:05.000000Z"

    def test_parse_rejects_garbage(self) -> None:
        """A string that is not a time is refused with the string in the message."""
        with pytest.raises(ValueError, match="yesterday"):
            timestamps.parse("yesterday")

    @given(st.datetimes(timezones=st.just(datetime.UTC)))
    def test_micro_time_round_trips(self, moment: datetime.datetime) -> None:
        """Formatting as MicroTime and parsing back gives the same instant."""
        assert timestamps.parse(timestamps.micro_time(moment)) == moment
