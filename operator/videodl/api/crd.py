"""The VideoDownload CustomResourceDefinition, built from the models.

Pure: no I/O. ``generate`` writes the result to ``crds/``.
"""

from __future__ import annotations

from typing import Any

from videodl.api import resource, schema

__all__ = ["PRINTER_COLUMNS", "crd", "explained", "openapi_schema"]

#: ``kubectl get vdl`` columns; priority 1 shows only with ``-o wide``.
PRINTER_COLUMNS: tuple[dict[str, Any], ...] = (
    {
        "name": "Phase",
        "type": "string",
        "jsonPath": ".status.phase",
        "description": "Where the download is in its life cycle.",
    },
    {
        "name": "Progress",
        "type": "number",
        "jsonPath": ".status.progress.percent",
        "description": "Percent of the running attempt's download done.",
    },
    {
        "name": "Attempts",
        "type": "integer",
        "jsonPath": ".status.attempts",
        "description": "Attempts started so far.",
    },
    {
        "name": "Priority",
        "type": "string",
        "jsonPath": ".spec.priority",
        "description": "Order among waiting downloads.",
    },
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        "description": "Status of the Ready condition.",
    },
    {
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
    },
    {
        "name": "Title",
        "type": "string",
        "jsonPath": ".status.result.title",
        "description": "Title of the downloaded video.",
        "priority": 1,
    },
    {
        "name": "URL",
        "type": "string",
        "jsonPath": ".spec.url",
        "description": "URL being downloaded.",
        "priority": 1,
    },
)


def _facts(node: dict[str, Any]) -> list[str]:
    facts: list[str] = []
    if "minimum" in node and "maximum" in node:
        facts.append(f"Allowed: {node['minimum']} to {node['maximum']}.")
    elif "minimum" in node:
        facts.append(f"Allowed: at least {node['minimum']}.")
    if node.get("type") == "string" and "maxLength" in node:
        facts.append(f"At most {node['maxLength']} characters.")
    default = node.get("default")
    if default is not None and not isinstance(default, dict | list):
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        facts.append(f"Default: {shown}.")
    return facts


def explained(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with bounds and defaults appended to each description.

    ``kubectl explain`` shows descriptions (and enums) but neither bounds nor defaults;
    the CRD carries them in the text as well so the terminal is enough to write a manifest.
    """
    out = dict(node)
    facts = _facts(node)
    if facts and "description" in out:
        out["description"] = " ".join([out["description"], *facts])
    if "properties" in node:
        out["properties"] = {k: explained(v) for k, v in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        out["items"] = explained(node["items"])
    return out


def openapi_schema(*, explain: bool = False) -> dict[str, Any]:
    """``openAPIV3Schema`` of the whole object; ``explain`` adds bounds and defaults to the
    descriptions (as in the CRD)."""
    spec = schema.spec_schema()
    status = schema.status_schema()
    if explain:
        spec, status = explained(spec), explained(status)
    return {
        "description": (
            "A VideoDownload downloads one video (or playlist) with yt-dlp into a "
            "PersistentVolumeClaim. The operator runs one worker Pod per attempt, retries "
            "transient failures with backoff and reports progress and results in status."
        ),
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": (
                    "APIVersion defines the versioned schema of this representation of an "
                    "object. Servers should convert recognized schemas to the latest "
                    "internal value, and may reject unrecognized values."
                ),
                "type": "string",
            },
            "kind": {
                "description": (
                    "Kind is a string value representing the REST resource this object "
                    "represents. Servers may infer this from the endpoint the client "
                    "submits requests to. In CamelCase."
                ),
                "type": "string",
            },
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
        "required": ["spec"],
    }


def crd() -> dict[str, Any]:
    """The CustomResourceDefinition manifest."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": resource.CRD_NAME},
        "spec": {
            "group": resource.GROUP,
            "names": {
                "kind": resource.KIND,
                "listKind": resource.LIST_KIND,
                "plural": resource.PLURAL,
                "singular": resource.SINGULAR,
                "shortNames": [resource.SHORT_NAME],
                "categories": list(resource.CATEGORIES),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": resource.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in PRINTER_COLUMNS],
                    "schema": {"openAPIV3Schema": openapi_schema(explain=True)},
                }
            ],
        },
    }
