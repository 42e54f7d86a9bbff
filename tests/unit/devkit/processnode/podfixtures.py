"""Pod, Secret and ConfigMap objects shared by the process node's unit tests."""

from __future__ import annotations

import base64
from typing import Any


def pod(**spec: Any) -> dict[str, Any]:
    """A bound Pod with one container `main` unless spec overrides it."""
    body: dict[str, Any] = {
        "containers": [{"name": "main", "image": "busybox", "command": ["true"]}],
        "nodeName": "node-1",
        "serviceAccountName": "worker",
        "restartPolicy": "Never",
    }
    body.update(spec)
    return {
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "uid": "u-1",
            "labels": {"app": "dl", "tier": "b"},
            "annotations": {"note": 'say "hi"'},
        },
        "spec": body,
        "status": {"phase": "Pending"},
    }


def secret(name: str, **data: str) -> dict[str, Any]:
    """A Secret whose data holds the given values, base64-encoded as the API stores them."""
    return {
        "metadata": {"name": name},
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
    }


def config_map(name: str, **data: str) -> dict[str, Any]:
    """A ConfigMap with the given string data."""
    return {"metadata": {"name": name}, "data": dict(data)}
