"""CEL rules and the models' validators come from one table, with one message per rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from videodl.api import crd, media, output, retry, rules, spec
from videodl.api.errors import describe_errors
from videodl.api.rules import Rule, TransitionRule
from videodl.api.spec import VideoDownloadSpec

URL = "https://e.com/"
SPEC = crd.openapi_schema(explain=True)["properties"]["spec"]

#: Every table of single-object rules of the spec.
TABLES: tuple[tuple[Rule[Any], ...], ...] = (
    spec.URL_RULES,
    media.FORMAT_RULES,
    output.SUB_PATH_RULES,
    output.TEMPLATE_RULES,
    retry.BACKOFF_RULES,
)
#: Every rule that compares an update with the stored object.
TRANSITION_RULES: tuple[TransitionRule[Any], ...] = (spec.URL_IMMUTABLE,)

# One manifest per rule that breaks it, and only it.
RULE_BREAKERS: dict[Rule[Any], dict[str, Any]] = {
    spec.URL_RULES[0]: {"url": "ftp://example.com/"},
    media.FORMAT_RULES[0]: {"url": URL, "format": {"preset": "Best", "selector": "b"}},
    output.SUB_PATH_RULES[0]: {"url": URL, "output": {"subPath": "/abs"}},
    output.SUB_PATH_RULES[1]: {"url": URL, "output": {"subPath": "a/.."}},
    output.TEMPLATE_RULES[0]: {"url": URL, "output": {"template": "/abs"}},
    output.TEMPLATE_RULES[1]: {"url": URL, "output": {"template": "../x"}},
    output.TEMPLATE_RULES[2]: {"url": URL, "output": {"template": "$HOME/x"}},
    retry.BACKOFF_RULES[0]: {
        "url": URL,
        "retry": {"backoff": {"initialSeconds": 9, "maxSeconds": 8}},
    },
}


def crd_rules(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Every ``x-kubernetes-validations`` entry under ``node``, with the path it sits on."""
    for rule in node.get(rules.VALIDATIONS_KEY, []):
        yield path, rule
    for name, sub in (node.get("properties") or {}).items():
        yield from crd_rules(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from crd_rules(node["items"], f"{path}[]")


def canonical(entries: Iterator[dict[str, str]]) -> list[str]:
    return sorted(json.dumps(entry, sort_keys=True) for entry in entries)


class TestOneTable:
    def test_crd_rules_are_exactly_the_table_entries(self) -> None:
        """The CRD carries every table entry and no CEL rule written anywhere else."""
        declared = [rule.to_cel() for table in TABLES for rule in table]
        declared += [rule.to_cel() for rule in TRANSITION_RULES]
        assert canonical(rule for _, rule in crd_rules(SPEC, "spec")) == canonical(iter(declared))

    def test_every_single_object_rule_has_a_breaking_case(self) -> None:
        """The breaking manifests above cover every entry of every table."""
        assert set(RULE_BREAKERS) == {rule for table in TABLES for rule in table}

    @pytest.mark.parametrize("rule", list(RULE_BREAKERS), ids=lambda rule: rule.error_type)
    def test_models_raise_the_cel_rules_message(self, rule: Rule[Any]) -> None:
        """A manifest breaking a CEL rule fails the models with exactly that rule's message."""
        with pytest.raises(ValidationError) as caught:
            VideoDownloadSpec.model_validate(RULE_BREAKERS[rule])
        found = [(e["type"], e["msg"]) for e in caught.value.errors(include_url=False)]
        assert found == [(rule.error_type, rule.message)]
        assert describe_errors(caught.value, prefix="spec") == [rule.message]
        assert rule.to_cel() in [entry for _, entry in crd_rules(SPEC, "spec")]

    def test_update_check_raises_the_transition_rules_message(self) -> None:
        """check_update refuses a new URL with the message of the CRD's oldSelf rule."""
        old = VideoDownloadSpec.model_validate({"url": URL})
        moved = VideoDownloadSpec.model_validate({"url": URL + "x"})
        with pytest.raises(ValueError, match="immutable") as caught:
            moved.check_update(old)
        assert str(caught.value) == spec.URL_IMMUTABLE.message
        url_rules = SPEC["properties"]["url"][rules.VALIDATIONS_KEY]
        assert spec.URL_IMMUTABLE.to_cel() in url_rules

    def test_field_paths_are_named_first_in_the_message(self) -> None:
        """A rule that points the apiserver at a field starts its message with that field."""
        pointed = [(path, r) for path, r in crd_rules(SPEC, "spec") if "fieldPath" in r]
        assert pointed
        for path, rule in pointed:
            assert rule["message"].startswith(path + rule["fieldPath"]), (path, rule)


class TestRule:
    def test_enforce_raises_the_first_broken_rule(self) -> None:
        """enforce returns a valid value and reports the first rule a bad one breaks."""
        assert rules.enforce(output.TEMPLATE_RULES, "a/b.mp4") == "a/b.mp4"
        with pytest.raises(PydanticCustomError) as caught:
            rules.enforce(output.TEMPLATE_RULES, "/../$x")
        assert caught.value.type == "absolute_path"
        assert caught.value.message() == output.TEMPLATE_RULES[0].message

    def test_cel_entry_carries_field_path_only_when_set(self) -> None:
        """to_cel adds fieldPath only for rules that point at a field."""
        assert "fieldPath" not in spec.URL_RULES[0].to_cel()
        assert retry.BACKOFF_RULES[0].to_cel()["fieldPath"] == ".maxSeconds"

    @pytest.mark.parametrize(
        ("value", "literal"),
        [("a", "'a'"), ("it's", "'it\\'s'"), ("back\\slash", "'back\\\\slash'")],
    )
    def test_cel_string_quotes_and_escapes(self, value: str, literal: str) -> None:
        """cel_string gives a single-quoted CEL literal with quotes and backslashes escaped."""
        assert rules.cel_string(value) == literal
