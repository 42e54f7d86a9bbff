"""The videos a subscription has seen: kept in one ConfigMap the subscription owns. Pure.

A video once seen (downloaded, skipped as the initial backlog, or later pruned by
retention) is never downloaded again by the same subscription, across operator restarts,
scans being pruned and downloads being deleted. The ids are kept in the order they were
first seen, as gzip-compressed compact JSON under one binary key: 10 000 video ids of a
channel take about an eighth of a ConfigMap's 1 MiB (see the unit test), and the
ledger keeps the newest :data:`MAX_SEEN`, which the encoded form always fits.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["KEY", "MAX_SEEN", "Ledger", "decode", "encode"]

#: The ConfigMap's ``binaryData`` key.
KEY: Final = "seen.json.gz"
#: Most ids remembered; the oldest are forgotten first.
MAX_SEEN: Final = 50_000


class Ledger:
    """Video ids in the order first seen, with set lookups."""

    __slots__ = ("_ids", "_order")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._order: list[str] = []
        self._ids: set[str] = set()
        self.extend(ids)

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._ids

    def __len__(self) -> int:
        return len(self._order)

    def extend(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Add the ids not seen yet; the ones added, in order."""
        added: list[str] = []
        for video_id in ids:
            if video_id not in self._ids:
                self._ids.add(video_id)
                self._order.append(video_id)
                added.append(video_id)
        if len(self._order) > MAX_SEEN:
            for old in self._order[: len(self._order) - MAX_SEEN]:
                self._ids.discard(old)
            del self._order[: len(self._order) - MAX_SEEN]
        return tuple(added)

    def copy(self) -> Ledger:
        return Ledger(self._order)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._order)


def encode(ledger: Ledger) -> dict[str, str]:
    """``binaryData`` of the ledger's ConfigMap."""
    raw = json.dumps(list(ledger.ids), separators=(",", ":")).encode()
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    return {KEY: base64.b64encode(packed).decode()}


def decode(binary_data: Mapping[str, Any] | None) -> Ledger:
    """The ledger in ``binaryData``; empty when there is none or it cannot be read."""
    value = (binary_data or {}).get(KEY)
    if not isinstance(value, str):
        return Ledger()
    try:
        ids = json.loads(gzip.decompress(base64.b64decode(value)))
    except (ValueError, OSError, EOFError):
        return Ledger()
    if not isinstance(ids, list):
        return Ledger()
    return Ledger(str(i) for i in ids)
