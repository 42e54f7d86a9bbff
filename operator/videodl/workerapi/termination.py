"""The worker's termination message: its result or its failure, as one JSON object.

Kubernetes keeps at most 4096 bytes of a container's termination message, so
:func:`render` shrinks a message until it fits (shortening texts, then leaving out side
files) and always yields valid JSON. The operator reads the message back with
:func:`parse`, so both sides share these models. Pure: no I/O.

A success is the API's ``DownloadResult`` (camelCase) plus ``skipped`` (the archive
already recorded the video) and ``omittedFiles`` (files left out to fit); a failure is the
API's ``Failure``: ``class``, ``reason``, ``message``, ``exitCode``, ``time``.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Final

from pydantic import Discriminator, Field, Tag, TypeAdapter, ValidationError

from videodl.api.status import DownloadResult, Failure, FailureClass

__all__ = [
    "MAX_BYTES",
    "FailureMessage",
    "InvalidTerminationMessageError",
    "SuccessMessage",
    "TerminationMessage",
    "parse",
    "render",
]

#: What the kubelet keeps of a termination message.
MAX_BYTES: Final = 4096
_ELLIPSIS = "…"
_SHORT_TEXT = 200
_SHORTEST_TEXT = 64


class SuccessMessage(DownloadResult):
    """What the worker downloaded (or found already downloaded)."""

    omitted_files: int = Field(
        default=0, ge=0, description="Side files left out of `files` to fit the message."
    )


class FailureMessage(Failure):
    """Why the attempt failed, with the worker's exit code."""

    @classmethod
    def create(
        cls,
        *,
        failure_class: FailureClass,
        reason: str,
        message: str,
        exit_code: int,
        time: datetime.datetime | None = None,
    ) -> FailureMessage:
        """Build one by field name (``class`` is a keyword in Python)."""
        return cls.model_validate(
            {
                "class": failure_class,
                "reason": reason,
                "message": message,
                "exitCode": exit_code,
                "time": time,
            }
        )


def _kind(value: Any) -> str:
    if isinstance(value, FailureMessage):
        return "failure"
    if isinstance(value, SuccessMessage):
        return "success"
    return "failure" if isinstance(value, dict) and "class" in value else "success"


TerminationMessage = Annotated[
    Annotated[SuccessMessage, Tag("success")] | Annotated[FailureMessage, Tag("failure")],
    Discriminator(_kind),
]
_ADAPTER: TypeAdapter[SuccessMessage | FailureMessage] = TypeAdapter(TerminationMessage)


class InvalidTerminationMessageError(ValueError):
    """A termination message that is not one the worker writes."""


def parse(text: str | bytes) -> SuccessMessage | FailureMessage:
    """Read a termination message; raises InvalidTerminationMessageError when malformed."""
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'message'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        msg = f"not a videodl worker termination message: {problems}"
        raise InvalidTerminationMessageError(msg) from None


def _dump(message: SuccessMessage | FailureMessage) -> str:
    return message.model_dump_json(by_alias=True, exclude_none=True, exclude_defaults=True)


def _fits(message: SuccessMessage | FailureMessage, limit: int) -> bool:
    return len(_dump(message).encode()) <= limit


def _shorten(text: str | None, length: int) -> str | None:
    if text is None or len(text) <= length:
        return text
    if length <= 0:
        return ""
    return text[: length - 1] + _ELLIPSIS


def _longest_fitting_message(message: FailureMessage, limit: int) -> FailureMessage:
    # Binary search on characters kept: escaping makes byte length non-linear in them.
    text = message.message
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(message.model_copy(update={"message": _shorten(text, middle)}), limit):
            low = middle
        else:
            high = middle - 1
    return message.model_copy(update={"message": _shorten(text, low) or ""})


def _fit_failure(message: FailureMessage, limit: int) -> FailureMessage:
    fitted = _longest_fitting_message(message, limit)
    if _fits(fitted, limit):
        return fitted
    # Only an absurd reason can still be too long; keep the class and the exit code.
    return fitted.model_copy(update={"reason": "MessageTooLong", "message": ""})


_TEXT_FIELDS = ("title", "uploader", "video_id", "extractor", "format_id", "resolution")


def _fit_success(message: SuccessMessage, limit: int) -> SuccessMessage:
    shorter = message.model_copy(
        update={
            "title": _shorten(message.title, _SHORT_TEXT),
            "uploader": _shorten(message.uploader, _SHORT_TEXT),
        }
    )
    if _fits(shorter, limit):
        return shorter
    # Keep the media file (first) and as many side files as fit, in order.
    files = list(shorter.files)
    candidate = shorter
    while files:
        files.pop()
        candidate = shorter.model_copy(
            update={
                "files": files,
                "omitted_files": message.omitted_files + len(message.files) - len(files),
            }
        )
        if _fits(candidate, limit):
            return candidate
    shortest = candidate.model_copy(
        update={name: _shorten(getattr(message, name), _SHORTEST_TEXT) for name in _TEXT_FIELDS}
    )
    if _fits(shortest, limit):
        return shortest
    return shortest.model_copy(update=dict.fromkeys(_TEXT_FIELDS))


def render(message: SuccessMessage | FailureMessage, *, limit: int = MAX_BYTES) -> str:
    """``message`` as JSON of at most ``limit`` UTF-8 bytes (shrunk if needed)."""
    if _fits(message, limit):
        return _dump(message)
    if isinstance(message, FailureMessage):
        return _dump(_fit_failure(message, limit))
    return _dump(_fit_success(message, limit))
