"""Kubernetes Events the node records about Pods and claims (bodies only, no I/O)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from videodl_devkit.processnode import timestamps

COMPONENT = "kubelet"


def event(
    involved: Mapping[str, Any],
    *,
    kind: str,
    reason: str,
    message: str,
    node: str,
    now: datetime.datetime,
    warning: bool = False,
) -> dict[str, Any]:
    """A core/v1 Event about an object, reported by the node as a kubelet would."""
    metadata = involved.get("metadata") or {}
    namespace = str(metadata.get("namespace") or "default")
    moment = timestamps.rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{metadata.get('name', 'object')}.", "namespace": namespace},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": kind,
            "namespace": namespace,
            "name": metadata.get("name", ""),
            "uid": metadata.get("uid", ""),
        },
        "reason": reason,
        "message": message[:1024],
        "type": "Warning" if warning else "Normal",
        "source": {"component": COMPONENT, "host": node},
        "reportingComponent": COMPONENT,
        "reportingInstance": node,
        "firstTimestamp": moment,
        "lastTimestamp": moment,
        "count": 1,
    }
