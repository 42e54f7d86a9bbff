"""``spec`` of a VideoDownload: what the user asks for.

Every rule the CRD enforces with a bound, an enum or a CEL rule is enforced here too,
with the same message, so the operator reads objects under exactly the rules the
apiserver applied when they were written. Pure: no I/O.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated, Self

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from videodl.api._base import (
    CONFIG_KEY_PATTERN,
    DNS_SUBDOMAIN_MAX,
    DnsSubdomain,
    Quantity,
    SpecModel,
    cel_rule,
    with_rules,
)

__all__ = [
    "DEFAULT_COOKIES_KEY",
    "DEFAULT_OUTPUT_TEMPLATE",
    "AudioCodec",
    "AudioSpec",
    "BackoffSpec",
    "Container",
    "CookiesSpec",
    "DeletionPolicy",
    "FormatPreset",
    "FormatSpec",
    "MetadataSpec",
    "NetworkSpec",
    "OutputSpec",
    "PersistentVolumeClaimRef",
    "Priority",
    "ResourceRequirements",
    "RetrySpec",
    "SecretKeyRef",
    "SubtitlesSpec",
    "ThumbnailSpec",
    "VideoDownloadSpec",
]


def _cel_string(value: str) -> str:
    """``value`` as a single-quoted CEL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fail(error_type: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(error_type, message)


# --- enums -------------------------------------------------------------------------------


class Priority(enum.StrEnum):
    """How soon the download runs relative to others waiting for a worker slot."""

    LOWEST = "Lowest"
    LOW = "Low"
    NORMAL = "Normal"
    HIGH = "High"
    CRITICAL = "Critical"

    @property
    def rank(self) -> int:
        """0 for ``Lowest`` up to 4 for ``Critical``: higher runs first."""
        return list(Priority).index(self)


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


class DeletionPolicy(enum.StrEnum):
    """What happens to downloaded files when the VideoDownload is deleted."""

    RETAIN = "Retain"
    DELETE = "Delete"


# --- shared rules ------------------------------------------------------------------------

#: http(s) only, a non-empty host, no spaces or control characters. One pattern for CEL
#: (RE2) and Python.
URL_PATTERN = r"^https?://[^\x00-\x20\x7f/?#]+([/?#][^\x00-\x20\x7f]*)?$"
URL_MAX_LENGTH = 2048
URL_MESSAGE = (
    "spec.url must be an http:// or https:// URL with a host and no spaces or control "
    "characters, e.g. https://example.com/watch?v=abc123"
)
URL_IMMUTABLE_MESSAGE = "spec.url is immutable: create a new VideoDownload to download another URL"

# fullmatch gives Python's `$` the RE2 meaning (end of text, not before a final newline).
_URL_RE = re.compile(URL_PATTERN)

DEFAULT_OUTPUT_TEMPLATE = "%(title).200B [%(id)s].%(ext)s"
TEMPLATE_MAX_LENGTH = 512
SUB_PATH_MAX_LENGTH = 512
SELECTOR_MAX_LENGTH = 1024
DEFAULT_COOKIES_KEY = "cookies.txt"


def _absolute_message(field: str) -> str:
    return (
        f"{field} must be a relative path: remove the leading '/' or '~' "
        "(files are always written inside the output volume)"
    )


def _parent_message(field: str) -> str:
    return f"{field} may not contain a '..' path segment: files must stay inside the output volume"


def _dollar_message(field: str) -> str:
    return (
        f"{field} may not contain '$': yt-dlp would expand it as an environment variable; "
        "use yt-dlp fields such as %(uploader)s instead"
    )


def _relative_path_rules(field: str, *, forbid_dollar: bool) -> list[dict[str, str]]:
    rules = [
        cel_rule("!self.startsWith('/') && !self.startsWith('~')", _absolute_message(field)),
        # String tests rather than a regex: RE2 and Python disagree on `$` before "\n".
        cel_rule(
            "self != '..' && !self.startsWith('../') && !self.endsWith('/..') "
            "&& !self.contains('/../')",
            _parent_message(field),
        ),
    ]
    if forbid_dollar:
        rules.append(cel_rule("!self.contains('$')", _dollar_message(field)))
    return rules


def _check_relative_path(value: str, field: str, *, forbid_dollar: bool) -> str:
    """The Python side of ``_relative_path_rules``, with the same messages."""
    if value.startswith(("/", "~")):
        raise _fail("absolute_path", _absolute_message(field))
    if value == ".." or value.startswith("../") or value.endswith("/..") or "/../" in value:
        raise _fail("parent_path_segment", _parent_message(field))
    if forbid_dollar and "$" in value:
        raise _fail("environment_variable", _dollar_message(field))
    return value


# --- sub-models --------------------------------------------------------------------------


class FormatSpec(SpecModel):
    """Which formats to download. Set either `preset` or `selector`, not both; with
    neither, the `Best` preset applies."""

    model_config = ConfigDict(
        json_schema_extra=with_rules(
            cel_rule(
                "!(has(self.preset) && has(self.selector))",
                "spec.format.preset and spec.format.selector are mutually exclusive: "
                "remove one of them",
            )
        )
    )

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
    )
    container: Container | None = Field(
        default=None,
        description=(
            "Container to merge separate video and audio streams into. Unset lets yt-dlp "
            "choose one that fits the streams."
        ),
    )

    @model_validator(mode="after")
    def _preset_xor_selector(self) -> Self:
        if self.preset is not None and self.selector is not None:
            raise _fail(
                "preset_and_selector",
                "spec.format.preset and spec.format.selector are mutually exclusive: "
                "remove one of them",
            )
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

    languages: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
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


class PersistentVolumeClaimRef(SpecModel):
    """A PersistentVolumeClaim in the VideoDownload's namespace."""

    claim_name: DnsSubdomain = Field(
        description="Name of the PersistentVolumeClaim, in the same namespace."
    )


class OutputSpec(SpecModel):
    """Where and under which names files are written."""

    persistent_volume_claim: PersistentVolumeClaimRef | None = Field(
        default=None,
        description=(
            "Volume to write into. Required unless the operator is configured with a default claim."
        ),
    )
    sub_path: str | None = Field(
        default=None,
        min_length=1,
        max_length=SUB_PATH_MAX_LENGTH,
        description=(
            "Directory inside the volume, relative to its root; created when missing. "
            "May not be absolute or contain a `..` segment."
        ),
        json_schema_extra=with_rules(
            *_relative_path_rules("spec.output.subPath", forbid_dollar=False)
        ),
    )
    template: str = Field(
        default=DEFAULT_OUTPUT_TEMPLATE,
        min_length=1,
        max_length=TEMPLATE_MAX_LENGTH,
        description=(
            "yt-dlp output template for file names, relative to `subPath`, e.g. "
            "`%(uploader)s/%(title)s.%(ext)s`. The default caps the title at 200 bytes "
            "so names stay within file system limits. May not be absolute, contain a "
            "`..` segment or contain `$`."
        ),
        json_schema_extra=with_rules(
            *_relative_path_rules("spec.output.template", forbid_dollar=True)
        ),
    )
    restrict_filenames: bool = Field(
        default=False,
        description="Restrict file names to ASCII characters without spaces or `&`.",
    )

    @field_validator("sub_path")
    @classmethod
    def _sub_path_relative(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _check_relative_path(value, "spec.output.subPath", forbid_dollar=False)

    @field_validator("template")
    @classmethod
    def _template_relative(cls, value: str) -> str:
        return _check_relative_path(value, "spec.output.template", forbid_dollar=True)


class SecretKeyRef(SpecModel):
    """A key of a Secret in the VideoDownload's namespace."""

    name: DnsSubdomain = Field(description="Name of the Secret, in the same namespace.")
    key: str = Field(
        default=DEFAULT_COOKIES_KEY,
        min_length=1,
        max_length=DNS_SUBDOMAIN_MAX,
        pattern=CONFIG_KEY_PATTERN,
        description="Key in the Secret whose value is the file.",
    )


class CookiesSpec(SpecModel):
    """Cookies for sites that need a logged-in session."""

    secret_ref: SecretKeyRef = Field(
        description=(
            "Secret key holding a cookies file in Netscape format (as exported by "
            "browser extensions or `yt-dlp --cookies`). It is mounted read-only into "
            "the worker."
        ),
    )


class NetworkSpec(SpecModel):
    """Politeness towards the site."""

    rate_limit_bytes_per_second: int | None = Field(
        default=None,
        ge=1024,
        description="Maximum download rate in bytes per second. Unset means unlimited.",
    )
    sleep_interval_seconds: float | None = Field(
        default=None,
        ge=0,
        le=3600,
        description="Seconds to wait before each download, e.g. between playlist entries.",
    )


class BackoffSpec(SpecModel):
    """Exponential backoff between attempts: wait `initialSeconds`, then multiply by
    `factor` after each failed attempt, never waiting longer than `maxSeconds`."""

    model_config = ConfigDict(
        json_schema_extra=with_rules(
            cel_rule(
                "self.maxSeconds >= self.initialSeconds",
                "spec.retry.backoff.maxSeconds must not be below "
                "spec.retry.backoff.initialSeconds: raise maxSeconds or lower initialSeconds",
                field_path=".maxSeconds",
            )
        )
    )

    initial_seconds: int = Field(
        default=10,
        ge=1,
        le=86400,
        description="Wait before the second attempt, in seconds.",
    )
    factor: float = Field(
        default=2.0,
        ge=1,
        le=10,
        description="Multiplier applied to the wait after each further failed attempt.",
    )
    max_seconds: int = Field(
        default=600,
        ge=1,
        le=86400,
        description="Longest wait between attempts, in seconds; not below `initialSeconds`.",
    )

    @model_validator(mode="after")
    def _max_not_below_initial(self) -> Self:
        if self.max_seconds < self.initial_seconds:
            raise _fail(
                "backoff_bounds",
                "spec.retry.backoff.maxSeconds must not be below "
                "spec.retry.backoff.initialSeconds: raise maxSeconds or lower initialSeconds",
            )
        return self

    def delay_seconds(self, failed_attempts: int) -> float:
        """Wait after ``failed_attempts`` failures (1 or more) before the next attempt."""
        exponent = max(failed_attempts, 1) - 1
        # Cap the exponent: factor**large overflows long before it matters.
        delay = self.initial_seconds * self.factor ** min(exponent, 64)
        return float(min(delay, self.max_seconds))


class RetrySpec(SpecModel):
    """How often a failed download is tried again. Only transient and throttled failures
    are retried; permanent ones (private video, unsupported URL) fail at once."""

    max_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Attempts in total, the first one included (1 means no retry).",
    )
    backoff: BackoffSpec = Field(
        default_factory=BackoffSpec,
        description=(
            "Wait between attempts: `initialSeconds` after the first failure, multiplied "
            "by `factor` after each further one, never more than `maxSeconds`."
        ),
    )


class ResourceRequirements(SpecModel):
    """Compute resources of the worker Pod, overriding the operator's defaults."""

    requests: dict[str, Quantity] = Field(
        default_factory=dict,
        max_length=16,
        description="Resources the worker is guaranteed, e.g. `cpu: 500m`, `memory: 256Mi`.",
    )
    limits: dict[str, Quantity] = Field(
        default_factory=dict,
        max_length=16,
        description="Most the worker may use, e.g. `memory: 1Gi`.",
    )


# --- the spec ----------------------------------------------------------------------------


class VideoDownloadSpec(SpecModel):
    """What to download, how, and where to put it."""

    url: str = Field(
        min_length=1,
        max_length=URL_MAX_LENGTH,
        description=(
            "http(s) URL of a video or playlist page, e.g. "
            "`https://www.youtube.com/watch?v=...`. Immutable: create a new VideoDownload "
            "to download another URL."
        ),
        json_schema_extra=with_rules(
            cel_rule(f"self.matches({_cel_string(URL_PATTERN)})", URL_MESSAGE),
            cel_rule("self == oldSelf", URL_IMMUTABLE_MESSAGE),
        ),
    )
    priority: Priority = Field(
        default=Priority.NORMAL,
        description=(
            "Order among downloads waiting for a worker slot: `Critical` runs first, "
            "`Lowest` last. May be changed while the download is queued."
        ),
    )
    format: FormatSpec = Field(
        default_factory=lambda: FormatSpec(preset=FormatPreset.BEST),
        description="Which formats to download.",
    )
    audio: AudioSpec | None = Field(default=None, description="Audio extraction.")
    subtitles: SubtitlesSpec | None = Field(
        default=None, description="Subtitles to download. Unset downloads none."
    )
    thumbnail: ThumbnailSpec | None = Field(default=None, description="Thumbnail handling.")
    metadata: MetadataSpec | None = Field(default=None, description="Metadata handling.")
    output: OutputSpec = Field(
        default_factory=OutputSpec, description="Where and under which names files go."
    )
    cookies: CookiesSpec | None = Field(
        default=None, description="Cookies for sites that need a logged-in session."
    )
    network: NetworkSpec | None = Field(
        default=None, description="Rate limit and pauses towards the site."
    )
    retry: RetrySpec = Field(
        default_factory=RetrySpec,
        description=(
            "Retries of failed attempts and the wait between them. Only transient and "
            "throttled failures are retried; permanent ones (a private or removed video, "
            "an unsupported URL) fail at once."
        ),
    )
    active_deadline_seconds: int | None = Field(
        default=None,
        ge=1,
        le=604800,
        description=(
            "Longest an attempt may run, in seconds; a slower attempt is stopped and "
            "counts as a transient failure. Unset uses the operator's default."
        ),
    )
    ttl_seconds_after_finished: int | None = Field(
        default=None,
        ge=0,
        le=31536000,
        description=(
            "Delete the VideoDownload this many seconds after it succeeded or failed "
            "(files follow `deletionPolicy`). Unset keeps it."
        ),
    )
    suspend: bool = Field(
        default=False,
        description=(
            "Hold the download: a queued one does not start, a running attempt is "
            "stopped without counting as a failure. Set back to false to resume."
        ),
    )
    force: bool = Field(
        default=False,
        description=(
            "Download even if the download archive on the volume records this video as "
            "already downloaded."
        ),
    )
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.RETAIN,
        description=(
            "`Retain` keeps the downloaded files when the VideoDownload is deleted; "
            "`Delete` removes them."
        ),
    )
    resources: ResourceRequirements | None = Field(
        default=None,
        description="Worker Pod resource requests and limits; unset uses the operator's.",
    )

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        if _URL_RE.fullmatch(value) is None:
            raise _fail("url_scheme", URL_MESSAGE)
        return value

    def check_update(self, old: VideoDownloadSpec) -> None:
        """Apply the rules that compare an update with the stored object.

        Raises ``ValueError`` with the apiserver's message when ``self`` may not replace
        ``old``.
        """
        if self.url != old.url:
            raise ValueError(URL_IMMUTABLE_MESSAGE)
