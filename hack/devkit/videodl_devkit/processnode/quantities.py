"""Kubernetes resource quantities ("500m", "16Gi", "1e3") as exact decimals."""

from __future__ import annotations

import decimal
import math
import re

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": decimal.Decimal("1e-9"),
    "u": decimal.Decimal("1e-6"),
    "m": decimal.Decimal("1e-3"),
    "": decimal.Decimal(1),
    "k": decimal.Decimal("1e3"),
    "M": decimal.Decimal("1e6"),
    "G": decimal.Decimal("1e9"),
    "T": decimal.Decimal("1e12"),
    "P": decimal.Decimal("1e15"),
    "E": decimal.Decimal("1e18"),
}
_PATTERN = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)


def parse(text: str) -> decimal.Decimal:
    """Return the exact value of a quantity string; ValueError names the bad text."""
    match = _PATTERN.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (examples: 8, 500m, 16Gi, 1e3)")
    with decimal.localcontext() as context:
        context.prec = 60
        number = decimal.Decimal(match["number"])
        suffix = match["suffix"] or ""
        if suffix in _BINARY:
            return number * _BINARY[suffix]
        if suffix in _DECIMAL:
            return number * _DECIMAL[suffix]
        return number * (decimal.Decimal(10) ** int(suffix[1:]))


def ceil_divide(value: decimal.Decimal, divisor: decimal.Decimal) -> int:
    """Divide and round up, as the downward API does for resourceFieldRef values."""
    if divisor <= 0:
        raise ValueError(f"divisor must be positive, got {divisor}")
    with decimal.localcontext() as context:
        context.prec = 60
        return math.ceil(value / divisor)
