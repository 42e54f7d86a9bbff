"""Helpers and fixtures for the worker's integration tests: a media server, ways to run it.

The worker runs for real (yt-dlp, ffmpeg) against the local media server, either
in-process through ``videodl.worker.download.run`` with a recording progress sink, or as
``python -m videodl.worker`` in a subprocess with ``VIDEODL_PROGRESS=off``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from videodl.worker import download
from videodl.worker.progress import RecordingSink
from videodl.workerapi import environment, termination
from videodl_devkit.mediaserver import MediaServer

#: Generated media is shared by test sessions (ensure_media locks and reuses it).
MEDIA_CACHE = pathlib.Path(tempfile.gettempdir()) / "videodl-test-media"
#: The media server listens on loopback, which the worker refuses unless it is allowed.
LOOPBACK = "127.0.0.0/8,::1/128"


@pytest.fixture
def media_server() -> Iterator[MediaServer]:
    """A fresh media server (clean counters) on a free loopback port."""
    with MediaServer(MEDIA_CACHE) as server:
        yield server


@pytest.fixture
def unique() -> str:
    """A key for the server's stateful endpoints that no other test uses."""
    return uuid.uuid4().hex[:12]


@dataclasses.dataclass
class Workspace:
    """Directories of one worker run: the volume, the output dir inside it, scratch."""

    root: pathlib.Path

    @property
    def volume(self) -> pathlib.Path:
        return self.root / "volume"

    @property
    def output_dir(self) -> pathlib.Path:
        return self.volume / "out"

    @property
    def tmp_dir(self) -> pathlib.Path:
        return self.root / "tmp"

    @property
    def termination_path(self) -> pathlib.Path:
        return self.root / "termination-log"

    def environ(self, spec: dict[str, Any], **extra: str) -> dict[str, str]:
        """The worker's environment for ``spec``, without a cluster."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        values = {
            environment.SPEC: json.dumps(spec),
            environment.PROGRESS: "off",
            environment.OUTPUT_DIR: str(self.output_dir),
            environment.TMP_DIR: str(self.tmp_dir),
            environment.TERMINATION_MESSAGE_PATH: str(self.termination_path),
            environment.PROGRESS_INTERVAL_SECONDS: "0",
            environment.ALLOWED_NETWORKS: LOOPBACK,
        }
        values.update(extra)
        return values

    def files(self) -> list[str]:
        """Every file under the workspace except scratch, relative to the workspace."""
        return sorted(
            str(p.relative_to(self.root))
            for p in self.root.rglob("*")
            if p.is_file() and self.tmp_dir not in p.parents and p != self.termination_path
        )


@pytest.fixture
def workspace(tmp_path: pathlib.Path) -> Workspace:
    return Workspace(tmp_path)


@dataclasses.dataclass
class InProcessRun:
    outcome: download.Outcome
    sink: RecordingSink

    @property
    def result(self) -> termination.SuccessMessage:
        assert isinstance(self.outcome.message, termination.SuccessMessage), self.outcome
        return self.outcome.message

    @property
    def failure(self) -> termination.FailureMessage:
        assert isinstance(self.outcome.message, termination.FailureMessage), self.outcome
        return self.outcome.message


RunWorker = Callable[..., InProcessRun]


@pytest.fixture
def run_worker(workspace: Workspace) -> RunWorker:
    """Run one attempt in-process: ``run_worker(spec, **environment overrides)``."""

    def run(spec: dict[str, Any], **extra: str) -> InProcessRun:
        job = environment.load(workspace.environ(spec, **extra))
        sink = RecordingSink()
        return InProcessRun(download.run(job, sink=sink), sink)

    return run


@dataclasses.dataclass
class ProcessRun:
    returncode: int
    stdout: str
    stderr: str
    termination_text: str

    @property
    def message(self) -> termination.SuccessMessage | termination.FailureMessage:
        return termination.parse(self.termination_text)


def worker_command() -> list[str]:
    return [sys.executable, "-m", "videodl.worker"]


def process_env(environ: dict[str, str]) -> dict[str, str]:
    # The parent environment minus anything that could point the worker at a cluster.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEODL_", "KUBE"))}
    return {**base, **environ}


RunProcess = Callable[..., ProcessRun]


@pytest.fixture
def run_worker_process(workspace: Workspace) -> RunProcess:
    """Run ``python -m videodl.worker`` to completion and read its termination message."""

    def run(spec: dict[str, Any], *, raw_spec: str | None = None, **extra: str) -> ProcessRun:
        environ = workspace.environ(spec, **extra)
        if raw_spec is not None:
            environ[environment.SPEC] = raw_spec
        done = subprocess.run(
            worker_command(),
            env=process_env(environ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        text = workspace.termination_path.read_text(encoding="utf-8")
        return ProcessRun(done.returncode, done.stdout, done.stderr, text)

    return run


def ffprobe(path: pathlib.Path) -> dict[str, Any]:
    """ffprobe's view of a media file: streams and container."""
    done = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name:stream_tags=language:stream_disposition=attached_pic"
            ":format=format_name,duration:format_tags=title",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    probe: dict[str, Any] = json.loads(done.stdout)
    return probe
