"""Every relative link in the documentation leads to a file (and heading) that exists."""

from __future__ import annotations

import pathlib
from urllib.parse import unquote

import pytest

from . import markdown


def broken_links(document: pathlib.Path, text: str) -> list[str]:
    """The relative links of ``document`` whose file or heading anchor does not exist."""
    problems = []
    for target in markdown.links(text):
        if markdown.is_external(target):
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (document.parent / unquote(path_part)).resolve() if path_part else document
        if not resolved.is_relative_to(markdown.REPO):
            problems.append(f"{target}: leaves the repository")
            continue
        if not resolved.exists():
            problems.append(f"{target}: {resolved.relative_to(markdown.REPO)} does not exist")
            continue
        if not anchor:
            continue
        if resolved.suffix != ".md":
            problems.append(f"{target}: anchors are only checked in Markdown files")
            continue
        if anchor not in markdown.anchors(resolved.read_text(encoding="utf-8")):
            problems.append(f"{target}: no heading with anchor #{anchor}")
    return problems


@pytest.mark.parametrize(
    "document", markdown.documents(), ids=lambda p: str(p.relative_to(markdown.REPO))
)
def test_relative_links_resolve(document: pathlib.Path) -> None:
    """Each relative link names an existing file or directory, and an existing heading."""
    problems = broken_links(document, document.read_text(encoding="utf-8"))
    assert not problems, f"{document.relative_to(markdown.REPO)}: " + "; ".join(problems)


def test_the_checker_reports_missing_files_and_anchors() -> None:
    """A link to a missing file, a missing heading or outside the repository is reported."""
    document = markdown.DOCS / "operations.md"
    text = (
        "[ok](architecture.md#phases) [gone](nowhere.md) [bad anchor](api.md#no-such-heading) "
        "[out](../../etc/passwd) [self](#priorities-and-limits) [self-bad](#nope)"
    )
    problems = broken_links(document, text)
    assert len(problems) == 4
    assert problems[0].startswith("nowhere.md: ")
    assert problems[1] == "api.md#no-such-heading: no heading with anchor #no-such-heading"
    assert problems[2] == "../../etc/passwd: leaves the repository"
    assert problems[3] == "#nope: no heading with anchor #nope"


def test_every_document_is_listed_in_the_index() -> None:
    """docs/README.md links every other document in docs/."""
    index = markdown.DOCS / "README.md"
    linked = {
        (index.parent / t.partition("#")[0]).resolve()
        for t in markdown.links(index.read_text(encoding="utf-8"))
        if not markdown.is_external(t)
    }
    missing = [p.name for p in sorted(markdown.DOCS.glob("*.md")) if p != index and p not in linked]
    assert not missing, f"docs/README.md does not link: {', '.join(missing)}"
