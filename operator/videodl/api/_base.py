"""Shared building blocks for the API models: model bases and common name formats.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


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

# A Secret / ConfigMap data key (besides, never "." or "..").
CONFIG_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"
CONFIG_KEY_MAX = 253


def plain(value: Any) -> Any:
    """``value`` with every mapping a dict and every sequence a list (kopf hands out views)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
