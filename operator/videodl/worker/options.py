"""The VideoDownload spec translated into yt-dlp's ``YoutubeDL`` parameters.

Pure: builds a dict, touches nothing. The runtime pieces (output directory, cookie
file, archive, logger, hooks) come in through :class:`Runtime`, paths as the strings
yt-dlp takes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Final

from videodl.api.media import AudioCodec, Container, FormatPreset, FormatSpec
from videodl.api.spec import VideoDownloadSpec

__all__ = [
    "SOCKET_TIMEOUT_SECONDS",
    "Runtime",
    "audio_extension",
    "build_params",
    "extracts_audio",
    "format_selector",
    "postprocessors",
]

#: A stalled connection fails (and is retried) instead of hanging the attempt.
SOCKET_TIMEOUT_SECONDS: Final = 30
#: yt-dlp's retries inside one attempt, before the attempt fails as Transient.
RETRIES: Final = 5

_HEIGHTS: Final = {
    FormatPreset.P2160: 2160,
    FormatPreset.P1440: 1440,
    FormatPreset.P1080: 1080,
    FormatPreset.P720: 720,
    FormatPreset.P480: 480,
    FormatPreset.P360: 360,
}
# Stream extensions that go into each container without re-encoding.
_CONTAINER_STREAMS: Final = {
    Container.MP4: ("mp4", "m4a"),
    Container.WEBM: ("webm", "webm"),
}
_AUDIO_EXTENSIONS: Final = {
    AudioCodec.MP3: "mp3",
    AudioCodec.M4A: "m4a",
    AudioCodec.OPUS: "opus",
    AudioCodec.FLAC: "flac",
    AudioCodec.WAV: "wav",
}
#: yt-dlp's default VBR quality for converted audio (0 best .. 10 worst).
AUDIO_QUALITY: Final = "5"


@dataclasses.dataclass(frozen=True)
class Runtime:
    """What the parameters need besides the spec."""

    output_dir: str
    archive: object
    logger: object
    progress_hooks: Sequence[Callable[[dict[str, Any]], None]] = ()
    postprocessor_hooks: Sequence[Callable[[dict[str, Any]], None]] = ()
    cookie_file: str | None = None


def format_selector(fmt: FormatSpec) -> str:
    """The yt-dlp format selector for a preset or a raw selector.

    Presets prefer streams that fit ``container`` without re-encoding, then any streams;
    height presets fall back to the smallest format when none is small enough. ``<=?``
    lets formats of unknown height (direct links) through.
    """
    if fmt.selector is not None:
        return fmt.selector
    preset = fmt.preset or FormatPreset.BEST
    if preset == FormatPreset.AUDIO_ONLY:
        return "ba/b"
    height = _HEIGHTS.get(preset)
    cap = f"[height<=?{height}]" if height else ""
    choices = []
    streams = _CONTAINER_STREAMS.get(fmt.container) if fmt.container else None
    if streams is not None:
        video, audio = streams
        choices += [f"bv*{cap}[ext={video}]+ba[ext={audio}]", f"b{cap}[ext={video}]"]
    choices += [f"bv*{cap}+ba", f"b{cap}"]
    if height:
        choices += ["wv*+ba", "w"]
    return "/".join(choices)


def extracts_audio(spec: VideoDownloadSpec) -> bool:
    """Whether the result is an audio file (``audio.extract`` or the AudioOnly preset)."""
    audio_only = spec.format.selector is None and spec.format.preset == FormatPreset.AUDIO_ONLY
    return audio_only or (spec.audio is not None and spec.audio.extract)


def audio_extension(spec: VideoDownloadSpec) -> str | None:
    """The extension extracted audio ends up with, when the codec fixes it."""
    if not extracts_audio(spec) or spec.audio is None:
        return None
    return _AUDIO_EXTENSIONS.get(spec.audio.codec)


def postprocessors(spec: VideoDownloadSpec) -> list[dict[str, Any]]:
    """yt-dlp postprocessors, in the order yt-dlp's own command line uses."""
    chain: list[dict[str, Any]] = []
    if extracts_audio(spec):
        codec = spec.audio.codec if spec.audio is not None else AudioCodec.BEST
        chain.append(
            {
                "key": "FFmpegExtractAudio",
                "preferredcodec": codec.value,
                "preferredquality": AUDIO_QUALITY,
                "nopostoverwrites": False,
            }
        )
    elif spec.format.container is not None:
        # A single-file fallback may come in another container; remux, never re-encode.
        chain.append({"key": "FFmpegVideoRemuxer", "preferedformat": spec.format.container.value})
    if spec.subtitles is not None and spec.subtitles.embed:
        chain.append({"key": "FFmpegEmbedSubtitle", "already_have_subtitle": False})
    if spec.metadata is not None and spec.metadata.embed:
        chain.append({"key": "FFmpegMetadata", "add_metadata": True, "add_chapters": True})
    if spec.thumbnail is not None and spec.thumbnail.embed:
        # Last: it must see the file in its final container.
        chain.append({"key": "EmbedThumbnail", "already_have_thumbnail": spec.thumbnail.write})
    return chain


def build_params(spec: VideoDownloadSpec, runtime: Runtime) -> dict[str, Any]:
    """The ``YoutubeDL`` parameters for ``spec``."""
    params: dict[str, Any] = {
        "format": format_selector(spec.format),
        "outtmpl": {"default": spec.output.template},
        # Partial files stay next to the final ones, on the volume, so the next attempt
        # (a new Pod) resumes them.
        "paths": {"home": runtime.output_dir},
        "restrictfilenames": spec.output.restrict_filenames,
        "windowsfilenames": False,
        # Every error ends the attempt: the worker classifies it (and its guard's refusals
        # must never be skipped over as a failed playlist entry).
        "ignoreerrors": False,
        "continuedl": True,
        "nopart": False,
        "postprocessors": postprocessors(spec),
        "download_archive": runtime.archive,
        # force: fetch again even when the file is still there (the archive is bypassed
        # by the archive object itself, which still records the download).
        "overwrites": True if spec.force else None,
        "cachedir": False,
        # yt-dlp's own downloaders for every protocol (HLS, DASH included), never ffmpeg
        # or another program fetching by itself: the worker's egress guard checks Python's
        # connections only, and refuses to let ffmpeg read a URL (see worker/guard.py).
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
        "socket_timeout": SOCKET_TIMEOUT_SECONDS,
        "retries": RETRIES,
        "fragment_retries": RETRIES,
        "noprogress": True,
        "consoletitle": False,
        "color": {"stdout": "no_color", "stderr": "no_color"},
        "logger": runtime.logger,
        "progress_hooks": list(runtime.progress_hooks),
        "postprocessor_hooks": list(runtime.postprocessor_hooks),
    }
    if spec.format.container is not None and not extracts_audio(spec):
        params["merge_output_format"] = spec.format.container.value
    if spec.subtitles is not None:
        params["writesubtitles"] = True
        params["writeautomaticsub"] = spec.subtitles.include_auto_generated
        params["subtitleslangs"] = list(spec.subtitles.languages)
    if spec.thumbnail is not None and (spec.thumbnail.write or spec.thumbnail.embed):
        params["writethumbnail"] = True
    if spec.metadata is not None and spec.metadata.write_info_json:
        params["writeinfojson"] = True
    if runtime.cookie_file is not None:
        params["cookiefile"] = runtime.cookie_file
    if spec.network is not None:
        if spec.network.rate_limit_bytes_per_second is not None:
            params["ratelimit"] = spec.network.rate_limit_bytes_per_second
        if spec.network.sleep_interval_seconds is not None:
            params["sleep_interval"] = spec.network.sleep_interval_seconds
    return params
