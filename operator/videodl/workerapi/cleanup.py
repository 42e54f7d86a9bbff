"""The cleanup Pod's contract: its environment, the download archive, the paths it may delete.

Only relative paths that stay inside the volume may be deleted.

Paths in ``status.result.files`` are relative to the volume's root. Status is written by the
operator and by workers, so the cleanup still refuses any path that is absolute, climbs out
with ``..`` or is empty. This is the lexical half of the check; the cleanup program also
resolves symlinks on the volume before deleting (:mod:`videodl.cleanup.program`). Pure:
no I/O.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Final

__all__ = [
    "ARCHIVE_ENV",
    "ARCHIVE_FILE_NAME",
    "PATHS_ENV",
    "ROOT_ENV",
    "S3_ENV",
    "normalise",
    "split_paths",
]

#: The download archive the worker keeps, one per output directory (the spec's subPath).
ARCHIVE_FILE_NAME: Final = ".videodl-archive.txt"
#: JSON list of paths (relative to the volume's root) the cleanup Pod deletes.
PATHS_ENV: Final = "VIDEODL_CLEANUP_PATHS"
#: Where the cleanup Pod mounts the claim's root.
ROOT_ENV: Final = "VIDEODL_CLEANUP_ROOT"
#: JSON ``{"path": ..., "entries": [...]}``: download-archive lines the cleanup Pod drops.
ARCHIVE_ENV: Final = "VIDEODL_CLEANUP_ARCHIVE"
#: ``true`` when the paths are ``s3://`` URIs in the bucket ``VIDEODL_OUTPUT_S3_*`` names.
S3_ENV: Final = "VIDEODL_CLEANUP_S3"


def normalise(path: str) -> str | None:
    """``path`` normalised, or None when it is not a relative path inside the volume."""
    if not path or "\x00" in path or path.startswith(("/", "\\")):
        return None
    normal = posixpath.normpath(path)
    if normal in (".", "..") or normal.startswith("../") or normal.startswith("/"):
        return None
    if any(part == ".." for part in path.split("/")):
        return None
    return normal


def split_paths(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(safe normalised paths without duplicates, refused paths as given)."""
    safe: list[str] = []
    refused: list[str] = []
    for path in paths:
        normal = normalise(path)
        if normal is None:
            refused.append(path)
        elif normal not in safe:
            safe.append(normal)
    return safe, refused
