"""Names, labels and annotations of what a VideoPlaylist owns. Pure: no I/O.

A child's name is a pure function of the playlist's name and the entry's video id
(``<playlist>-<10 hex of the id's hash>``), so an operator that restarts half-way through
creating children creates exactly the missing ones: a name can exist only once.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

__all__ = [
    "ANNOTATION_REINDEX",
    "ANNOTATION_VIDEO_ID",
    "COMPONENT_INDEX",
    "COMPONENT_INDEXER",
    "LABEL_PLAYLIST",
    "LABEL_VIDEO",
    "child_name",
    "chunk_names",
    "indexer_pod_name",
    "joined",
    "playlist_label",
    "video_label",
]

#: Children, index chunks and indexer Pods carry the playlist's name (or uid) here.
LABEL_PLAYLIST: Final = "videodl.dev/playlist"
#: A child's video id, or its hash when the id is not a valid label value.
LABEL_VIDEO: Final = "videodl.dev/video"
#: A child's video id as the site gives it.
ANNOTATION_VIDEO_ID: Final = "videodl.dev/video-id"
#: Set to a new value (e.g. a timestamp) to enumerate the sources again.
ANNOTATION_REINDEX: Final = "videodl.dev/reindex"
COMPONENT_INDEXER: Final = "indexer"
COMPONENT_INDEX: Final = "index"

_NAME_MAX: Final = 253
_POD_NAME_MAX: Final = 63
_LABEL_MAX: Final = 63
_LABEL_VALUE: Final = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_CHILD_HASH: Final = 10


def _hash(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def joined(head: str, tail: str, limit: int) -> str:
    """``head-tail`` in at most ``limit`` characters, ``head`` cut short to fit."""
    return f"{head[: limit - len(tail) - 1].rstrip('-.')}-{tail}"


def child_name(playlist: str, video_id: str) -> str:
    """The child VideoDownload of ``video_id``: ``<playlist>-<hash>``, at most 63 characters.

    63 rather than 253 keeps the name a valid label value and leaves the worker Pod's
    name (derived from it) readable.
    """
    return joined(playlist, _hash(video_id, _CHILD_HASH), _POD_NAME_MAX)


def playlist_label(name: str, uid: str) -> str:
    """Value of ``videodl.dev/playlist``: the name, or the uid when the name is too long."""
    return name if len(name) <= _LABEL_MAX else uid


def video_label(video_id: str) -> str:
    """Value of ``videodl.dev/video``: the id if it is a valid label value, else its hash."""
    if len(video_id) <= _LABEL_MAX and _LABEL_VALUE.fullmatch(video_id):
        return video_id
    return _hash(video_id, 40)


def chunk_names(playlist: str, uid: str, count: int) -> tuple[str, ...]:
    """The index chunk ConfigMaps: ``<playlist>-<hash of uid>-index-<n>``."""
    tail = _hash(uid, 6)
    return tuple(joined(playlist, f"{tail}-index-{n}", _NAME_MAX) for n in range(count))


def indexer_pod_name(playlist: str, uid: str, run: int, attempt: int) -> str:
    """The indexer Pod of enumeration ``run``, attempt ``attempt``."""
    return joined(playlist, f"{_hash(uid, 6)}-i{run}a{attempt}", _POD_NAME_MAX)
