"""``spec.format``, ``audio``, ``subtitles``, ``thumbnail``, ``metadata``: what is downloaded.

Which streams yt-dlp picks and merges, and which side files (subtitles, thumbnail,
metadata) it writes or embeds. Pure: no I/O.
"""

from __future__ import annotations

import enum
import functools
from typing import Annotated, Final, Self

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from videodl.api import rules
from videodl.api._base import SpecModel
from videodl.api.rules import Rule

__all__ = [
    "FORMAT_RULES",
    "LANGUAGE_RULES",
    "SELECTOR_RULES",
    "AudioCodec",
    "AudioSpec",
    "Container",
    "FormatPreset",
    "FormatSpec",
    "MetadataSpec",
    "SubtitlesSpec",
    "ThumbnailSpec",
]

SELECTOR_MAX_LENGTH = 1024
LANGUAGE_MAX_LENGTH = 64

#: The rules of ``spec.format.selector``, which yt-dlp parses as its `-f` option.
SELECTOR_RULES: Final = (rules.no_control_characters("spec.format.selector"),)
#: The rules of each entry of ``spec.subtitles.languages``, which yt-dlp matches as
#: regular expressions against the languages a site offers.
LANGUAGE_RULES: Final = (rules.no_control_characters("spec.subtitles.languages entries"),)


class FormatPreset(enum.StrEnum):
    """A named format choice: best quality, a height cap, or audio only."""

    BEST = "Best"
    P2160 = "2160p"
    P1440 = "1440p"
    P1080 = "1080p"
    P720 = "720p"
    P480 = "480p"
    P360 = "360p"
    AUDIO_ONLY = "AudioOnly"


class Container(enum.StrEnum):
    """Container for video and audio streams merged into one file."""

    MP4 = "mp4"
    MKV = "mkv"
    WEBM = "webm"


class AudioCodec(enum.StrEnum):
    """Audio codec to convert extracted audio to; `best` keeps the original stream."""

    MP3 = "mp3"
    M4A = "m4a"
    OPUS = "opus"
    FLAC = "flac"
    WAV = "wav"
    BEST = "best"


#: The rules of ``spec.format`` as a whole.
FORMAT_RULES: Final[tuple[Rule[FormatSpec], ...]] = (
    Rule(
        cel="!(has(self.preset) && has(self.selector))",
        message=(
            "spec.format.preset and spec.format.selector are mutually exclusive: remove one of them"
        ),
        error_type="preset_and_selector",
        holds=lambda spec: spec.preset is None or spec.selector is None,
    ),
)


class FormatSpec(SpecModel):
    """Which formats to download. Set either `preset` or `selector`, not both; with
    neither, the `Best` preset applies."""

    model_config = ConfigDict(json_schema_extra=rules.schema_extra(*FORMAT_RULES))

    preset: FormatPreset | None = Field(
        default=None,
        description=(
            "A named format choice. `Best` downloads the best video and audio available; "
            "`2160p` ... `360p` pick the best video no taller than that height, plus the "
            "best audio; `AudioOnly` downloads the best audio stream only. Used when "
            "`selector` is not set (then `Best` if unset)."
        ),
    )
    selector: str | None = Field(
        default=None,
        min_length=1,
        max_length=SELECTOR_MAX_LENGTH,
        description=(
            "A raw yt-dlp format selector (the `-f` option), e.g. "
            "`bv*[height<=1080][vcodec^=avc1]+ba/b`, for needs the presets do not cover. "
            "Mutually exclusive with `preset`."
        ),
        json_schema_extra=rules.schema_extra(*SELECTOR_RULES),
    )
    container: Container | None = Field(
        default=None,
        description=(
            "Container to merge separate video and audio streams into. Unset lets yt-dlp "
            "choose one that fits the streams."
        ),
    )

    @field_validator("selector")
    @classmethod
    def _selector_printable(cls, value: str | None) -> str | None:
        return None if value is None else rules.enforce(SELECTOR_RULES, value)

    @model_validator(mode="after")
    def _preset_xor_selector(self) -> Self:
        rules.enforce(FORMAT_RULES, self)
        if self.preset is None and self.selector is None:
            # The apiserver cannot express "default preset unless a selector is set";
            # the models resolve it so every reader sees the same choice.
            self.preset = FormatPreset.BEST
        return self


class AudioSpec(SpecModel):
    """Audio extraction: keep only the audio track, optionally converted."""

    extract: bool = Field(
        default=False,
        description=(
            "Extract the audio track into an audio-only file after downloading "
            "(needs ffmpeg in the worker)."
        ),
    )
    codec: AudioCodec = Field(
        default=AudioCodec.BEST,
        description=(
            "Codec of the extracted audio. `best` keeps the original stream without "
            "re-encoding; the others convert."
        ),
    )


class SubtitlesSpec(SpecModel):
    """Subtitles to download next to (or into) the video. Absent means no subtitles."""

    languages: list[
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=LANGUAGE_MAX_LENGTH,
                json_schema_extra=rules.schema_extra(*LANGUAGE_RULES),
            ),
            AfterValidator(functools.partial(rules.enforce, LANGUAGE_RULES)),
        ]
    ] = Field(
        default_factory=lambda: ["en"],
        min_length=1,
        max_length=50,
        description=(
            "Subtitle languages as yt-dlp understands them: language codes (`en`, `de`), "
            "regular expressions (`en.*`) or `all`."
        ),
    )
    include_auto_generated: bool = Field(
        default=False,
        description="Also download automatically generated subtitles when no written ones exist.",
    )
    embed: bool = Field(
        default=False,
        description="Embed the subtitles into the video file (mp4, mkv and webm only).",
    )


class ThumbnailSpec(SpecModel):
    """The video's thumbnail image."""

    write: bool = Field(default=False, description="Write the thumbnail as an image file.")
    embed: bool = Field(
        default=False, description="Embed the thumbnail as cover art into the media file."
    )


class MetadataSpec(SpecModel):
    """Video metadata such as title, uploader and description."""

    write_info_json: bool = Field(
        default=False,
        description="Write yt-dlp's metadata as a `.info.json` file next to the media file.",
    )
    embed: bool = Field(
        default=False, description="Embed metadata (title, uploader, date, ...) into the file."
    )
