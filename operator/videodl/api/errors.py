"""Readable validation errors: each problem names the field (as in the manifest) and the fix.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = ["InvalidVideoDownloadError", "describe_errors", "field_path"]

_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": (
        "unknown field: remove it or fix its spelling "
        "(`kubectl explain videodownload.spec` lists the fields)"
    ),
}


class InvalidVideoDownloadError(ValueError):
    """A VideoDownload (or part of one) that breaks the API's rules.

    ``problems`` holds one line per problem, each starting with the field path.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def field_path(loc: Iterable[int | str], prefix: str = "") -> str:
    """``("retry", "backoff", "factor")`` as ``spec.retry.backoff.factor`` (with prefix)."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


def _describe(error: ErrorDetails, prefix: str) -> str:
    path = field_path(error["loc"], prefix)
    message = _MESSAGES.get(error["type"], error["msg"])
    # Rule messages already start with the field they are about.
    if path and message.startswith(path):
        return message
    return f"{path}: {message}" if path else message


def describe_errors(exc: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem in ``exc``, with JSON field paths under ``prefix``."""
    return [_describe(error, prefix) for error in exc.errors(include_url=False)]
