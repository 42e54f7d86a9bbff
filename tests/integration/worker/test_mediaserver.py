"""Tests for videodl_devkit.mediaserver, the HTTP server the worker's tests rely on."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from tests.integration.worker.workerharness import MEDIA_CACHE

from videodl_devkit.mediaserver import MediaServer, parse_range


def fetch(
    server: MediaServer, path: str, *, method: str = "GET", host: str | None = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection: status, headers, body (as far as it arrived)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        if host is not None:
            headers["Host"] = f"{host}:{server.port}"
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        try:
            body = response.read()
        except http.client.IncompleteRead as partial:
            body = partial.partial
        return response.status, dict(response.getheaders()), body
    finally:
        connection.close()


class TestParseRange:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            (None, None),
            ("bytes=0-", (0, 99)),
            ("bytes=10-19", (10, 19)),
            ("bytes=90-200", (90, 99)),
            ("bytes=-10", (90, 99)),
            ("bytes=-500", (0, 99)),
            ("bytes=0-1,5-6", None),
            ("items=0-1", None),
            ("bytes=x-y", None),
        ],
    )
    def test_ranges(self, header: str | None, expected: tuple[int, int] | None) -> None:
        """Single byte ranges are honoured; anything else means the whole body."""
        assert parse_range(header, 100) == expected

    @pytest.mark.parametrize("header", ["bytes=100-", "bytes=50-10", "bytes=-0"])
    def test_unsatisfiable(self, header: str) -> None:
        """Ranges past the end, backwards or empty cannot be satisfied (416)."""
        with pytest.raises(ValueError, match="bytes="):
            parse_range(header, 100)


class TestMedia:
    def test_whole_file_and_range(self) -> None:
        """Media is served whole (200) or by range (206 with Content-Range), HEAD without body."""
        with MediaServer(MEDIA_CACHE) as server:
            data = server.library.video.read_bytes()
            status, headers, body = fetch(server, "/media/video.mp4")
            assert (status, headers["Content-Type"], body) == (200, "video/mp4", data)
            assert headers["Accept-Ranges"] == "bytes"
            status, headers, body = fetch(server, "/media/video.mp4", Range="bytes=100-")
            assert (status, body) == (206, data[100:])
            assert headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
            status, headers, body = fetch(server, "/media/video.mp4", method="HEAD")
            assert (status, headers["Content-Length"], body) == (200, str(len(data)), b"")
            status, headers, _ = fetch(server, "/media/video.mp4", Range=f"bytes={len(data)}-")
            assert (status, headers["Content-Range"]) == (416, f"bytes */{len(data)}")
            requests = server.requests("/media/video.mp4")
            assert [(r.status, r.range_start) for r in requests] == [
                (200, None),
                (206, 100),
                (200, None),
                (416, None),
            ]
            assert server.bytes_served("/media/video.mp4") == 2 * len(data) - 100

    def test_no_way_out_of_the_media_directory(self) -> None:
        """Paths that climb out of the media directory, or hidden files, are not found."""
        with MediaServer(MEDIA_CACHE) as server:
            for path in ("/media/../mediaserver.py", "/media/%2E%2E/x", "/media/.complete"):
                assert fetch(server, path)[0] == 404

    def test_hls_and_pages(self) -> None:
        """The playlist, the video page (with tracks and thumbnail) and the empty page."""
        with MediaServer(MEDIA_CACHE) as server:
            status, headers, body = fetch(server, "/media/hls/playlist.m3u8")
            assert status == 200
            assert headers["Content-Type"] == "application/vnd.apple.mpegurl"
            assert body.decode().count(".ts") == 6
            page = fetch(server, "/page/video.html")[2].decode()
            assert '<video src="/media/video.mp4"' in page
            assert 'srclang="en"' in page
            assert f'content="http://127.0.0.1:{server.port}/media/thumb.jpg"' in page
            assert "<video" not in fetch(server, "/page/empty.html")[2].decode()
            titled = fetch(server, "/page/titled.html?title=%3Cb%3E%20x")[2].decode()
            assert "<title>&lt;b&gt; x</title>" in titled

    def test_feed(self) -> None:
        """The RSS feed lists numbered items enclosing the video."""
        with MediaServer(MEDIA_CACHE) as server:
            body = fetch(server, "/feed/show.rss?title=Episode&count=3")[2]
            items = ET.fromstring(body).findall("./channel/item")
            assert [i.findtext("title") for i in items] == ["Episode 1", "Episode 2", "Episode 3"]
            assert [i.findtext("guid") for i in items] == ["show-1", "show-2", "show-3"]
            enclosure = items[0].find("enclosure")
            assert enclosure is not None
            assert enclosure.get("url") == server.url("/media/video.mp4")
            assert ET.fromstring(body).findtext("./channel/title") == "show"

    def test_feed_and_page_titles_can_be_chosen(self) -> None:
        """?playlist= sets the feed's own title; ?thumbnail= sets a page's og:image."""
        with MediaServer(MEDIA_CACHE) as server:
            body = fetch(server, "/feed/show.rss?playlist=..&count=1")[2]
            assert ET.fromstring(body).findtext("./channel/title") == ".."
            page = fetch(server, "/page/titled.html?title=t&thumbnail=http%3A%2F%2F10.0.0.1%2Fa")
            assert 'content="http://10.0.0.1/a"' in page[2].decode()

    def test_redirect(self) -> None:
        """/redirect?to=U answers 302 with U as its Location, wherever U points."""
        with MediaServer(MEDIA_CACHE) as server:
            target = "http://169.254.169.254/latest/meta-data/"
            status, headers, body = fetch(server, "/redirect?to=" + target)
            assert (status, headers["Location"], body) == (302, target, b"")
            assert fetch(server, "/redirect")[0] == 404


class TestMisbehaviour:
    @pytest.mark.parametrize("code", [403, 404, 429, 503])
    def test_status(self, code: int) -> None:
        """/status/<code>/... always answers that code."""
        with MediaServer(MEDIA_CACHE) as server:
            assert fetch(server, f"/status/{code}/clip.mp4")[0] == code

    def test_flaky(self) -> None:
        """A flaky key answers 503 n times, then serves; keys are independent."""
        with MediaServer(MEDIA_CACHE) as server:
            statuses = [fetch(server, "/flaky/a/2/video.mp4")[0] for _ in range(4)]
            assert statuses == [503, 503, 200, 200]
            assert fetch(server, "/flaky/b/1/video.mp4")[0] == 503
            server.set_remaining("flaky", "c", 0)
            assert fetch(server, "/flaky/c/5/video.mp4")[0] == 200

    def test_drop(self) -> None:
        """A dropping key sends half the body and hangs up, then serves normally."""
        with MediaServer(MEDIA_CACHE) as server:
            size = server.library.video.stat().st_size
            status, headers, body = fetch(server, "/drop/k/1/video.mp4")
            assert (status, headers["Content-Length"], len(body)) == (200, str(size), size // 2)
            status, _, body = fetch(server, "/drop/k/1/video.mp4", Range=f"bytes={len(body)}-")
            assert (status, len(body)) == (206, size - size // 2)

    def test_host_switch(self) -> None:
        """/_control makes one host name answer 429 until switched back; others are served."""
        with MediaServer(MEDIA_CACHE) as server:
            control = server.url("/_control?host=localhost&mode=429")
            with urllib.request.urlopen(control) as answer:
                assert json.load(answer) == {"host": "localhost", "mode": "429"}
            assert fetch(server, "/media/video.mp4", host="localhost")[0] == 429
            assert fetch(server, "/media/video.mp4", host="127.0.0.1")[0] == 200
            server.set_host_mode("localhost", None)
            assert fetch(server, "/media/video.mp4", host="localhost")[0] == 200
            with pytest.raises(urllib.error.HTTPError, match="400"):
                urllib.request.urlopen(server.url("/_control?host=x&mode=sometimes"))

    def test_stats(self) -> None:
        """/_stats counts requests and body bytes per path, with a request log."""
        with MediaServer(MEDIA_CACHE) as server:
            fetch(server, "/status/404/a")
            fetch(server, "/media/video.mp4", Range="bytes=0-9")
            stats = json.loads(fetch(server, "/_stats")[2])
            assert stats["paths"]["/media/video.mp4"] == {"requests": 1, "bytesServed": 10}
            assert stats["paths"]["/status/404/a"]["requests"] == 1
            assert [r["status"] for r in stats["requests"]] == [404, 206]
