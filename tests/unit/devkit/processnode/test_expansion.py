"""Tests for `$(VAR)` expansion."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from videodl_devkit.processnode import expansion

LOOKUP = expansion.lookup_in({"A": "1", "B": "two"}, {"A": "shadowed", "C": "3"})


class TestExpand:
    def test_defined_reference_is_replaced(self) -> None:
        """A reference to a defined variable becomes its value."""
        assert expansion.expand("x$(A)y$(B)", LOOKUP) == "x1ytwo"

    def test_first_scope_wins(self) -> None:
        """Earlier scopes shadow later ones."""
        assert expansion.expand("$(A)$(C)", LOOKUP) == "13"

    def test_undefined_reference_is_kept(self) -> None:
        """A reference to an undefined variable stays as written."""
        assert expansion.expand("$(MISSING)/bin", LOOKUP) == "$(MISSING)/bin"

    def test_double_dollar_escapes(self) -> None:
        """`$$` stands for one literal `$`, so `$$(A)` is not a reference."""
        assert expansion.expand("$$(A) costs $$5", LOOKUP) == "$(A) costs $5"

    def test_unclosed_reference_is_literal(self) -> None:
        """`$(` without a closing parenthesis is kept literally."""
        assert expansion.expand("$(A", LOOKUP) == "$(A"

    def test_other_dollar_sequences_are_literal(self) -> None:
        """`$` followed by anything else, or at the end, is kept."""
        assert expansion.expand("$HOME and $", LOOKUP) == "$HOME and $"

    @given(st.text(alphabet=st.characters(blacklist_characters="$")))
    def test_text_without_dollar_is_unchanged(self, text: str) -> None:
        """Text without `$` passes through untouched."""
        assert expansion.expand(text, LOOKUP) == text

    @given(st.text(alphabet=st.characters(blacklist_characters="()$"), min_size=1))
    def test_undefined_references_round_trip(self, name: str) -> None:
        """With nothing defined, a single reference expands to itself."""
        nothing = expansion.lookup_in({})
        assert expansion.expand(f"$({name})", nothing) == f"$({name})"
