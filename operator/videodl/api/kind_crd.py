"""The CustomResourceDefinition of a kind beside VideoDownload, built from its models.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from videodl.api import crd, resource, schema

__all__ = ["crd_manifest", "openapi_schema"]


def openapi_schema(
    spec_model: type[BaseModel], status_model: type[BaseModel], description: str
) -> dict[str, Any]:
    """``openAPIV3Schema`` of the whole object, bounds and defaults in the descriptions."""
    spec = crd.explained(schema.model_schema(spec_model))
    status = crd.explained(schema.strip_defaults(schema.model_schema(status_model)))
    base = crd.openapi_schema()
    return {
        "description": description,
        "type": "object",
        "properties": {
            "apiVersion": base["properties"]["apiVersion"],
            "kind": base["properties"]["kind"],
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
        "required": ["spec"],
    }


def crd_manifest(
    *,
    kind: str,
    list_kind: str,
    plural: str,
    singular: str,
    short_name: str,
    columns: Sequence[dict[str, Any]],
    openapi: dict[str, Any],
) -> dict[str, Any]:
    """The CustomResourceDefinition manifest of one namespaced kind with a status."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{resource.GROUP}"},
        "spec": {
            "group": resource.GROUP,
            "names": {
                "kind": kind,
                "listKind": list_kind,
                "plural": plural,
                "singular": singular,
                "shortNames": [short_name],
                "categories": list(resource.CATEGORIES),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": resource.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in columns],
                    "schema": {"openAPIV3Schema": openapi},
                }
            ],
        },
    }
