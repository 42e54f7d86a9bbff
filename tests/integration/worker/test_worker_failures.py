"""Each failing endpoint gives its class, reason and exit code, as a real worker process."""

from __future__ import annotations

import pytest
from tests.integration.worker.workerharness import RunProcess, RunWorker

from videodl.api.status import FailureClass
from videodl.workerapi import termination
from videodl.workerapi.exitcodes import ExitCode
from videodl_devkit.mediaserver import MediaServer

T, R, P = FailureClass.TRANSIENT, FailureClass.THROTTLED, FailureClass.PERMANENT


def assert_failure(
    run_message: termination.SuccessMessage | termination.FailureMessage,
    failure_class: FailureClass,
    reason: str,
) -> termination.FailureMessage:
    assert isinstance(run_message, termination.FailureMessage), run_message
    assert (run_message.failure_class, run_message.reason) == (failure_class, reason)
    assert run_message.message
    return run_message


class TestFailureEndpoints:
    @pytest.mark.parametrize(
        "case",
        [
            ("/status/404/clip.mp4", P, "HTTPError404", ExitCode.PERMANENT),
            ("/status/403/clip.mp4", P, "HTTPError403", ExitCode.PERMANENT),
            ("/status/429/clip.mp4", R, "HTTPError429", ExitCode.THROTTLED),
            ("/status/503/clip.mp4", T, "HTTPError503", ExitCode.TRANSIENT),
            ("/page/empty.html", P, "UnsupportedURL", ExitCode.PERMANENT),
            ("/drop/{key}/1000/video.mp4", T, "IncompleteRead", ExitCode.TRANSIENT),
        ],
        ids=lambda case: case[0].split("/")[1] + "-" + case[2],
    )
    def test_endpoint(
        self,
        media_server: MediaServer,
        run_worker_process: RunProcess,
        unique: str,
        case: tuple[str, FailureClass, str, ExitCode],
    ) -> None:
        """The process exits with the class's code; the termination message says why."""
        path, failure_class, reason, exit_code = case
        run = run_worker_process({"url": media_server.url(path.format(key=unique))})
        assert run.returncode == exit_code, run.stderr
        failure = assert_failure(run.message, failure_class, reason)
        assert failure.exit_code == exit_code
        assert failure.time is not None
        # The message is also the last line on stdout, for local runs.
        assert run.stdout.strip().splitlines()[-1] == run.termination_text

    def test_unavailable_format(
        self, media_server: MediaServer, run_worker_process: RunProcess
    ) -> None:
        """A selector nothing matches is permanent: retrying cannot make the format appear."""
        run = run_worker_process(
            {"url": media_server.url("/media/video.mp4"), "format": {"selector": "bv[height>4000]"}}
        )
        assert run.returncode == ExitCode.PERMANENT
        assert_failure(run.message, P, "FormatUnavailable")

    def test_invalid_spec(self, run_worker_process: RunProcess) -> None:
        """A spec that breaks the API's rules is refused with the field named."""
        run = run_worker_process({}, raw_spec='{"url": "ftp://example.com/x"}')
        assert run.returncode == ExitCode.PERMANENT
        failure = assert_failure(run.message, P, "InvalidSpec")
        assert "spec.url" in failure.message
        assert failure.time is not None


class TestRecovery:
    def test_flaky_server_fails_transiently_then_succeeds(
        self, media_server: MediaServer, run_worker: RunWorker, unique: str
    ) -> None:
        """A 503 is transient: the next attempt against the same URL succeeds."""
        spec = {"url": media_server.url(f"/flaky/{unique}/1/video.mp4")}
        first = run_worker(spec)
        assert first.outcome.exit_code == ExitCode.TRANSIENT
        assert_failure(first.failure, T, "HTTPError503")
        second = run_worker(spec)
        assert second.outcome.exit_code == ExitCode.SUCCEEDED, second.outcome
        assert second.result.files

    def test_throttled_host_does_not_affect_another_host(
        self, media_server: MediaServer, run_worker: RunWorker
    ) -> None:
        """With one host switched to 429, its downloads are throttled; another host works."""
        media_server.set_host_mode("localhost", 429)
        throttled = run_worker({"url": media_server.url("/media/video.mp4", host="localhost")})
        assert throttled.outcome.exit_code == ExitCode.THROTTLED
        assert_failure(throttled.failure, R, "HTTPError429")
        fine = run_worker({"url": media_server.url("/media/video.mp4", host="127.0.0.1")})
        assert fine.outcome.exit_code == ExitCode.SUCCEEDED, fine.outcome
