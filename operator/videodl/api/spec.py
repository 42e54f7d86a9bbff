"""``spec`` of a VideoDownload: what the user asks for, as a whole.

The top-level fields (URL, priority, deletion policy, deadlines, resources) are declared
here; the blocks are in their own modules: ``media`` (format, audio, subtitles,
thumbnail, metadata), ``output``, ``access`` (cookies, network) and ``retry``.

Every rule the CRD enforces with a bound, an enum or a CEL rule is enforced by the models
too, with the same message: CEL rules and their Python checks come from one table each
(see :mod:`videodl.api.rules`), so the operator reads objects under exactly the rules the
apiserver applied when they were written. Pure: no I/O.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from pydantic import Field, field_validator

from videodl.api import rules
from videodl.api._base import SpecModel
from videodl.api.access import CookiesSpec, NetworkSpec
from videodl.api.media import (
    AudioSpec,
    FormatPreset,
    FormatSpec,
    MetadataSpec,
    SubtitlesSpec,
    ThumbnailSpec,
)
from videodl.api.output import OutputSpec
from videodl.api.quantity import Quantity
from videodl.api.retry import RetrySpec
from videodl.api.rules import Rule, TransitionRule

__all__ = [
    "URL_IMMUTABLE",
    "URL_RULES",
    "DeletionPolicy",
    "Priority",
    "ResourceRequirements",
    "VideoDownloadSpec",
]


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


class DeletionPolicy(enum.StrEnum):
    """What happens to downloaded files when the VideoDownload is deleted."""

    RETAIN = "Retain"
    DELETE = "Delete"


#: http(s) only, a non-empty host, no spaces or control characters. One pattern for CEL
#: (RE2) and Python.
URL_PATTERN = r"^https?://[^\x00-\x20\x7f/?#]+([/?#][^\x00-\x20\x7f]*)?$"
URL_MAX_LENGTH = 2048

# fullmatch gives Python's `$` the RE2 meaning (end of text, not before a final newline).
_URL_RE = re.compile(URL_PATTERN)

#: The rules of ``spec.url`` on its own.
URL_RULES: Final[tuple[Rule[str], ...]] = (
    Rule(
        cel=f"self.matches({rules.cel_string(URL_PATTERN)})",
        message=(
            "spec.url must be an http:// or https:// URL with a host and no spaces or "
            "control characters, e.g. https://example.com/watch?v=abc123"
        ),
        error_type="url_scheme",
        holds=lambda url: _URL_RE.fullmatch(url) is not None,
    ),
)
#: ``spec.url`` may not change once the object exists.
URL_IMMUTABLE: Final[TransitionRule[str]] = TransitionRule(
    cel="self == oldSelf",
    message="spec.url is immutable: create a new VideoDownload to download another URL",
    holds=lambda new, old: new == old,
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
        json_schema_extra=rules.schema_extra(*URL_RULES, URL_IMMUTABLE),
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
        return rules.enforce(URL_RULES, value)

    def check_update(self, old: VideoDownloadSpec) -> None:
        """Apply the rules that compare an update with the stored object.

        Raises ``ValueError`` with the apiserver's message when ``self`` may not replace
        ``old``.
        """
        URL_IMMUTABLE.check(self.url, old.url)
