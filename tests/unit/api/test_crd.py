"""The generated CRD: names, columns, subresources, rules and descriptions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from videodl.api import crd
from videodl.api.spec import URL_IMMUTABLE

CRD = crd.crd()
VERSION = CRD["spec"]["versions"][0]
SCHEMA = VERSION["schema"]["openAPIV3Schema"]
SPEC = SCHEMA["properties"]["spec"]
STATUS = SCHEMA["properties"]["status"]


def walk(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, sub in (node.get("properties") or {}).items():
        yield from walk(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from walk(node["items"], f"{path}[]")


class TestNames:
    def test_names_and_scope(self) -> None:
        """Kind, plural, short name, category and scope are the published ones."""
        names = CRD["spec"]["names"]
        assert CRD["metadata"]["name"] == "videodownloads.videodl.dev"
        assert names["shortNames"] == ["vdl"]
        assert names["categories"] == ["videodl"]
        assert CRD["spec"]["scope"] == "Namespaced"
        assert VERSION["name"] == "v1alpha1"
        assert VERSION["subresources"] == {"status": {}}


class TestPrinterColumns:
    def test_columns_and_wide_columns(self) -> None:
        """The default columns and the -o wide extras are in order."""
        columns = VERSION["additionalPrinterColumns"]
        default = [c["name"] for c in columns if not c.get("priority")]
        wide = [c["name"] for c in columns if c.get("priority") == 1]
        assert default == ["Phase", "Progress", "Attempts", "Priority", "Ready", "Age"]
        assert wide == ["Title", "URL"]

    def test_ready_column_reads_the_condition(self) -> None:
        """Ready shows the status of the Ready condition."""
        (ready,) = [c for c in VERSION["additionalPrinterColumns"] if c["name"] == "Ready"]
        assert ready["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'


class TestSchema:
    def test_every_field_is_described(self) -> None:
        """kubectl explain has text for every spec and status field."""
        missing = [
            path
            for path, node in walk(SCHEMA, "")
            # List items of plain values are described by their list.
            if not node.get("description") and not path.endswith("[]")
        ]
        assert missing == [".metadata"]

    def test_status_has_no_defaults(self) -> None:
        """Status starts empty; observedGeneration is absent until the operator sets it."""
        assert [p for p, node in walk(STATUS, "status") if "default" in node] == []

    def test_conditions_are_a_map_keyed_by_type(self) -> None:
        """Conditions merge by type, as the API conventions require."""
        conditions = STATUS["properties"]["conditions"]
        assert conditions["x-kubernetes-list-type"] == "map"
        assert conditions["x-kubernetes-list-map-keys"] == ["type"]
        assert "type" in conditions["items"]["required"]

    def test_nothing_is_nullable_or_open(self) -> None:
        """Optional fields are simply absent; no field keeps unknown content."""
        flagged = [
            p
            for p, node in walk(SCHEMA, "")
            if node.get("nullable") or node.get("x-kubernetes-preserve-unknown-fields")
        ]
        assert flagged == []

    def test_url_rules(self) -> None:
        """spec.url is bounded, http(s) only and immutable with a message naming the fix."""
        url = SPEC["properties"]["url"]
        assert url["maxLength"] == 2048
        rules = {r["rule"]: r["message"] for r in url["x-kubernetes-validations"]}
        assert rules["self == oldSelf"] == URL_IMMUTABLE.message
        assert URL_IMMUTABLE.message.startswith("spec.url is immutable: create a new")

    def test_rule_messages_name_their_field(self) -> None:
        """Every CEL message starts with the path of the field it is about (for a rule on
        each entry of a list, the list's path)."""
        for path, node in walk(SPEC, "spec"):
            for rule in node.get("x-kubernetes-validations", []):
                field = path.removesuffix("[]")
                assert rule["message"].startswith(field), (path, rule["message"])

    def test_explain_text_carries_bounds_and_defaults(self) -> None:
        """Descriptions in the CRD mention bounds and defaults for kubectl explain."""
        max_attempts = SPEC["properties"]["retry"]["properties"]["maxAttempts"]
        assert max_attempts["description"].endswith("Allowed: 1 to 20. Default: 3.")
