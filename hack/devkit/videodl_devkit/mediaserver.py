"""A local HTTP media server for tests, benchmarks and the demo.

It serves media generated with ffmpeg (no network needed) plus endpoints that misbehave on
purpose, so the worker's download path and failure classification, the operator's retries
and the circuit breaker can all be exercised against real HTTP.

Media is generated once per cache directory (:func:`ensure_media`): a 3 s mp4 with audio,
its thumbnail, two WebVTT subtitle files, an HLS playlist with 1 s segments and, on
demand, a large file for the benchmark.

Endpoints (``GET`` and ``HEAD``; every media response honours ``Range`` with 206):

``/media/<file>``
    A generated file: ``video.mp4``, ``hls/playlist.m3u8`` (and its segments),
    ``large.mp4`` once :meth:`MediaLibrary.large_file` has made it.
``/page/video.html``
    An HTML page with a ``<video>`` tag pointing at ``/media/video.mp4``, English and
    German subtitle tracks and an ``og:image`` thumbnail.
``/page/titled.html?title=T&thumbnail=U``
    The same page with ``<title>T</title>`` (for titles such as ``../../escape``) and,
    with ``thumbnail``, ``U`` as its ``og:image`` (e.g. an address the worker refuses).
``/page/empty.html``
    An HTML page without any media.
``/named/<name>``
    ``video.mp4`` under any file name: yt-dlp takes a direct link's id and title from
    it, so ``/named/%2E%2E.mp4`` makes a video whose id and title are ``..``.
``/feed/<name>.rss?title=T&count=N&playlist=P``
    An RSS feed (a playlist to yt-dlp) of ``N`` items (default 2) titled ``T`` (numbered
    when ``N`` > 1), each enclosing ``/media/video.mp4``. yt-dlp keeps the item title
    as is, so ``title=..`` makes a video whose title is exactly ``..``. The feed's own
    title (the playlist's) is ``P``, by default ``<name>``; ``playlist=..`` makes a
    playlist titled exactly ``..``.
``/playlist/<name>.rss?count=N&missing=I,J``
    A podcast-style RSS feed of ``N`` episodes (default 25) for playlist tests: episode
    ``n`` is titled ``<name> episode <n>``, has the guid ``<name>-<n>``, the upload date
    2024-01-01 plus ``n - 1`` days (``pubDate``), an ``itunes:duration`` of ``n`` seconds
    and encloses ``/named/<name>-<n>.mp4``, its own file; the episodes listed in
    ``missing`` enclose ``/status/404/<name>-<n>.mp4`` instead. yt-dlp's generic
    extractor reads id, URL, title, duration and upload date of each from the feed alone.
``/channel/<name>.rss``
    The same podcast feed, newest episode first, as a channel that grows: it has 3
    episodes until :meth:`MediaServer.set_channel` (or ``/_control?channel=<name>&count=N``)
    says how many it has now.
``/playlist/<name>.html?count=N``
    An HTML page with ``N`` ``<video>`` tags (default 3), each its own ``/named/`` file.
``/redirect?to=U``
    A 302 redirect to ``U`` (any URL, e.g. ``http://169.254.169.254/latest/meta-data/``).
``/status/<code>/<name>``
    Always answers ``<code>`` (404, 403, 429, 503, ...).
``/flaky/<key>/<n>/<file>``
    Answers 503 to the first ``n`` requests for ``key``, then serves ``/media/<file>``.
``/drop/<key>/<n>/<file>``
    The first ``n`` responses for ``key`` announce the full length, send half the body
    and close the connection; later requests (with or without ``Range``) are served.
``/_stats``
    JSON: per path the number of requests and body bytes sent, plus a request log.
``/_control?host=H&mode=429|503|ok``
    From now on every request whose ``Host`` is ``H`` answers that status (``ok`` ends it).
``/_control?channel=<name>&count=N``
    From now on ``/channel/<name>.rss`` has ``N`` episodes.

Any media response is slowed to ``rate`` bytes per second with ``?rate=N``.

Run ``python -m videodl_devkit.mediaserver --dir D --port P`` to serve by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import email.utils
import fcntl
import html
import http
import json
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar

__all__ = [
    "MediaLibrary",
    "MediaServer",
    "RequestRecord",
    "ensure_media",
    "parse_range",
]

#: Seconds of generated media; short so generation and downloads stay fast.
MEDIA_SECONDS = 3
HLS_SECONDS = 6
_MARKER = ".complete"
_CHUNK = 64 * 1024
_VIDEO_TAG = (
    '<video src="/media/video.mp4" controls>\n'
    '<track kind="subtitles" srclang="en" label="English" src="/media/subs.en.vtt">\n'
    '<track kind="subtitles" srclang="de" label="Deutsch" src="/media/subs.de.vtt">\n'
    "</video>"
)
_SUBTITLES = {
    "en": ("Hello", "A test pattern"),
    "de": ("Hallo", "Ein Testbild"),
}
_CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".mp3": "audio/mpeg",
    ".html": "text/html; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8",
    ".jpg": "image/jpeg",
}


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
        capture_output=True,
        timeout=600,
    )


@contextlib.contextmanager
def _locked(path: pathlib.Path) -> Iterator[None]:
    # Test processes share one cache directory; the first one generates, the others wait.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclasses.dataclass(frozen=True)
class MediaLibrary:
    """Generated media in one directory (what ``/media/`` serves)."""

    root: pathlib.Path

    @property
    def video(self) -> pathlib.Path:
        """A short mp4 (H.264 + AAC) with a test pattern and a tone."""
        return self.root / "video.mp4"

    @property
    def thumbnail(self) -> pathlib.Path:
        """A JPEG frame of the video (the video page's ``og:image``)."""
        return self.root / "thumb.jpg"

    @property
    def hls_playlist(self) -> pathlib.Path:
        """A VOD HLS playlist whose 1 s MPEG-TS segments sit next to it."""
        return self.root / "hls" / "playlist.m3u8"

    def large_file(self, size_mb: int = 200) -> pathlib.Path:
        """An mp4 of at least ``size_mb`` megabytes (noise compresses badly), made once."""
        target = self.root / "large.mp4"
        with _locked(self.root / ".large.lock"):
            if target.exists() and target.stat().st_size >= size_mb * 1_000_000:
                return target
            # Noise at 720p makes roughly 35 MB per second with mpeg4 -q:v 2; -fs caps it.
            seconds = max(2, size_mb // 25 + 2)
            partial = self.root / "large.partial.mp4"
            _ffmpeg(
                "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds}",
                "-vf", "noise=alls=100:allf=t", "-c:v", "mpeg4", "-q:v", "2", "-an",
                "-fs", str(size_mb * 1_000_000 + 2_000_000), str(partial),
            )  # fmt: skip
            partial.replace(target)
        return target


def ensure_media(cache_dir: pathlib.Path) -> MediaLibrary:
    """Generate the standard media into ``cache_dir`` unless it is already there."""
    library = MediaLibrary(cache_dir)
    marker = cache_dir / _MARKER
    if marker.exists():
        return library
    with _locked(cache_dir / ".generate.lock"):
        if marker.exists():
            return library
        sources = [
            "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={MEDIA_SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={MEDIA_SECONDS}",
        ]  # fmt: skip
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        codecs += ["-c:a", "aac", "-b:a", "64k", "-shortest"]
        _ffmpeg(*sources, *codecs, "-movflags", "+faststart", str(library.video))
        _ffmpeg("-i", str(library.video), "-frames:v", "1", "-update", "1", str(library.thumbnail))
        for language, (first, second) in _SUBTITLES.items():
            cues = (
                f"WEBVTT\n\n00:00.000 --> 00:01.500\n{first}\n\n00:01.500 --> 00:03.000\n{second}\n"
            )
            (cache_dir / f"subs.{language}.vtt").write_text(cues, encoding="utf-8")
        hls_dir = library.hls_playlist.parent
        hls_dir.mkdir(parents=True, exist_ok=True)
        _ffmpeg(
            "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={HLS_SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=660:sample_rate=44100:duration={HLS_SECONDS}",
            *codecs, "-g", "25", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
            "-hls_segment_filename", str(hls_dir / "segment%03d.ts"), str(library.hls_playlist),
        )  # fmt: skip
        marker.touch()
    return library


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a ``Range`` header asks for, or None to send everything.

    Only single ranges are honoured (a multi-range request gets the whole body, which
    RFC 9110 allows). Raises ValueError when the range cannot be satisfied (416).
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header.removeprefix("bytes=").strip().partition("-")
    if not (first or last).isdigit() or (first and last and not last.isdigit()):
        return None
    if not first:  # a suffix range: the last N bytes
        if int(last) == 0:
            raise ValueError(header)
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise ValueError(header)
    return start, min(end, size - 1)


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it."""

    path: str
    host: str
    status: int
    range_start: int | None
    body_bytes: int
    #: The ``Cookie`` header the client sent, if any.
    cookie: str | None = None
    #: ``time.monotonic()`` when the request arrived and when its response ended.
    started_at: float = 0.0
    finished_at: float = 0.0


#: Episodes of a /channel/ feed until it is told otherwise.
_CHANNEL_EPISODES = 3


class _State:
    """Counters and switches shared by the handler threads."""

    def __init__(self) -> None:
        # A Condition doubles as the lock; readers wait on it for running requests.
        self.lock = threading.Condition()
        self.log: list[RequestRecord] = []
        self.host_modes: dict[str, int] = {}
        self.remaining: dict[str, int] = {}
        #: Episodes of each /channel/ feed.
        self.channels: dict[str, int] = {}
        self.in_flight = 0

    def begin(self) -> None:
        with self.lock:
            self.in_flight += 1

    def record(self, entry: RequestRecord) -> None:
        with self.lock:
            self.log.append(entry)
            self.in_flight -= 1
            self.lock.notify_all()

    def settled_log(self, *, own: int = 0, timeout: float = 5.0) -> list[RequestRecord]:
        """The log in arrival order, once requests still running (but ``own``) are done.

        A client sees the end of a response a moment before the handler records it;
        waiting here keeps counts read right after a download exact. A client that holds
        a response open without reading only delays the answer by ``timeout``.
        """
        with self.lock:
            self.lock.wait_for(lambda: self.in_flight <= own, timeout)
            return sorted(self.log, key=lambda entry: entry.started_at)

    def take(self, key: str, initial: int) -> bool:
        """Whether this request for ``key`` is one of its first ``initial`` (and count it)."""
        with self.lock:
            left = self.remaining.setdefault(key, initial)
            if left > 0:
                self.remaining[key] = left - 1
                return True
            return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "videodl-mediaserver"
    # A client that stops reading must not pin a thread forever.
    timeout = 30
    state: ClassVar[_State]
    media_root: ClassVar[pathlib.Path]

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read ``/_stats`` instead of access logs."""

    def do_HEAD(self) -> None:
        """Answer like GET, without a body."""
        self._dispatch(head=True)

    def do_GET(self) -> None:
        """Route the request (see the module docstring)."""
        self._dispatch(head=False)

    # -- routing ---------------------------------------------------------------------------

    def _dispatch(self, *, head: bool) -> None:
        self._started_at = time.monotonic()
        self._recorded = False
        self._record_path, self._record_host = self.path, ""
        self.state.begin()
        try:
            self._handle(head=head)
        finally:
            if not self._recorded:  # the handler failed before it could answer
                self._finish(500, 0)

    def _handle(self, *, head: bool) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        self._record_path, self._record_host = url.path, host
        self._host_header = self.headers.get("Host") or "127.0.0.1"
        if parts[:1] == ["_stats"]:
            self._send_json(self._server_stats())
        elif parts[:1] == ["_control"]:
            self._control(query)
        elif host in self.state.host_modes:
            self._send_status(self.state.host_modes[host])
        else:
            rate = query.get("rate", [""])[0]
            self._route_content(
                parts, query, head=head, rate=int(rate) if rate.isdigit() and int(rate) else None
            )

    def _route_content(
        self, parts: list[str], query: dict[str, list[str]], *, head: bool, rate: int | None
    ) -> None:
        match parts:
            case ["media", *rest] if rest:
                self._send_media("/".join(rest), head=head, rate=rate)
            case ["page", name]:
                self._route_page(name, query)
            case ["feed", name] if name.endswith(".rss"):
                name = name.removesuffix(".rss")
                title = query.get("title", ["Item"])[0]
                count = query.get("count", ["2"])[0]
                self._send_feed(
                    name,
                    title,
                    int(count) if count.isdigit() else 2,
                    playlist=query.get("playlist", [name])[0],
                )
            case ["playlist" | "channel" as kind, name] if name.endswith((".rss", ".html")):
                self._route_playlist(kind, name, query)
            case ["redirect"] if query.get("to"):
                self._send_redirect(query["to"][0])
            case ["named", _name]:
                self._send_media("video.mp4", head=head, rate=rate)
            case ["status", code, *_] if code.isdigit():
                self._send_status(int(code))
            case ["flaky", key, count, *rest] if count.isdigit() and rest:
                if self.state.take(f"flaky/{key}", int(count)):
                    self._send_status(503)
                else:
                    self._send_media("/".join(rest), head=head, rate=rate)
            case ["drop", key, count, *rest] if count.isdigit() and rest:
                drop = self.state.take(f"drop/{key}", int(count))
                self._send_media("/".join(rest), head=head, rate=rate, drop=drop)
            case _:
                self._send_status(404)

    def _route_page(self, name: str, query: dict[str, list[str]]) -> None:
        match name:
            case "video.html":
                self._send_page("Test video page", _VIDEO_TAG)
            case "titled.html":
                thumbnail = query.get("thumbnail", [None])[0]
                self._send_page(query.get("title", ["Untitled"])[0], _VIDEO_TAG, thumbnail)
            case "empty.html":
                self._send_page("Nothing to see", "<p>This page has no media.</p>")
            case _:
                self._send_status(404)

    def _route_playlist(self, where: str, name: str, query: dict[str, list[str]]) -> None:
        stem, _, kind = name.rpartition(".")
        if where == "channel":
            with self.state.lock:
                episodes = self.state.channels.get(stem, _CHANNEL_EPISODES)
            self._send_episodes(stem, episodes, set(), newest_first=True)
            return
        count = query.get("count", [""])[0]
        missing = {int(n) for n in query.get("missing", [""])[0].split(",") if n.strip().isdigit()}
        if kind == "rss":
            self._send_episodes(stem, int(count) if count.isdigit() else 25, missing)
        else:
            total = int(count) if count.isdigit() else 3
            tags = "\n".join(
                f'<video src="/named/{html.escape(stem)}-{n}.mp4" controls></video>'
                for n in range(1, total + 1)
            )
            self._send_page(f"{stem} videos", tags)

    def _send_episodes(
        self, name: str, count: int, missing: set[int], *, newest_first: bool = False
    ) -> None:
        base = f"http://{self._host_header}"
        first = datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC)
        items = []
        numbers = range(count, 0, -1) if newest_first else range(1, count + 1)
        for n in numbers:
            path = f"/status/404/{name}-{n}.mp4" if n in missing else f"/named/{name}-{n}.mp4"
            published = email.utils.format_datetime(first + datetime.timedelta(days=n - 1))
            items.append(
                f"<item><title>{html.escape(name)} episode {n}</title>"
                f"<guid>{html.escape(name)}-{n}</guid><pubDate>{published}</pubDate>"
                f"<itunes:duration>{n}</itunes:duration>"
                f'<enclosure url="{base}{html.escape(path)}" type="video/mp4" length="0"/>'
                "</item>\n"
            )
        feed = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>\n'
            f"<title>{html.escape(name)}</title><link>{base}/</link>"
            f"<description>Test playlist</description>\n{''.join(items)}</channel></rss>\n"
        )
        self._send_body(200, "application/rss+xml; charset=utf-8", feed.encode())

    def _server_stats(self) -> dict[str, Any]:
        return _stats_document(self.state.settled_log(own=1))

    def _control(self, query: dict[str, list[str]]) -> None:
        channel, count = query.get("channel", [""])[0], query.get("count", [""])[0]
        if channel:
            if not count.isdigit():
                self._send_status(400, "use /_control?channel=<name>&count=N")
                return
            with self.state.lock:
                self.state.channels[channel] = int(count)
            self._send_json({"channel": channel, "count": int(count)})
            return
        host, mode = query.get("host", [""])[0], query.get("mode", [""])[0]
        if not host or not (mode == "ok" or mode.isdigit()):
            self._send_status(400, "use /_control?host=H&mode=429|503|ok")
            return
        with self.state.lock:
            if mode == "ok":
                self.state.host_modes.pop(host, None)
            else:
                self.state.host_modes[host] = int(mode)
        self._send_json({"host": host, "mode": mode})

    # -- responses -------------------------------------------------------------------------

    def _finish(self, status: int, body_bytes: int, range_start: int | None = None) -> None:
        self._recorded = True
        self.state.record(
            RequestRecord(
                self._record_path,
                self._record_host,
                status,
                range_start,
                body_bytes,
                self.headers.get("Cookie"),
                self._started_at,
                time.monotonic(),
            )
        )

    def _send_body(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._finish(status, 0 if self.command == "HEAD" else len(body))

    def _send_status(self, status: int, message: str | None = None) -> None:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Status"
        text = f"{status} {phrase}\n" + (f"{message}\n" if message else "")
        self._send_body(status, "text/plain; charset=utf-8", text.encode())

    def _send_json(self, document: object) -> None:
        self._send_body(200, "application/json", json.dumps(document).encode())

    def _send_page(self, title: str, content: str, thumbnail: str | None = None) -> None:
        # og:image must be absolute for yt-dlp; the Host header gives this server's name.
        image = thumbnail or f"http://{self._host_header}/media/thumb.jpg"
        page = (
            f"<!DOCTYPE html>\n<html><head><title>{html.escape(title)}</title>\n"
            f'<meta property="og:image" content="{html.escape(image)}">\n</head>\n'
            f"<body><h1>{html.escape(title)}</h1>\n{content}\n</body></html>\n"
        )
        self._send_body(200, _CONTENT_TYPES[".html"], page.encode())

    def _send_redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self._finish(302, 0)

    def _send_feed(self, name: str, title: str, count: int, *, playlist: str) -> None:
        base = f"http://{self._host_header}"
        items = "".join(
            f"<item><title>{html.escape(title if count == 1 else f'{title} {n}')}</title>"
            f"<guid>{html.escape(name)}-{n}</guid>"
            f'<enclosure url="{base}/media/video.mp4" type="video/mp4" length="0"/></item>\n'
            for n in range(1, count + 1)
        )
        feed = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
            f"<title>{html.escape(playlist)}</title><link>{base}/</link>"
            f"<description>Test feed</description>\n{items}</channel></rss>\n"
        )
        self._send_body(200, "application/rss+xml; charset=utf-8", feed.encode())

    def _send_media(
        self, relative: str, *, head: bool, rate: int | None, drop: bool = False
    ) -> None:
        root = self.media_root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file() or path.name.startswith("."):
            self._send_status(404)
            return
        size = path.stat().st_size
        try:
            wanted = parse_range(self.headers.get("Range"), size)
        except ValueError:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            self._finish(416, 0)
            return
        start, end = wanted if wanted is not None else (0, size - 1)
        length = end - start + 1
        self.send_response(206 if wanted is not None else 200)
        self.send_header(
            "Content-Type", _CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        )
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        if wanted is not None:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        if drop:
            self.send_header("Connection", "close")
        self.end_headers()
        status = 206 if wanted is not None else 200
        if head:
            self._finish(status, 0, start if wanted is not None else None)
            return
        budget = length // 2 if drop else length
        sent = 0
        try:
            sent = self._copy(path, start, budget, rate)
        except OSError:
            # The client went away (yt-dlp's extractor closes direct links unread).
            sent = self._sent_so_far
        finally:
            self._finish(status, sent, start if wanted is not None else None)
        if drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    _sent_so_far = 0

    def _copy(self, path: pathlib.Path, start: int, count: int, rate: int | None) -> int:
        self._sent_so_far = 0
        began = time.monotonic()
        with path.open("rb") as source:
            if rate is None:
                # sendfile keeps the server out of the way when measuring client throughput.
                while self._sent_so_far < count:
                    done = self.connection.sendfile(
                        source, start + self._sent_so_far, count - self._sent_so_far
                    )
                    if done == 0:
                        break
                    self._sent_so_far += done
                return self._sent_so_far
            source.seek(start)
            chunk = max(1, min(_CHUNK, rate // 10))
            while self._sent_so_far < count:
                block = source.read(min(chunk, count - self._sent_so_far))
                if not block:
                    break
                self.wfile.write(block)
                self._sent_so_far += len(block)
                ahead = self._sent_so_far / rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
        return self._sent_so_far


def _stats_document(log: list[RequestRecord]) -> dict[str, Any]:
    paths: dict[str, dict[str, int]] = {}
    for entry in log:
        counts = paths.setdefault(entry.path, {"requests": 0, "bytesServed": 0})
        counts["requests"] += 1
        counts["bytesServed"] += entry.body_bytes
    return {
        "paths": paths,
        "requests": [
            {
                "path": e.path,
                "host": e.host,
                "status": e.status,
                "rangeStart": e.range_start,
                "bodyBytes": e.body_bytes,
                "cookie": e.cookie,
            }
            for e in log
        ],
    }


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up; that is what the failure endpoints provoke."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class MediaServer:
    """A threaded HTTP server on a loopback port, started and stopped by ``with``.

    ``MediaServer(cache_dir)`` generates the media into ``cache_dir`` (once) and serves it.
    The Python accessors read the same counters as ``/_stats``.
    """

    def __init__(self, cache_dir: pathlib.Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.library = ensure_media(cache_dir)
        self._state = _State()
        handler = type(
            "MediaHandler", (_Handler,), {"state": self._state, "media_root": self.library.root}
        )
        self._httpd = _QuietServer((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.url_for_host("127.0.0.1")

    def url_for_host(self, host: str) -> str:
        """The base URL under another name for this host (e.g. ``localhost``)."""
        return f"http://{host}:{self.port}"

    def url(self, path: str, *, host: str = "127.0.0.1") -> str:
        """The absolute URL of ``path`` (which starts with ``/``)."""
        return self.url_for_host(host) + path

    def start(self) -> MediaServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="mediaserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` runs in another one."""
        self._httpd.serve_forever()

    def __enter__(self) -> MediaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- observations and switches ----------------------------------------------------------

    def requests(self, path: str | None = None) -> list[RequestRecord]:
        """Every finished request, or those for one URL path, in arrival order.

        Waits (briefly) for requests still being answered, so that a count read right
        after a client finished includes its request.
        """
        return [e for e in self._state.settled_log() if path is None or e.path == path]

    def bytes_served(self, path: str) -> int:
        """Body bytes sent for ``path`` across all requests."""
        return sum(e.body_bytes for e in self.requests(path))

    def stats(self) -> dict[str, Any]:
        """The ``/_stats`` document."""
        return _stats_document(self.requests())

    def set_host_mode(self, host: str, status: int | None) -> None:
        """Make every request for ``host`` answer ``status``; None serves normally again."""
        with self._state.lock:
            if status is None:
                self._state.host_modes.pop(host, None)
            else:
                self._state.host_modes[host] = status

    def set_channel(self, name: str, count: int) -> None:
        """Give ``/channel/<name>.rss`` ``count`` episodes from now on."""
        with self._state.lock:
            self._state.channels[name] = count

    def set_remaining(self, kind: str, key: str, count: int) -> None:
        """Set how many more requests a ``flaky`` or ``drop`` key misbehaves for."""
        with self._state.lock:
            self._state.remaining[f"{kind}/{key}"] = count


def main(argv: list[str] | None = None) -> None:
    """Serve the media of ``--dir`` on ``--host``/``--port`` until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m videodl_devkit.mediaserver")
    default_dir = pathlib.Path(tempfile.gettempdir()) / "videodl-media"
    parser.add_argument("--dir", type=pathlib.Path, default=default_dir, help="media cache")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument("--large-mb", type=int, default=0, help="also make large.mp4 (MB)")
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        parser.error("ffmpeg is not on PATH; install it (apt-get install ffmpeg)")
    server = MediaServer(args.dir, host=args.host, port=args.port)
    if args.large_mb:
        server.library.large_file(args.large_mb)
    # SIGTERM ends the demo's server the same way Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"serving {args.dir} on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
