"""Checks of worker-image/Dockerfile that need no Docker engine."""

from __future__ import annotations

import json
import pathlib
import re
import shlex
import sys
import tomllib

import pytest

from videodl.workerapi import environment

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "worker-image" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current += stripped.removesuffix("\\").strip() + " "
        if not stripped.endswith("\\"):
            joined.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def pinned(requirements: list[str], name: str) -> str:
    for requirement in requirements:
        found = re.fullmatch(rf"{re.escape(name)}==([\w.]+)", requirement.strip())
        if found:
            return found.group(1)
    pytest.fail(f"{name} is not pinned with == in {requirements}")


@pytest.fixture(scope="module")
def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


class TestDockerfile:
    def test_base_is_slim_python_of_the_supported_version(self) -> None:
        """A slim Python base of the version the package is developed and tested on."""
        ((_, base),) = [i for i in instructions() if i[0] == "FROM"]
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        assert re.fullmatch(rf"python:{re.escape(version)}(\.\d+)?-slim-\w+", base), base

    def test_installs_ffmpeg(self) -> None:
        """ffmpeg comes from the distribution, without recommended extras, lists cleaned."""
        runs = " ".join(args for name, args in instructions() if name == "RUN")
        assert "apt-get install -y --no-install-recommends ffmpeg" in runs
        assert "rm -rf /var/lib/apt/lists/*" in runs

    def test_ytdlp_pin_matches_pyproject(self, pyproject: dict[str, object]) -> None:
        """The image installs exactly the yt-dlp the package pins."""
        project = pyproject["project"]
        assert isinstance(project, dict)
        runs = " ".join(args for name, args in instructions() if name == "RUN")
        in_image = [w.strip('"') for w in shlex.split(runs) if w.startswith("yt-dlp")]
        assert pinned(in_image, "yt-dlp") == pinned(project["dependencies"], "yt-dlp")

    def test_runs_as_numeric_non_root_user_last(self) -> None:
        """USER is numeric and not root, and nothing runs after it as another user."""
        names = [name for name, _ in instructions()]
        users = [args for name, args in instructions() if name == "USER"]
        assert users == ["65532:65532"]
        assert "RUN" not in names[names.index("USER") :]

    def test_writes_only_to_data_and_tmp(self) -> None:
        """Home, caches, scratch and output point at the two writable mounts."""
        env = " ".join(args for name, args in instructions() if name == "ENV")
        for setting in (
            "PYTHONDONTWRITEBYTECODE=1",
            "HOME=/tmp",
            "XDG_CACHE_HOME=/tmp",
            f"{environment.OUTPUT_DIR}={environment.DEFAULT_OUTPUT_DIR}",
            f"{environment.TMP_DIR}={environment.DEFAULT_TMP_DIR}",
        ):
            assert setting in env.split(), setting

    def test_entrypoint_is_the_worker_module(self, pyproject: dict[str, object]) -> None:
        """The entrypoint runs the module behind the ``videodl-worker`` console script."""
        ((_, entrypoint),) = [i for i in instructions() if i[0] == "ENTRYPOINT"]
        assert json.loads(entrypoint) == ["python", "-m", "videodl.worker"]
        project = pyproject["project"]
        assert isinstance(project, dict)
        assert project["scripts"]["videodl-worker"] == "videodl.worker.__main__:main"

    def test_copied_sources_exist(self) -> None:
        """Everything the image copies from the repository root is there."""
        for name, args in instructions():
            if name == "COPY":
                *sources, _destination = args.split()
                for source in sources:
                    assert (ROOT / source).exists(), source
