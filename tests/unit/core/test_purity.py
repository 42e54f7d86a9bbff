"""Pure modules stay pure: no I/O libraries, no clock reads, no global randomness.

Which modules are pure: every module of the pure layers (``videodl.api``,
``videodl.workerapi``, ``videodl.core``, ``videodl.reconcile``, see docs/architecture.md),
and every other module of the product whose docstring says so with ``Pure:`` (the house
convention, as in "Pure: no I/O."), or whose package's ``__init__`` docstring does.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

import videodl

PRODUCT_DIR = Path(videodl.__file__).parent
PURE_LAYERS = ("videodl.api", "videodl.workerapi", "videodl.core", "videodl.reconcile")
# Programs inside a pure layer whose whole job is I/O; nothing in the product imports them.
PROGRAMS = {
    # `make generate`: writes the CRD, the chart's CRDs and docs/api.md from the models.
    "videodl.api.generate",
}
PURITY_CLAIM = re.compile(r"\bPure:")
# Libraries that do I/O, read the clock or reach the cluster.
FORBIDDEN_IMPORTS = {
    "aiohttp",
    "asyncio",
    "fcntl",
    "http",
    "kopf",
    "kubernetes",
    "os",
    "pathlib",
    "prometheus_client",
    "requests",
    "select",
    "shutil",
    "signal",
    "socket",
    "subprocess",
    "tempfile",
    "threading",
    "time",
    "urllib.request",
    "urllib3",
    # The development tooling is no part of the product at all.
    "videodl_devkit",
    "yt_dlp",
}
# The core builds only on itself and the (pure) API models; other pure modules only on
# pure modules.
CORE_ALLOWED_PRODUCT_IMPORTS = ["videodl.core", "videodl.api"]
CLOCK_CALLS = {
    "monotonic",
    "monotonic_ns",
    "now",
    "perf_counter",
    "perf_counter_ns",
    "time",
    "time_ns",
    "today",
    "utcnow",
}
# Loaded by importing a pure module, even indirectly, these mean it is not pure.
HEAVY_LIBRARIES = ("aiohttp", "kopf", "kubernetes", "prometheus_client", "yt_dlp")


def module_name(path: Path) -> str:
    parts = path.relative_to(PRODUCT_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


FILES = {module_name(p): p for p in sorted(PRODUCT_DIR.rglob("*.py"))}


def docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def within(name: str, packages: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def pure_modules() -> dict[str, Path]:
    claimed = {name for name, path in FILES.items() if PURITY_CLAIM.search(docstring(path))}
    packages = {name for name in claimed if FILES[name].name == "__init__.py"}
    in_pure_package = {
        name
        for name in FILES
        if within(name, PURE_LAYERS) or (within(name, packages) and name not in PROGRAMS)
    }
    return {name: FILES[name] for name in sorted((in_pure_package - PROGRAMS) | claimed)}


PURE = pure_modules()


def parse(module: str) -> ast.Module:
    return ast.parse(PURE[module].read_text(encoding="utf-8"), filename=str(PURE[module]))


def imports(module: str) -> list[tuple[str, str]]:
    """``(imported name, what it loads)`` for every import statement of ``module``.

    What it loads is the product module the import ends on (``from videodl.api import
    status`` and ``from videodl.api.status import Progress`` both end on
    ``videodl.api.status``), else the imported name itself.
    """
    is_package = PURE[module].name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, str]] = []
    for node in ast.walk(parse(module)):
        if isinstance(node, ast.Import):
            found += [(alias.name, _loaded(alias.name)) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            found += [
                (f"{base}.{alias.name}", _loaded(f"{base}.{alias.name}")) for alias in node.names
            ]
    return found


def _loaded(name: str) -> str:
    """The longest prefix of ``name`` that is a product module, else ``name``."""
    prefix = name
    while prefix and prefix not in FILES:
        prefix = prefix.rpartition(".")[0]
    return prefix or name


class TestPurity:
    def test_every_pure_module_is_checked(self) -> None:
        """The checks below cover the pure layers and the modules that say they are pure."""
        assert {
            "videodl.core.backoff",
            "videodl.core.breaker",
            "videodl.core.conditions",
            "videodl.core.election",
            "videodl.core.ordering",
            "videodl.api.spec",
            "videodl.workerapi.termination",
            "videodl.reconcile.download.transitions",
            "videodl.worker.options",
        } <= set(PURE)
        assert "videodl.api.generate" not in PURE

    @pytest.mark.parametrize("module", sorted(PURE))
    def test_no_io_imports(self, module: str) -> None:
        """A pure module imports no I/O library and, of the product, only pure modules."""
        for name, loaded in imports(module):
            root_matches = {f for f in FORBIDDEN_IMPORTS if within(name, [f])}
            assert not root_matches, f"{module} imports {name}"
            if within(module, ["videodl.core"]) and within(name, ["videodl"]):
                assert within(name, CORE_ALLOWED_PRODUCT_IMPORTS), f"{module} imports {name}"
            # ``videodl/__init__.py`` is a docstring and nothing else.
            if loaded in FILES and loaded != "videodl":
                assert loaded in PURE, f"{module} imports {name}, which is not pure"

    @pytest.mark.parametrize("module", sorted(PURE))
    def test_no_clock_or_global_random(self, module: str) -> None:
        """Time and randomness come in as arguments: no datetime.now(), no random.random()."""
        for node in ast.walk(parse(module)):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            assert node.func.attr not in CLOCK_CALLS, f"{module}:{node.lineno} reads the clock"
            target = node.func.value
            if isinstance(target, ast.Name) and target.id == "random":
                assert node.func.attr == "Random", f"{module}:{node.lineno} uses global random"

    def test_importing_pure_modules_loads_no_io_library(self) -> None:
        """Importing every pure module, transitively, loads neither kopf, the client nor yt-dlp."""
        code = (
            "import sys\n"
            + "".join(f"import {m}\n" for m in sorted(PURE))
            + f"print(sorted(m for m in {HEAVY_LIBRARIES!r} if m in sys.modules))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "[]"
