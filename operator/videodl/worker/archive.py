"""The download archive: which videos were downloaded into an output directory.

yt-dlp accepts any set-like object as ``download_archive``; this one is backed by the
same line format yt-dlp writes (``<extractor> <id>``), kept in the output directory, and
appended to under a lock because several workers may share a directory. With
``check=False`` (the spec's ``force``) nothing counts as downloaded, but new downloads
are still recorded. It also remembers which lookups hit, so the worker can report a
skipped download.
"""

from __future__ import annotations

import fcntl
import pathlib

__all__ = ["DownloadArchive"]


class DownloadArchive:
    """A set of archive ids over a file; pass it as yt-dlp's ``download_archive``."""

    def __init__(self, path: pathlib.Path, *, check: bool = True) -> None:
        self.path = path
        self.check = check
        self.hits: list[str] = []
        self._ids: set[str] = set()
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)
                self._ids = {line.strip() for line in handle if line.strip()}

    def __contains__(self, archive_id: object) -> bool:
        if not self.check or archive_id not in self._ids:
            return False
        self.hits.append(str(archive_id))
        return True

    def __bool__(self) -> bool:
        # yt-dlp skips the lookup entirely for an empty archive; always look.
        return True

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, archive_id: str) -> None:
        """Record a finished download (called by yt-dlp)."""
        if archive_id in self._ids:
            return
        with self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(archive_id + "\n")
        self._ids.add(archive_id)
