"""Tests for videodl.workerapi.index: the indexer's environment and its chunks."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.workerapi import environment, index
from videodl.workerapi.environment import InvalidEnvironmentError
from videodl.workerapi.index import Chunk, Entry

ENTRIES = st.builds(
    Entry,
    index=st.integers(1, 10**6),
    id=st.text(min_size=1, max_size=40),
    url=st.from_regex(r"https://[a-z]{1,20}\.example/[a-z0-9]{0,40}", fullmatch=True),
    title=st.none() | st.text(max_size=index.TITLE_MAX),
    duration=st.none() | st.floats(0, 10**6),
    upload_date=st.none() | st.from_regex(r"[0-9]{8}", fullmatch=True),
)


class TestChunks:
    @given(st.lists(ENTRIES, max_size=30), st.integers(0, 10**6))
    def test_round_trip(self, entries: list[Entry], found: int) -> None:
        """A chunk comes back exactly as it was encoded."""
        chunk = Chunk(found=found, entries=entries)
        assert index.decode_chunk({index.CHUNK_KEY: index.encode_chunk(chunk)}) == chunk

    def test_never_written(self) -> None:
        """A chunk the indexer has not written yet reads as None."""
        assert index.decode_chunk(None) is None
        assert index.decode_chunk({}) is None

    def test_garbage(self) -> None:
        """Anything that is not a chunk is refused, not guessed at."""
        with pytest.raises(ValueError, match="cannot be read"):
            index.decode_chunk({index.CHUNK_KEY: "bm90IGd6aXA="})

    def test_split(self) -> None:
        """Entries go into chunks of CHUNK_ENTRIES, in order; each carries found."""
        entries = [Entry(index=n, id=str(n), url=f"https://e.example/{n}") for n in range(1, 1201)]
        chunks = index.split(entries, found=1300, chunks=index.chunk_count(index.HARD_CAP))
        assert len(chunks) == 10
        assert [len(c.entries) for c in chunks[:4]] == [500, 500, 200, 0]
        assert all(c.found == 1300 for c in chunks)

    def test_hard_cap_fits_a_config_map(self) -> None:
        """500 entries with the longest URLs and titles stay below a ConfigMap's 1 MiB."""
        entries = [
            Entry(index=n, id="x" * 512, url="https://e.example/" + "a" * 2000, title="t" * 256)
            for n in range(1, index.CHUNK_ENTRIES + 1)
        ]
        encoded = index.encode_chunk(Chunk(found=5000, entries=entries))
        assert len(encoded) < 1024 * 1024


class TestLoad:
    def environ(self, **extra: str) -> dict[str, str]:
        return {
            index.SOURCES: json.dumps(["https://e.example/feed"]),
            index.NAME: "p",
            environment.NAMESPACE: "n",
            index.CHUNKS: ",".join(f"c{n}" for n in range(10)),
            **extra,
        }

    def test_complete(self) -> None:
        """A complete environment becomes a job."""
        job = index.load(self.environ())
        assert job.sources == ("https://e.example/feed",)
        assert job.limit == index.HARD_CAP
        assert len(job.chunks) == 10

    @pytest.mark.parametrize(
        ("variable", "value"),
        [(index.SOURCES, "[]"), (index.CHUNKS, ""), (index.LIMIT, "0"), (index.CHUNKS, "c0")],
    )
    def test_bad(self, variable: str, value: str) -> None:
        """A missing or inconsistent variable is named."""
        with pytest.raises(InvalidEnvironmentError, match=variable):
            index.load(self.environ(**{variable: value}))


class TestExtractors:
    SOURCES = json.dumps(["https://e.example/feed", "https://vimeo.com/1"])

    def load(self, raw: str | None) -> index.IndexJob:
        extra = {} if raw is None else {index.EXTRACTORS: raw}
        return index.load(TestLoad().environ(**{index.SOURCES: self.SOURCES, **extra}))

    def test_one_hint_per_source(self) -> None:
        """The operator's hints are read by position; a null one is no hint for its source."""
        job = self.load(index.encode_extractors([None, "Vimeo@2026.10.26"]))
        assert job.extractor(0) is None
        assert job.extractor(1) == environment.ExtractorHint(key="Vimeo", version="2026.10.26")

    @pytest.mark.parametrize(
        "raw", [None, "", "not json", '{"a": 1}', '["Generic@1"]', '["Generic@1", 2, 3]']
    )
    def test_anything_else_is_no_hint_at_all(self, raw: str | None) -> None:
        """Unreadable, or not one per source: the sources are searched for as usual."""
        job = self.load(raw)
        assert job.extractors == ()
        assert (job.extractor(0), job.extractor(1)) == (None, None)
