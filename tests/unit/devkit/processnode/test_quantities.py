"""Tests for resource quantity parsing."""

from __future__ import annotations

import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl_devkit.processnode import quantities


class TestParse:
    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("8", decimal.Decimal(8)),
            ("500m", decimal.Decimal("0.5")),
            ("16Gi", decimal.Decimal(16 * 2**30)),
            ("1e3", decimal.Decimal(1000)),
            ("1.5k", decimal.Decimal(1500)),
            ("0.25", decimal.Decimal("0.25")),
        ],
    )
    def test_known_values(self, text: str, value: decimal.Decimal) -> None:
        """Plain, milli, binary, decimal and exponent forms parse exactly."""
        assert quantities.parse(text) == value

    @pytest.mark.parametrize("text", ["", "Gi", "16GB", "one", "1.2.3"])
    def test_rejects_garbage_with_examples(self, text: str) -> None:
        """A malformed quantity is refused with examples of good ones."""
        with pytest.raises(ValueError, match="not a Kubernetes quantity"):
            quantities.parse(text)

    @given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["Ki", "Mi", "Gi"]))
    def test_binary_suffix_multiplies(self, number: int, suffix: str) -> None:
        """A binary suffix multiplies by the matching power of 1024."""
        power = {"Ki": 1, "Mi": 2, "Gi": 3}[suffix]
        assert quantities.parse(f"{number}{suffix}") == number * 1024**power


class TestCeilDivide:
    def test_rounds_up(self) -> None:
        """Division rounds up, as the downward API does."""
        assert quantities.ceil_divide(decimal.Decimal("0.5"), decimal.Decimal(1)) == 1
        assert quantities.ceil_divide(decimal.Decimal(2**30), decimal.Decimal(2**20)) == 1024

    def test_rejects_zero_divisor(self) -> None:
        """A zero divisor is an error, not a crash."""
        with pytest.raises(ValueError, match="divisor"):
            quantities.ceil_divide(decimal.Decimal(1), decimal.Decimal(0))
