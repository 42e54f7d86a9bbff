"""The indexer program against the real media server: yt-dlp's flat extraction, no cluster."""

from __future__ import annotations

import dataclasses
import logging
import pathlib

import pytest
from tests.integration.worker.workerharness import LOOPBACK
from yt_dlp.version import __version__ as ytdlp_version

from videodl.worker import indexer
from videodl.workerapi import index
from videodl.workerapi.environment import ExtractorHint
from videodl.workerapi.index import IndexJob
from videodl_devkit.mediaserver import MediaServer


def job(tmp_path: pathlib.Path, *sources: str, limit: int = index.HARD_CAP) -> IndexJob:
    return IndexJob(
        sources=sources,
        name="p",
        namespace="n",
        chunks=tuple(f"c{n}" for n in range(index.chunk_count(limit))),
        limit=limit,
        tmp_dir=str(tmp_path),
        termination_message_path=str(tmp_path / "termination"),
        allowed_networks=tuple(LOOPBACK.split(",")),
    )


class TestEnumerate:
    def test_feed_gives_id_url_title_duration_and_date(
        self, tmp_path: pathlib.Path, media_server: MediaServer, unique: str
    ) -> None:
        """Each episode of the feed comes back with everything selection needs."""
        url = media_server.url(f"/playlist/{unique}.rss?count=3&missing=2")
        entries, found, title = indexer.enumerate_sources(job(tmp_path, url))
        assert (found, title) == (3, unique)
        assert [e.id for e in entries] == [f"{unique}-{n}" for n in (1, 2, 3)]
        assert entries[0].url == media_server.url(f"/named/{unique}-1.mp4")
        assert entries[1].url == media_server.url(f"/status/404/{unique}-2.mp4")
        assert [e.upload_date for e in entries] == ["20240101", "20240102", "20240103"]
        assert [e.duration for e in entries] == [1.0, 2.0, 3.0]
        assert entries[2].title == f"{unique} episode 3"
        assert [e.index for e in entries] == [1, 2, 3]

    def test_found_counts_beyond_the_limit(
        self, tmp_path: pathlib.Path, media_server: MediaServer, unique: str
    ) -> None:
        """More entries than the limit are counted, not recorded."""
        url = media_server.url(f"/playlist/{unique}.rss?count=30")
        entries, found, _ = indexer.enumerate_sources(job(tmp_path, url, limit=10))
        assert (len(entries), found) == (10, 30)

    def test_the_operators_hints_give_the_same_entries(
        self,
        tmp_path: pathlib.Path,
        media_server: MediaServer,
        unique: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Told each source's extractor, the indexer goes straight to it and finds what it
        finds untold; a source without a hint is searched for as usual."""
        caplog.set_level(logging.INFO, logger="videodl.worker")
        feed = media_server.url(f"/playlist/{unique}.rss?count=3")
        page = media_server.url(f"/playlist/page{unique}.html?count=2")
        untold = indexer.enumerate_sources(job(tmp_path, feed, page))
        assert "as the operator found it" not in caplog.text
        hints = (ExtractorHint(key="Generic", version=ytdlp_version), None)
        told = indexer.enumerate_sources(
            dataclasses.replace(job(tmp_path, feed, page), extractors=hints)
        )
        assert caplog.text.count("extractor Generic, as the operator found it") == 1
        assert told == untold
        assert told[1] == 5

    def test_a_list_of_urls_and_a_page_with_several_videos(
        self, tmp_path: pathlib.Path, media_server: MediaServer, unique: str
    ) -> None:
        """Direct video URLs are one entry each; a page's <video> tags one entry each."""
        direct = [media_server.url(f"/named/{unique}-{n}.mp4") for n in (1, 2)]
        page = media_server.url(f"/playlist/page{unique}.html?count=2")
        entries, found, _ = indexer.enumerate_sources(job(tmp_path, *direct, page))
        assert found == 4
        assert [e.index for e in entries] == [1, 2, 3, 4]
        assert entries[0].url == direct[0]
        assert len({e.id for e in entries}) == 4

    def test_loopback_refused_without_the_allowance(
        self, tmp_path: pathlib.Path, media_server: MediaServer, unique: str
    ) -> None:
        """The indexer's connections pass the worker's egress guard."""
        bare = job(tmp_path, media_server.url(f"/playlist/{unique}.rss"))
        outcome = indexer.run(dataclasses.replace(bare, allowed_networks=()))
        assert not outcome.succeeded
        assert outcome.message.model_dump(by_alias=True)["class"] == "Permanent"
