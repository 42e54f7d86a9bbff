"""Tests for videodl.cli.formatting."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.cli.objects import T0, at

from videodl.cli import formatting


class TestBytes:
    @pytest.mark.parametrize(
        ("size", "text"),
        [
            (0, "0B"),
            (1023, "1023B"),
            (1024, "1.0KiB"),
            (1536 * 1024, "1.5MiB"),
            (None, ""),
            (-1, ""),
        ],
    )
    def test_binary_units(self, size: float | None, text: str) -> None:
        """Sizes use binary units with one decimal; unknown and negative sizes are blank."""
        assert formatting.bytes_text(size) == text

    def test_speed_has_per_second(self) -> None:
        """A speed is a size per second; an unknown speed is blank."""
        assert formatting.speed_text(2 * 1024 * 1024) == "2.0MiB/s"
        assert formatting.speed_text(None) == ""


class TestDuration:
    @pytest.mark.parametrize(
        ("seconds", "text"),
        [
            (0, "0s"),
            (45, "45s"),
            (60, "1m"),
            (192, "3m12s"),
            (7500, "2h5m"),
            (3 * 86400 + 4 * 3600, "3d4h"),
            (-5, "0s"),
            (None, ""),
            (math.inf, ""),
        ],
    )
    def test_kubectl_style(self, seconds: float | None, text: str) -> None:
        """Durations read like kubectl's ages, two units at most."""
        assert formatting.duration(seconds) == text

    def test_age_counts_from_the_moment(self) -> None:
        """An age is the time from the moment to now; no moment, no age."""
        assert formatting.age(T0, at(90)) == "1m30s"
        assert formatting.age(None, T0) == ""


class TestBar:
    def test_fills_in_proportion(self) -> None:
        """Half done fills half the cells; unknown progress draws nothing."""
        assert formatting.bar(50, 10) == "█████░░░░░"
        assert formatting.bar(None, 10) == ""
        assert formatting.bar(150, 4) == "████"

    @given(st.floats(allow_nan=False, allow_infinity=False), st.integers(min_value=1, max_value=80))
    def test_always_the_width(self, percent: float, width: int) -> None:
        """Whatever the percentage, the bar has exactly the asked width."""
        assert len(formatting.bar(percent, width)) == width

    def test_percent_text(self) -> None:
        """Whole percents, a decimal below ten so early progress shows, clamped to 0..100."""
        assert formatting.percent_text(42.7) == "42%"
        assert formatting.percent_text(2.5) == "2.5%"
        assert formatting.percent_text(120) == "100%"
        assert formatting.percent_text(None) == ""
