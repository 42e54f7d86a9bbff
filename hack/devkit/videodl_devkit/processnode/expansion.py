"""`$(VAR)` references in env values, command, args and subPathExpr, expanded as a kubelet does.

`$(NAME)` becomes the variable's value when it is defined and stays literally as `$(NAME)`
when it is not; `$$` is an escaped `$`; any other `$` is kept as is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Lookup = Callable[[str], str | None]


def lookup_in(*scopes: Mapping[str, str]) -> Lookup:
    """Look a name up in each scope in turn (the first scope that has it wins)."""

    def lookup(name: str) -> str | None:
        for scope in scopes:
            if name in scope:
                return scope[name]
        return None

    return lookup


def expand(text: str, lookup: Lookup) -> str:
    """Expand every `$(NAME)` reference in text."""
    out: list[str] = []
    cursor = 0
    start = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[start:cursor])
            read, is_variable, advance = _read_reference(text[cursor + 1 :])
            if is_variable:
                value = lookup(read)
                out.append(f"$({read})" if value is None else value)
            else:
                out.append(read)
            cursor += advance + 1
            start = cursor
        else:
            cursor += 1
    out.append(text[start:])
    return "".join(out)


def _read_reference(rest: str) -> tuple[str, bool, int]:
    """Read what follows a `$`: (text or name, whether it is a variable, characters used)."""
    head = rest[0]
    if head == "$":
        return "$", False, 1
    if head == "(":
        closing = rest.find(")", 1)
        if closing != -1:
            return rest[1:closing], True, closing + 1
        return "$(", False, 1
    return "$" + head, False, 1
