"""Every ``videodl.dev/...`` key the documentation mentions is one the code uses."""

from __future__ import annotations

import ast
import functools
import pathlib

import pytest

from videodl.api import resource

from . import markdown

# The product and the devkit (the local cluster has keys of its own, documented too).
PACKAGES = (markdown.REPO / "operator" / "videodl", markdown.REPO / "hack" / "devkit")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings (they describe, they are not used)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def keys_in_code(paths: list[pathlib.Path]) -> set[str]:
    """``videodl.dev/...`` keys in the string literals of ``paths``, docstrings left out."""
    keys: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                keys |= markdown.videodl_keys(node.value)
    return keys


@functools.cache
def known_keys() -> frozenset[str]:
    """Keys the code really uses, plus the API version it builds from its parts."""
    return frozenset(
        keys_in_code(sorted(p for root in PACKAGES for p in root.rglob("*.py")))
        | {resource.API_VERSION}
    )


@pytest.mark.parametrize(
    "document", markdown.documents(), ids=lambda p: str(p.relative_to(markdown.REPO))
)
def test_documented_keys_exist_in_the_code(document: pathlib.Path) -> None:
    """Annotations, labels and finalizers named `videodl.dev/...` in a document exist in code."""
    unknown = markdown.videodl_keys(document.read_text(encoding="utf-8")) - known_keys()
    assert not unknown, f"{document.name} names keys the code does not use: {sorted(unknown)}"


def test_the_key_reader_sees_constants_but_not_docstrings(tmp_path: pathlib.Path) -> None:
    """A key used in code counts; one that only a docstring mentions does not."""
    module = tmp_path / "sample.py"
    module.write_text(
        '"""Mentions videodl.dev/only-in-a-docstring."""\n'
        'RETRY = "videodl.dev/retry"\n'
        "def f() -> None:\n"
        '    """Also videodl.dev/nowhere."""\n',
        encoding="utf-8",
    )
    assert keys_in_code([module]) == {"videodl.dev/retry"}


def test_the_operators_annotations_are_known() -> None:
    """The retry annotations and the breaker's commands are found in the code."""
    assert {
        "videodl.dev/retry",
        "videodl.dev/retry-handled",
        "videodl.dev/reset",
        "videodl.dev/force-open",
        "videodl.dev/last-command",
        "videodl.dev/cleanup",
    } <= known_keys()
