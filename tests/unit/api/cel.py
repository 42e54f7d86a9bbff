"""A tiny evaluator of the CEL the CRD's string rules are written in, for unit tests.

It reads what the rules on string fields use and nothing more: ``self``, string literals,
``matches``, ``startsWith``, ``endsWith``, ``contains``, ``==``, ``!=``, ``!``, ``&&``,
``||`` and parentheses, with ``matches`` as :func:`videodl.api.rules.matches` reads it
(Python's ``re`` standing in for RE2). The patterns' agreement with the real RE2 is left
to the end-to-end tests against the apiserver; this evaluator checks that each rule's
CEL text (its quoting, negations and junctors included) says what its Python check says.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from videodl.api import rules

__all__ = ["evaluate"]

_TOKEN = re.compile(r"\s*('(?:[^'\\]|\\.)*'|self|\|\||&&|==|!=|[!().]|[A-Za-z]+)")
_ESCAPE = re.compile(r"\\(.)")

_METHODS: dict[str, Callable[[str, str], bool]] = {
    "startsWith": str.startswith,
    "endsWith": str.endswith,
    "contains": str.__contains__,
    "matches": lambda value, pattern: rules.matches(pattern, value),
}


def _tokens(cel: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(cel.rstrip()):
        found = _TOKEN.match(cel, position)
        if found is None:
            msg = f"cannot read {cel[position:]!r}"
            raise ValueError(msg)
        tokens.append(found.group(1))
        position = found.end()
    return tokens


class _Parser:
    def __init__(self, cel: str, value: str) -> None:
        self.tokens = _tokens(cel)
        self.value = value

    def take(self, expected: str | None = None) -> str:
        token = self.tokens.pop(0)
        if expected is not None and token != expected:
            msg = f"expected {expected!r}, found {token!r}"
            raise ValueError(msg)
        return token

    def peek(self) -> str | None:
        return self.tokens[0] if self.tokens else None

    def literal(self) -> str:
        token = self.take()
        if not token.startswith("'"):
            msg = f"expected a string literal, found {token!r}"
            raise ValueError(msg)
        return _ESCAPE.sub(r"\1", token[1:-1])

    def either(self) -> bool:
        result = self.both()
        while self.peek() == "||":
            self.take()
            right = self.both()
            result = result or right
        return result

    def both(self) -> bool:
        result = self.unary()
        while self.peek() == "&&":
            self.take()
            right = self.unary()
            result = result and right
        return result

    def unary(self) -> bool:
        if self.peek() == "!":
            self.take()
            return not self.unary()
        if self.peek() == "(":
            self.take()
            result = self.either()
            self.take(")")
            return result
        self.take("self")
        operator = self.take()
        if operator == "==":
            return self.value == self.literal()
        if operator == "!=":
            return self.value != self.literal()
        if operator != ".":
            msg = f"unexpected {operator!r} after self"
            raise ValueError(msg)
        method = _METHODS[self.take()]
        self.take("(")
        argument = self.literal()
        self.take(")")
        return method(self.value, argument)


def evaluate(cel: str, value: str) -> bool:
    """Whether the CEL rule ``cel`` holds with ``value`` as ``self``."""
    parser = _Parser(cel, value)
    result = parser.either()
    if parser.tokens:
        msg = f"left over: {parser.tokens}"
        raise ValueError(msg)
    return result
