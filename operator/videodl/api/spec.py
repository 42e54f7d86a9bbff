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


URL_MAX_LENGTH = 2048

# The URL rules, each about one part, so a bad URL is told what is wrong with it. The
# rules on the authority (credentials, host, port) judge only http(s) URLs: anything
# else breaks the first rule alone. The authority is the text after "://" up to the
# first "/", "?" or "#"; its user information ends at its last "@".
_HTTP = r"^https?://"
_USERINFO = r"([^/?#]*@)?"
# The rest of the URL after the authority; any characters, newlines included.
_REST = r"([/?#](?s:.*))?$"
# A host: an IPv6 address in brackets (hex digits, dots, at least one colon) or a name
# without brackets, colons, backslashes or "@".
_HOST = r"(\[[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\]|[^/?#@\[\]:\\]+)"
# Where the port rule looks for the port: the host text up to the first colon, or past
# the closing bracket of a host that starts with one, whether or not that host is
# well-formed (the host rule says whether it is).
_HOST_TEXT = r"(\[[^/?#@\]]*(\][^/?#@:]*)?|[^/?#@\[:][^/?#@:]*)?"
# A port from 1 to 65535, without leading zeros.
_PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"

#: http(s), and no spaces or control characters anywhere.
URL_PATTERN = r"^https?://[^\x00-\x20\x7f-\x9f]*$"
#: An http(s) URL with user information (``user:password@``) in its authority.
URL_CREDENTIALS_PATTERN = _HTTP + r"[^/?#]*@"
#: An http(s) URL whose host is present and well-formed, whatever follows it.
URL_HOST_PATTERN = _HTTP + _USERINFO + _HOST + r"(:[^/?#]*)?" + _REST
#: An http(s) URL whose port, if it has one, is from 1 to 65535.
URL_PORT_PATTERN = _HTTP + _USERINFO + _HOST_TEXT + r"(:" + _PORT + r")?" + _REST

_HTTP_CEL = f"!self.matches({rules.cel_string(_HTTP)})"

#: The rules of ``spec.url`` on its own.
URL_RULES: Final[tuple[Rule[str], ...]] = (
    Rule(
        cel=f"self.matches({rules.cel_string(URL_PATTERN)})",
        message=(
            "spec.url must be an http:// or https:// URL with no spaces or control "
            "characters, e.g. https://example.com/watch?v=abc123"
        ),
        error_type="url_scheme",
        holds=lambda url: rules.matches(URL_PATTERN, url),
    ),
    # Credentials in the URL would be shown in status, Events, logs and `kubectl get`.
    Rule(
        cel=f"!self.matches({rules.cel_string(URL_CREDENTIALS_PATTERN)})",
        message=(
            "spec.url may not contain a user name or password (user:password@host): "
            "they would show in status and logs; remove them and put the site's login "
            "cookies in a Secret referenced by spec.cookies"
        ),
        error_type="url_credentials",
        holds=lambda url: not rules.matches(URL_CREDENTIALS_PATTERN, url),
    ),
    Rule(
        cel=f"{_HTTP_CEL} || self.matches({rules.cel_string(URL_HOST_PATTERN)})",
        message=(
            "spec.url must name a host after the scheme, e.g. "
            "https://example.com/watch?v=abc123; write an IPv6 address in brackets, e.g. "
            "http://[::1]:8080/video.mp4"
        ),
        error_type="url_host",
        holds=lambda url: not rules.matches(_HTTP, url) or rules.matches(URL_HOST_PATTERN, url),
    ),
    Rule(
        cel=f"{_HTTP_CEL} || self.matches({rules.cel_string(URL_PORT_PATTERN)})",
        message=(
            "spec.url has a port that is not a number from 1 to 65535 (without leading "
            "zeros): correct it (e.g. https://example.com:8443/video.mp4) or leave it out"
        ),
        error_type="url_port",
        holds=lambda url: not rules.matches(_HTTP, url) or rules.matches(URL_PORT_PATTERN, url),
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
            "`https://www.youtube.com/watch?v=...`, with a host (an IPv6 address in "
            "brackets), an optional port from 1 to 65535 and no user name or password "
            "(cookies for a login go in `cookies`). Immutable: create a new VideoDownload "
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
