"""The structural schema checker finds what the apiserver would refuse."""

from __future__ import annotations

from typing import Any

import pytest

from videodl.api import crd, structural

GOOD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer", "minimum": 1, "default": 3},
                "name": {
                    "type": "string",
                    "maxLength": 10,
                    "x-kubernetes-validations": [{"rule": "self != ''", "message": "m"}],
                },
                "quantity": {
                    "anyOf": [{"type": "integer"}, {"type": "string"}],
                    "x-kubernetes-int-or-string": True,
                },
            },
        }
    },
}


def with_spec_property(name: str, node: dict[str, Any]) -> dict[str, Any]:
    spec = {**GOOD["properties"]["spec"]}
    spec["properties"] = {**spec["properties"], name: node}
    return {**GOOD, "properties": {"spec": spec}}


class TestStructuralViolations:
    def test_good_schema_passes(self) -> None:
        """A typed schema with bounded CEL targets and int-or-string has no violations."""
        assert structural.structural_violations(GOOD) == []

    @pytest.mark.parametrize(
        ("node", "fragment"),
        [
            ({"description": "no type"}, "every node needs a type"),
            ({"$ref": "#/$defs/X"}, "'$ref' is not allowed"),
            ({"type": "string", "const": "a"}, "'const' is not allowed"),
            (
                {"type": "object", "properties": {}, "additionalProperties": False},
                "additionalProperties must be a schema",
            ),
            (
                {"type": "string", "anyOf": [{"type": "string"}, {"type": "null"}]},
                "'type' may not appear inside anyOf",
            ),
            (
                {"type": "string", "x-kubernetes-validations": [{"rule": "true", "message": "m"}]},
                "needs maxLength",
            ),
            (
                {
                    "type": "array",
                    "items": {"type": "string", "maxLength": 3},
                    "x-kubernetes-validations": [{"rule": "true", "message": "m"}],
                },
                "needs maxItems",
            ),
            (
                {"type": "string", "maxLength": 3, "x-kubernetes-validations": [{"rule": "t"}]},
                "has no message",
            ),
            ({"type": "integer", "minimum": 1, "default": 0}, "below the minimum"),
            ({"type": "string", "enum": ["a"], "default": "b"}, "is not one of"),
            (
                {"type": "object", "properties": {"a": {"type": "string"}}, "default": {"b": 1}},
                "unknown to the schema",
            ),
            (
                {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["type"],
                    "items": {"type": "object", "properties": {"type": {"type": "string"}}},
                },
                "must be required or defaulted",
            ),
        ],
    )
    def test_each_problem_is_found(self, node: dict[str, Any], fragment: str) -> None:
        """Each kind of non-structural or invalid node is reported with its path."""
        problems = structural.structural_violations(with_spec_property("bad", node))
        assert any(p.startswith(".spec.bad") and fragment in p for p in problems), problems

    def test_metadata_may_not_be_constrained(self) -> None:
        """Only a plain object is allowed for metadata at the root."""
        schema = {
            "type": "object",
            "properties": {"metadata": {"type": "object", "properties": {"labels": {}}}},
        }
        assert any("metadata" in p for p in structural.structural_violations(schema))

    def test_generated_crd_schema_is_structural(self) -> None:
        """The CRD's schema, as committed, passes every check."""
        assert structural.structural_violations(crd.openapi_schema(explain=True)) == []


class TestValueViolations:
    def test_values_are_checked_against_bounds_and_patterns(self) -> None:
        """Type, bounds, length and pattern problems are reported by path."""
        node = {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "maximum": 5},
                "s": {"type": "string", "pattern": "^a+$", "maxLength": 3},
                "l": {"type": "array", "maxItems": 1, "items": {"type": "boolean"}},
            },
        }
        problems = structural.value_violations({"n": 6, "s": "aaaa", "l": [True, 1]}, node)
        assert any(p.startswith("<root>.n:") for p in problems)
        assert any(p.startswith("<root>.s:") and "maxLength" in p for p in problems)
        assert any(p.startswith("<root>.l:") for p in problems)
        assert any(p.startswith("<root>.l[1]:") for p in problems)

    def test_patterns_end_at_the_end_of_the_text_as_in_re2(self) -> None:
        """A pattern's final `$` does not match before a trailing newline, as the apiserver's."""
        node = {"type": "string", "pattern": "^[a-z]+$"}
        assert structural.value_violations("abc", node) == []
        assert structural.value_violations("abc\n", node) != []
