"""A VideoSubscription: follow a channel, playlist or feed on a schedule.

``spec`` names the source (``url``), when to scan it (``schedule``, ``timeZone`` and the
CronJob-like ``startingDeadlineSeconds``, ``concurrencyPolicy`` and ``suspend``), what a
first scan takes of what already exists (``initialBacklog``), which entries to take
(the VideoPlaylist's entry filters, ``maxItemsPerScan``), the VideoDownload each new video
becomes (``template``) and what to keep (``retention``). Each due slot creates one scan, a
VideoPlaylist in dry-run mode, and the operator creates VideoDownloads for the videos the
subscription has not seen before. Pure: no I/O.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any, Final

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from videodl.api import rules
from videodl.api import schedule as schedules
from videodl.api._base import SpecModel, StatusModel
from videodl.api.kind import KindObject
from videodl.api.playlist import FILTER_RULES, MAX_ITEMS_CAP, EntryFilters, VideoDownloadTemplate
from videodl.api.rules import Rule
from videodl.api.spec import URL_MAX_LENGTH, URL_RULES, VideoDownloadSpec
from videodl.api.status import Condition, NonNegativeInt

__all__ = [
    "BACKLOG_ALL",
    "BACKLOG_NONE",
    "DURATION_PATTERN",
    "KIND",
    "LABEL_PINNED",
    "LIST_KIND",
    "PLURAL",
    "SHORT_NAME",
    "SINGULAR",
    "AgeBasis",
    "ConcurrencyPolicy",
    "Retention",
    "SubscriptionPhase",
    "VideoCounts",
    "VideoSubscription",
    "VideoSubscriptionSpec",
    "VideoSubscriptionStatus",
    "duration_seconds",
]

KIND: Final = "VideoSubscription"
LIST_KIND: Final = "VideoSubscriptionList"
PLURAL: Final = "videosubscriptions"
SINGULAR: Final = "videosubscription"
SHORT_NAME: Final = "vsub"

BACKLOG_NONE: Final = "None"
BACKLOG_ALL: Final = "All"
#: A download labelled ``videodl.dev/pinned: "true"`` is never pruned.
LABEL_PINNED: Final = "videodl.dev/pinned"
#: Whole days, hours, minutes and seconds, e.g. ``30d``, ``720h``, ``1h30m``.
DURATION_PATTERN: Final = r"^([0-9]+[dhms])+$"
_DURATION_UNITS: Final = {"d": 86400, "h": 3600, "m": 60, "s": 1}
DEFAULT_MAX_ITEMS_PER_SCAN: Final = 100


def duration_seconds(text: str) -> int:
    """``1h30m`` as 5400; ValueError when it is not a duration of :data:`DURATION_PATTERN`."""
    if not re.fullmatch(DURATION_PATTERN, text):
        msg = f"{text!r} is not a duration such as 30d, 720h or 1h30m"
        raise ValueError(msg)
    return sum(
        int(count) * _DURATION_UNITS[unit] for count, unit in re.findall(r"([0-9]+)([dhms])", text)
    )


_BACKLOG_RULES: Final[tuple[Rule[Any], ...]] = (
    Rule(
        cel="type(self) == string ? (self == 'None' || self == 'All') : self >= 0",
        message=(
            "spec.initialBacklog must be None (take nothing that exists at the first scan), "
            "All, or a count of the newest videos to take, 0 or more"
        ),
        error_type="initial_backlog",
        holds=lambda value: (
            value in (BACKLOG_NONE, BACKLOG_ALL) if isinstance(value, str) else value >= 0
        ),
    ),
)


def _backlog_value(value: object) -> object:
    # `initialBacklog: "3"` reads as the count 3, as the apiserver's int-or-string would not.
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


InitialBacklog = Annotated[
    int | str,
    BeforeValidator(_backlog_value),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
            **rules.schema_extra(*_BACKLOG_RULES),
        }
    ),
]


class ConcurrencyPolicy(enum.StrEnum):
    """What a due slot does while the previous scan still runs."""

    FORBID = "Forbid"
    REPLACE = "Replace"


class AgeBasis(enum.StrEnum):
    """What ``deleteOlderThan`` measures a download's age from."""

    DOWNLOADED = "Downloaded"
    UPLOADED = "Uploaded"


_DURATION_RULES: Final[tuple[Rule[str], ...]] = (
    Rule(
        cel=f"self.matches('{DURATION_PATTERN}')",
        message=(
            "spec.retention.deleteOlderThan must be a positive duration in whole days, hours, "
            "minutes and seconds, such as 30d, 720h or 1h30m"
        ),
        error_type="duration",
        holds=lambda value: re.fullmatch(DURATION_PATTERN, value) is not None,
    ),
)


class Retention(SpecModel):
    """Which downloads to keep; the others are deleted, their files as deletionPolicy says."""

    keep_last: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Keep this many of the newest downloads (by upload date, else creation) and "
            f'delete older finished ones. Downloads labelled `{LABEL_PINNED}: "true"` are '
            "kept besides and not counted."
        ),
    )
    delete_older_than: str | None = Field(
        default=None,
        max_length=32,
        description=(
            "Delete finished downloads older than this, e.g. `30d` or `720h`, measured as "
            "`ageBasis` says. Pinned downloads are kept."
        ),
        json_schema_extra=rules.schema_extra(*_DURATION_RULES),
    )
    age_basis: AgeBasis = Field(
        default=AgeBasis.DOWNLOADED,
        description=(
            "`Downloaded` measures age from when the download finished; `Uploaded` from the "
            "video's upload date (when the site gave none, from when it finished)."
        ),
    )

    @field_validator("delete_older_than")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        return None if value is None else rules.enforce(_DURATION_RULES, value)


_SCHEDULE_RULES: Final[tuple[Rule[str], ...]] = (
    Rule(
        cel=f"self.matches('{schedules.SCHEDULE_PATTERN}')",
        message=(
            "spec.schedule must be five cron fields such as `0 */6 * * *`, a macro such as "
            "`@daily`, or `@every <duration>` such as `@every 1h`; the zone goes in "
            "spec.timeZone"
        ),
        error_type="schedule",
        holds=lambda value: (
            re.fullmatch(schedules.SCHEDULE_PATTERN, " ".join(value.split())) is not None
        ),
    ),
)
_TIME_ZONE_RULES: Final[tuple[Rule[str], ...]] = (
    Rule(
        cel=f"self.matches('{schedules.TIME_ZONE_PATTERN}')",
        message=("spec.timeZone must be an IANA time zone name such as `Europe/Berlin` or `UTC`"),
        error_type="time_zone",
        holds=lambda value: re.fullmatch(schedules.TIME_ZONE_PATTERN, value) is not None,
    ),
)


class VideoSubscriptionSpec(EntryFilters):
    """What to follow, when to look, what to take and what to keep."""

    url: str = Field(
        min_length=1,
        max_length=URL_MAX_LENGTH,
        description="http(s) URL of the channel, playlist or feed to follow.",
        json_schema_extra=rules.schema_extra(*URL_RULES),
    )
    schedule: str = Field(
        min_length=1,
        max_length=128,
        description=(
            "When to scan: five cron fields (`0 */6 * * *`), a macro (`@hourly`, `@daily`, "
            "`@weekly`, `@monthly`, `@yearly`) or `@every <duration>` (`@every 30m`)."
        ),
        json_schema_extra=rules.schema_extra(*_SCHEDULE_RULES),
    )
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone the cron fields are read in; UTC when unset.",
        json_schema_extra=rules.schema_extra(*_TIME_ZONE_RULES),
    )
    suspend: bool = Field(
        default=False,
        description=(
            "Start no scan while true (downloads already created go on); slots missed "
            "meanwhile count as missed when it is set back to false."
        ),
    )
    starting_deadline_seconds: int | None = Field(
        default=None,
        ge=0,
        description=(
            "A slot not started within this many seconds of its time is skipped "
            "(`MissSchedule` Event); unset: a late slot still runs."
        ),
    )
    concurrency_policy: ConcurrencyPolicy = Field(
        default=ConcurrencyPolicy.FORBID,
        description=(
            "`Forbid` skips a slot while the previous scan runs (`ScanAlreadyActive` Event); "
            "`Replace` deletes the running scan and starts the new one."
        ),
    )
    initial_backlog: InitialBacklog = Field(
        default=BACKLOG_NONE,
        description=(
            "What the first scan takes of the videos that already exist: `None` records them "
            "as seen and downloads none, a count downloads that many of the newest, `All` "
            "downloads every one (up to `maxItemsPerScan` a scan)."
        ),
    )
    max_items_per_scan: int = Field(
        default=DEFAULT_MAX_ITEMS_PER_SCAN,
        ge=1,
        le=MAX_ITEMS_CAP,
        description=(
            "Most new downloads one scan creates; further new videos wait for the next scan."
        ),
    )
    template: VideoDownloadTemplate = Field(
        default_factory=lambda: VideoDownloadTemplate.model_validate({}),
        description="The VideoDownload spec of every new video, everything but `url`.",
    )
    retention: Retention = Field(default_factory=Retention, description="Which downloads to keep.")
    successful_scans_history_limit: int = Field(
        default=3, ge=0, le=100, description="Finished successful scans to keep."
    )
    failed_scans_history_limit: int = Field(
        default=1, ge=0, le=100, description="Failed scans to keep."
    )

    model_config = ConfigDict(json_schema_extra=rules.schema_extra(*FILTER_RULES))

    @field_validator("url")
    @classmethod
    def _url_rules(cls, value: str) -> str:
        return rules.enforce(URL_RULES, value)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        rules.enforce(_SCHEDULE_RULES, value)
        schedules.parse(value)
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str | None) -> str | None:
        if value is not None:
            rules.enforce(_TIME_ZONE_RULES, value)
            schedules.zone(value)
        return value

    @field_validator("initial_backlog")
    @classmethod
    def _backlog(cls, value: int | str) -> int | str:
        rules.enforce(_BACKLOG_RULES, value)
        return value

    @property
    def parsed_schedule(self) -> schedules.Schedule:
        return schedules.parse(self.schedule)

    def download_spec(self, url: str) -> VideoDownloadSpec:
        """The VideoDownload spec of the new video at ``url``."""
        document = self.template.model_dump(by_alias=True, exclude_none=True, mode="json")
        document["url"] = url
        return VideoDownloadSpec.model_validate(document)


class SubscriptionPhase(enum.StrEnum):
    """Where the subscription is."""

    PENDING = "Pending"
    SCANNING = "Scanning"
    SCHEDULED = "Scheduled"
    SUSPENDED = "Suspended"
    FAILED = "Failed"


class VideoCounts(StatusModel):
    """The subscription's videos."""

    known: NonNegativeInt = Field(
        default=0, description="Videos seen by a scan (downloaded, skipped as backlog or pruned)."
    )
    downloads: NonNegativeInt = Field(default=0, description="VideoDownloads that exist.")
    downloaded: NonNegativeInt = Field(default=0, description="Of those, Succeeded.")
    failed: NonNegativeInt = Field(default=0, description="Of those, Failed.")
    pruned: NonNegativeInt = Field(default=0, description="Downloads deleted by retention.")


class VideoSubscriptionStatus(StatusModel):
    """Observed state of a VideoSubscription."""

    observed_generation: NonNegativeInt | None = Field(
        default=None, description="`metadata.generation` the operator last acted on."
    )
    phase: SubscriptionPhase | None = Field(
        default=None,
        description=(
            "`Pending` (before the first scan finished), `Scanning` (a scan runs), "
            "`Scheduled` (waiting for the next slot), `Suspended`, `Failed` (the spec "
            "cannot be acted on: see the `Stalled` condition)."
        ),
    )
    last_schedule_time: AwareDatetime | None = Field(
        default=None, description="Slot of the last scan started."
    )
    last_successful_time: AwareDatetime | None = Field(
        default=None, description="When the last successful scan's new videos were taken."
    )
    next_schedule_time: AwareDatetime | None = Field(default=None, description="The next slot.")
    last_skipped_time: AwareDatetime | None = Field(
        default=None,
        description="Last slot skipped (past its deadline, or a scan still running).",
    )
    active: str | None = Field(default=None, description="Name of the scan running.")
    last_scan: str | None = Field(default=None, description="Name of the last scan started.")
    applied_scan_time: AwareDatetime | None = Field(
        default=None, description="Slot of the last scan whose new videos were taken."
    )
    scans: NonNegativeInt = Field(default=0, description="Scans started.")
    videos: VideoCounts = Field(default_factory=VideoCounts, description="The videos.")
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=16,
        description=(
            "kstatus conditions: `Ready` once a scan succeeded (and while suspended), "
            "`Reconciling` until then, `Stalled` when the spec cannot be acted on."
        ),
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
        },
    )


class VideoSubscription(KindObject):
    """A VideoSubscription object: metadata as Kubernetes gives it, typed spec and status."""

    kind: str = Field(default=KIND)
    spec: VideoSubscriptionSpec
    status: VideoSubscriptionStatus | None = None
