"""Tests for videodl.reconcile.download.reasons: every Event reason declared once, with its type."""

from __future__ import annotations

import ast
import pathlib
import re

import videodl.reconcile.download
from videodl.reconcile.download.plan import Event
from videodl.reconcile.download.reasons import NORMAL, WARNING, Reason

PACKAGE = pathlib.Path(videodl.reconcile.download.__file__).parent


def trees() -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.glob("*.py"))}


class TestReason:
    def test_values_are_camel_case_with_a_type(self) -> None:
        """Each reason is a distinct CamelCase word, of type Normal or Warning."""
        assert len({r.value for r in Reason}) == len(Reason)
        for reason in Reason:
            assert re.fullmatch(r"[A-Z][A-Za-z]+", reason.value), reason
            assert reason.type in (NORMAL, WARNING), reason

    def test_event_of_takes_the_declared_type(self) -> None:
        """An Event built from a reason has that reason's word and type."""
        assert Event.of(Reason.RETRYING, "x") == Event("Warning", "Retrying", "x")
        assert Event.of(Reason.QUEUED, "y") == Event("Normal", "Queued", "y")

    def test_every_event_is_built_from_a_declared_reason(self) -> None:
        """The state machine builds Events only with ``Event.of``, never from a bare string."""
        for name, tree in trees().items():
            if name == "plan.py":
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    assert node.func.id != "Event", f"{name}:{node.lineno} builds an Event"

    def test_every_declared_reason_is_posted(self) -> None:
        """No reason is declared (and documented) that no plan posts."""
        used = {
            node.attr
            for tree in trees().values()
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Reason"
        }
        assert {r.name for r in Reason} <= used
