"""The worker runs with nothing but the packages its image installs."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tests.integration.worker.workerharness import Workspace, process_env

from videodl.localcluster.mediaserver import MediaServer
from videodl.worker import termination

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
