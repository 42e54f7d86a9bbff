"""Downloads into S3: the real worker (yt-dlp, ffmpeg) against a real versitygw.

Each test runs the worker in-process or as ``python -m videodl.worker`` with the
``VIDEODL_S3_*`` variables the operator sets, against versitygw on loopback (started by
:mod:`videodl_devkit.s3server`) and the local media server.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.integration.worker.workerharness import (
    MEDIA_CACHE,
    RunProcess,
    RunWorker,
    Workspace,
    process_env,
    worker_command,
)

from videodl.api.status import FailureClass
from videodl.cleanup import program as cleanup_program
from videodl.workerapi import cleanup as cleanup_contract
from videodl.workerapi import s3 as contract
from videodl.workerapi.exitcodes import ExitCode
from videodl_devkit.mediaserver import MediaServer, ensure_media
from videodl_devkit.s3server import S3Credentials, S3Server

BUCKET = "media"
SECRET = "s3-credentials"
PART = contract.MIN_PART_SIZE_BYTES


@pytest.fixture
def s3_server(tmp_path: pathlib.Path) -> Iterator[S3Server]:
    with S3Server(tmp_path / "s3") as server:
        server.make_bucket(BUCKET)
        yield server


def s3_env(
    server: S3Server, *, credentials: S3Credentials | None = None, **overrides: str
) -> dict[str, str]:
    used = credentials or server.credentials
    values = {
        contract.BUCKET: BUCKET,
        contract.ENDPOINT: server.endpoint,
        contract.REGION: server.region,
        contract.PATH_STYLE: "true",
        contract.PART_SIZE: str(PART),
        contract.CREDENTIALS_SECRET: SECRET,
        contract.ACCESS_KEY_ID: used.access_key_id,
        contract.SECRET_ACCESS_KEY: used.secret_access_key,
    }
    values.update(overrides)
    return values


def s3_spec(url: str, **s3: Any) -> dict[str, Any]:
    return {"url": url, "output": {"template": "%(title)s.%(ext)s", "s3": s3}}


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TestUpload:
    def test_uploaded_object_matches_the_media(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        """Succeeded; the key follows prefix and template; bytes and sha256 match."""
        run = run_worker(
            s3_spec(media_server.url("/media/video.mp4"), keyPrefix="shows/one"),
            **s3_env(s3_server, **{contract.KEY_PREFIX: "shows/one"}),
        )
        assert run.outcome.exit_code == ExitCode.SUCCEEDED, run.outcome
        media = media_server.library.video
        [entry] = run.result.files
        assert entry.path == f"s3://{BUCKET}/shows/one/video.mp4"
        assert entry.sha256 == sha256(media)
        assert entry.size_bytes == media.stat().st_size
        stored = s3_server.data / BUCKET / "shows/one/video.mp4"
        assert sha256(stored) == sha256(media)
        assert s3_server.keys(BUCKET) == [
            "shows/one/.videodl-archive/generic%20video",
            "shows/one/video.mp4",
        ]

    def test_a_file_larger_than_two_parts_goes_up_in_parts(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        """A file of 12 MB or more (the shared large test file) with 5 MiB parts: at least
        three parts, the ETag counts them, the bytes match."""
        large = media_server.library.large_file(size_mb=12)
        run = run_worker(s3_spec(media_server.url("/media/large.mp4")), **s3_env(s3_server))
        assert run.outcome.exit_code == ExitCode.SUCCEEDED, run.outcome
        [entry] = run.result.files
        assert entry.path == f"s3://{BUCKET}/large.mp4"
        head = s3_server.client().head_object(Bucket=BUCKET, Key="large.mp4")
        parts = -(-large.stat().st_size // PART)
        assert parts >= 3
        assert head["ETag"].strip('"').endswith(f"-{parts}")
        assert head["Metadata"]["sha256"] == sha256(large)
        assert sha256(s3_server.data / BUCKET / "large.mp4") == sha256(large)
        assert s3_server.multipart_uploads(BUCKET) == []


class TestFailures:
    def test_wrong_credentials_are_permanent_and_name_the_secret(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        wrong = S3Credentials(s3_server.credentials.access_key_id, "not-the-secret")
        run = run_worker(
            s3_spec(media_server.url("/media/video.mp4")),
            **s3_env(s3_server, credentials=wrong),
        )
        assert run.outcome.exit_code == ExitCode.PERMANENT
        assert run.failure.failure_class is FailureClass.PERMANENT
        assert run.failure.reason == "S3InvalidCredentials"
        assert repr(SECRET) in run.failure.message
        assert "not-the-secret" not in run.failure.message
        # Refused before anything was downloaded.
        assert media_server.requests("/media/video.mp4") == []

    def test_unknown_access_key_is_permanent(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        run = run_worker(
            s3_spec(media_server.url("/media/video.mp4")),
            **s3_env(s3_server, credentials=S3Credentials.generate()),
        )
        assert run.failure.reason == "S3InvalidCredentials", run.failure

    def test_missing_bucket_is_permanent_and_names_it(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        run = run_worker(
            s3_spec(media_server.url("/media/video.mp4"), bucket="no-such-bucket"),
            **s3_env(s3_server, **{contract.BUCKET: "no-such-bucket"}),
        )
        assert run.failure.failure_class is FailureClass.PERMANENT
        assert run.failure.reason == "S3NoSuchBucket"
        assert "'no-such-bucket'" in run.failure.message
        assert "spec.output.s3.bucket" in run.failure.message

    def test_endpoint_down_is_transient(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        s3_server.stop()
        run = run_worker(s3_spec(media_server.url("/media/video.mp4")), **s3_env(s3_server))
        assert run.outcome.exit_code == ExitCode.TRANSIENT
        assert run.failure.reason == "S3Unreachable"
        assert s3_server.endpoint in run.failure.message
        s3_server.start()
        again = run_worker(s3_spec(media_server.url("/media/video.mp4")), **s3_env(s3_server))
        assert again.outcome.exit_code == ExitCode.SUCCEEDED, again.outcome

    def test_endpoint_outside_the_egress_policy_is_refused(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        """The bucket is reached under the same egress rules as the site."""
        run = run_worker(
            s3_spec(media_server.url("/media/video.mp4")),
            **s3_env(s3_server),
            VIDEODL_ALLOWED_NETWORKS="",
        )
        assert run.failure.reason == "EgressRefused", run.failure

    def test_template_climbing_out_of_the_prefix_is_refused_by_the_api_rules(
        self, media_server: MediaServer, s3_server: S3Server, run_worker_process: RunProcess
    ) -> None:
        spec = s3_spec(media_server.url("/media/video.mp4"), keyPrefix="p")
        spec["output"]["template"] = "../%(id)s.%(ext)s"
        run = run_worker_process(spec, **s3_env(s3_server, **{contract.KEY_PREFIX: "p"}))
        assert run.returncode == ExitCode.PERMANENT
        assert "spec.output.template may not contain a '..' path segment" in run.termination_text
        assert s3_server.keys(BUCKET) == []

    def test_title_climbing_out_of_the_prefix_is_refused(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        """A title of ``..`` cannot climb out of the prefix either."""
        spec = s3_spec(media_server.url("/feed/dots.rss?title=..&count=1"), keyPrefix="p")
        spec["output"]["template"] = "%(title)s/%(id)s.%(ext)s"
        run = run_worker(spec, **s3_env(s3_server, **{contract.KEY_PREFIX: "p"}))
        assert run.failure.failure_class is FailureClass.PERMANENT, run.failure
        assert run.failure.reason == "OutputPathRefused", run.failure
        assert [k for k in s3_server.keys(BUCKET) if not k.startswith("p/")] == []


class TestArchive:
    def test_skip_then_force(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        spec = s3_spec(media_server.url("/media/video.mp4"))
        first = run_worker(spec, **s3_env(s3_server))
        assert not first.result.skipped, first.outcome
        second = run_worker(spec, **s3_env(s3_server))
        assert second.result.skipped
        assert second.result.files == first.result.files
        assert len(media_server.requests("/media/video.mp4")) == 3  # probe, download, probe
        before = s3_server.client().head_object(Bucket=BUCKET, Key="video.mp4")["LastModified"]
        time.sleep(1.1)
        forced = run_worker({**spec, "force": True}, **s3_env(s3_server))
        assert not forced.result.skipped
        assert forced.result.files == first.result.files
        after = s3_server.client().head_object(Bucket=BUCKET, Key="video.mp4")["LastModified"]
        assert after > before

    def test_a_recorded_video_whose_object_is_gone_is_downloaded_again(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        spec = s3_spec(media_server.url("/media/video.mp4"))
        assert not run_worker(spec, **s3_env(s3_server)).result.skipped
        s3_server.client().delete_object(Bucket=BUCKET, Key="video.mp4")
        again = run_worker(spec, **s3_env(s3_server))
        assert not again.result.skipped
        assert "video.mp4" in s3_server.keys(BUCKET)


class TestInterrupted:
    def test_killed_upload_leaves_no_object_and_the_next_attempt_succeeds(
        self,
        media_server: MediaServer,
        s3_server: S3Server,
        workspace: Workspace,
        run_worker_process: RunProcess,
    ) -> None:
        """SIGKILL mid-upload: nothing under the final key; a new attempt uploads it all."""
        large = ensure_media(MEDIA_CACHE).large_file(size_mb=60)
        spec = s3_spec(media_server.url("/media/large.mp4"))
        environ = workspace.environ(spec, **s3_env(s3_server))
        worker = subprocess.Popen(
            worker_command(),
            env=process_env(environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while not s3_server.multipart_uploads(BUCKET):
                assert worker.poll() is None, "the worker ended before its upload began"
                assert time.monotonic() < deadline, "no multipart upload began"
                time.sleep(0.02)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=30)
        assert "large.mp4" not in s3_server.keys(BUCKET)
        again = run_worker_process(spec, **s3_env(s3_server))
        assert again.returncode == ExitCode.SUCCEEDED, again.stderr[-3000:]
        assert sha256(s3_server.data / BUCKET / "large.mp4") == sha256(large)


class TestCleanup:
    def test_cleanup_program_deletes_only_objects_of_its_bucket(
        self, media_server: MediaServer, s3_server: S3Server, run_worker: RunWorker
    ) -> None:
        """The cleanup Pod's program, with the worker's variables, deletes the objects."""
        run = run_worker(s3_spec(media_server.url("/media/video.mp4")), **s3_env(s3_server))
        uri = run.result.files[0].path
        marker = f"s3://{BUCKET}/.videodl-archive/generic%20video"
        environ = {
            **s3_env(s3_server),
            cleanup_contract.S3_ENV: "true",
            cleanup_contract.PATHS_ENV: json.dumps([uri, marker, "s3://other/x", "/etc/passwd"]),
        }
        assert cleanup_program.main(environ) == 1  # two refused
        assert s3_server.keys(BUCKET) == []
        # Deleting again is fine: an object already gone counts as deleted.
        environ[cleanup_contract.PATHS_ENV] = json.dumps([uri])
        assert cleanup_program.main(environ) == 0
