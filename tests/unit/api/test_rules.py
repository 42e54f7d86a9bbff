"""CEL rules and the models' validators come from one table, with one message per rule."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from videodl.api import access, crd, media, output, retry, rules, spec, structural
from videodl.api.errors import describe_errors
from videodl.api.rules import Rule, TransitionRule
from videodl.api.spec import VideoDownloadSpec

from . import cel
from .strategies import control_characters, relative_paths, urls

URL = "https://e.com/"
SPEC = crd.openapi_schema(explain=True)["properties"]["spec"]

#: Every table of single-object rules of the spec.
TABLES: tuple[tuple[Rule[Any], ...], ...] = (
    spec.URL_RULES,
    media.FORMAT_RULES,
    media.SELECTOR_RULES,
    media.LANGUAGE_RULES,
    output.SUB_PATH_RULES,
    output.TEMPLATE_RULES,
    output.KEY_PREFIX_RULES,
    output.OUTPUT_RULES,
    access.SECRET_KEY_RULES,
    retry.BACKOFF_RULES,
)
#: Every rule that compares an update with the stored object.
TRANSITION_RULES: tuple[TransitionRule[Any], ...] = (spec.URL_IMMUTABLE,)

#: Every string field that reaches a path, a file name or yt-dlp: a valid value, and the
#: spec holding a given value there.
PATH_REACHING: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "spec.url": ("https://example.com/v", lambda v: {"url": v}),
    "spec.format.selector": ("bv*+ba/b", lambda v: {"url": URL, "format": {"selector": v}}),
    "spec.subtitles.languages": ("en.*", lambda v: {"url": URL, "subtitles": {"languages": [v]}}),
    "spec.output.subPath": ("shows", lambda v: {"url": URL, "output": {"subPath": v}}),
    "spec.output.template": ("%(id)s.%(ext)s", lambda v: {"url": URL, "output": {"template": v}}),
    "spec.output.s3.keyPrefix": (
        "shows",
        lambda v: {"url": URL, "output": {"s3": {"keyPrefix": v}}},
    ),
    "spec.cookies.secretRef.key": (
        "cookies.txt",
        lambda v: {"url": URL, "cookies": {"secretRef": {"name": "site", "key": v}}},
    ),
}

# One value per rule on a string that breaks it, and only it, with the field it goes in.
STRING_BREAKERS: dict[Rule[str], tuple[str, str]] = {
    spec.URL_RULES[0]: ("spec.url", "ftp://example.com/"),
    spec.URL_RULES[1]: ("spec.url", "https://user:secret@example.com/v.mp4"),
    spec.URL_RULES[2]: ("spec.url", "http://:80/x"),
    spec.URL_RULES[3]: ("spec.url", "http://127.0.0.1:99999/v.mp4"),
    media.SELECTOR_RULES[0]: ("spec.format.selector", "bv*+ba\nb"),
    media.LANGUAGE_RULES[0]: ("spec.subtitles.languages", "en\x00"),
    output.SUB_PATH_RULES[0]: ("spec.output.subPath", "/abs"),
    output.SUB_PATH_RULES[1]: ("spec.output.subPath", "a/.."),
    output.SUB_PATH_RULES[2]: ("spec.output.subPath", "shows\x1b[0m"),
    output.TEMPLATE_RULES[0]: ("spec.output.template", "/abs"),
    output.TEMPLATE_RULES[1]: ("spec.output.template", "../x"),
    output.TEMPLATE_RULES[2]: ("spec.output.template", "%(id)s\x00.%(ext)s"),
    output.TEMPLATE_RULES[3]: ("spec.output.template", "$HOME/x"),
    output.KEY_PREFIX_RULES[0]: ("spec.output.s3.keyPrefix", "/abs"),
    output.KEY_PREFIX_RULES[1]: ("spec.output.s3.keyPrefix", "a/../.."),
    output.KEY_PREFIX_RULES[2]: ("spec.output.s3.keyPrefix", "a\nb"),
    output.KEY_PREFIX_RULES[3]: ("spec.output.s3.keyPrefix", "${BUCKET}"),
    access.SECRET_KEY_RULES[0]: ("spec.cookies.secretRef.key", ".."),
}
# One manifest per rule that breaks it, and only it.
RULE_BREAKERS: dict[Rule[Any], dict[str, Any]] = {
    **{rule: PATH_REACHING[field][1](value) for rule, (field, value) in STRING_BREAKERS.items()},
    media.FORMAT_RULES[0]: {"url": URL, "format": {"preset": "Best", "selector": "b"}},
    output.OUTPUT_RULES[0]: {
        "url": URL,
        "output": {"persistentVolumeClaim": {"claimName": "media"}, "s3": {"bucket": "media"}},
    },
    output.OUTPUT_RULES[1]: {"url": URL, "output": {"subPath": "x", "s3": {"bucket": "media"}}},
    retry.BACKOFF_RULES[0]: {
        "url": URL,
        "retry": {"backoff": {"initialSeconds": 9, "maxSeconds": 8}},
    },
}
# Rules on list entries: describe_errors puts the entry's path before their message.
ENTRY_PATHS: dict[Rule[Any], str] = {media.LANGUAGE_RULES[0]: "spec.subtitles.languages[0]"}

# Text that often makes URLs only just right or only just wrong.
_URL_TEXT = st.text(st.sampled_from("htps:/@[]?#.:0123456789abef\\x%- \n\x00\x85"), max_size=30)


def crd_rules(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Every ``x-kubernetes-validations`` entry under ``node``, with the path it sits on."""
    for rule in node.get(rules.VALIDATIONS_KEY, []):
        yield path, rule
    for name, sub in (node.get("properties") or {}).items():
        yield from crd_rules(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from crd_rules(node["items"], f"{path}[]")


def string_fields(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every string schema under ``node`` (a list's entries under the list's path)."""
    if node.get("type") == "string":
        yield path, node
    for name, sub in (node.get("properties") or {}).items():
        yield from string_fields(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from string_fields(node["items"], path)


def canonical(entries: Iterator[dict[str, str]]) -> list[str]:
    return sorted(json.dumps(entry, sort_keys=True) for entry in entries)


def crd_node(field: str) -> dict[str, Any]:
    """The CRD schema of ``field`` (for a list, of its entries)."""
    node: dict[str, Any] = SPEC
    for name in field.split(".")[1:]:
        node = node["properties"][name]
    return node["items"] if node.get("type") == "array" else node


def crd_accepts(field: str, value: str) -> bool:
    """Whether the CRD's schema and CEL rules on ``field`` (updates aside) accept ``value``."""
    node = crd_node(field)
    if structural.value_violations(value, node, field):
        return False
    checked = [r["rule"] for r in node.get(rules.VALIDATIONS_KEY, []) if "oldSelf" not in r["rule"]]
    return all(cel.evaluate(rule, value) for rule in checked)


def insert(value: str, position: int, text: str) -> str:
    """``value`` with ``text`` inserted at ``position`` (from the end when negative)."""
    position = max(-len(value), min(position, len(value)))
    return value[:position] + text + value[position:]


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
        entry = ENTRY_PATHS.get(rule)
        described = rule.message if entry is None else f"{entry}: {rule.message}"
        assert describe_errors(caught.value, prefix="spec") == [described]
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

    def test_control_character_rule_names_the_field_and_the_fix(self) -> None:
        """no_control_characters starts its message with the field and ends it with the fix."""
        rule = rules.no_control_characters("spec.output.template")
        assert rule.message.startswith("spec.output.template may not contain control characters")
        assert rule.message.endswith(": remove them")
        assert (rule.holds("a\tb"), rule.holds("a\x9fb"), rule.holds("a\xa0b")) == (
            False,
            False,
            True,
        )


class TestCelSaysWhatPythonSays:
    @pytest.mark.parametrize("rule", list(STRING_BREAKERS), ids=lambda rule: rule.error_type)
    def test_rule_agrees_on_its_breaker_and_on_valid_values(self, rule: Rule[str]) -> None:
        """Each string rule's CEL text and Python check agree on its breaker and valid values."""
        field, broken = STRING_BREAKERS[rule]
        assert not rule.holds(broken)
        assert not cel.evaluate(rule.cel, broken)
        assert rule.holds(PATH_REACHING[field][0])
        for valid, _ in PATH_REACHING.values():
            assert cel.evaluate(rule.cel, valid) == rule.holds(valid), valid

    @given(
        url=st.one_of(
            urls,
            _URL_TEXT,
            st.builds("".join, st.tuples(st.sampled_from(["http://", "https://"]), _URL_TEXT)),
        )
    )
    @example(url="http://@/v.mp4")
    @example(url="http://[::1]:80]/x")
    @example(url="https://example.com:65536\n")
    def test_url_rules_agree(self, url: str) -> None:
        """Every URL rule's CEL text holds exactly when its Python check does."""
        for rule in spec.URL_RULES:
            assert cel.evaluate(rule.cel, url) == rule.holds(url), rule.error_type

    @given(path=st.text(st.sampled_from("./~$a%\n\x00\x7f"), max_size=12))
    def test_path_rules_agree(self, path: str) -> None:
        """Every subPath and template rule's CEL text holds exactly when its Python check does."""
        for rule in (*output.SUB_PATH_RULES, *output.TEMPLATE_RULES):
            assert cel.evaluate(rule.cel, path) == rule.holds(path), rule.error_type


class TestControlCharacters:
    @given(
        field=st.sampled_from(sorted(PATH_REACHING)),
        position=st.integers(-25, 25),
        control=control_characters,
    )
    @example(field="spec.output.template", position=0, control="\x00")
    @example(field="spec.cookies.secretRef.key", position=99, control="\n")
    @example(field="spec.url", position=99, control="\n")
    @example(field="spec.subtitles.languages", position=99, control="\x9f")
    def test_control_characters_are_rejected_in_every_path_reaching_field(
        self, field: str, position: int, control: str
    ) -> None:
        """A control character anywhere in a string that reaches a path or yt-dlp is refused
        by the models, naming the field, and by the CRD's schema and rules on that field."""
        valid, build = PATH_REACHING[field]
        value = insert(valid, position, control)
        with pytest.raises(ValidationError) as caught:
            VideoDownloadSpec.model_validate(build(value))
        described = describe_errors(caught.value, prefix="spec")
        assert described
        assert all(line.startswith(field) for line in described), described
        assert not crd_accepts(field, value)

    @pytest.mark.parametrize("field", sorted(PATH_REACHING))
    def test_valid_values_pass_the_models_and_the_crd(self, field: str) -> None:
        """The valid value of each path-reaching field passes the models and the CRD."""
        valid, build = PATH_REACHING[field]
        VideoDownloadSpec.model_validate(build(valid))
        assert crd_accepts(field, valid)

    def test_every_free_form_string_field_is_covered(self) -> None:
        """Every spec string without an enum or a pattern is a path-reaching field above, so
        a new free-form field cannot go without the control character check."""
        free_form = {
            path for path, node in string_fields(SPEC, "spec") if not {"enum", "pattern"} & {*node}
        }
        assert free_form == set(PATH_REACHING) - {"spec.cookies.secretRef.key"}


class TestGeneratedValuesPass:
    @given(url=urls)
    @example(url="http://[::1]:8080/x")
    @example(url="https://example.com:65535/@user/video?t=1#x")
    def test_generated_urls_pass_the_models_and_the_crd(self, url: str) -> None:
        """Every URL the generator builds (name, IPv4 or bracketed IPv6 host, port 1-65535)
        passes the models and the CRD's rules."""
        assert VideoDownloadSpec.model_validate({"url": url}).url == url
        assert crd_accepts("spec.url", url)

    @given(path=relative_paths)
    def test_generated_relative_paths_pass_the_models_and_the_crd(self, path: str) -> None:
        """Every relative path the generator builds is a valid subPath and template."""
        VideoDownloadSpec.model_validate(
            {"url": URL, "output": {"subPath": path, "template": path}}
        )
        assert crd_accepts("spec.output.subPath", path)
        assert crd_accepts("spec.output.template", path)


class TestMatches:
    @pytest.mark.parametrize(
        ("pattern", "value", "found"),
        [
            ("b", "abc", True),
            ("^b", "abc", False),
            ("^abc$", "abc", True),
            ("^abc$", "abc\n", False),
            ("^a(?s:.*)$", "a\nb", True),
            ("[\\x00-\\x1f]", "a\x00", True),
        ],
    )
    def test_matches_searches_as_cel_does(self, pattern: str, value: str, found: bool) -> None:
        """matches is an unanchored search whose final `$` is the end of the text, as in RE2."""
        assert rules.matches(pattern, value) is found
