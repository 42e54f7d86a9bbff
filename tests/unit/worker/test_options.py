"""Tests for videodl.worker.options."""

from __future__ import annotations

from typing import Any

import pytest
from yt_dlp import YoutubeDL

from videodl.api.media import FormatPreset, FormatSpec
from videodl.api.spec import VideoDownloadSpec
from videodl.worker.options import (
    Runtime,
    audio_extension,
    build_params,
    extracts_audio,
    format_selector,
    postprocessors,
)

OUT = "/data/videos"


def spec(**fields: Any) -> VideoDownloadSpec:
    return VideoDownloadSpec.model_validate({"url": "https://example.com/v", **fields})


def params(**fields: Any) -> dict[str, Any]:
    return build_params(spec(**fields), Runtime(output_dir=OUT, archive=set(), logger=None))


def keys(chain: list[dict[str, Any]]) -> list[str]:
    return [pp["key"] for pp in chain]


class TestFormatSelector:
    @pytest.mark.parametrize(
        ("fmt", "selector"),
        [
            ({}, "bv*+ba/b"),
            ({"preset": "Best"}, "bv*+ba/b"),
            ({"preset": "720p"}, "bv*[height<=?720]+ba/b[height<=?720]/wv*+ba/w"),
            ({"preset": "2160p"}, "bv*[height<=?2160]+ba/b[height<=?2160]/wv*+ba/w"),
            ({"preset": "AudioOnly"}, "ba/b"),
            (
                {"preset": "1080p", "container": "mp4"},
                "bv*[height<=?1080][ext=mp4]+ba[ext=m4a]/b[height<=?1080][ext=mp4]"
                "/bv*[height<=?1080]+ba/b[height<=?1080]/wv*+ba/w",
            ),
            (
                {"preset": "Best", "container": "webm"},
                "bv*[ext=webm]+ba[ext=webm]/b[ext=webm]/bv*+ba/b",
            ),
            ({"preset": "Best", "container": "mkv"}, "bv*+ba/b"),
            ({"selector": "137+140/best"}, "137+140/best"),
        ],
    )
    def test_selectors(self, fmt: dict[str, str], selector: str) -> None:
        """Presets map to selectors with container-aware and size fallbacks."""
        assert format_selector(FormatSpec.model_validate(fmt)) == selector

    @pytest.mark.parametrize("preset", list(FormatPreset))
    @pytest.mark.parametrize("container", [None, "mp4", "webm", "mkv"])
    def test_ytdlp_accepts_every_preset(self, preset: FormatPreset, container: str | None) -> None:
        """yt-dlp's own parser accepts each generated selector."""
        fmt = FormatSpec.model_validate({"preset": preset, "container": container})
        with YoutubeDL({"quiet": True}) as ydl:
            assert callable(ydl.build_format_selector(format_selector(fmt)))


class TestAudio:
    def test_audio_only_implies_extraction(self) -> None:
        """The AudioOnly preset produces an audio file, with the requested codec."""
        s = spec(format={"preset": "AudioOnly"}, audio={"codec": "mp3"})
        assert extracts_audio(s)
        assert audio_extension(s) == "mp3"
        (extract,) = postprocessors(s)
        assert extract["key"] == "FFmpegExtractAudio"
        assert extract["preferredcodec"] == "mp3"

    def test_extract_with_best_codec(self) -> None:
        """``codec: best`` keeps the original stream; the extension is not known up front."""
        s = spec(audio={"extract": True})
        assert postprocessors(s)[0]["preferredcodec"] == "best"
        assert audio_extension(s) is None

    def test_no_extraction_by_default(self) -> None:
        """Without audio settings, nothing is extracted or converted."""
        assert not extracts_audio(spec())
        assert postprocessors(spec()) == []

    def test_no_merge_container_for_audio(self) -> None:
        """Audio extraction wins over a container: no remux, no merge format."""
        p = params(format={"preset": "Best", "container": "mp4"}, audio={"extract": True})
        assert "merge_output_format" not in p
        assert keys(p["postprocessors"]) == ["FFmpegExtractAudio"]


class TestPostprocessors:
    def test_order_follows_ytdlp(self) -> None:
        """Remux, subtitles, metadata, then the thumbnail last, as yt-dlp's CLI orders them."""
        s = spec(
            format={"preset": "720p", "container": "mkv"},
            subtitles={"languages": ["en"], "embed": True},
            metadata={"embed": True},
            thumbnail={"embed": True, "write": True},
        )
        chain = postprocessors(s)
        assert keys(chain) == [
            "FFmpegVideoRemuxer",
            "FFmpegEmbedSubtitle",
            "FFmpegMetadata",
            "EmbedThumbnail",
        ]
        assert chain[0]["preferedformat"] == "mkv"
        assert chain[3]["already_have_thumbnail"] is True

    def test_embedded_thumbnail_file_is_not_kept_unless_written(self) -> None:
        """``embed`` alone removes the image file after embedding."""
        (embed,) = postprocessors(spec(thumbnail={"embed": True}))
        assert embed["already_have_thumbnail"] is False


class TestBuildParams:
    def test_defaults(self) -> None:
        """The defaults resume, confine, stay quiet and never cache."""
        p = params()
        assert p["format"] == "bv*+ba/b"
        assert p["outtmpl"] == {"default": "%(title).200B [%(id)s].%(ext)s"}
        assert p["paths"] == {"home": "/data/videos"}
        assert p["continuedl"] is True
        assert p["nopart"] is False
        assert p["cachedir"] is False
        assert p["noprogress"] is True
        assert p["socket_timeout"] == 30
        assert p["overwrites"] is None
        assert p["restrictfilenames"] is False
        for absent in ("writesubtitles", "writethumbnail", "writeinfojson", "cookiefile"):
            assert absent not in p
        for absent in ("ratelimit", "sleep_interval", "merge_output_format"):
            assert absent not in p

    def test_every_download_field(self) -> None:
        """Each spec field that concerns the download reaches yt-dlp."""
        archive: set[str] = set()
        runtime = Runtime(
            output_dir=OUT,
            archive=archive,
            logger="logger",
            progress_hooks=[print],
            postprocessor_hooks=[repr],
            cookie_file="/tmp/cookies.txt",
        )
        s = spec(
            format={"selector": "bv*+ba", "container": "webm"},
            subtitles={"languages": ["en", "de.*"], "includeAutoGenerated": True},
            thumbnail={"write": True},
            metadata={"writeInfoJson": True},
            output={"template": "%(uploader)s/%(title)s.%(ext)s", "restrictFilenames": True},
            cookies={"secretRef": {"name": "c"}},
            network={"rateLimitBytesPerSecond": 50000, "sleepIntervalSeconds": 2.5},
            force=True,
        )
        p = build_params(s, runtime)
        assert p["format"] == "bv*+ba"
        assert p["merge_output_format"] == "webm"
        assert (p["writesubtitles"], p["writeautomaticsub"]) == (True, True)
        assert p["subtitleslangs"] == ["en", "de.*"]
        assert p["writethumbnail"] is True
        assert p["writeinfojson"] is True
        assert p["outtmpl"] == {"default": "%(uploader)s/%(title)s.%(ext)s"}
        assert p["restrictfilenames"] is True
        assert p["cookiefile"] == "/tmp/cookies.txt"
        assert (p["ratelimit"], p["sleep_interval"]) == (50000, 2.5)
        assert p["overwrites"] is True
        assert p["download_archive"] is archive
        assert p["logger"] == "logger"
        assert p["progress_hooks"] == [print]
        assert p["postprocessor_hooks"] == [repr]

    def test_thumbnail_embed_alone_still_downloads_it(self) -> None:
        """Embedding needs the image, so it is fetched even when not kept."""
        assert params(thumbnail={"embed": True})["writethumbnail"] is True

    def test_ytdlp_accepts_the_params(self) -> None:
        """A YoutubeDL builds from a full set of parameters without complaint."""
        p = params(
            format={"preset": "480p", "container": "mp4"},
            subtitles={"embed": True},
            metadata={"embed": True, "writeInfoJson": True},
            thumbnail={"embed": True},
            audio={"extract": False},
        )
        p["logger"] = None
        with YoutubeDL(p) as ydl:
            assert ydl.params["format"].startswith("bv*[height<=?480][ext=mp4]")


class TestGuardedSettings:
    def test_yt_dlp_fetches_everything_itself(self) -> None:
        """Native downloaders for every protocol: ffmpeg never fetches, out of the guard's sight."""
        p = params()
        assert p["external_downloader"] == {"default": "native"}
        assert p["hls_prefer_native"] is True

    def test_no_error_is_skipped(self) -> None:
        """Every error ends the attempt, so a refusal is never skipped as a failed entry."""
        assert params()["ignoreerrors"] is False
