"""Nothing is ever written outside the output directory, whatever the template or title."""

from __future__ import annotations

import dataclasses
import pathlib
import tempfile
import urllib.parse

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.integration.worker.workerharness import RunProcess, RunWorker, Workspace

from videodl.api.output import OutputSpec
from videodl.api.status import FailureClass
from videodl.worker import download
from videodl.worker.progress import RecordingSink
from videodl.workerapi import environment, termination
from videodl.workerapi.cleanup import ARCHIVE_FILE_NAME
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


class TestPlaylists:
    def test_a_playlist_titled_dotdot_writes_nothing_above(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """The known breach: a playlist titled '..' with writeInfoJson is refused, not Succeeded."""
        run = run_worker(
            {
                "url": media_server.url("/feed/list.rss?playlist=..&count=1"),
                "output": {"template": "%(title)s/%(id)s.%(ext)s"},
                "metadata": {"writeInfoJson": True},
            }
        )
        assert run.outcome.exit_code == ExitCode.PERMANENT
        assert run.failure.reason == "OutputPathRefused"
        assert ".info.json" in run.failure.message
        assert outside(workspace) == []
        assert workspace.files() == []
        # The playlist's files come first: no entry was downloaded.
        assert media_server.bytes_served("/media/video.mp4") == 0

    def test_a_plain_playlist_keeps_its_info_json_inside(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """The same feed with an ordinary title writes the playlist's info.json inside."""
        run = run_worker(
            {
                "url": media_server.url("/feed/list.rss?playlist=shows&count=1"),
                "output": {"template": "%(title)s/%(id)s.%(ext)s"},
                "metadata": {"writeInfoJson": True},
            }
        )
        assert run.outcome.exit_code == ExitCode.SUCCEEDED, run.outcome
        assert any(
            f.startswith("volume/out/shows/") and f.endswith(".info.json")
            for f in workspace.files()
        )
        assert outside(workspace) == []


class TestPlantedLinks:
    def test_a_linked_part_file_is_not_written_through(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """A .part file planted as a link to a file outside is refused where it is opened."""
        victim = workspace.root / "victim"
        victim.write_bytes(b"")
        workspace.output_dir.mkdir(parents=True)
        (workspace.output_dir / "video.mp4.part").symlink_to(victim)
        run = run_worker(
            {"url": media_server.url("/media/video.mp4"), "output": {"template": "%(id)s.%(ext)s"}}
        )
        assert run.outcome.exit_code == ExitCode.PERMANENT
        assert run.failure.reason == "OutputPathRefused"
        assert str(victim) in run.failure.message
        assert victim.read_bytes() == b""

    def test_a_linked_archive_is_refused(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """The download archive is the worker's own file and is confined too."""
        victim = workspace.root / "victim"
        workspace.output_dir.mkdir(parents=True)
        (workspace.output_dir / ARCHIVE_FILE_NAME).symlink_to(victim)
        run = run_worker({"url": media_server.url("/media/video.mp4")})
        assert run.outcome.exit_code == ExitCode.PERMANENT
        assert run.failure.reason == "OutputPathRefused"
        assert not victim.exists()
        assert media_server.requests() == []


# Hostile names: climbing, separators, look-alikes of '..' and names too long to write; a
# NUL byte too, but only in a page's title (XML cannot carry it, so no feed can).
HOSTILE = ["..", ".", "../..", "a/../..", "\u2024\u2024", "\uff0e\uff0e", "x" * 300, "ok"]
NUL = "..\x00"
TEMPLATES = [
    "%(title)s/%(id)s.%(ext)s",
    "%(title)s.%(ext)s",
    "%(title)s/%(title)s/%(id)s.%(ext)s",
    "%(playlist_title)s/%(title)s.%(ext)s",
    "%(playlist)s/%(title)s/%(id)s.%(ext)s",
    "%(title).200B [%(id)s].%(ext)s",
]
SETTLED = {
    ExitCode.SUCCEEDED: {None},
    ExitCode.PERMANENT: {"OutputPathRefused", "FileNameTooLong", "InvalidSpec"},
}


class TestHostileFeeds:
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @example(title="ok", playlist="..", template="%(title)s/%(id)s.%(ext)s", info_json=True)
    @example(title="..", playlist="ok", template="%(title)s/%(id)s.%(ext)s", info_json=False)
    @example(title=NUL, playlist="ok", template="%(title)s/%(id)s.%(ext)s", info_json=True)
    @given(
        title=st.sampled_from([*HOSTILE, NUL]),
        playlist=st.sampled_from(HOSTILE),
        template=st.sampled_from(TEMPLATES),
        info_json=st.booleans(),
    )
    def test_real_downloads_never_write_outside(
        self, media_server: MediaServer, title: str, playlist: str, template: str, info_json: bool
    ) -> None:
        """Real feeds and pages with hostile titles: files land inside or nowhere."""
        if "\x00" in title:
            url = media_server.url("/page/titled.html?" + urllib.parse.urlencode({"title": title}))
        else:
            query = urllib.parse.urlencode({"title": title, "playlist": playlist, "count": 1})
            url = media_server.url(f"/feed/hostile.rss?{query}")
        spec = {
            "url": url,
            "output": {"template": template},
            "metadata": {"writeInfoJson": info_json},
        }
        with tempfile.TemporaryDirectory() as tmp:
            workspace = Workspace(pathlib.Path(tmp))
            job = environment.load(workspace.environ(spec))
            outcome = download.run(job, sink=RecordingSink())
            assert outside(workspace) == []
            reason = getattr(outcome.message, "reason", None)
            assert reason in SETTLED.get(outcome.exit_code, set()), outcome
            if isinstance(outcome.message, termination.SuccessMessage):
                for entry in outcome.message.files:
                    assert (workspace.output_dir / entry.path).is_file()
