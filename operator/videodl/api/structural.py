"""Checks that a CRD schema is structural and its defaults are valid, before an apiserver sees it.

The rules follow the Kubernetes documentation on structural schemas and defaulting
(apiextensions.k8s.io/v1): every node has a type, no references, logical junctors carry
no types or defaults, metadata is only constrained by name, every default validates
against its own schema, and strings and lists under CEL rules are bounded so the
apiserver can estimate the rules' cost. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from videodl.api import rules

__all__ = ["default_violations", "structural_violations", "value_violations"]

# Keys of apiextensions.k8s.io/v1 JSONSchemaProps that structural schemas may use.
_ALLOWED_KEYS = frozenset(
    {
        "description",
        "type",
        "format",
        "title",
        "default",
        "example",
        "externalDocs",
        "nullable",
        "enum",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "multipleOf",
        "maxProperties",
        "minProperties",
        "required",
        "items",
        "properties",
        "additionalProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-int-or-string",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-list-type",
        "x-kubernetes-map-type",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-validations",
    }
)
_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean"})
_JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
_FORBIDDEN_IN_JUNCTORS = ("description", "type", "default", "additionalProperties", "nullable")
_RULE_KEYS = frozenset(
    {"rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf"}
)
_INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]

Schema = Mapping[str, Any]


def _children(node: Schema, path: str) -> Iterator[tuple[Schema, str]]:
    for name, sub in (node.get("properties") or {}).items():
        yield sub, f"{path}.{name}"
    items = node.get("items")
    if isinstance(items, Mapping):
        yield items, f"{path}[*]"
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        yield extra, f"{path}.*"


def _junctor_problems(node: Schema, path: str) -> Iterator[str]:
    for junctor in _JUNCTORS:
        if junctor not in node:
            continue
        branches = node[junctor]
        branches = branches if isinstance(branches, list) else [branches]
        if (
            junctor == "anyOf"
            and node.get("x-kubernetes-int-or-string")
            and (branches == _INT_OR_STRING)
        ):
            continue  # the one pattern the apiserver allows
        for branch in branches:
            for key in _FORBIDDEN_IN_JUNCTORS:
                if key in branch:
                    yield f"{path}: {key!r} may not appear inside {junctor}"


def _node_problems(node: Schema, path: str, *, root: bool) -> Iterator[str]:
    for key in node:
        if key not in _ALLOWED_KEYS:
            yield f"{path}: key {key!r} is not allowed in a CRD schema"
    exempt = node.get("x-kubernetes-int-or-string") or node.get(
        "x-kubernetes-preserve-unknown-fields"
    )
    node_type = node.get("type")
    if not exempt and node_type not in _TYPES:
        yield f"{path}: every node needs a type, got {node_type!r}"
    extra = node.get("additionalProperties")
    if isinstance(extra, bool):
        yield f"{path}: additionalProperties must be a schema, not {extra}"
    if "properties" in node and isinstance(extra, Mapping):
        yield f"{path}: properties and additionalProperties are mutually exclusive"
    for name in node.get("required", []):
        if name not in (node.get("properties") or {}):
            yield f"{path}: required field {name!r} is not among the properties"
    yield from _junctor_problems(node, path)
    yield from _rule_problems(node, path)
    yield from _list_map_problems(node, path)
    if root:
        metadata = (node.get("properties") or {}).get("metadata")
        if metadata is not None and set(metadata) - {"type", "description"}:
            yield f"{path}.metadata: only a plain `type: object` is allowed here"


def _rule_problems(node: Schema, path: str) -> Iterator[str]:
    rules = node.get("x-kubernetes-validations", [])
    for index, rule in enumerate(rules):
        unknown = set(rule) - _RULE_KEYS
        if unknown or "rule" not in rule:
            yield f"{path}: validation rule {index} has keys {sorted(rule)}"
        if not rule.get("message") and not rule.get("messageExpression"):
            yield f"{path}: validation rule {index} has no message"
    if rules and node.get("type") == "string" and "maxLength" not in node:
        yield f"{path}: a string under CEL rules needs maxLength to bound the rules' cost"
    if rules and node.get("type") == "array" and "maxItems" not in node:
        yield f"{path}: a list under CEL rules needs maxItems to bound the rules' cost"


def _list_map_problems(node: Schema, path: str) -> Iterator[str]:
    if node.get("x-kubernetes-list-type") != "map":
        if "x-kubernetes-list-map-keys" in node:
            yield f"{path}: list-map-keys need x-kubernetes-list-type: map"
        return
    keys = node.get("x-kubernetes-list-map-keys") or []
    items = node.get("items") or {}
    if not keys:
        yield f"{path}: a list of type map needs x-kubernetes-list-map-keys"
    for key in keys:
        item_schema = (items.get("properties") or {}).get(key)
        if item_schema is None:
            yield f"{path}: list map key {key!r} is not a property of the items"
        elif key not in items.get("required", []) and "default" not in item_schema:
            yield f"{path}: list map key {key!r} must be required or defaulted"


def structural_violations(schema: Schema) -> list[str]:
    """Every way ``schema`` (an ``openAPIV3Schema``) is not structural; empty when it is."""
    problems: list[str] = []
    stack: list[tuple[Schema, str, bool]] = [(schema, "", True)]
    while stack:
        node, path, root = stack.pop()
        shown = path or "<root>"
        problems.extend(_node_problems(node, shown, root=root))
        stack.extend((child, child_path, False) for child, child_path in _children(node, path))
    problems.extend(default_violations(schema))
    return problems


# --- defaults ----------------------------------------------------------------------------


def _type_matches(value: Any, node: Schema) -> bool:
    if node.get("x-kubernetes-int-or-string"):
        return isinstance(value, int | str) and not isinstance(value, bool)
    if node.get("x-kubernetes-preserve-unknown-fields") and "type" not in node:
        return True
    expected = node.get("type")
    checks: dict[str, bool] = {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
    }
    return checks.get(str(expected), False)


def _value_problems(value: Any, node: Schema, path: str) -> Iterator[str]:
    if not _type_matches(value, node):
        yield f"{path}: {value!r} does not match type {node.get('type')!r}"
        return
    if "enum" in node and value not in node["enum"]:
        yield f"{path}: {value!r} is not one of {node['enum']}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        yield from _number_problems(value, node, path)
    elif isinstance(value, str):
        yield from _string_problems(value, node, path)
    elif isinstance(value, list):
        if len(value) > node.get("maxItems", len(value)) or len(value) < node.get("minItems", 0):
            yield f"{path}: {len(value)} items are outside minItems/maxItems"
        for index, item in enumerate(value):
            yield from _value_problems(item, node.get("items") or {}, f"{path}[{index}]")
    elif isinstance(value, dict):
        yield from _object_problems(value, node, path)


def _number_problems(value: float, node: Schema, path: str) -> Iterator[str]:
    if "minimum" in node and value < node["minimum"]:
        yield f"{path}: {value!r} is below the minimum {node['minimum']}"
    if "maximum" in node and value > node["maximum"]:
        yield f"{path}: {value!r} is above the maximum {node['maximum']}"


def _string_problems(value: str, node: Schema, path: str) -> Iterator[str]:
    if len(value) > node.get("maxLength", len(value)):
        yield f"{path}: {value!r} is longer than maxLength"
    if len(value) < node.get("minLength", 0):
        yield f"{path}: {value!r} is shorter than minLength"
    if "pattern" in node and not rules.matches(node["pattern"], value):
        yield f"{path}: {value!r} does not match {node['pattern']!r}"


def _object_problems(value: dict[str, Any], node: Schema, path: str) -> Iterator[str]:
    properties = node.get("properties") or {}
    extra = node.get("additionalProperties")
    for name in node.get("required", []):
        if name not in value and "default" not in properties.get(name, {}):
            yield f"{path}: required field {name!r} is missing"
    for name, item in value.items():
        if name in properties:
            yield from _value_problems(item, properties[name], f"{path}.{name}")
        elif isinstance(extra, Mapping):
            yield from _value_problems(item, extra, f"{path}.{name}")
        elif not node.get("x-kubernetes-preserve-unknown-fields"):
            # The apiserver prunes unknown fields from defaults and rejects such a CRD.
            yield f"{path}: field {name!r} is unknown to the schema"


def value_violations(value: Any, schema: Schema, path: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema``'s types, enums, bounds and patterns.

    CEL rules are not evaluated. Fields the schema does not know count as violations
    (the apiserver would prune or reject them).
    """
    return list(_value_problems(value, schema, path or "<root>"))


def default_violations(schema: Schema) -> list[str]:
    """Every ``default`` in ``schema`` that its own schema would reject or prune."""
    problems: list[str] = []
    stack: list[tuple[Schema, str]] = [(schema, "")]
    while stack:
        node, path = stack.pop()
        if "default" in node:
            problems.extend(_value_problems(node["default"], node, f"{path or '<root>'}.default"))
        stack.extend(_children(node, path))
    return problems
