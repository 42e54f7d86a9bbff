"""The YAML shown in the documentation parses, and every VideoDownload in it is valid."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import yaml

from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.resource import KIND, VideoDownload

from . import markdown


def yaml_documents(text: str) -> list[tuple[int, Any]]:
    """(line of the block, document) for every document of every yaml block in ``text``."""
    found = []
    for block in markdown.blocks(text):
        if block.lang in ("yaml", "yml"):
            found.extend((block.line, d) for d in yaml.safe_load_all(block.body) if d is not None)
    return found


def video_downloads(text: str) -> list[tuple[int, dict[str, Any]]]:
    """The documents of kind VideoDownload shown in ``text``."""
    return [
        (line, d)
        for line, d in yaml_documents(text)
        if isinstance(d, dict) and d.get("kind") == KIND
    ]


DOCUMENTS = markdown.documents()
IDS = [str(p.relative_to(markdown.REPO)) for p in DOCUMENTS]


@pytest.mark.parametrize("document", DOCUMENTS, ids=IDS)
def test_yaml_blocks_parse(document: pathlib.Path) -> None:
    """Every yaml code block is valid YAML."""
    yaml_documents(document.read_text(encoding="utf-8"))


@pytest.mark.parametrize("document", DOCUMENTS, ids=IDS)
def test_video_downloads_are_valid(document: pathlib.Path) -> None:
    """Every VideoDownload shown parses with the API models and has a name."""
    for line, manifest in video_downloads(document.read_text(encoding="utf-8")):
        parsed = VideoDownload.from_object(manifest)
        assert parsed.name, f"{document.name}:{line}: the VideoDownload has no metadata.name"


def test_the_documents_show_video_downloads() -> None:
    """The user-facing documents do carry example manifests (the check is not vacuous)."""
    shown = {
        p.name
        for p in DOCUMENTS
        if p.parent == markdown.DOCS and video_downloads(p.read_text(encoding="utf-8"))
    }
    assert {"operations.md", "gitops.md"} <= shown


def test_an_invalid_manifest_is_refused() -> None:
    """A VideoDownload breaking a rule (preset and selector together) fails to parse."""
    text = (
        "```yaml\napiVersion: videodl.dev/v1alpha1\nkind: VideoDownload\nmetadata: {name: x}\n"
        "spec:\n  url: https://example.org/v.mp4\n  format: {preset: Best, selector: b}\n```\n"
    )
    ((_, manifest),) = video_downloads(text)
    with pytest.raises(InvalidVideoDownloadError, match="mutually exclusive"):
        VideoDownload.from_object(manifest)


def test_broken_yaml_is_reported() -> None:
    """A yaml block that is not YAML raises instead of being skipped."""
    with pytest.raises(yaml.YAMLError):
        yaml_documents("```yaml\nspec: [unclosed\n```\n")
