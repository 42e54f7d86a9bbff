"""The import contracts of pyproject.toml bite: each kind of forbidden import is reported.

``make lint`` runs ``lint-imports`` on the real tree. These tests run it on a copy of the
product with one forbidden import added, and check that the contract meant to catch it
does, so a contract weakened by accident (or one that no longer matches the tree) shows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONFIG: dict[str, Any] = PYPROJECT["tool"]["importlinter"]
CONTRACTS: list[dict[str, Any]] = CONFIG["contracts"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def contract(kind: str, name_part: str) -> dict[str, Any]:
    (found,) = [c for c in CONTRACTS if c["type"] == kind and name_part in c["name"]]
    return found


def layer_names() -> list[list[str]]:
    """The layers contract's layers, top first, each a list of its sibling packages."""
    layers = contract("layers", "layered")["layers"]
    return [[f"videodl.{part.strip()}" for part in layer.split("|")] for layer in layers]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the product and of pyproject.toml, for lint-imports to read."""
    shutil.copytree(
        ROOT / "operator" / "videodl",
        tmp_path / "operator" / "videodl",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint(tree: Path, module: str, source: str) -> str:
    """lint-imports' report on ``tree`` with ``module`` added, holding ``source``."""
    path = tree / "operator" / Path(*module.split("."))
    if source.startswith("package:"):
        path.mkdir()
        (path / "__init__.py").write_text(source.removeprefix("package:"), encoding="utf-8")
    else:
        path.with_suffix(".py").write_text(source, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tree / "operator")}
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0, result.stdout
    return result.stdout + result.stderr


class TestContracts:
    def test_the_layers_are_the_documented_ones(self) -> None:
        """The layers contract stacks the product as docs/architecture.md draws it."""
        assert layer_names() == [
            ["videodl.operator", "videodl.worker", "videodl.cleanup", "videodl.cli"],
            ["videodl.breaker"],
            ["videodl.kube"],
            ["videodl.reconcile"],
            ["videodl.core"],
            ["videodl.workerapi"],
            ["videodl.api"],
        ]
        text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
        drawing = text[text.index("## Where the code is") :].split("```")[1]
        drawn = [re.findall(r"videodl\.\w+", line) for line in drawing.splitlines()]
        assert [row for row in drawn if row] == layer_names()

    def test_no_contract_ignores_imports(self) -> None:
        """No contract makes exceptions: a forbidden import is fixed, not ignored."""
        assert [c["name"] for c in CONTRACTS if c.get("ignore_imports")] == []

    def test_the_layers_contract_is_exhaustive(self) -> None:
        """Every package of the product must have a layer (a new one fails until placed)."""
        layers = contract("layers", "layered")
        assert layers["containers"] == ["videodl"]
        assert layers["exhaustive"] is True
        packages = {
            f"videodl.{p.name}"
            for p in (ROOT / "operator" / "videodl").iterdir()
            if (p / "__init__.py").exists()
        }
        assert packages == {name for layer in layer_names() for name in layer}

    def test_the_pure_layers_forbid_the_io_libraries(self) -> None:
        """api, workerapi, core and reconcile may not reach kubernetes, kopf, metrics or aiohttp."""
        pure = contract("forbidden", "pure layers")
        assert set(pure["source_modules"]) == {
            "videodl.api",
            "videodl.workerapi",
            "videodl.core",
            "videodl.reconcile",
        }
        assert {"kubernetes", "kopf", "prometheus_client", "aiohttp"} <= set(
            pure["forbidden_modules"]
        )
        assert CONFIG["include_external_packages"] is True


class TestViolations:
    def test_an_upward_import_is_reported(self, tree: Path) -> None:
        """A core module importing the operator breaks the layers contract."""
        report = lint(tree, "videodl.core._upward", "import videodl.operator\n")
        assert "videodl.core is not allowed to import videodl.operator" in report
        assert "videodl.core._upward -> videodl.operator (l.1)" in report

    def test_a_pure_layer_reaching_the_client_is_reported(self, tree: Path) -> None:
        """A reconcile module importing the Kubernetes client breaks the purity contract."""
        report = lint(tree, "videodl.reconcile._io", "import kubernetes\n")
        assert "videodl.reconcile is not allowed to import kubernetes" in report

    def test_the_worker_reaching_reconcile_is_reported(self, tree: Path) -> None:
        """A worker module importing reconcile breaks the Pod-side programs' contract."""
        report = lint(tree, "videodl.worker._plan", "import videodl.reconcile\n")
        assert "videodl.worker is not allowed to import videodl.reconcile" in report

    def test_the_worker_loading_kopf_is_reported(self, tree: Path) -> None:
        """A worker module importing kopf breaks the Pod-side programs' contract."""
        report = lint(tree, "videodl.worker._framework", "import kopf\n")
        assert "videodl.worker is not allowed to import kopf" in report

    def test_the_worker_and_cleanup_stay_apart(self, tree: Path) -> None:
        """The cleanup program importing the worker breaks their independence."""
        report = lint(tree, "videodl.cleanup._shared", "import videodl.worker\n")
        assert "videodl.cleanup is not allowed to import videodl.worker" in report

    def test_the_command_line_importing_the_operator_is_reported(self, tree: Path) -> None:
        """The command line shares the operator's pure code, never the operator package."""
        report = lint(tree, "videodl.cli._settings", "import videodl.operator.settings\n")
        assert "videodl.cli is not allowed to import videodl.operator" in report

    def test_the_product_importing_the_devkit_is_reported(self, tree: Path) -> None:
        """A product module importing videodl_devkit breaks the no-dev-tooling contract."""
        report = lint(tree, "videodl.kube._local", "import videodl_devkit.cluster\n")
        assert "videodl is not allowed to import videodl_devkit" in report

    def test_an_unplaced_package_is_reported(self, tree: Path) -> None:
        """A new package of the product that no layer names fails the exhaustive check."""
        report = lint(tree, "videodl.extras", 'package:"""A package without a layer."""\n')
        assert "videodl.extras" in report
        assert "exhaustive" in report
