"""The product as the images install it: the videodl wheel, with no development tooling.

The images copy ``pyproject.toml``, ``README.md`` and ``operator/videodl`` and run ``pip
install`` on them; these tests stage the same files, build the wheel from them offline
(the venv's setuptools, no build isolation) and look inside.
"""

from __future__ import annotations

import ast
import email.parser
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_DIR = ROOT / "operator" / "videodl"
DOCKERFILES = [ROOT / "worker-image" / "Dockerfile", ROOT / "operator" / "Dockerfile"]
# What an image's build context contributes, exactly.
IMAGE_SOURCES = {"pyproject.toml", "README.md", "operator/videodl"}
# Packages only tests, linters or the dev tooling need; never a runtime dependency.
TEST_ONLY = {
    "build",
    "cryptography",
    "hypothesis",
    "import-linter",
    "lupa",
    "mypy",
    "pytest",
    "pytest-timeout",
    "ruff",
    "setuptools",
    "types-pyyaml",
    "videodl-devkit",
}
# Path components that mean development tooling or tests.
DEV_TOOLING = {"videodl_devkit", "localcluster", "processnode", "tests", "conftest.py"}


def normalised(requirement: str) -> str:
    """The project name of a requirement, normalised as PEP 503 does."""
    return canonicalize_name(Requirement(requirement).name)


def installed_without_extras(requirement: str) -> bool:
    """Whether ``pip install`` of the package, with no extra, installs ``requirement``."""
    marker = Requirement(requirement).marker
    return marker is None or marker.evaluate({"extra": ""})


def copy_sources(dockerfile: Path) -> list[str]:
    """The build-context paths the Dockerfile's COPY (and ADD) instructions read."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    sources: list[str] = []
    for line in text.splitlines():
        words = line.strip().split(None, 1)
        if len(words) < 2 or words[0].upper() not in ("COPY", "ADD"):
            continue
        rest = words[1].strip()
        parts = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        flags = [p for p in parts if p.startswith("--")]
        if any(flag.startswith("--from=") for flag in flags):
            continue  # from another build stage, not from the repository
        paths = [p for p in parts if not p.startswith("--")]
        sources += [p.rstrip("/").removeprefix("./") for p in paths[:-1]]
    return sources


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    """The product wheel, built from a copy of what the images copy."""
    staged = tmp_path_factory.mktemp("context")
    for source in sorted(IMAGE_SOURCES):
        if (ROOT / source).is_dir():
            shutil.copytree(
                ROOT / source,
                staged / source,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        else:
            shutil.copy2(ROOT / source, staged / source)
    out = tmp_path_factory.mktemp("wheel")
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", *offline, "-w", str(out), str(staged)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("videodl-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


class TestWheel:
    def test_holds_only_the_product_package(self, wheel: zipfile.ZipFile) -> None:
        """Every file of the wheel is under videodl/ or its metadata: no devkit, no tests."""
        names = wheel.namelist()
        metadata = re.compile(r"videodl-[^/]+\.dist-info/")
        assert names
        strays = [n for n in names if not n.startswith("videodl/") and not metadata.match(n)]
        assert strays == []
        tooling = [
            name
            for name in names
            if DEV_TOOLING & set(name.split("/"))
            or any(part.startswith("test_") for part in name.split("/"))
        ]
        assert tooling == []

    def test_holds_every_product_module(self, wheel: zipfile.ZipFile) -> None:
        """Every module under operator/videodl is in the wheel (it is the product, whole)."""
        expected = {
            path.relative_to(PRODUCT_DIR.parent).as_posix()
            for path in PRODUCT_DIR.rglob("*.py")
            if "__pycache__" not in path.parts
        }
        assert expected <= set(wheel.namelist())

    def test_entry_points_start_product_programs(self, wheel: zipfile.ZipFile) -> None:
        """The console scripts the wheel installs run videodl modules only."""
        (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
        targets = re.findall(r"=\s*([\w.]+):", wheel.read(entry_points).decode())
        assert targets
        assert all(target.startswith("videodl.") for target in targets), targets

    def test_installs_no_test_only_dependency(self, wheel: zipfile.ZipFile) -> None:
        """What `pip install` of the wheel pulls in (no extras) has no test or dev tool."""
        (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        message = email.parser.Parser().parsestr(wheel.read(metadata).decode())
        requirements = message.get_all("Requires-Dist") or []
        runtime = {normalised(req) for req in requirements if installed_without_extras(req)}
        assert runtime
        assert runtime & TEST_ONLY == set()


class TestDeclaredDependencies:
    def test_runtime_dependencies_are_not_test_tools(self) -> None:
        """[project] dependencies hold no test-only package, nor what the extras or devkit add."""
        project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        devkit = tomllib.loads((ROOT / "hack/devkit/pyproject.toml").read_text(encoding="utf-8"))
        runtime = {normalised(req) for req in project["dependencies"]}
        tooling = TEST_ONLY | {
            normalised(req) for extra in project["optional-dependencies"].values() for req in extra
        }
        tooling |= {normalised(req) for req in devkit["project"]["dependencies"]}
        tooling -= {"videodl"}  # the extras and the devkit name the product itself
        assert runtime
        assert runtime & tooling == set()


class TestSources:
    @pytest.mark.parametrize(
        "path", sorted(PRODUCT_DIR.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
    )
    def test_no_product_module_imports_the_devkit(self, path: Path) -> None:
        """A product module neither imports videodl_devkit nor names it for a dynamic import."""
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [node.value]
            for name in names:
                assert not name.startswith("videodl_devkit"), f"{path}:{node.lineno}: {name}"

    @pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
    def test_images_copy_only_the_product(self, dockerfile: Path) -> None:
        """The image copies pyproject.toml, README.md and operator/videodl, and nothing else."""
        assert set(copy_sources(dockerfile)) == IMAGE_SOURCES
