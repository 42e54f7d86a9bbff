"""JSON merge patches (RFC 7386) that turn one status into another.

The operator writes only what changed, so a patch never touches fields another writer owns
(the worker's ``status.progress``) unless the operator means to reset them. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from videodl.api.status import VideoDownloadStatus

__all__ = ["merge_diff", "status_json", "status_patch"]


def merge_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that turns ``old`` into ``new`` (empty when they are equal).

    Keys missing from ``new`` become ``None`` (removed); nested objects are diffed
    recursively; lists and scalars are replaced whole, as merge patches do.
    """
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = merge_diff(before, value)
            if nested:
                patch[key] = nested
        elif key not in old or before != value:
            patch[key] = value
    return patch


def status_json(status: VideoDownloadStatus) -> dict[str, Any]:
    """A status as the apiserver stores it: camelCase, unset fields left out."""
    return status.model_dump(mode="json", by_alias=True, exclude_none=True)


def status_patch(old: VideoDownloadStatus, new: VideoDownloadStatus) -> dict[str, Any]:
    """``{"status": <merge diff>}``, or an empty dict when nothing changed."""
    diff = merge_diff(status_json(old), status_json(new))
    return {"status": diff} if diff else {}
