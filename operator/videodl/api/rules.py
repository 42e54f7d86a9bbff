"""Validation rules declared once, for the apiserver (CEL) and the models (pydantic) alike.

A rule the CRD enforces with CEL is enforced by the models too (see :mod:`videodl.api`).
Each such rule is one :class:`Rule` (or :class:`TransitionRule`, for rules that compare an
update with the stored object): the CEL expression, the Python check of the same
condition, and the message and field path they share. The spec modules keep one table
(a tuple of rules) per model or field; :func:`schema_extra` turns a table into the
schema's ``x-kubernetes-validations`` and :func:`enforce` applies it in a validator, so
the apiserver and the operator reject a bad manifest with the same words. Rules shared by
several fields (:func:`no_control_characters`) are built here, with the field's name in
their message.

Regular expressions in rules are written once for both engines: the apiserver's RE2
(CEL's ``matches()``, an unanchored search) and Python's ``re``, through :func:`matches`.
They keep to what the two read alike: no lookarounds or backreferences, ``\\xHH``
escapes only, and ``$`` only at the very end.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from pydantic_core import PydanticCustomError

__all__ = [
    "CONTROL_CHARACTERS",
    "VALIDATIONS_KEY",
    "Rule",
    "TransitionRule",
    "cel_string",
    "enforce",
    "matches",
    "no_control_characters",
    "schema_extra",
]

#: Key under which a schema carries its CEL rules, as the apiserver expects it.
VALIDATIONS_KEY = "x-kubernetes-validations"

#: The control characters (Unicode's category Cc: C0, DEL and C1) as a character class,
#: the same in RE2 and Python.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"

T = TypeVar("T")
# A rule on a base type is a rule on each subtype: a model's table applies to ``Self``.
T_contra = TypeVar("T_contra", contravariant=True)


@dataclasses.dataclass(frozen=True)
class Rule(Generic[T_contra]):
    """One rule on one value (a field's value, or a whole model for cross-field rules).

    ``cel`` is what the apiserver evaluates with the value as ``self``; ``holds`` is the
    same condition in Python, on the parsed value. ``message`` names the field and the
    fix, and is both the apiserver's and the models' error message. ``field_path``
    (relative to the schema the rule sits on, e.g. ``.maxSeconds``) points the
    apiserver's error at the field the user has to change. ``error_type`` is the
    pydantic error type the models report.
    """

    cel: str
    message: str
    error_type: str
    holds: Callable[[T_contra], bool]
    field_path: str | None = None

    def to_cel(self) -> dict[str, str]:
        """The ``x-kubernetes-validations`` entry."""
        entry = {"rule": self.cel, "message": self.message}
        if self.field_path is not None:
            entry["fieldPath"] = self.field_path
        return entry

    def error(self) -> PydanticCustomError:
        """The error a validator raises when the rule does not hold."""
        return PydanticCustomError(self.error_type, self.message)


@dataclasses.dataclass(frozen=True)
class TransitionRule(Generic[T]):
    """A rule comparing an updated value with the stored one (CEL's ``oldSelf``).

    The apiserver applies it on updates only; the models apply it where an update is
    checked against the stored object, through :meth:`check`.
    """

    cel: str
    message: str
    holds: Callable[[T, T], bool]

    def to_cel(self) -> dict[str, str]:
        """The ``x-kubernetes-validations`` entry."""
        return {"rule": self.cel, "message": self.message}

    def check(self, new: T, old: T) -> None:
        """Raise ``ValueError`` with the rule's message when ``new`` may not replace ``old``."""
        if not self.holds(new, old):
            raise ValueError(self.message)


def schema_extra(*rules: Rule[Any] | TransitionRule[Any]) -> dict[str, Any]:
    """``json_schema_extra`` carrying ``rules`` as CEL, for a field or a model config."""
    return {VALIDATIONS_KEY: [rule.to_cel() for rule in rules]}


def enforce(rules: Iterable[Rule[T]], value: T) -> T:
    """Return ``value``, or raise the error of the first rule in ``rules`` it breaks."""
    for rule in rules:
        if not rule.holds(value):
            raise rule.error()
    return value


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # RE2's `$` (without the m flag) is the end of the text only, as Python's `\Z` is;
    # Python's `$` also matches before a final newline.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def matches(pattern: str, value: str) -> bool:
    """CEL's ``value.matches(pattern)`` in Python: whether ``pattern`` occurs in ``value``.

    An unanchored search, as in RE2, with a ``$`` ending ``pattern`` meaning the end of
    the text. ``pattern`` must keep to the syntax RE2 and Python share (see above).
    """
    return _compiled(pattern).search(value) is not None


def cel_string(value: str) -> str:
    """``value`` as a single-quoted CEL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def no_control_characters(field: str) -> Rule[str]:
    """The rule that a string has no control character; the message names ``field``.

    For every string that reaches a path, a file name or yt-dlp: a NUL byte, a newline or
    an escape sequence there would fail the download (or write a confusing name) only
    after a worker has started.
    """
    return Rule(
        cel=f"!self.matches({cel_string(CONTROL_CHARACTERS)})",
        message=(
            f"{field} may not contain control characters (such as NUL, tab, newline or "
            "escape): remove them"
        ),
        error_type="control_character",
        holds=lambda value: not matches(CONTROL_CHARACTERS, value),
    )
