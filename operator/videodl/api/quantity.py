"""Kubernetes resource quantities ("500m", "1Gi", "2", "1e3"): the one format and parser.

The spec's ``resources``, the operator's ``--worker-requests``/``--worker-limits`` and the
worker Pod's merged resources all read quantities here. Pure: no I/O.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Final

from pydantic import BeforeValidator, Field, WithJsonSchema

__all__ = ["MAX_LENGTH", "PATTERN", "Quantity", "is_quantity", "parse"]

#: A quantity as the apiserver accepts it: a number with an optional SI or binary suffix
#: or a decimal exponent. The same pattern for the CRD (RE2) and Python.
PATTERN: Final = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
MAX_LENGTH: Final = 64

_QUANTITY = re.compile(PATTERN)

_BINARY: Final = {
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}  # fmt: skip
_DECIMAL: Final = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
}  # fmt: skip


def is_quantity(text: str) -> bool:
    """Whether ``text`` is written as a quantity (its length is not checked)."""
    return _QUANTITY.fullmatch(text) is not None


def parse(text: str) -> Decimal:
    """The value of the quantity ``text`` (to 28 significant digits).

    Raises ``ValueError`` when ``text`` is not a quantity, or is one only by its pattern
    (an exponent that is not a whole number, such as ``1e1.5``, or one too large to hold,
    both of which Kubernetes refuses too).
    """
    if not is_quantity(text):
        msg = f"{text!r} is not a quantity such as 500m, 256Mi or 1"
        raise ValueError(msg)
    number, scale = text, Decimal(1)
    if text[-2:] in _BINARY:
        number, scale = text[:-2], _BINARY[text[-2:]]
    elif text[-1] in _DECIMAL:
        # "E" alone is exa; with digits after it, it is an exponent (no suffix).
        number, scale = text[:-1], _DECIMAL[text[-1]]
    try:
        return Decimal(number) * scale
    except ArithmeticError:  # decimal's InvalidOperation and Overflow
        msg = f"{text!r} is not a quantity Kubernetes reads: use a small whole-number exponent"
        raise ValueError(msg) from None


def _from_number(value: object) -> object:
    # YAML turns `cpu: 1` into an integer; Kubernetes accepts it as the quantity "1".
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


Quantity = Annotated[
    str,
    BeforeValidator(_from_number),
    Field(pattern=PATTERN, max_length=MAX_LENGTH),
    # The same shape as Kubernetes' own quantities: a number or a string.
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": PATTERN,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
