"""Downward API values: `fieldRef` and `resourceFieldRef` resolved against a Pod."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from videodl_devkit.processnode import errors, quantities

NODE_IP = "127.0.0.1"

_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


class FieldPathError(errors.SpecError):
    """A fieldRef or resourceFieldRef the process node cannot resolve."""


@dataclasses.dataclass(frozen=True)
class NodeResources:
    """What a container sees as its limits when it sets none: the node's allocatable."""

    cpu: str
    memory: str
    ephemeral_storage: str = "100Gi"


def format_map(values: Mapping[str, str]) -> str:
    """Render labels or annotations as the downward API does: sorted `key="value"` lines."""
    return "\n".join(
        f"{key}={json.dumps(values[key], ensure_ascii=False)}" for key in sorted(values)
    )


def field_value(pod: Mapping[str, Any], field_path: str) -> str:
    """Return the value a `fieldRef.fieldPath` selects in the Pod."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    subscript = _SUBSCRIPT.match(field_path)
    if subscript is not None:
        section = metadata.get(subscript[1]) or {}
        return str(section.get(subscript[2], ""))
    simple: dict[str, str] = {
        "metadata.name": str(metadata.get("name", "")),
        "metadata.namespace": str(metadata.get("namespace", "")),
        "metadata.uid": str(metadata.get("uid", "")),
        "spec.nodeName": str(spec.get("nodeName", "")),
        "spec.serviceAccountName": str(spec.get("serviceAccountName", "")),
        "status.hostIP": NODE_IP,
        "status.hostIPs": NODE_IP,
        "status.podIP": NODE_IP,
        "status.podIPs": NODE_IP,
    }
    if field_path in simple:
        return simple[field_path]
    if field_path == "metadata.labels":
        return format_map(metadata.get("labels") or {})
    if field_path == "metadata.annotations":
        return format_map(metadata.get("annotations") or {})
    raise FieldPathError(
        f"fieldRef.fieldPath {field_path!r} is not supported; use one of metadata.name, "
        "metadata.namespace, metadata.uid, metadata.labels, metadata.annotations, "
        "metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, "
        "spec.serviceAccountName, status.hostIP, status.podIP"
    )


def resource_value(
    pod: Mapping[str, Any],
    container_name: str,
    resource: str,
    divisor: str | None,
    node: NodeResources,
) -> str:
    """Return a `resourceFieldRef` value: the container's request or limit, rounded up."""
    containers = [
        *((pod.get("spec") or {}).get("initContainers") or []),
        *((pod.get("spec") or {}).get("containers") or []),
    ]
    container = next((c for c in containers if c.get("name") == container_name), None)
    if container is None:
        raise FieldPathError(
            f"resourceFieldRef.containerName {container_name!r} names no container of the Pod"
        )
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or name not in ("cpu", "memory", "ephemeral-storage"):
        raise FieldPathError(
            f"resourceFieldRef.resource {resource!r} is not supported; use limits.cpu, "
            "limits.memory, limits.ephemeral-storage or the same under requests."
        )
    declared = ((container.get("resources") or {}).get(kind) or {}).get(name)
    if declared is None:
        fallback = {
            "cpu": node.cpu,
            "memory": node.memory,
            "ephemeral-storage": node.ephemeral_storage,
        }
        declared = fallback[name] if kind == "limits" else "0"
    try:
        value = quantities.parse(str(declared))
        by = quantities.parse(divisor or "1")
        return str(quantities.ceil_divide(value, by))
    except ValueError as error:
        raise FieldPathError(f"resourceFieldRef {resource!r}: {error}") from error
