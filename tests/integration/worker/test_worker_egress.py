"""The worker connects to public addresses only, unless the operator allows a network.

Real yt-dlp against the real media server (on 127.0.0.1); the harness allows loopback
(``VIDEODL_ALLOWED_NETWORKS``) unless a test narrows it.
"""

from __future__ import annotations

import urllib.parse

from tests.integration.worker.workerharness import RunProcess, RunWorker, Workspace
from tests.listeners import connected, listener

from videodl.api.status import FailureClass
from videodl.workerapi import environment
from videodl.workerapi.exitcodes import ExitCode
from videodl_devkit.mediaserver import MediaServer

METADATA = "http://169.254.169.254/latest/meta-data/"
SETTING = "--worker-allowed-networks"
NOTHING = {environment.ALLOWED_NETWORKS: ""}
ONLY_THE_SERVER = {environment.ALLOWED_NETWORKS: "127.0.0.1/32"}


def redirect(server: MediaServer, target: str) -> str:
    return server.url("/redirect?to=" + urllib.parse.quote(target, safe=""))


class TestDirectAddresses:
    def test_the_metadata_endpoint_is_refused(
        self, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """http://169.254.169.254/ fails once as Permanent EgressRefused, naming the setting."""
        run = run_worker({"url": METADATA})
        assert run.outcome.exit_code == ExitCode.PERMANENT
        assert run.failure.failure_class == FailureClass.PERMANENT
        assert run.failure.reason == "EgressRefused"
        assert "169.254.169.254 port 80" in run.failure.message
        assert "link-local" in run.failure.message
        assert SETTING in run.failure.message
        assert workspace.files() == []

    def test_localhost_is_refused_when_loopback_is_not_allowed(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """A name that resolves to loopback is refused before any request reaches the server."""
        run = run_worker({"url": media_server.url("/media/video.mp4", host="localhost")}, **NOTHING)
        assert run.failure.reason == "EgressRefused"
        assert "(localhost)" in run.failure.message
        assert "loopback" in run.failure.message
        assert media_server.requests() == []
        assert workspace.files() == []

    def test_ipv6_loopback_is_refused_too(
        self, media_server: MediaServer, run_worker: RunWorker
    ) -> None:
        """[::1] is refused as loopback, not tried and failed as a connection error."""
        run = run_worker({"url": f"http://[::1]:{media_server.port}/media/video.mp4"}, **NOTHING)
        assert run.failure.reason == "EgressRefused"
        assert "::1" in run.failure.message

    def test_allowing_loopback_lets_localhost_through(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """With 127.0.0.0/8 allowed, the same localhost URL downloads."""
        run = run_worker(
            {"url": media_server.url("/media/video.mp4", host="localhost")},
            **{environment.ALLOWED_NETWORKS: "127.0.0.0/8"},
        )
        assert run.outcome.exit_code == ExitCode.SUCCEEDED, run.outcome
        (entry,) = run.result.files
        assert (workspace.output_dir / entry.path).is_file()

    def test_the_worker_process_refuses_without_the_setting(
        self, media_server: MediaServer, run_worker_process: RunProcess, workspace: Workspace
    ) -> None:
        """python -m videodl.worker without VIDEODL_ALLOWED_NETWORKS refuses loopback."""
        run = run_worker_process({"url": media_server.url("/media/video.mp4")}, **NOTHING)
        assert run.returncode == ExitCode.PERMANENT
        assert run.message.reason == "EgressRefused"  # type: ignore[union-attr]
        assert media_server.requests() == []
        assert workspace.files() == []


class TestRedirects:
    def test_a_redirect_to_a_private_address_is_never_followed(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """An allowed server redirecting to a refused address: Permanent, no connection made."""
        with listener("127.0.0.2") as internal:
            host, port = internal.getsockname()
            run = run_worker(
                {"url": redirect(media_server, f"http://{host}:{port}/secret.mp4")},
                **ONLY_THE_SERVER,
            )
            assert not connected(internal)
        assert run.outcome.exit_code == ExitCode.PERMANENT
        assert run.failure.reason == "EgressRefused"
        assert f"127.0.0.2 port {port}" in run.failure.message
        assert [r.path for r in media_server.requests()] == ["/redirect"]
        assert workspace.files() == []

    def test_a_redirect_to_the_metadata_endpoint_is_refused(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """The classic SSRF: a public page redirecting to 169.254.169.254."""
        run = run_worker({"url": redirect(media_server, METADATA)})
        assert run.failure.reason == "EgressRefused"
        assert "169.254.169.254" in run.failure.message
        assert workspace.files() == []

    def test_a_refused_thumbnail_fails_the_attempt(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """yt-dlp only warns about a thumbnail it cannot fetch; a refused one still fails."""
        page = media_server.url(
            "/page/titled.html?title=clip&thumbnail=" + urllib.parse.quote(METADATA, safe="")
        )
        run = run_worker({"url": page, "thumbnail": {"write": True}})
        assert run.outcome.exit_code == ExitCode.PERMANENT
        assert run.failure.reason == "EgressRefused"
        assert "169.254.169.254" in run.failure.message
        # It fails before the video itself is downloaded.
        assert media_server.bytes_served("/media/video.mp4") == 0
        assert not any(f.endswith(".mp4") for f in workspace.files())
