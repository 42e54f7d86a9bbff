"""Failure classification: an exception from a download attempt -> class, reason, message.

The class decides what the operator does: ``Transient`` is retried with backoff,
``Throttled`` is retried later and feeds the site's circuit breaker, ``Permanent`` fails
the download at once. Classification walks the whole exception chain (yt-dlp wraps the
original error in ``DownloadError.exc_info``, ``ExtractorError.cause`` and Python's own
``__cause__``/``__context__``) and decides by exception type, HTTP status and message.
yt-dlp's ``expected`` flag is deliberately ignored: yt-dlp sets it for every network
error, so it says nothing about whether a retry can succeed.

No I/O and no clock: the verdict depends on the exception alone. Not one of the pure
modules all the same: it needs yt-dlp's exception types, and importing them loads yt-dlp.
"""

from __future__ import annotations

import dataclasses
import errno
import http.cookiejar
import re
from collections.abc import Iterator

from yt_dlp.networking.exceptions import HTTPError, IncompleteRead, SSLError, TransportError
from yt_dlp.utils import (
    ContentTooShortError,
    DownloadError,
    ExtractorError,
    GeoRestrictedError,
    PostProcessingError,
    UnavailableVideoError,
    UnsupportedError,
    YoutubeDLError,
)

from videodl.api.status import FailureClass
from videodl.worker.egress import EgressRefusedError
from videodl.worker.paths import OutputPathRefusedError
from videodl.worker.s3 import ObjectStoreError
from videodl.worker.signals import Terminated
from videodl.workerapi.environment import InvalidEnvironmentError
from videodl.workerapi.exitcodes import ExitCode, for_failure_class

__all__ = ["Classification", "Reason", "classify", "clean_message"]


class Reason:
    """Reason codes (CamelCase, as Kubernetes reasons) the worker reports."""

    TERMINATED = "Terminated"
    INTERNAL_ERROR = "InternalError"
    DOWNLOAD_ERROR = "DownloadError"
    CONNECTION_ERROR = "ConnectionError"
    INCOMPLETE_READ = "IncompleteRead"
    TIMEOUT = "Timeout"
    TLS_ERROR = "TLSError"
    STORAGE_FULL = "StorageFull"
    STORAGE_ERROR = "StorageError"
    INVALID_COOKIES = "InvalidCookies"
    BOT_CHECK = "BotCheck"
    CAPTCHA = "Captcha"
    TRY_AGAIN_LATER = "TryAgainLater"
    UNSUPPORTED_URL = "UnsupportedURL"
    PRIVATE_VIDEO = "PrivateVideo"
    MEMBERS_ONLY = "MembersOnly"
    AGE_RESTRICTED = "AgeRestricted"
    LOGIN_REQUIRED = "LoginRequired"
    VIDEO_UNAVAILABLE = "VideoUnavailable"
    GEO_RESTRICTED = "GeoRestricted"
    FORMAT_UNAVAILABLE = "FormatUnavailable"
    OUTPUT_PATH_REFUSED = "OutputPathRefused"
    FILE_NAME_TOO_LONG = "FileNameTooLong"
    EGRESS_REFUSED = "EgressRefused"
    OUTPUT_NOT_WRITABLE = "OutputNotWritable"
    POST_PROCESSING_FAILED = "PostProcessingFailed"
    INVALID_SPEC = "InvalidSpec"
    INVALID_ENVIRONMENT = "InvalidEnvironment"

    @staticmethod
    def http(status: int) -> str:
        """``HTTPError404`` and friends."""
        return f"HTTPError{status}"


@dataclasses.dataclass(frozen=True)
class Classification:
    """The verdict on one failed attempt."""

    failure_class: FailureClass
    reason: str
    message: str
    #: An unexpected error in the worker itself (a bug): retried, but with its own code.
    internal: bool = False

    @property
    def exit_code(self) -> ExitCode:
        """The process exit code for this verdict."""
        return ExitCode.INTERNAL_ERROR if self.internal else for_failure_class(self.failure_class)


_T, _R, _P = FailureClass.TRANSIENT, FailureClass.THROTTLED, FailureClass.PERMANENT

# Messages that mean "the site is limiting you": checked before HTTP statuses, because a
# bot check often arrives with a 403 that would otherwise read as permanent.
_THROTTLE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"not a bot|sign in to confirm you.re not"), Reason.BOT_CHECK),
    (re.compile(r"captcha"), Reason.CAPTCHA),
    (re.compile(r"try again later|rate.?limited"), Reason.TRY_AGAIN_LATER),
)

_PERMANENT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"unsupported url|is not a valid url"), Reason.UNSUPPORTED_URL),
    (re.compile(r"private video|video is private|this video is private"), Reason.PRIVATE_VIDEO),
    (re.compile(r"members.only|join this channel|available to this channel.s members"),
     Reason.MEMBERS_ONLY),
    (re.compile(r"confirm your age|age.restricted|inappropriate for some users"),
     Reason.AGE_RESTRICTED),
    (re.compile(r"not available in your country|geo.?restrict|from your location"),
     Reason.GEO_RESTRICTED),
    (re.compile(r"requested format (is )?not available|no video formats found"),
     Reason.FORMAT_UNAVAILABLE),
    (re.compile(r"video unavailable|has been removed|no longer available"
                r"|(video|content) does not exist|account .* terminated|copyright claim"),
     Reason.VIDEO_UNAVAILABLE),
    (re.compile(r"login required|requires? (authentication|login)|use --cookies"
                r"|sign in to view"), Reason.LOGIN_REQUIRED),
)  # fmt: skip

_TRANSIENT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"bytes read, \d+ more expected|content too short|downloaded \d+ bytes, "
                r"expected"), Reason.INCOMPLETE_READ),
    (re.compile(r"timed? ?out"), Reason.TIMEOUT),
    (re.compile(r"ssl|certificate"), Reason.TLS_ERROR),
    (re.compile(r"connection (reset|refused|aborted)|remote end closed|broken pipe"
                r"|name resolution|name or service not known|network is unreachable"
                r"|giving up after \d+ retries"), Reason.CONNECTION_ERROR),
)  # fmt: skip

_HTTP_STATUS_IN_TEXT = re.compile(r"http error (\d{3})")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NO_SPACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception behind it, outermost first, each once."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        behind: list[BaseException | None] = []
        if isinstance(current, DownloadError | ExtractorError) and current.exc_info:
            behind.append(current.exc_info[1])
        # ExtractorError and yt-dlp's network errors keep the original in ``cause``.
        cause = getattr(current, "cause", None)
        behind.append(cause if isinstance(cause, BaseException) else None)
        behind += [current.__cause__, current.__context__]
        pending += [b for b in behind if b is not None]


def clean_message(text: str) -> str:
    """yt-dlp's message without the ``ERROR:`` prefix, colours and carriage returns."""
    text = _ANSI.sub("", text).replace("\r", "").strip()
    return text.removeprefix("ERROR:").strip()


def _message(chain: list[BaseException]) -> str:
    # The outermost yt-dlp error carries the most context ("[generic] id: ... (caused by").
    for exc in chain:
        if isinstance(exc, YoutubeDLError) and str(exc):
            return clean_message(str(exc))
    first = chain[0]
    return clean_message(str(first)) or type(first).__name__


def _first_match(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str | None:
    return next((reason for pattern, reason in patterns if pattern.search(text)), None)


def _http_status(chain: list[BaseException], text: str) -> int | None:
    for exc in chain:
        if isinstance(exc, HTTPError):
            return int(exc.status)
    found = _HTTP_STATUS_IN_TEXT.search(text)
    return int(found.group(1)) if found else None


def _by_http_status(status: int, message: str) -> Classification | None:
    if status == 429:
        return Classification(_R, Reason.http(status), message)
    if status >= 500 or status == 408:
        return Classification(_T, Reason.http(status), message)
    if status >= 400:
        return Classification(_P, Reason.http(status), message)
    return None


def _by_os_error(error: OSError, message: str) -> Classification:
    # A cookies file that is not in Netscape format fails the same way on every attempt.
    if isinstance(error, http.cookiejar.LoadError):
        return Classification(_P, Reason.INVALID_COOKIES, message)
    # The template makes a name the file system cannot hold; every attempt would.
    if error.errno == errno.ENAMETOOLONG:
        hint = "; cap long fields in spec.output.template, e.g. %(title).200B"
        return Classification(_P, Reason.FILE_NAME_TOO_LONG, message + hint)
    if error.errno in _NO_SPACE_ERRNOS:
        return Classification(_T, Reason.STORAGE_FULL, message)
    if error.errno in _READ_ONLY_ERRNOS:
        return Classification(_P, Reason.OUTPUT_NOT_WRITABLE, message)
    return Classification(_T, Reason.STORAGE_ERROR, message)


def _own_errors(chain: list[BaseException]) -> Classification | None:
    """Errors the worker raises itself, which need no guessing."""
    for exc in chain:
        if isinstance(exc, Terminated | KeyboardInterrupt):
            return Classification(_T, Reason.TERMINATED, f"attempt {exc or 'interrupted'}")
        if isinstance(exc, OutputPathRefusedError):
            return Classification(_P, Reason.OUTPUT_PATH_REFUSED, str(exc))
        if isinstance(exc, EgressRefusedError):
            return Classification(_P, Reason.EGRESS_REFUSED, str(exc))
        if isinstance(exc, InvalidEnvironmentError):
            reason = Reason.INVALID_SPEC if exc.bad_spec else Reason.INVALID_ENVIRONMENT
            return Classification(_P, reason, str(exc))
        # The bucket's failures have reasons of their own, which the breaker ignores.
        if isinstance(exc, ObjectStoreError):
            return Classification(exc.failure_class, exc.reason, str(exc))
    return None


# Exception types that settle the class on their own, in order of precedence.
_TYPE_RULES: tuple[tuple[tuple[type[BaseException], ...], FailureClass, str], ...] = (
    ((GeoRestrictedError,), _P, Reason.GEO_RESTRICTED),
    ((UnsupportedError,), _P, Reason.UNSUPPORTED_URL),
    ((IncompleteRead, ContentTooShortError), _T, Reason.INCOMPLETE_READ),
    ((SSLError,), _T, Reason.TLS_ERROR),
    ((TimeoutError,), _T, Reason.TIMEOUT),
    ((TransportError, ConnectionError), _T, Reason.CONNECTION_ERROR),
)
# Checked after the OSErrors they may wrap.
_LATE_TYPE_RULES: tuple[tuple[tuple[type[BaseException], ...], FailureClass, str], ...] = (
    # Despite its name it means "requested format unavailable", not a removed video.
    ((UnavailableVideoError,), _P, Reason.FORMAT_UNAVAILABLE),
    ((PostProcessingError,), _P, Reason.POST_PROCESSING_FAILED),
)


def _by_type(chain: list[BaseException], message: str) -> Classification | None:
    for types, failure_class, reason in _TYPE_RULES:
        if any(isinstance(exc, types) for exc in chain):
            return Classification(failure_class, reason, message)
    # UnavailableVideoError wraps OSErrors from writing (disk full, read-only volume).
    os_error = next((exc for exc in chain if isinstance(exc, OSError)), None)
    if os_error is not None:
        return _by_os_error(os_error, message)
    for types, failure_class, reason in _LATE_TYPE_RULES:
        if any(isinstance(exc, types) for exc in chain):
            return Classification(failure_class, reason, message)
    return None


def _by_text(text: str, message: str) -> Classification | None:
    for patterns, failure_class in ((_PERMANENT_PATTERNS, _P), (_TRANSIENT_PATTERNS, _T)):
        reason = _first_match(patterns, text)
        if reason is not None:
            return Classification(failure_class, reason, message)
    return None


def _fallback(chain: list[BaseException], message: str) -> Classification:
    if any(isinstance(e, YoutubeDLError) for e in chain):
        # Unrecognised yt-dlp errors are retried: the attempt limit bounds the cost of a
        # wrong guess, while a wrong "permanent" would give up on a download for good.
        return Classification(_T, Reason.DOWNLOAD_ERROR, message)
    first = chain[0]
    detail = f"{type(first).__name__}: {clean_message(str(first))}".rstrip(": ")
    return Classification(_T, Reason.INTERNAL_ERROR, detail, internal=True)


def classify(exc: BaseException) -> Classification:
    """Classify the exception that ended a download attempt.

    Precedence: the worker's own errors; throttling messages (a bot check may come as a
    403); the HTTP status; exception types; permanent, then transient message patterns;
    any other yt-dlp error is Transient; anything else is an internal error.
    """
    chain = list(_chain(exc))
    own = _own_errors(chain)
    if own is not None:
        return own
    message = _message(chain)
    text = " | ".join(clean_message(str(e)) for e in chain).lower()
    throttled = _first_match(_THROTTLE_PATTERNS, text)
    if throttled is not None:
        return Classification(_R, throttled, message)
    status = _http_status(chain, text)
    verdict = _by_http_status(status, message) if status is not None else None
    return (
        verdict or _by_type(chain, message) or _by_text(text, message) or _fallback(chain, message)
    )
