"""The core stays pure: no I/O libraries, no clock reads, no global randomness."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import videodl.core

CORE_DIR = Path(videodl.core.__file__).parent
MODULES = sorted(
    info.name for info in pkgutil.iter_modules([str(CORE_DIR)]) if not info.name.startswith("_")
)
# Libraries that do I/O, read the clock or reach the cluster.
FORBIDDEN_IMPORTS = {
    "asyncio",
    "http",
    "kopf",
    "kubernetes",
    "os",
    "pathlib",
    "prometheus_client",
    "requests",
    "shutil",
    "socket",
    "subprocess",
    "threading",
    "time",
    "urllib.request",
    "yt_dlp",
}
# The only parts of the product the core may build on: itself and the (pure) API models.
ALLOWED_PRODUCT_IMPORTS = ("videodl.core", "videodl.api")
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic"}


def imported_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def parse(module: str) -> ast.Module:
    return ast.parse((CORE_DIR / f"{module}.py").read_text(), filename=module)


class TestPurity:
    def test_every_module_is_checked(self) -> None:
        """The checks below cover the core modules (and any added later)."""
        assert {"backoff", "breaker", "conditions", "election", "ordering"} <= set(MODULES)

    @pytest.mark.parametrize("module", MODULES)
    def test_no_io_imports(self, module: str) -> None:
        """A core module imports no I/O library and nothing of the product outside the core."""
        for name in imported_names(parse(module)):
            root_matches = {f for f in FORBIDDEN_IMPORTS if name == f or name.startswith(f + ".")}
            assert not root_matches, f"{module} imports {name}"
            if name.startswith("videodl"):
                assert name.startswith(ALLOWED_PRODUCT_IMPORTS), f"{module} imports {name}"

    @pytest.mark.parametrize("module", MODULES)
    def test_no_clock_or_global_random(self, module: str) -> None:
        """Time and randomness come in as arguments: no datetime.now(), no random.random()."""
        for node in ast.walk(parse(module)):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            assert node.func.attr not in CLOCK_CALLS, f"{module}:{node.lineno} reads the clock"
            target = node.func.value
            if isinstance(target, ast.Name) and target.id == "random":
                assert node.func.attr == "Random", f"{module}:{node.lineno} uses global random"

    def test_importing_the_core_loads_no_io_library(self) -> None:
        """Importing every core module, transitively, loads neither kopf nor the client."""
        code = (
            "import sys\n"
            + "".join(f"import videodl.core.{m}\n" for m in MODULES)
            + "print(sorted(m for m in ('kopf', 'kubernetes', 'prometheus_client', 'yt_dlp')"
            " if m in sys.modules))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == "[]"
