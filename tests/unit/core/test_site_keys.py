"""Tests for videodl.core.site_keys: which breaker a download's site gets."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.core import site_keys

CONFIGMAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")


class TestSiteKey:
    @pytest.mark.parametrize(
        ("extractor", "url", "key"),
        [
            ("Youtube", "https://www.youtube.com/watch?v=x", "Youtube"),
            ("Vimeo", "https://vimeo.com/1", "Vimeo"),
            ("Generic", "https://Media.Example.com/a.mp4", "media.example.com"),
            (None, "https://media.example.com:443/a.mp4", "media.example.com"),
            (None, "http://media.example.com:80/a.mp4", "media.example.com"),
            (None, "http://127.0.0.1:8080/a.mp4", "127.0.0.1_8080"),
            (None, "https://127.0.0.1:80/a.mp4", "127.0.0.1_80"),
            ("generic", "http://example.com./v", "example.com"),
            ("", "http://[::1]:9000/v", "__1_9000"),
            (None, "https://bücher.example/v", "xn--bcher-kva.example"),
            (None, "http://under_score.example/v", "under_x5f_score.example"),
        ],
    )
    def test_table(self, extractor: str | None, url: str, key: str) -> None:
        """Extractor keys are kept; generic URLs key on the host and a non-default port."""
        assert site_keys.site_key(extractor, url) == key

    def test_hosts_do_not_share_a_key(self) -> None:
        """Two hosts behind the generic extractor get different breakers."""
        keys = {
            site_keys.site_key("Generic", url)
            for url in (
                "http://a.example/v",
                "http://b.example/v",
                "http://a.example:8080/v",
                "http://a.example:8081/v",
            )
        }
        assert len(keys) == 4

    @pytest.mark.parametrize("url", ["not a url", "file:///tmp/x.mp4", "http:///path"])
    def test_url_without_host(self, url: str) -> None:
        """A URL with no host cannot be keyed, and the error says what a URL needs."""
        with pytest.raises(ValueError, match="has no host"):
            site_keys.site_key(None, url)

    def test_invalid_port(self) -> None:
        """A URL with a non-numeric port is refused with the URL in the message."""
        with pytest.raises(ValueError, match="invalid port"):
            site_keys.site_key(None, "http://example.com:http/v")

    def test_overlong_key_is_shortened_with_a_hash(self) -> None:
        """A key longer than 253 characters is cut and suffixed with a hash, staying unique."""
        first = site_keys.site_key("X" * 300, "http://x/")
        second = site_keys.site_key("X" * 299 + "Y", "http://x/")
        assert len(first) == len(second) == 253
        assert first != second

    @given(
        labels=st.lists(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_é", min_size=1, max_size=20),
            min_size=1,
            max_size=5,
        ),
        port=st.one_of(st.none(), st.integers(1, 65535)),
    )
    def test_keys_are_valid_configmap_keys(self, labels: list[str], port: int | None) -> None:
        """Whatever the host, the key is a valid ConfigMap data key."""
        host = ".".join(labels)
        url = f"http://{host}{'' if port is None else f':{port}'}/v"
        key = site_keys.site_key(None, url)
        assert CONFIGMAP_KEY.fullmatch(key)
        assert len(key) <= 253
        assert not key.startswith(".")

    @given(
        first=st.from_regex(r"[a-z0-9_-]{1,12}(\.[a-z0-9_-]{1,12}){0,2}", fullmatch=True),
        second=st.from_regex(r"[a-z0-9_-]{1,12}(\.[a-z0-9_-]{1,12}){0,2}", fullmatch=True),
        first_port=st.one_of(st.none(), st.integers(81, 65535)),
        second_port=st.one_of(st.none(), st.integers(81, 65535)),
    )
    def test_different_sites_get_different_keys(
        self, first: str, second: str, first_port: int | None, second_port: int | None
    ) -> None:
        """Distinct host and port pairs never collide, so one host cannot block another."""

        def url(host: str, port: int | None) -> str:
            return f"http://{host}{'' if port is None else f':{port}'}/v"

        if (first, first_port) != (second, second_port):
            assert site_keys.site_key(None, url(first, first_port)) != site_keys.site_key(
                None, url(second, second_port)
            )
