"""The worker runs with nothing but the packages its image installs."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tests.integration.worker.workerharness import Workspace, ffprobe, process_env

from videodl.workerapi import termination
from videodl_devkit.mediaserver import MediaServer

# Runs the worker module with imports of every other installed distribution refused.
BOOTSTRAP = """
import importlib.abc, json, runpy, sys

BLOCKED = frozenset(json.loads(sys.argv[1]))

class NotInImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} in the worker image", name=name)
        return None

sys.meta_path.insert(0, NotInImage())
try:
    import pytest  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("the import blocker does not work")
sys.argv = ["videodl.worker"]
runpy.run_module("videodl.worker", run_name="__main__", alter_sys=True)
"""


def image_distributions() -> set[str]:
    """videodl and its runtime requirements, recursively (what `pip install .` installs)."""
    seen: set[str] = set()
    pending = ["videodl"]
    while pending:
        name = canonicalize_name(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return seen


def blocked_modules() -> set[str]:
    """Top-level modules that only distributions outside the image provide."""
    image = image_distributions()
    return {
        module
        for module, distributions in metadata.packages_distributions().items()
        if not any(canonicalize_name(d) in image for d in distributions)
    } - {"videodl"}


class TestImagePackages:
    def test_blocked_set_is_meaningful(self) -> None:
        """Test and development tools are outside the image; yt-dlp and friends inside."""
        blocked = blocked_modules()
        assert {"pytest", "hypothesis", "mypy", "lupa"} <= blocked
        assert not {"yt_dlp", "kubernetes", "pydantic"} & blocked

    def test_worker_downloads_with_image_packages_only(
        self, media_server: MediaServer, workspace: Workspace
    ) -> None:
        """A full download succeeds when every non-image package is unimportable."""
        environ = workspace.environ({"url": media_server.url("/media/video.mp4")})
        done = subprocess.run(
            [sys.executable, "-c", BOOTSTRAP, json.dumps(sorted(blocked_modules()))],
            env=process_env(environ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        message = termination.parse(workspace.termination_path.read_text())
        assert isinstance(message, termination.SuccessMessage)
        assert message.files[0].size_bytes == media_server.library.video.stat().st_size


# Runs the worker as the image does: root file system read-only, only the output directory,
# the scratch directory and the termination message file writable, as user 65532.
READ_ONLY_ROOT = """
set -e
mount --bind "$OUT" "$OUT"
mount --bind "$SCRATCH" "$SCRATCH"
mount --bind "$MESSAGE" "$MESSAGE"
mount -o remount,bind,ro /
exec setpriv --reuid 65532 --regid 65532 --clear-groups "$PYTHON" -m videodl.worker
"""


class TestReadOnlyRoot:
    def test_download_with_ffmpeg_on_a_read_only_root_as_user_65532(
        self, media_server: MediaServer
    ) -> None:
        """Merging and embedding with ffmpeg write only to the volume and the scratch dir."""
        # pytest's tmp_path is private to root; user 65532 needs a path it can traverse.
        with tempfile.TemporaryDirectory(prefix="videodl-rofs-") as scratch:
            root = pathlib.Path(scratch)
            root.chmod(0o711)
            self.check(media_server, Workspace(root))

    @staticmethod
    def check(media_server: MediaServer, workspace: Workspace) -> None:
        spec = {
            "url": media_server.url("/page/video.html"),
            "format": {"container": "mkv"},
            "subtitles": {"languages": ["en"], "embed": True},
            "thumbnail": {"embed": True},
            "metadata": {"embed": True, "writeInfoJson": True},
        }
        environ = workspace.environ(spec)
        for directory in (workspace.output_dir, workspace.tmp_dir):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o777)
        workspace.termination_path.touch(mode=0o666)
        workspace.termination_path.chmod(0o666)
        environ.update(
            HOME=str(workspace.tmp_dir),
            XDG_CACHE_HOME=str(workspace.tmp_dir),
            PYTHONDONTWRITEBYTECODE="1",
            OUT=str(workspace.output_dir),
            SCRATCH=str(workspace.tmp_dir),
            MESSAGE=str(workspace.termination_path),
            PYTHON=sys.executable,
        )
        done = subprocess.run(
            ["unshare", "--mount", "sh", "-c", READ_ONLY_ROOT],
            env=process_env(environ),
            cwd="/",
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        message = termination.parse(workspace.termination_path.read_text())
        assert isinstance(message, termination.SuccessMessage)
        media = workspace.output_dir / message.files[0].path
        assert media.suffix == ".mkv"
        assert media.stat().st_uid == 65532
        kinds = {s["codec_type"] for s in ffprobe(media)["streams"]}
        assert {"video", "audio", "subtitle"} <= kinds
