"""Site keys for download URLs: the extractor for known sites, the host for the rest."""

from __future__ import annotations

import pytest

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
