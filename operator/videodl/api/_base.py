"""Shared building blocks for the API models: model bases, CEL rule helpers, common types.

Pure: no I/O.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

#: Key under which a schema carries its CEL rules, as the apiserver expects it.
VALIDATIONS_KEY = "x-kubernetes-validations"


def cel_rule(
    rule: str,
    message: str,
    *,
    field_path: str | None = None,
    message_expression: str | None = None,
) -> dict[str, str]:
    """One ``x-kubernetes-validations`` entry.

    ``message`` names the field and the fix; ``field_path`` (relative to the schema the
    rule sits on) points the apiserver's error at the field the user has to change.
    """
    entry = {"rule": rule, "message": message}
    if message_expression is not None:
        entry["messageExpression"] = message_expression
    if field_path is not None:
        entry["fieldPath"] = field_path
    return entry


def with_rules(*rules: dict[str, str]) -> dict[str, Any]:
    """``json_schema_extra`` carrying CEL rules, for a field or a model config."""
    return {VALIDATIONS_KEY: list(rules)}


class SpecModel(BaseModel):
    """Base of every spec model: camelCase JSON, unknown fields rejected.

    Unknown fields are errors rather than silently dropped, as they are for the
    apiserver under strict field validation: a misspelt ``maxAtempts`` must not quietly
    fall back to the default.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
    )


class StatusModel(BaseModel):
    """Base of every status model: camelCase JSON, unknown fields ignored.

    Status is written by the operator; an older operator reading a status written by a
    newer one ignores fields it does not know instead of failing.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


# A DNS-1123 subdomain, the format of most Kubernetes object names.
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_SUBDOMAIN_MAX = 253

DnsSubdomain = Annotated[
    str,
    Field(min_length=1, max_length=DNS_SUBDOMAIN_MAX, pattern=DNS_SUBDOMAIN_PATTERN),
]

# A Secret / ConfigMap data key.
CONFIG_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"

# A Kubernetes resource quantity ("500m", "1Gi", "2").
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
QUANTITY_MAX = 64


def _quantity_from_number(value: object) -> object:
    # YAML turns `cpu: 1` into an integer; Kubernetes accepts it as the quantity "1".
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


Quantity = Annotated[
    str,
    BeforeValidator(_quantity_from_number),
    Field(pattern=QUANTITY_PATTERN, max_length=QUANTITY_MAX),
    # The same shape as Kubernetes' own quantities: a number or a string.
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
