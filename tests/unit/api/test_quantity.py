"""Resource quantities: one pattern for the CRD and the operator, one exact parser."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from videodl.api import quantity

QUANTITIES = TypeAdapter(quantity.Quantity)


class TestParse:
    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("1", Decimal(1)),
            ("500m", Decimal("0.5")),
            ("2.5", Decimal("2.5")),
            ("+.5", Decimal("0.5")),
            ("256Mi", Decimal(256 * 2**20)),
            ("1Gi", Decimal(2**30)),
            ("1Ei", Decimal(2**60)),
            ("1k", Decimal(1000)),
            ("3E", Decimal(3 * 10**18)),
            ("1e3", Decimal(1000)),
            ("1E3", Decimal(1000)),
            ("2e-3", Decimal("0.002")),
            ("100u", Decimal("0.0001")),
            ("7n", Decimal("7e-9")),
        ],
    )
    def test_values_are_exact(self, text: str, value: Decimal) -> None:
        """Suffixes scale by powers of 10 or 2; an `e` with digits after it is an exponent."""
        assert quantity.parse(text) == value

    @pytest.mark.parametrize("text", ["", "1K", "1e", "Gi", "1 Gi", "1.2.3", "1Gi\n", "abc"])
    def test_non_quantities_are_refused_with_an_example(self, text: str) -> None:
        """Text that is not a quantity raises ValueError naming it and a valid example."""
        assert not quantity.is_quantity(text)
        with pytest.raises(ValueError, match="is not a quantity such as 500m"):
            quantity.parse(text)

    @given(st.from_regex(quantity.PATTERN.removeprefix("^").removesuffix("$"), fullmatch=True))
    def test_everything_the_pattern_admits_parses_or_is_refused(self, text: str) -> None:
        """Text the CRD's pattern admits gives a value, or a ValueError, never another error."""
        try:
            value: Decimal | None = quantity.parse(text)
        except ValueError:
            value = None
        assert value is None or isinstance(value, Decimal)

    def test_fractional_exponents_are_refused(self) -> None:
        """A fractional exponent fits the pattern but is not a quantity Kubernetes reads."""
        assert quantity.is_quantity("1e1.5")
        with pytest.raises(ValueError, match="whole-number exponent"):
            quantity.parse("1e1.5")


class TestQuantityType:
    def test_numbers_become_strings(self) -> None:
        """YAML numbers are accepted as the quantity they spell."""
        assert QUANTITIES.validate_python(2) == "2"
        assert QUANTITIES.validate_python("250m") == "250m"

    def test_overlong_and_malformed_values_are_rejected(self) -> None:
        """The model type checks the pattern and the length bound."""
        with pytest.raises(ValidationError):
            QUANTITIES.validate_python("1" * (quantity.MAX_LENGTH + 1))
        with pytest.raises(ValidationError):
            QUANTITIES.validate_python("lots")
