"""Tests for videodl.worker.classify."""

from __future__ import annotations

import errno
import io
import re
import signal
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yt_dlp.networking.common import Response
from yt_dlp.networking.exceptions import HTTPError, IncompleteRead, SSLError, TransportError
from yt_dlp.utils import (
    ContentTooShortError,
    DownloadError,
    ExtractorError,
    GeoRestrictedError,
    PostProcessingError,
    UnavailableVideoError,
    UnsupportedError,
)

from videodl.api.status import REASON_PATTERN, FailureClass
from videodl.worker.classify import Reason, classify, clean_message
from videodl.worker.egress import EgressRefusedError
from videodl.worker.paths import OutputPathRefusedError
from videodl.worker.signals import Terminated
from videodl.workerapi.environment import InvalidEnvironmentError
from videodl.workerapi.exitcodes import ExitCode

T, R, P = FailureClass.TRANSIENT, FailureClass.THROTTLED, FailureClass.PERMANENT


def http_error(status: int) -> HTTPError:
    return HTTPError(Response(io.BytesIO(b""), "http://media.test/v.mp4", {}, status=status))


def wrapped(cause: BaseException, note: str = "Unable to download webpage") -> DownloadError:
    """Wrap ``cause`` the way yt-dlp does during extraction: ExtractorError, DownloadError."""
    try:
        raise cause
    except BaseException as err:  # noqa: BLE001
        try:
            raise ExtractorError(f"{note}: {err}", cause=err, video_id="v", ie="generic") from None
        except ExtractorError as extractor_error:
            return DownloadError(f"ERROR: {extractor_error}", exc_info=sys.exc_info())


def extractor(message: str, *, expected: bool = True) -> DownloadError:
    """A yt-dlp extractor error carrying only a message, wrapped in DownloadError."""
    try:
        raise ExtractorError(message, expected=expected, video_id="v", ie="youtube")
    except ExtractorError as err:
        return DownloadError(f"ERROR: {err}", exc_info=sys.exc_info())


def os_failure(code: int) -> DownloadError:
    """A write error as yt-dlp reports it: an OSError behind UnavailableVideoError."""
    try:
        try:
            raise OSError(code, "cannot write")
        except OSError as err:
            raise UnavailableVideoError(err) from None
    except UnavailableVideoError as err:
        return DownloadError(f"ERROR: {err}", exc_info=sys.exc_info())


CASES = [
    ("429", wrapped(http_error(429)), R, "HTTPError429"),
    ("503", wrapped(http_error(503)), T, "HTTPError503"),
    ("500", wrapped(http_error(500)), T, "HTTPError500"),
    ("408", wrapped(http_error(408)), T, "HTTPError408"),
    ("404", wrapped(http_error(404)), P, "HTTPError404"),
    ("403", wrapped(http_error(403)), P, "HTTPError403"),
    ("410", wrapped(http_error(410)), P, "HTTPError410"),
    (
        "download-phase 404",
        DownloadError("ERROR: unable to download video data: HTTP Error 404: Not Found"),
        P,
        "HTTPError404",
    ),
    (
        "bot check on a 403",
        wrapped(http_error(403), "Sign in to confirm you\u2019re not a bot"),
        R,
        Reason.BOT_CHECK,
    ),
    (
        "try again later",
        extractor("This content isn't available, try again later."),
        R,
        Reason.TRY_AGAIN_LATER,
    ),
    ("captcha", extractor("Please solve the CAPTCHA to continue"), R, Reason.CAPTCHA),
    (
        "unsupported",
        DownloadError(
            "ERROR: Unsupported URL: http://x/",
            exc_info=(UnsupportedError, UnsupportedError("http://x/"), None),
        ),
        P,
        Reason.UNSUPPORTED_URL,
    ),
    (
        "private",
        extractor("Private video. Sign in if you've been granted access"),
        P,
        Reason.PRIVATE_VIDEO,
    ),
    (
        "removed",
        extractor("Video unavailable. This video has been removed by the uploader"),
        P,
        Reason.VIDEO_UNAVAILABLE,
    ),
    (
        "geo",
        GeoRestrictedError("The uploader has not made this video available in your country"),
        P,
        Reason.GEO_RESTRICTED,
    ),
    (
        "members",
        extractor("Join this channel to get access to members-only content"),
        P,
        Reason.MEMBERS_ONLY,
    ),
    (
        "age",
        extractor("Sign in to confirm your age. This video may be inappropriate"),
        P,
        Reason.AGE_RESTRICTED,
    ),
    (
        "format",
        extractor("Requested format is not available. Use --list-formats"),
        P,
        Reason.FORMAT_UNAVAILABLE,
    ),
    ("format trap", UnavailableVideoError(), P, Reason.FORMAT_UNAVAILABLE),
    ("disk full", os_failure(errno.ENOSPC), T, Reason.STORAGE_FULL),
    ("read-only volume", os_failure(errno.EROFS), P, Reason.OUTPUT_NOT_WRITABLE),
    ("other write error", os_failure(errno.EIO), T, Reason.STORAGE_ERROR),
    (
        "incomplete read",
        wrapped(IncompleteRead(100, 200), "Download failed"),
        T,
        Reason.INCOMPLETE_READ,
    ),
    ("content too short", ContentTooShortError(100, 200), T, Reason.INCOMPLETE_READ),
    (
        "retries exhausted",
        DownloadError(
            "ERROR: \r[download] Got error: 7756 bytes read, 7757 more expected. "
            "Giving up after 3 retries"
        ),
        T,
        Reason.INCOMPLETE_READ,
    ),
    (
        "connection reset",
        wrapped(TransportError("Connection reset by peer")),
        T,
        Reason.CONNECTION_ERROR,
    ),
    (
        "timeout",
        wrapped(TransportError("read timed out", cause=TimeoutError("timed out"))),
        T,
        Reason.TIMEOUT,
    ),
    ("tls", wrapped(SSLError("certificate verify failed")), T, Reason.TLS_ERROR),
    (
        "postprocessing",
        PostProcessingError("ffprobe and ffmpeg not found"),
        P,
        Reason.POST_PROCESSING_FAILED,
    ),
    (
        "unknown yt-dlp error",
        DownloadError("ERROR: something odd happened"),
        T,
        Reason.DOWNLOAD_ERROR,
    ),
    ("sigterm", Terminated(signal.SIGTERM), T, Reason.TERMINATED),
    ("ctrl-c", KeyboardInterrupt(), T, Reason.TERMINATED),
    (
        "escaping path",
        OutputPathRefusedError("refusing to write ../x"),
        P,
        Reason.OUTPUT_PATH_REFUSED,
    ),
    (
        "refused connection, as yt-dlp wraps it",
        wrapped(
            TransportError(
                "Failed to connect", cause=EgressRefusedError("refusing to connect to 10.0.0.1")
            )
        ),
        P,
        Reason.EGRESS_REFUSED,
    ),
    (
        "file name too long",
        DownloadError("unable to open", exc_info=(OSError, OSError(errno.ENAMETOOLONG, "x"), None)),
        P,
        Reason.FILE_NAME_TOO_LONG,
    ),
    (
        "bad spec",
        InvalidEnvironmentError("VIDEODL_SPEC", "not JSON", bad_spec=True),
        P,
        Reason.INVALID_SPEC,
    ),
    (
        "bad environment",
        InvalidEnvironmentError("VIDEODL_NAME", "missing"),
        P,
        Reason.INVALID_ENVIRONMENT,
    ),
]


class TestClassify:
    @pytest.mark.parametrize(
        ("exc", "failure_class", "reason"),
        [case[1:] for case in CASES],
        ids=[case[0] for case in CASES],
    )
    def test_table(self, exc: BaseException, failure_class: FailureClass, reason: str) -> None:
        """Each kind of failure gets its class, reason and the class's exit code."""
        verdict = classify(exc)
        assert (verdict.failure_class, verdict.reason) == (failure_class, reason)
        expected_code = {T: ExitCode.TRANSIENT, R: ExitCode.THROTTLED, P: ExitCode.PERMANENT}
        assert verdict.exit_code == expected_code[failure_class]
        assert not verdict.internal

    def test_expected_flag_does_not_mean_permanent(self) -> None:
        """A 503 yt-dlp marks as expected is still transient."""
        error = wrapped(http_error(503))
        assert error.exc_info[1].expected is True
        assert classify(error).failure_class == T

    def test_unexpected_flag_does_not_mean_transient(self) -> None:
        """A removed video reported without the expected flag is still permanent."""
        assert classify(extractor("Video unavailable", expected=False)).failure_class == P

    def test_cause_chain_is_followed(self) -> None:
        """The HTTP status is found behind DownloadError -> ExtractorError -> HTTPError."""
        error = wrapped(http_error(429))
        assert "429" not in type(error).__name__
        assert classify(error).reason == "HTTPError429"

    def test_python_cause_chain_is_followed(self) -> None:
        """``raise ... from`` chains count as well as yt-dlp's own attributes."""
        outer = RuntimeError("wrapper")
        outer.__cause__ = http_error(404)
        assert classify(outer).reason == "HTTPError404"

    def test_internal_error(self) -> None:
        """An error that is no yt-dlp error is an internal error: Transient, own exit code."""
        verdict = classify(ZeroDivisionError("division by zero"))
        assert verdict.failure_class == T
        assert verdict.reason == Reason.INTERNAL_ERROR
        assert verdict.internal
        assert verdict.exit_code == ExitCode.INTERNAL_ERROR
        assert verdict.message == "ZeroDivisionError: division by zero"

    def test_message_is_ytdlps(self) -> None:
        """The message is yt-dlp's outermost text without the ERROR prefix."""
        verdict = classify(wrapped(http_error(404)))
        assert verdict.message.startswith("[generic] v: Unable to download webpage")
        assert "HTTP Error 404" in verdict.message

    @given(st.text(max_size=300))
    def test_any_message_gets_a_valid_verdict(self, text: str) -> None:
        """Whatever yt-dlp says, the verdict is a valid API failure."""
        verdict = classify(DownloadError("ERROR: " + text))
        assert re.match(REASON_PATTERN, verdict.reason)
        assert verdict.failure_class in FailureClass
        assert not verdict.internal

    @given(st.integers(min_value=400, max_value=599))
    def test_http_statuses(self, status: int) -> None:
        """429 is throttled, 5xx and 408 transient, any other 4xx permanent."""
        verdict = classify(wrapped(http_error(status)))
        if status == 429:
            assert verdict.failure_class == R
        elif status >= 500 or status == 408:
            assert verdict.failure_class == T
        else:
            assert verdict.failure_class == P
        assert verdict.reason == f"HTTPError{status}"


class TestRefusals:
    def test_an_egress_refusal_is_not_a_write_permission_problem(self) -> None:
        """A refused connection is a PermissionError, yet classified as EgressRefused."""
        verdict = classify(EgressRefusedError("refusing to connect to 169.254.169.254"))
        assert verdict.reason == Reason.EGRESS_REFUSED
        assert verdict.exit_code == ExitCode.PERMANENT
        assert "169.254.169.254" in verdict.message

    def test_a_long_name_says_how_to_shorten_it(self) -> None:
        """ENAMETOOLONG fails once, with a hint at capping the template's fields."""
        verdict = classify(OSError(errno.ENAMETOOLONG, "File name too long"))
        assert verdict.failure_class == P
        assert "%(title).200B" in verdict.message


class TestReasons:
    def test_reasons_fit_the_api(self) -> None:
        """Every reason code is a valid ``status.lastFailure.reason``."""
        reasons = [v for k, v in vars(Reason).items() if k.isupper()]
        assert len(reasons) > 20
        for reason in reasons:
            assert re.match(REASON_PATTERN, reason), reason


class TestCleanMessage:
    def test_strips_prefix_colours_and_carriage_returns(self) -> None:
        """Terminal decoration does not reach the termination message."""
        assert clean_message("\x1b[0;31mERROR:\x1b[0m \r[download] failed\r") == "[download] failed"
