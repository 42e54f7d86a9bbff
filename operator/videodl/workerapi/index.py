"""The indexer's contract with its Pod and the operator: environment, entries and chunks.

An indexer Pod enumerates a VideoPlaylist's sources with yt-dlp's flat extraction and
hands the entries back in the playlist's *index chunks*: ConfigMaps the operator created
empty, each holding at most :data:`CHUNK_ENTRIES` entries as gzip-compressed compact JSON
under the binary key :data:`CHUNK_KEY`. Every chunk also carries how many entries were
found in all (``found``), which may exceed what was recorded (at most :data:`HARD_CAP`).

The ConfigMaps the indexer may write are named in its environment and carry the
annotation :data:`ANNOTATION_WRITER` with the indexer Pod's name: the admission policy
lets a worker token bound to that Pod update exactly those, and only their data.

Pure: no I/O (the caller passes ``os.environ`` and writes the chunks).
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import Field, TypeAdapter, ValidationError

from videodl.api._base import StatusModel
from videodl.workerapi import environment
from videodl.workerapi.environment import InvalidEnvironmentError

__all__ = [
    "ANNOTATION_WRITER",
    "CHUNKS",
    "CHUNK_ENTRIES",
    "CHUNK_KEY",
    "HARD_CAP",
    "LIMIT",
    "NAME",
    "SOURCES",
    "TITLE_MAX",
    "Chunk",
    "Entry",
    "IndexJob",
    "chunk_count",
    "decode_chunk",
    "encode_chunk",
    "load",
    "split",
]

#: The playlist's sources as a JSON list of URLs (one for ``spec.url``, or ``spec.urls``).
SOURCES: Final = "VIDEODL_PLAYLIST_SOURCES"
#: What the operator found of each source's yt-dlp extractor: a JSON list, one
#: :class:`~videodl.workerapi.environment.ExtractorHint` text (or null) per source.
EXTRACTORS: Final = "VIDEODL_PLAYLIST_EXTRACTORS"
#: Name of the VideoPlaylist being indexed.
NAME: Final = "VIDEODL_PLAYLIST_NAME"
#: Comma-separated names of the index chunk ConfigMaps, in order.
CHUNKS: Final = "VIDEODL_INDEX_CHUNKS"
#: Most entries to record (the rest are only counted).
LIMIT: Final = "VIDEODL_INDEX_LIMIT"

#: Annotation of an index chunk: the indexer Pod that may write it.
ANNOTATION_WRITER: Final = "videodl.dev/index-writer"
#: ``binaryData`` key of a chunk: gzip-compressed JSON of :class:`Chunk`.
CHUNK_KEY: Final = "entries.json.gz"
#: Entries per chunk: 500 entries with URLs of 2048 characters stay below a ConfigMap's
#: 1 MiB even before compression.
CHUNK_ENTRIES: Final = 500
#: Most entries a playlist ever records (``spec.maxItems`` cannot exceed it).
HARD_CAP: Final = 5000
#: Longest title kept per entry; longer ones are cut.
TITLE_MAX: Final = 256


class Entry(StatusModel):
    """One video the indexer found: enough to select it and to download it."""

    #: 1-based position in the enumeration (the playlist index yt-dlp's ranges count).
    index: int = Field(ge=1)
    id: str = Field(min_length=1, max_length=512)
    url: str = Field(min_length=1, max_length=2048)
    title: str | None = Field(default=None, max_length=TITLE_MAX)
    duration: float | None = Field(default=None, ge=0)
    #: ``YYYYMMDD``, as yt-dlp's ``upload_date``.
    upload_date: str | None = Field(default=None, pattern=r"^[0-9]{8}$")


class Chunk(StatusModel):
    """The content of one index chunk."""

    found: int = Field(ge=0, description="Entries found in all (recorded or not).")
    entries: list[Entry] = Field(default_factory=list)


_CHUNK: Final = TypeAdapter(Chunk)


def chunk_count(limit: int) -> int:
    """How many chunks hold ``limit`` entries (at least one, which carries ``found``)."""
    return max(1, math.ceil(min(limit, HARD_CAP) / CHUNK_ENTRIES))


def split(entries: Sequence[Entry], *, found: int, chunks: int) -> list[Chunk]:
    """``entries`` in ``chunks`` chunks of at most :data:`CHUNK_ENTRIES`, in order."""
    if len(entries) > chunks * CHUNK_ENTRIES:
        msg = f"{len(entries)} entries do not fit {chunks} chunks of {CHUNK_ENTRIES}"
        raise ValueError(msg)
    return [
        Chunk(found=found, entries=list(entries[n * CHUNK_ENTRIES : (n + 1) * CHUNK_ENTRIES]))
        for n in range(chunks)
    ]


def encode_chunk(chunk: Chunk) -> str:
    """``chunk`` as the base64 value of :data:`CHUNK_KEY` in ``binaryData``."""
    raw = chunk.model_dump_json(by_alias=True, exclude_none=True).encode()
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode()


def decode_chunk(binary_data: Mapping[str, Any] | None) -> Chunk | None:
    """The chunk in a ConfigMap's ``binaryData``; None when it was never written."""
    value = (binary_data or {}).get(CHUNK_KEY)
    if not isinstance(value, str) or not value:
        return None
    try:
        document = json.loads(gzip.decompress(base64.b64decode(value)))
        return _CHUNK.validate_python(document)
    except (ValueError, OSError, EOFError, ValidationError) as exc:
        msg = f"index chunk cannot be read: {exc}"
        raise ValueError(msg) from None


@dataclasses.dataclass(frozen=True)
class IndexJob:
    """One indexer run, as its Pod describes it."""

    sources: tuple[str, ...]
    name: str
    namespace: str
    chunks: tuple[str, ...]
    limit: int
    tmp_dir: str
    termination_message_path: str
    allowed_networks: tuple[str, ...] = ()
    cookies_file: str | None = None
    #: One hint or None per source; empty when the operator passed none.
    extractors: tuple[environment.ExtractorHint | None, ...] = ()

    def extractor(self, position: int) -> environment.ExtractorHint | None:
        """The operator's hint for the source at ``position``, if it gave one."""
        return self.extractors[position] if position < len(self.extractors) else None


def encode_extractors(hints: Sequence[str | None]) -> str:
    """The value of :data:`EXTRACTORS` for one hint text (or None) per source."""
    return json.dumps(list(hints))


def _extractors(raw: str | None, sources: int) -> tuple[environment.ExtractorHint | None, ...]:
    # Only ever a shortcut: a list that cannot be read, or is not one per source, is no hint.
    try:
        document = json.loads(raw or "[]")
    except json.JSONDecodeError:
        return ()
    if not isinstance(document, list) or len(document) != sources:
        return ()
    return tuple(
        environment.ExtractorHint.parse(item) if isinstance(item, str) else None
        for item in document
    )


def _sources(raw: str | None) -> tuple[str, ...]:
    try:
        document = json.loads(raw or "")
    except json.JSONDecodeError:
        document = None
    if not isinstance(document, list) or not document:
        raise InvalidEnvironmentError(SOURCES, "must be a JSON list of URLs", bad_spec=True)
    if not all(isinstance(url, str) and url for url in document):
        raise InvalidEnvironmentError(SOURCES, "every source must be a URL", bad_spec=True)
    return tuple(document)


def load(environ: Mapping[str, str]) -> IndexJob:
    """Parse the indexer's environment; raises InvalidEnvironmentError naming the variable."""
    sources = _sources(environ.get(SOURCES))
    name = environ.get(NAME) or ""
    namespace = environ.get(environment.NAMESPACE) or ""
    if not name or not namespace:
        missing = NAME if not name else environment.NAMESPACE
        raise InvalidEnvironmentError(missing, "missing: the playlist being indexed")
    chunks = tuple(c for c in (environ.get(CHUNKS) or "").split(",") if c)
    if not chunks:
        raise InvalidEnvironmentError(CHUNKS, "missing: the ConfigMaps to write entries into")
    raw_limit = (environ.get(LIMIT) or str(HARD_CAP)).strip()
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= HARD_CAP:
        raise InvalidEnvironmentError(LIMIT, f"{raw_limit!r} is not a number from 1 to {HARD_CAP}")
    limit = int(raw_limit)
    if len(chunks) * CHUNK_ENTRIES < limit:
        raise InvalidEnvironmentError(CHUNKS, f"{len(chunks)} chunks cannot hold {limit} entries")
    try:
        networks = environment.parse_networks(environ.get(environment.ALLOWED_NETWORKS, ""))
    except ValueError as exc:
        raise InvalidEnvironmentError(environment.ALLOWED_NETWORKS, str(exc)) from None
    return IndexJob(
        sources=sources,
        name=name,
        namespace=namespace,
        chunks=chunks,
        limit=limit,
        tmp_dir=environ.get(environment.TMP_DIR) or environment.DEFAULT_TMP_DIR,
        termination_message_path=(
            environ.get(environment.TERMINATION_MESSAGE_PATH)
            or environment.DEFAULT_TERMINATION_MESSAGE_PATH
        ),
        allowed_networks=networks,
        cookies_file=environ.get(environment.COOKIES_FILE) or None,
        extractors=_extractors(environ.get(EXTRACTORS), len(sources)),
    )
