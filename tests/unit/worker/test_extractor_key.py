"""When the worker trusts the operator's word on which extractor takes a URL."""

from __future__ import annotations

import pytest
from yt_dlp.version import __version__

from videodl.worker.extractors import extractor_key
from videodl.workerapi.environment import ExtractorHint

LOCAL = "http://127.0.0.1:8080/media/video.mp4"
YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


def hint(key: str, version: str = __version__) -> ExtractorHint:
    return ExtractorHint(key=key, version=version)


class TestExtractorKey:
    @pytest.mark.parametrize(("key", "url"), [("Generic", LOCAL), ("Youtube", YOUTUBE)])
    def test_a_hint_from_this_yt_dlp_that_fits_is_taken(self, key: str, url: str) -> None:
        """The extractor is used straight away when this yt-dlp says it takes the URL."""
        assert extractor_key(hint(key), url) == key

    def test_no_hint_means_searching(self) -> None:
        assert extractor_key(None, LOCAL) is None

    def test_another_yt_dlp_version_is_not_trusted(self) -> None:
        """Another version may hold other extractors or another order: search."""
        assert extractor_key(hint("Generic", version="2000.01.01"), LOCAL) is None

    def test_an_unknown_extractor_is_not_taken(self) -> None:
        assert extractor_key(hint("NoSuchSite"), LOCAL) is None

    def test_an_extractor_that_does_not_take_the_url_is_not_taken(self) -> None:
        """A hint for another URL (a spec edited since) must not force a wrong extractor."""
        assert extractor_key(hint("Youtube"), LOCAL) is None
