"""VideoDownload objects as the apiserver returns them, for the command line's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from videodl.core.times import format_time

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def download(
    name: str,
    *,
    namespace: str = "media",
    phase: str | None = "Queued",
    priority: str = "Normal",
    created: float = 0,
    status: dict[str, Any] | None = None,
    spec: dict[str, Any] | None = None,
    **metadata: Any,
) -> dict[str, Any]:
    full_status: dict[str, Any] = {} if phase is None else {"phase": phase}
    if phase in ("Queued", "Blocked", "BackingOff", "Pending"):
        full_status["conditions"] = [
            {
                "type": "Ready",
                "status": "False",
                "reason": phase,
                "message": "waiting for a worker slot",
                "lastTransitionTime": format_time(at(created)),
            },
            {
                "type": "Reconciling",
                "status": "True",
                "reason": phase,
                "message": "waiting for a worker slot",
                "lastTransitionTime": format_time(at(created)),
            },
        ]
    full_status.update(status or {})
    return {
        "apiVersion": "videodl.dev/v1alpha1",
        "kind": "VideoDownload",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "creationTimestamp": format_time(at(created)),
            "generation": 1,
            **metadata,
        },
        "spec": {
            "url": f"https://media.example/{name}.mp4",
            "priority": priority,
            "output": {"persistentVolumeClaim": {"claimName": "media"}},
            **(spec or {}),
        },
        "status": full_status,
    }
