"""The cleanup program: deletes a finished download's files from its volume.

Run as the command of the short Pod the operator starts for a VideoDownload with
``deletionPolicy: Delete`` (``python -m videodl.operator.cleanup``). It reads the paths
(relative to the volume's root) as a JSON list from ``VIDEODL_CLEANUP_PATHS`` and the
mount point from ``VIDEODL_CLEANUP_ROOT``, refuses any path that leaves the volume,
lexically or through a symlink, and deletes the rest. Files already gone count as deleted.
Exit code 0 when every safe path is gone, 1 otherwise, 2 for bad input.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
from collections.abc import Mapping, Sequence

from videodl.operator import podspec, removal

__all__ = ["main", "remove"]

PATHS_ENV = podspec.CLEANUP_PATHS_ENV
ROOT_ENV = podspec.CLEANUP_ROOT_ENV


def remove(root: pathlib.Path, paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Delete ``paths`` under ``root``; returns (deleted or absent, refused or failed)."""
    safe, refused = removal.split_paths(paths)
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


def main(environ: Mapping[str, str] | None = None) -> int:
    """Delete the listed files; print what happened; return the exit code."""
    env = os.environ if environ is None else environ
    try:
        paths = _paths(env)
    except ValueError as exc:
        print(f"cleanup: {exc}", file=sys.stderr)
        return 2
    root = pathlib.Path(env.get(ROOT_ENV, "/data"))
    done, problems = remove(root, paths)
    for path in done:
        print(f"deleted {path}")
    for problem in problems:
        print(f"not deleted: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
