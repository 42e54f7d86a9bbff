"""The result of a successful attempt: what was downloaded and which files it wrote.

Files are listed media first, then side files (subtitles, thumbnail, info.json), each
with its path relative to the volume, its size and its SHA-256. Only files inside the
output directory are listed; :func:`build` takes the digests taken while downloading
(:mod:`videodl.worker.hashing`) and reads the other files to hash them.
"""

from __future__ import annotations

import hashlib
import pathlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from videodl.api.status import ResultFile
from videodl.worker import paths
from videodl.worker.hashing import Hashes
from videodl.workerapi.termination import SuccessMessage

__all__ = ["build", "file_entry", "media_files", "side_files", "videos"]

_CHUNK = 1024 * 1024


def videos(info: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The video itself, or every entry of a playlist (nested playlists flattened)."""
    entries = info.get("entries")
    if entries is None:
        yield info
        return
    for entry in entries:
        if isinstance(entry, Mapping):
            yield from videos(entry)


def media_files(info: Mapping[str, Any]) -> list[str]:
    """Final media file paths yt-dlp reports for a video or every playlist entry."""
    found = []
    for video in videos(info):
        for download in video.get("requested_downloads") or ():
            if download.get("filepath"):
                found.append(str(download["filepath"]))
    return found


def side_files(info: Mapping[str, Any]) -> list[str]:
    """Info JSON, subtitle and thumbnail paths yt-dlp reports (they may be gone since)."""
    found = []
    for video in videos(info):
        for download in video.get("requested_downloads") or ():
            if download.get("infojson_filename"):
                found.append(str(download["infojson_filename"]))
        if video.get("infojson_filename"):
            found.append(str(video["infojson_filename"]))
        for subtitle in (video.get("requested_subtitles") or {}).values():
            if isinstance(subtitle, Mapping) and subtitle.get("filepath"):
                found.append(str(subtitle["filepath"]))
        for thumbnail in video.get("thumbnails") or ():
            if isinstance(thumbnail, Mapping) and thumbnail.get("filepath"):
                found.append(str(thumbnail["filepath"]))
    return found


def file_entry(
    path: pathlib.Path,
    output_dir: pathlib.Path,
    sub_path: str | None,
    hashes: Hashes | None = None,
) -> ResultFile:
    """Size and SHA-256 of ``path``, named relative to the volume.

    The digest taken while the file was downloaded (``hashes``) is used when the file is
    still the one that was hashed; otherwise the file is read now.
    """
    relative = paths.confine(path, output_dir)
    known = hashes.digest_of(path) if hashes is not None else None
    if known is not None:
        size, sha256 = known.size, known.sha256
    else:
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as handle:
            while block := handle.read(_CHUNK):
                digest.update(block)
                size += len(block)
        sha256 = digest.hexdigest()
    return ResultFile(
        path=paths.relative_to_volume(relative, sub_path),
        size_bytes=size,
        sha256=sha256,
    )


def _resolution(info: Mapping[str, Any]) -> str | None:
    if info.get("vcodec") == "none" and info.get("acodec") not in (None, "none"):
        return "audio only"
    if info.get("resolution"):
        return str(info["resolution"])
    width, height = info.get("width"), info.get("height")
    if width and height:
        return f"{width}x{height}"
    return None


def _text(info: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = info.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def build(
    info: Mapping[str, Any],
    candidates: Iterable[str],
    *,
    output_dir: pathlib.Path,
    sub_path: str | None,
    skipped: bool = False,
    hashes: Hashes | None = None,
) -> SuccessMessage:
    """The result for ``info``: files among ``candidates`` that exist, deduplicated."""
    files: list[ResultFile] = []
    seen: set[pathlib.Path] = set()
    for candidate in candidates:
        path = pathlib.Path(candidate)
        if not path.is_absolute():
            path = output_dir / path
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        files.append(file_entry(path, output_dir, sub_path, hashes))
    duration = info.get("duration")
    return SuccessMessage(
        video_id=_text(info, "id"),
        extractor=_text(info, "extractor", "extractor_key"),
        title=_text(info, "title"),
        uploader=_text(info, "uploader", "channel", "uploader_id"),
        duration_seconds=float(duration)
        if isinstance(duration, int | float) and duration >= 0
        else None,
        format_id=_text(info, "format_id"),
        resolution=_resolution(info),
        files=files,
        skipped=skipped,
    )
