"""The cleanup program: deletes a finished download's files from its volume.

Run as the command of the short Pod the operator starts for a VideoDownload with
``deletionPolicy: Delete`` (``python -m videodl.cleanup``). It reads the paths
(relative to the volume's root) as a JSON list from ``VIDEODL_CLEANUP_PATHS`` and the
mount point from ``VIDEODL_CLEANUP_ROOT``, refuses any path that leaves the volume,
lexically or through a symlink, and deletes the rest. Files already gone count as deleted.
With ``VIDEODL_CLEANUP_ARCHIVE`` it also drops the video's lines from the worker's
download archive, so downloading the same video again later is not skipped.
With ``VIDEODL_CLEANUP_S3=true`` the paths are ``s3://`` URIs, deleted from the bucket
the ``VIDEODL_OUTPUT_S3_*`` variables name (:mod:`videodl.cleanup.objects`).
Exit code 0 when every safe path is gone, 1 otherwise, 2 for bad input.
"""

from __future__ import annotations

import fcntl
import json
import os
import pathlib
import sys
from collections.abc import Mapping, Sequence

from videodl.cleanup import objects
from videodl.workerapi import cleanup as contract
from videodl.workerapi.cleanup import ARCHIVE_ENV, PATHS_ENV, ROOT_ENV, S3_ENV

__all__ = ["main", "remove"]


def remove(root: pathlib.Path, paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Delete ``paths`` under ``root``; returns (deleted or absent, refused or failed)."""
    safe, refused = contract.split_paths(paths)
    done: list[str] = []
    problems = [f"{path}: outside the volume" for path in refused]
    real_root = root.resolve()
    for path in safe:
        target = root / path
        # The parent directory is resolved (symlinks followed); the file itself is not, so a
        # symlink placed where a file was is removed rather than followed.
        parent = target.parent.resolve()
        if parent != real_root and real_root not in parent.parents:
            problems.append(f"{path}: its directory leads outside the volume")
            continue
        final = parent / target.name
        try:
            if final.is_dir() and not final.is_symlink():
                problems.append(f"{path}: is a directory, not a file")
                continue
            final.unlink(missing_ok=True)
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
            continue
        done.append(path)
    return done, problems


def forget(root: pathlib.Path, archive: str, entries: Sequence[str]) -> int:
    """Drop ``entries`` from the download archive ``archive`` (relative to ``root``).

    The file is rewritten under the same exclusive lock the worker takes to append, so no
    concurrent record is lost. Returns the number of lines dropped.
    """
    safe = contract.normalise(archive)
    if safe is None:
        return 0
    path = root / safe
    if (
        path.parent.resolve() != root.resolve()
        and root.resolve() not in path.parent.resolve().parents
    ):
        return 0
    try:
        handle = path.open("r+", encoding="utf-8")
    except FileNotFoundError:
        return 0
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        lines = handle.read().splitlines()
        kept = [line for line in lines if line.strip() not in set(entries)]
        if len(kept) != len(lines):
            handle.seek(0)
            handle.truncate()
            handle.write("".join(f"{line}\n" for line in kept))
        return len(lines) - len(kept)


def _paths(environ: Mapping[str, str]) -> list[str]:
    raw = environ.get(PATHS_ENV)
    if raw is None:
        msg = f"{PATHS_ENV} is not set: give the paths to delete as a JSON list"
        raise ValueError(msg)
    value = json.loads(raw)
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        msg = f"{PATHS_ENV} must be a JSON list of strings, got {raw[:200]!r}"
        raise ValueError(msg)
    return value


def _archive(environ: Mapping[str, str]) -> tuple[str, list[str]] | None:
    raw = environ.get(ARCHIVE_ENV)
    if not raw:
        return None
    value = json.loads(raw)
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("path"), str)
        or not all(isinstance(e, str) for e in value.get("entries", []))
    ):
        msg = f'{ARCHIVE_ENV} must be {{"path": "...", "entries": ["..."]}}, got {raw[:200]!r}'
        raise ValueError(msg)
    return value["path"], list(value.get("entries", []))


def main(environ: Mapping[str, str] | None = None) -> int:
    """Delete the listed files; print what happened; return the exit code."""
    env = os.environ if environ is None else environ
    try:
        paths = _paths(env)
        archive = _archive(env)
    except ValueError as exc:
        print(f"cleanup: {exc}", file=sys.stderr)
        return 2
    if env.get(S3_ENV) == "true":
        try:
            done, problems = objects.remove(env, paths)
        except ValueError as exc:
            print(f"cleanup: {exc}", file=sys.stderr)
            return 2
        archive = None
    else:
        done, problems = remove(pathlib.Path(env.get(ROOT_ENV, "/data")), paths)
    root = pathlib.Path(env.get(ROOT_ENV, "/data"))
    if archive is not None:
        try:
            dropped = forget(root, archive[0], archive[1])
        except OSError as exc:
            problems.append(f"{archive[0]}: {exc.strerror or exc}")
        else:
            print(f"dropped {dropped} line(s) from {archive[0]}")
    for path in done:
        print(f"deleted {path}")
    for problem in problems:
        print(f"not deleted: {problem}", file=sys.stderr)
    return 1 if problems else 0
