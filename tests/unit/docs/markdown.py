"""Reading the project's Markdown: fenced blocks, links, heading anchors, tables and names.

Pure helpers over text, so the checks in this package can be shown to catch what they are
meant to catch on small made-up documents as well as run over the real ones.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from collections.abc import Iterator

REPO = pathlib.Path(__file__).resolve().parents[3]
DOCS = REPO / "docs"


def documents() -> list[pathlib.Path]:
    """Every Markdown document of the project: ``docs/*.md`` and the top-level README."""
    return [*sorted(DOCS.glob("*.md")), REPO / "README.md"]


@dataclasses.dataclass(frozen=True)
class Block:
    """A fenced code block: its info string's first word, its text and its first line."""

    lang: str
    body: str
    line: int


_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of ``text``, in order (an unclosed fence runs to the end)."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        fence = match["fence"]
        lang = match["info"].strip().split(" ")[0] if match["info"].strip() else ""
        body: list[str] = []
        start = index + 1
        index += 1
        while index < len(lines):
            closing = lines[index].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            body.append(lines[index])
            index += 1
        found.append(Block(lang=lang, body="\n".join(body) + "\n", line=start))
        index += 1
    return found


def outside_fences(text: str) -> list[str]:
    """The lines of ``text`` that are not part of a fenced code block."""
    lines = text.splitlines()
    fenced = _fenced_line_numbers(lines)
    return [line for number, line in enumerate(lines) if number not in fenced]


def _without_code_spans(line: str) -> str:
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", line)


def prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code spans (where links are not links)."""
    return "\n".join(_without_code_spans(line) for line in outside_fences(text))


_INLINE_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)


def links(text: str) -> list[str]:
    """Targets of inline links, images and reference definitions outside code."""
    plain = prose(text)
    return [m[1] for m in _INLINE_LINK.finditer(plain)] + [
        m[1] for m in _REFERENCE_DEFINITION.finditer(plain)
    ]


def is_external(target: str) -> bool:
    """Whether a link target leaves the repository (a URL with a scheme)."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) is not None


_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


def headings(text: str) -> list[str]:
    """The text of every ATX heading outside fenced code blocks (inline code unwrapped)."""
    found = []
    for line in outside_fences(text):
        match = _HEADING.match(line)
        if match is not None:
            found.append(re.sub(r"`+([^`]*)`+", r"\1", match[2]))
    return found


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = text.strip().lower()
    kept = "".join(ch for ch in text if ch.isalnum() or ch in "-_ ")
    return kept.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor of the document's headings, numbered as GitHub numbers repeated ones."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for heading in headings(text):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def tables(text: str) -> Iterator[list[list[str]]]:
    """Each pipe table outside fenced blocks, as rows of stripped cells (header row first).

    Cells keep their inline code; the delimiter row is left out.
    """
    rows: list[list[str]] = []
    for line in [*outside_fences(text), ""]:
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", stripped[1:-1])]
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                rows.append(cells)
            continue
        if rows:
            yield rows
            rows = []


def code_spans(cell: str) -> list[str]:
    """The contents of the code spans of a table cell."""
    return re.findall(r"`([^`]+)`", cell)


def section(text: str, heading: str) -> str:
    """The lines under the heading ``heading`` (as written, code spans included) up to the
    next heading of the same or a higher level; fenced blocks in it are kept."""
    lines = text.splitlines()
    fenced = _fenced_line_numbers(lines)
    for index, line in enumerate(lines):
        match = None if index in fenced else _HEADING.match(line)
        if match is None or match[2] != heading:
            continue
        level = len(match[1])
        body = []
        for number in range(index + 1, len(lines)):
            other = None if number in fenced else _HEADING.match(lines[number])
            if other is not None and len(other[1]) <= level:
                break
            body.append(lines[number])
        return "\n".join(body)
    msg = f"no heading {heading!r} in the document"
    raise KeyError(msg)


def _fenced_line_numbers(lines: list[str]) -> set[int]:
    numbers: set[int] = set()
    inside: str | None = None
    for number, line in enumerate(lines):
        match = _FENCE.match(line)
        if inside is None and match is not None:
            inside = match["fence"]
            numbers.add(number)
            continue
        if inside is not None:
            numbers.add(number)
            stripped = line.strip()
            if stripped.startswith(inside[0] * len(inside)) and not stripped.strip(inside[0]):
                inside = None
    return numbers


METRIC = re.compile(r"\bvideodl_[a-z0-9_]*[a-z0-9]\b")
# Not preceded by a dot: `videodownloads.videodl.dev/status` is a resource, not a key.
ANNOTATION = re.compile(r"(?<![\w.-])videodl\.dev/[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


def metric_names(text: str) -> set[str]:
    """Every ``videodl_*`` series name mentioned anywhere in ``text``, code included."""
    return set(METRIC.findall(text))


def videodl_keys(text: str) -> set[str]:
    """Every ``videodl.dev/<name>`` key (annotation, label, finalizer, API version) in ``text``."""
    return set(ANNOTATION.findall(text))
