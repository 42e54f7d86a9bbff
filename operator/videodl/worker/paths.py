"""Keeping every written file inside the output directory.

:func:`check_template` refuses absolute templates and ``..`` segments before anything
runs (pure). :func:`confine` resolves a file name (following symlinks, so a link planted
in the volume cannot redirect a write) and refuses anything that lands outside the
output directory; the worker applies it to every name yt-dlp prepares and, through the
guard (:mod:`videodl.worker.guard`), to every path actually opened for writing, created,
renamed or removed while yt-dlp runs. yt-dlp sanitizes ``/`` in field values, but not a
value that is exactly ``..``, which is why a template check alone is not enough.
:func:`resolve` reads the file system only to follow symlinks.
"""

from __future__ import annotations

import os
import pathlib
import re

__all__ = [
    "OutputPathRefusedError",
    "check_template",
    "confine",
    "relative_to_volume",
    "resolve",
    "within",
]

_DOTDOT = re.compile(r"(^|[/\\])\.\.([/\\]|$)")


class OutputPathRefusedError(Exception):
    """A template or a prepared filename would write outside the output directory."""


def check_template(template: str) -> None:
    """Refuse a template that is absolute or climbs out with ``..``."""
    if not template.strip():
        msg = "spec.output.template is empty: set a yt-dlp template such as %(title)s.%(ext)s"
        raise OutputPathRefusedError(msg)
    if template.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", template):
        msg = (
            f"spec.output.template {template!r} is absolute: make it relative "
            "(files are written inside the output volume)"
        )
        raise OutputPathRefusedError(msg)
    if _DOTDOT.search(template):
        msg = (
            f"spec.output.template {template!r} contains a '..' segment: "
            "files must stay inside the output volume"
        )
        raise OutputPathRefusedError(msg)


def resolve(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> pathlib.Path:
    """``path`` made absolute (from the working directory) with every symlink followed.

    Raises OutputPathRefusedError for a name no file can have (a NUL byte in it).
    """
    text = os.fsdecode(path)
    if "\0" in text:
        msg = f"refusing to write {text!r}: a file name cannot contain a NUL byte"
        raise OutputPathRefusedError(msg)
    return pathlib.Path(os.path.realpath(text))


def within(resolved: pathlib.Path, root: pathlib.Path, *, allow_root: bool = False) -> bool:
    """Whether the resolved ``resolved`` lies below the resolved ``root`` (or is it)."""
    if resolved == root:
        return allow_root
    return resolved.is_relative_to(root)


def confine(filename: str | os.PathLike[str], output_dir: pathlib.Path) -> pathlib.Path:
    """``filename`` relative to ``output_dir``, after resolving symlinks.

    A relative ``filename`` is taken relative to ``output_dir``. Raises
    OutputPathRefusedError when the resolved path is not strictly inside the resolved
    output directory.
    """
    root = resolve(output_dir)
    candidate = pathlib.Path(os.fspath(filename))
    if not candidate.is_absolute():
        candidate = output_dir / candidate
    resolved = resolve(candidate)
    if not within(resolved, root):
        msg = (
            f"refusing to write {os.fspath(filename)!r}: it resolves to {str(resolved)!r}, "
            f"outside the output directory {str(root)!r} (check spec.output.template and "
            "symlinks in the volume)"
        )
        raise OutputPathRefusedError(msg)
    return resolved.relative_to(root)


def relative_to_volume(relative: pathlib.Path, sub_path: str | None) -> str:
    """A path relative to the output directory as a path relative to the volume's root."""
    parts = [part for part in (sub_path or "").split("/") if part not in ("", ".")]
    return "/".join([*parts, *relative.parts])
