"""OpenAPI v3 schemas for the CRD, derived from the pydantic models.

pydantic's JSON Schema is close to what the apiserver needs but not structural: it uses
``$ref``/``$defs``, titles, ``additionalProperties: false`` and leaves out defaults that
come from factories. This module turns it into a structural schema: every reference
inlined, optional fields plain (absent rather than null), defaults filled in from the
models, keys the apiserver does not know removed. Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, NoDefault
from pydantic_core import core_schema

from videodl.api.rules import VALIDATIONS_KEY
from videodl.api.spec import VideoDownloadSpec
from videodl.api.status import VideoDownloadStatus

__all__ = ["model_schema", "spec_schema", "status_schema", "strip_defaults"]

Schema = dict[str, Any]

# Keys that pass through; everything else pydantic emits (title, $defs, ...) is dropped.
_KEPT_KEYS = (
    "description",
    "type",
    "format",
    "enum",
    "default",
    "nullable",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "anyOf",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-preserve-unknown-fields",
    VALIDATIONS_KEY,
)


class _CrdJsonSchema(GenerateJsonSchema):
    """pydantic schema generation tuned for Kubernetes."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        # Factory defaults (nested models, lists) are real defaults for the apiserver too.
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()  # type: ignore[call-arg]
        value = super().get_default_value(schema)
        return NoDefault if value is None else value

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, BaseModel):
            return dft.model_dump(by_alias=True, exclude_none=True, mode="json")
        if isinstance(dft, enum.Enum):
            return dft.value
        return super().encode_default(dft)

    def sort(self, value: JsonSchemaValue, parent_key: str | None = None) -> JsonSchemaValue:
        # Keep declaration order everywhere (defaults included); _clean orders the keys.
        return value

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        # Unset optional fields are left out of objects, never sent as null.
        return self.generate_inner(schema["schema"])


def _resolve(node: Any, defs: Mapping[str, Schema]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = _resolve(defs[ref.rsplit("/", 1)[-1]], defs)
        siblings = {k: _resolve(v, defs) for k, v in node.items() if k != "$ref"}
        rules = [*target.get(VALIDATIONS_KEY, []), *siblings.pop(VALIDATIONS_KEY, [])]
        merged: Schema = {**target, **siblings}
        if rules:
            merged[VALIDATIONS_KEY] = rules
        return merged
    return {key: _resolve(value, defs) for key, value in node.items()}


def _clean(node: Schema) -> Schema:
    out: Schema = {}
    for key in _KEPT_KEYS:
        if key not in node:
            continue
        value = node[key]
        if key == "description":
            value = " ".join(str(value).split())
        elif key == "properties":
            value = {name: _clean(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            if value is False:
                continue  # "no other keys" is implied by a structural schema
            value = _clean(value)
        elif key == "anyOf":
            value = [_clean(sub) for sub in value]
        out[key] = value
    return out


def model_schema(model: type[BaseModel]) -> Schema:
    """Structural OpenAPI v3 schema of ``model``, camelCase, every reference inlined."""
    raw = model.model_json_schema(by_alias=True, mode="validation", schema_generator=_CrdJsonSchema)
    defs = raw.pop("$defs", {})
    return _clean(_resolve(raw, defs))


def strip_defaults(schema: Schema) -> Schema:
    """``schema`` without any ``default``: for status, which only the operator fills."""
    out: Schema = {}
    for key, value in schema.items():
        if key == "default":
            continue
        if key == "properties":
            out[key] = {name: strip_defaults(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = strip_defaults(value)
        else:
            out[key] = value
    return out


def spec_schema() -> Schema:
    """Schema of ``spec``."""
    return model_schema(VideoDownloadSpec)


def status_schema() -> Schema:
    """Schema of ``status``, without defaults so a new object's status starts empty."""
    return strip_defaults(model_schema(VideoDownloadStatus))
