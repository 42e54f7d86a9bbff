"""Site keys for download URLs: the extractor for known sites, the host for the rest."""

from __future__ import annotations

import pytest
from yt_dlp.extractor import gen_extractor_classes
from yt_dlp.version import __version__

from videodl.breaker import sites


class TestSiteOf:
    @pytest.mark.parametrize(
        ("url", "site"),
        [
            ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "Youtube"),
            ("https://youtu.be/dQw4w9WgXcQ", "Youtube"),
            ("https://vimeo.com/123456", "Vimeo"),
            ("http://127.0.0.1:8080/media/video.mp4", "127.0.0.1_8080"),
            ("http://localhost:8080/page/video.html", "localhost_8080"),
            ("https://Media.Example.com:443/a.mp4", "media.example.com"),
            ("https://example.com:8443/a.mp4", "example.com_8443"),
        ],
    )
    def test_keys(self, url: str, site: str) -> None:
        """Hosts of one site share a key; generic hosts (and ports) are kept apart."""
        assert sites.site_of(url) == site

    def test_generic_urls_have_no_extractor(self) -> None:
        """A plain media URL is left to the generic extractor."""
        assert sites.extractor_for("http://127.0.0.1:8080/media/video.mp4") is None

    def test_a_url_without_host_is_an_error(self) -> None:
        """A URL without a host cannot be given a site."""
        with pytest.raises(ValueError, match="has no host"):
            sites.site_of("file:///etc/passwd")


class TestAgreesWithYtDlp:
    @pytest.mark.parametrize(
        "url",
        [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com/playlist?list=PL590L5WQmH8fJ54F369BLDSqIwcs-TCfs",
            "https://www.youtube.com/@channel/videos",
            "https://youtu.be/dQw4w9WgXcQ",
            "https://vimeo.com/123456",
            "https://soundcloud.com/artist/track",
            "https://www.twitch.tv/videos/123456789",
            "https://x.com/user/status/1234567890",
            "https://www.dailymotion.com/video/x7tgad0",
            "https://archive.org/details/some_item",
            "http://127.0.0.1:8080/media/video.mp4",
            "https://media.example/v/d1",
        ],
    )
    def test_the_first_suitable_extractor(self, url: str) -> None:
        """The table finds the extractor yt-dlp itself would try first."""
        expected = next(
            (
                ie.ie_key()
                for ie in gen_extractor_classes()
                if ie.ie_key() != "Generic" and ie.suitable(url)
            ),
            None,
        )
        assert sites.extractor_for(url) == expected


class TestExtractorHint:
    def test_names_the_extractor_and_this_yt_dlp_version(self) -> None:
        """A worker is told the extractor the table found, or Generic, and by which yt-dlp."""
        sites.warm_up()
        assert sites.extractor_hint("https://youtu.be/dQw4w9WgXcQ") == f"Youtube@{__version__}"
        assert sites.extractor_hint("http://127.0.0.1:8080/media/v.mp4") == f"Generic@{__version__}"

    def test_nothing_while_the_table_loads(self) -> None:
        """Building a Pod never waits for the table: before it is loaded there is no hint."""
        sites._extractors.cache_clear()
        sites.extractor_for.cache_clear()
        try:
            assert sites.extractor_hint("https://youtu.be/dQw4w9WgXcQ") is None
        finally:
            sites.warm_up()
        assert sites.extractor_hint("https://youtu.be/dQw4w9WgXcQ") is not None
