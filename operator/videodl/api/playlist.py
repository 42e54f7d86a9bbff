"""A VideoPlaylist: a playlist, channel or list of URLs, one VideoDownload per video.

``spec`` names the sources (``url`` or ``urls``, never both), the VideoDownload spec every
child gets (``template``: everything but ``url``), which entries become children
(selection, ``maxItems``) and how many children may fail. ``status`` holds counts only,
never a list of children. The same rule table serves the CRD's CEL rules and the models'
validators (see :mod:`videodl.api.rules`). Pure: no I/O.
"""

from __future__ import annotations

import enum
import re
from typing import TYPE_CHECKING, Any, Final, Self

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)

from videodl.api import rules
from videodl.api._base import SpecModel, StatusModel
from videodl.api.kind import KindObject
from videodl.api.rules import Rule
from videodl.api.spec import URL_MAX_LENGTH, URL_RULES, DeletionPolicy, VideoDownloadSpec
from videodl.api.status import Condition, NonNegativeInt

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "FILTER_RULES",
    "ITEMS_PATTERN",
    "KIND",
    "LIST_KIND",
    "MAX_ITEMS_CAP",
    "MAX_URLS",
    "PLURAL",
    "SHORT_NAME",
    "SINGULAR",
    "EntryFilters",
    "PlaylistPhase",
    "VideoDownloadTemplate",
    "VideoPlaylist",
    "VideoPlaylistSpec",
    "VideoPlaylistStatus",
]

KIND: Final = "VideoPlaylist"
LIST_KIND: Final = "VideoPlaylistList"
PLURAL: Final = "videoplaylists"
SINGULAR: Final = "videoplaylist"
SHORT_NAME: Final = "vpl"

DEFAULT_MAX_ITEMS: Final = 500
#: The most children one playlist creates; more entries are counted, not created.
MAX_ITEMS_CAP: Final = 5000
MAX_URLS: Final = 1000
REGEX_MAX_LENGTH: Final = 1024
#: yt-dlp's ``--playlist-items``: comma-separated indexes and ``start-end`` ranges (1-based).
ITEMS_PATTERN: Final = r"^[1-9][0-9]{0,5}(-[1-9][0-9]{0,5})?(,[1-9][0-9]{0,5}(-[1-9][0-9]{0,5})?)*$"
_DATE_PATTERN: Final = r"^[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$"


def _template_fields() -> dict[str, Any]:
    return {
        name: (field.annotation, field)
        for name, field in VideoDownloadSpec.model_fields.items()
        if name != "url"
    }


if TYPE_CHECKING:
    # For the type checker the template has the spec's attributes (``url`` aside, which
    # no code reads from a template); at run time it is the spec's fields minus ``url``.
    VideoDownloadTemplate = VideoDownloadSpec
else:
    #: A VideoDownload's spec without ``url``: what every child of a playlist gets.
    VideoDownloadTemplate = create_model(
        "VideoDownloadTemplate",
        __base__=SpecModel,
        __doc__="The VideoDownload spec of every child, all but `url`.",
        **_template_fields(),
    )


def _url_rule(field: str, rule: Rule[str]) -> Rule[str]:
    return Rule(
        cel=rule.cel,
        message=rule.message.replace("spec.url", field),
        error_type=rule.error_type,
        holds=rule.holds,
    )


_URLS_RULES: Final = tuple(_url_rule("spec.urls[*]", rule) for rule in URL_RULES)
# The apiserver's CEL cost budget fits the scheme and credentials rules on 1000 URLs, not
# the host and port ones: those the operator applies, and a playlist that breaks them is
# Failed (InvalidSpec) at once, before any Pod.
_URLS_CEL_RULES: Final = _URLS_RULES[:2]


def _valid_regex(value: str) -> bool:
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _regex_rule(field: str) -> Rule[str]:
    # The apiserver's RE2 compiles the pattern when it evaluates matches(); a pattern it
    # cannot compile fails the rule there too.
    return Rule(
        cel="''.matches(self) || !''.matches(self)",
        message=(
            f"spec.{field} is not a valid regular expression: fix its syntax (Python's re "
            "dialect, e.g. `^Episode [0-9]+`)"
        ),
        error_type="invalid_regex",
        holds=_valid_regex,
    )


_TITLE_REGEX_RULES: Final = (_regex_rule("titleRegex"),)
_EXCLUDE_REGEX_RULES: Final = (_regex_rule("excludeTitleRegex"),)


#: Rules across the entry filters (shared by every kind that selects entries).
FILTER_RULES: Final[tuple[Rule[Any], ...]] = (
    Rule(
        cel="!has(self.dateAfter) || !has(self.dateBefore) || self.dateAfter <= self.dateBefore",
        message="spec.dateBefore must not be earlier than spec.dateAfter",
        error_type="date_range",
        holds=lambda spec: (
            spec.date_after is None
            or spec.date_before is None
            or spec.date_after <= spec.date_before
        ),
        field_path=".dateBefore",
    ),
    Rule(
        cel=(
            "!has(self.minDurationSeconds) || !has(self.maxDurationSeconds) || "
            "self.minDurationSeconds <= self.maxDurationSeconds"
        ),
        message="spec.maxDurationSeconds must not be below spec.minDurationSeconds",
        error_type="duration_range",
        holds=lambda spec: (
            spec.min_duration_seconds is None
            or spec.max_duration_seconds is None
            or spec.min_duration_seconds <= spec.max_duration_seconds
        ),
        field_path=".maxDurationSeconds",
    ),
)

#: Rules across the fields of ``spec``.
_SPEC_RULES: Final[tuple[Rule[Any], ...]] = (
    Rule(
        cel="has(self.url) != has(self.urls)",
        message="spec: set exactly one of spec.url and spec.urls",
        error_type="url_or_urls",
        holds=lambda spec: (spec.url is None) != (spec.urls is None),
    ),
    *FILTER_RULES,
)


class EntryFilters(SpecModel):
    """Which enumerated entries to keep, by upload date, title and duration."""

    date_after: str | None = Field(
        default=None,
        pattern=_DATE_PATTERN,
        description="Keep entries uploaded on or after this date, `YYYYMMDD`.",
    )
    date_before: str | None = Field(
        default=None,
        pattern=_DATE_PATTERN,
        description="Keep entries uploaded on or before this date, `YYYYMMDD`.",
    )
    title_regex: str | None = Field(
        default=None,
        min_length=1,
        max_length=REGEX_MAX_LENGTH,
        description="Keep entries whose title this regular expression finds a match in.",
        json_schema_extra=rules.schema_extra(*_TITLE_REGEX_RULES),
    )
    exclude_title_regex: str | None = Field(
        default=None,
        min_length=1,
        max_length=REGEX_MAX_LENGTH,
        description="Drop entries whose title this regular expression finds a match in.",
        json_schema_extra=rules.schema_extra(*_EXCLUDE_REGEX_RULES),
    )
    min_duration_seconds: float | None = Field(
        default=None, ge=0, description="Keep entries at least this long."
    )
    max_duration_seconds: float | None = Field(
        default=None, ge=0, description="Keep entries at most this long."
    )

    @field_validator("title_regex")
    @classmethod
    def _title_regex(cls, value: str | None) -> str | None:
        return None if value is None else rules.enforce(_TITLE_REGEX_RULES, value)

    @field_validator("exclude_title_regex")
    @classmethod
    def _exclude_regex(cls, value: str | None) -> str | None:
        return None if value is None else rules.enforce(_EXCLUDE_REGEX_RULES, value)

    @model_validator(mode="after")
    def _filter_ranges(self) -> Self:
        rules.enforce(FILTER_RULES, self)
        return self


class VideoPlaylistSpec(EntryFilters):
    """Which videos to enumerate and select, and the VideoDownload each one becomes."""

    url: str | None = Field(
        default=None,
        min_length=1,
        max_length=URL_MAX_LENGTH,
        description=(
            "http(s) URL of a playlist, a channel or a page with several videos. Exactly one "
            "of `url` and `urls` is set."
        ),
        json_schema_extra=rules.schema_extra(*URL_RULES),
    )
    urls: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_URLS,
        description=f"An explicit list of video URLs (at most {MAX_URLS}), instead of `url`.",
        json_schema_extra={
            "items": {
                "type": "string",
                "maxLength": URL_MAX_LENGTH,
                **rules.schema_extra(*_URLS_CEL_RULES),
            }
        },
    )
    template: VideoDownloadTemplate = Field(
        default_factory=lambda: VideoDownloadTemplate.model_validate({}),
        description=(
            "The VideoDownload spec of every child, everything but `url`: output, format, "
            "priority, retry and the rest."
        ),
    )
    max_items: int = Field(
        default=DEFAULT_MAX_ITEMS,
        ge=1,
        le=MAX_ITEMS_CAP,
        description=(
            "Most children to create; entries beyond it are counted in `status.entries` "
            "but not created."
        ),
    )
    items: str | None = Field(
        default=None,
        max_length=1024,
        pattern=ITEMS_PATTERN,
        description=(
            "Entries to keep by their 1-based position, as yt-dlp's `--playlist-items`: "
            "indexes and ranges, e.g. `1-10,15`."
        ),
    )
    reverse: bool = Field(
        default=False, description="Take the entries in reverse order (before `maxItems`)."
    )
    max_failed: int | None = Field(
        default=None,
        ge=0,
        description=(
            "How many children may fail before the playlist is `Failed`; unset allows any."
        ),
    )
    suspend: bool = Field(
        default=False,
        description="Hold the playlist and suspend every child; false resumes them.",
    )
    dry_run: bool = Field(
        default=False,
        description=(
            "Enumerate and select only: count what would become children in status and create none."
        ),
    )
    deletion_policy: DeletionPolicy | None = Field(
        default=None,
        description=(
            "`deletionPolicy` of every child (overrides the template's): `Delete` removes "
            "the children's files when the playlist is deleted."
        ),
    )

    model_config = ConfigDict(json_schema_extra=rules.schema_extra(*_SPEC_RULES))

    @field_validator("url")
    @classmethod
    def _url_rules(cls, value: str | None) -> str | None:
        return None if value is None else rules.enforce(URL_RULES, value)

    @field_validator("urls")
    @classmethod
    def _urls_rules(cls, value: list[str] | None) -> list[str] | None:
        for url in value or ():
            rules.enforce(_URLS_RULES, url)
        return value

    @field_validator("items")
    @classmethod
    def _items_ranges(cls, value: str | None) -> str | None:
        for part in (value or "").split(","):
            start, _, end = part.partition("-")
            if end and int(end) < int(start):
                msg = f"spec.items range {part!r} ends before it starts: write {end}-{start}"
                raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _cross_field(self) -> Self:
        rules.enforce(_SPEC_RULES[:1], self)
        return self

    @property
    def sources(self) -> tuple[str, ...]:
        """The URLs to enumerate."""
        return (self.url,) if self.url is not None else tuple(self.urls or ())

    def child_spec(self, url: str, *, suspend: bool) -> VideoDownloadSpec:
        """The VideoDownload spec of the child downloading ``url``."""
        document = self.template.model_dump(by_alias=True, exclude_none=True, mode="json")
        document["url"] = url
        document["suspend"] = suspend or bool(document.get("suspend"))
        if self.deletion_policy is not None:
            document["deletionPolicy"] = self.deletion_policy.value
        return VideoDownloadSpec.model_validate(document)


class PlaylistPhase(enum.StrEnum):
    """Where the playlist is in its life cycle."""

    PENDING = "Pending"
    INDEXING = "Indexing"
    BACKING_OFF = "BackingOff"
    BLOCKED = "Blocked"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SUSPENDED = "Suspended"


class ChildCounts(StatusModel):
    """Children by phase."""

    pending: NonNegativeInt = Field(default=0, description="Not yet queued (or no status).")
    queued: NonNegativeInt = Field(default=0, description="Waiting for a worker slot.")
    running: NonNegativeInt = Field(default=0, description="Downloading.")
    backing_off: NonNegativeInt = Field(default=0, description="Waiting to retry.")
    blocked: NonNegativeInt = Field(default=0, description="Held by the site's breaker.")
    suspended: NonNegativeInt = Field(default=0, description="Suspended.")
    succeeded: NonNegativeInt = Field(default=0, description="Done.")
    failed: NonNegativeInt = Field(default=0, description="Failed for good.")


class PlaylistProgress(StatusModel):
    """Finished children out of selected ones."""

    done: NonNegativeInt = Field(default=0, description="Children that succeeded or failed.")
    total: NonNegativeInt = Field(default=0, description="Entries selected.")
    text: str = Field(default="0/0", max_length=32, description="`done/total`.")
    percent: float = Field(default=0, ge=0, le=100, description="Share done, 0 to 100.")


class PlaylistFailure(StatusModel):
    """Why indexing failed (the last time it did)."""

    failure_class: str = Field(
        alias="class", description="`Transient`, `Throttled` or `Permanent`."
    )
    reason: str = Field(description="CamelCase reason, e.g. `HTTPError404`.")
    message: str = Field(default="", max_length=4096, description="Detail.")


class VideoPlaylistStatus(StatusModel):
    """Observed state of a VideoPlaylist: counts, never a list of children."""

    observed_generation: NonNegativeInt | None = Field(
        default=None, description="`metadata.generation` the operator last acted on."
    )
    phase: PlaylistPhase | None = Field(
        default=None,
        description=(
            "`Pending`, `Indexing` (an indexer Pod enumerates the sources), `BackingOff` "
            "(indexing failed and is retried), `Blocked` (the site's breaker holds the "
            "indexer), `Running` (children are being created or are downloading), "
            "`Succeeded` (every child finished, failures within `maxFailed`), `Failed`, "
            "`Suspended`."
        ),
    )
    index_run: NonNegativeInt | None = Field(
        default=None, description="Number of the current (or last) enumeration."
    )
    indexed_run: NonNegativeInt | None = Field(
        default=None, description="Number of the last enumeration that completed."
    )
    index_attempts: NonNegativeInt | None = Field(
        default=None, description="Attempts of the current enumeration."
    )
    indexer_pod: str | None = Field(default=None, description="Name of the indexer Pod.")
    next_attempt_time: AwareDatetime | None = Field(
        default=None, description="When indexing is tried again, while backing off."
    )
    last_enumerated: AwareDatetime | None = Field(
        default=None, description="When the sources were last enumerated."
    )
    entries: NonNegativeInt | None = Field(default=None, description="Entries found.")
    recorded: NonNegativeInt | None = Field(
        default=None, description="Entries recorded (found, up to the hard cap)."
    )
    selected: NonNegativeInt | None = Field(
        default=None, description="Entries selected to become children (up to `maxItems`)."
    )
    created: NonNegativeInt | None = Field(default=None, description="Children that exist.")
    children: ChildCounts | None = Field(default=None, description="Children by phase.")
    progress: PlaylistProgress | None = Field(default=None, description="Children finished.")
    progress_text: str | None = Field(
        default=None, max_length=32, description="`done/selected`, for `kubectl get`."
    )
    bytes: NonNegativeInt | None = Field(
        default=None, description="Bytes the children downloaded (their result files)."
    )
    last_failure: PlaylistFailure | None = Field(
        default=None, description="Why the last enumeration failed."
    )
    reindex_handled: str | None = Field(
        default=None, description="The `videodl.dev/reindex` value last acted on."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=16,
        description=(
            "kstatus conditions: `Ready` once every child finished with failures within "
            "`maxFailed` (and while suspended), `Reconciling` while work is under way, "
            "`Stalled` when the playlist cannot go on without a change."
        ),
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
        },
    )


class VideoPlaylist(KindObject):
    """A VideoPlaylist object: metadata as Kubernetes gives it, typed spec and status."""

    kind: str = Field(default=KIND)
    spec: VideoPlaylistSpec
    status: VideoPlaylistStatus | None = None
