"""Nothing is ever written outside the output directory, whatever the template or title."""

from __future__ import annotations

import dataclasses

from tests.integration.worker.workerharness import RunProcess, RunWorker, Workspace

from videodl.api.output import OutputSpec
from videodl.api.status import FailureClass
from videodl.worker import download
from videodl.worker.progress import RecordingSink
from videodl.workerapi import environment
from videodl.workerapi.exitcodes import ExitCode
from videodl_devkit.mediaserver import MediaServer


def outside(workspace: Workspace) -> list[str]:
    """Files written anywhere in the workspace except the output directory."""
    return [f for f in workspace.files() if not f.startswith("volume/out/")]


class TestTemplates:
    def test_dotdot_template_is_refused_by_the_api_rules(
        self, media_server: MediaServer, run_worker_process: RunProcess, workspace: Workspace
    ) -> None:
        """A '../' template in VIDEODL_SPEC fails validation; nothing is written."""
        url = media_server.url("/media/video.mp4")
        run = run_worker_process({"url": url, "output": {"template": "../%(id)s.%(ext)s"}})
        assert run.returncode == ExitCode.PERMANENT
        assert run.message.reason == "InvalidSpec"  # type: ignore[union-attr]
        assert workspace.files() == []

    def test_worker_refuses_escaping_templates_on_its_own(
        self, media_server: MediaServer, workspace: Workspace
    ) -> None:
        """Even a spec that skipped validation cannot make the worker write outside."""
        for template in ("../%(id)s.%(ext)s", "a/../../%(id)s.%(ext)s", "/tmp/%(id)s.%(ext)s"):
            job = environment.load(workspace.environ({"url": media_server.url("/media/video.mp4")}))
            output = OutputSpec.model_construct(template=template, sub_path=None)
            unchecked = job.spec.model_copy(update={"output": output})
            outcome = download.run(dataclasses.replace(job, spec=unchecked), sink=RecordingSink())
            assert outcome.exit_code == ExitCode.PERMANENT
            assert outcome.message.reason == "OutputPathRefused"  # type: ignore[union-attr]
        assert outside(workspace) == []
        assert media_server.requests() == []


class TestTitles:
    def test_title_with_dotdot_slash_stays_inside(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """A title of '../../escape' becomes a plain file name inside the output directory."""
        run = run_worker({"url": media_server.url("/page/titled.html?title=../../escape")})
        assert run.outcome.exit_code == 0, run.outcome
        assert run.result.title == "../../escape (1)"
        (entry,) = run.result.files
        assert "/" not in entry.path
        assert (workspace.output_dir / entry.path).is_file()
        assert outside(workspace) == []

    def test_title_of_dotdot_as_directory_is_refused(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """A title of exactly '..' used as a directory would climb out; it is refused."""
        run = run_worker(
            {
                "url": media_server.url("/feed/dots.rss?title=..&count=1"),
                "output": {"template": "%(title)s/%(id)s.%(ext)s"},
            }
        )
        assert run.outcome.exit_code == ExitCode.PERMANENT
        assert run.failure.failure_class == FailureClass.PERMANENT
        assert run.failure.reason == "OutputPathRefused"
        assert outside(workspace) == []
        # yt-dlp probed the enclosure while extracting, but never downloaded it.
        assert len(media_server.requests("/media/video.mp4")) == 1


class TestSymlinks:
    def test_symlink_out_of_the_volume_is_refused(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """A directory link planted in the volume cannot redirect the download elsewhere."""
        elsewhere = workspace.root / "elsewhere"
        elsewhere.mkdir()
        workspace.output_dir.mkdir(parents=True)
        (workspace.output_dir / "link").symlink_to(elsewhere)
        run = run_worker(
            {
                "url": media_server.url("/media/video.mp4"),
                "output": {"template": "link/%(id)s.%(ext)s"},
            }
        )
        assert run.outcome.exit_code == ExitCode.PERMANENT
        assert run.failure.reason == "OutputPathRefused"
        assert str(elsewhere) in run.failure.message
        assert list(elsewhere.iterdir()) == []
