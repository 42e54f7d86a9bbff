"""``status`` of a VideoDownload: what the operator and its workers report.

Written only by the operator (through the status subresource); users read it. Conditions
follow the Kubernetes API conventions and kstatus: ``Ready`` is the summary,
``Reconciling`` is True while work is in progress, ``Stalled`` is True when progress needs
a change by the user. Their types (:class:`ConditionType`, with each one's polarity) and
the reasons the operator gives them (:class:`ConditionReason`) are declared here once;
which phase sets which condition is :data:`videodl.core.conditions.POLICY`. Pure: no I/O.
"""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import AwareDatetime, Field

from videodl.api._base import StatusModel

__all__ = [
    "Condition",
    "ConditionReason",
    "ConditionStatus",
    "ConditionType",
    "DownloadResult",
    "Failure",
    "FailureClass",
    "Phase",
    "Progress",
    "ResultFile",
    "Stage",
    "VideoDownloadStatus",
]


class Phase(enum.StrEnum):
    """Where the download is in its life cycle."""

    PENDING = "Pending"
    QUEUED = "Queued"
    RUNNING = "Running"
    BACKING_OFF = "BackingOff"
    BLOCKED = "Blocked"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SUSPENDED = "Suspended"

    @property
    def finished(self) -> bool:
        """Whether the phase is terminal (nothing more will happen on its own)."""
        return self in (Phase.SUCCEEDED, Phase.FAILED)


class Stage(enum.StrEnum):
    """What a running attempt is doing."""

    EXTRACTING = "Extracting"
    DOWNLOADING = "Downloading"
    POST_PROCESSING = "PostProcessing"


class FailureClass(enum.StrEnum):
    """How a failure is handled: `Transient` and `Throttled` are retried (throttling
    also trips the site's circuit breaker), `Permanent` is not."""

    TRANSIENT = "Transient"
    THROTTLED = "Throttled"
    PERMANENT = "Permanent"


class ConditionStatus(enum.StrEnum):
    """Status of a condition."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class ConditionType(enum.StrEnum):
    """The condition types the operator owns, each always present on a reconciled object.

    Polarity, as Flux's ``api/v1/condition_types.go`` documents it: for a type of
    *normal* polarity ``True`` is the healthy state; for *abnormal* ("negative") polarity
    ``True`` means something is not done or not well, and the condition reads ``False``
    when all is well.
    """

    #: Normal polarity: ``True`` once the download succeeded, and while it is suspended (a
    #: GitOps wait on a paused object passes); ``False`` until then and after a failure.
    READY = "Ready"
    #: Abnormal polarity: ``True`` while the operator is still working toward the file
    #: on its own (pending, queued, running, backing off, blocked by the site's breaker).
    RECONCILING = "Reconciling"
    #: Abnormal polarity: ``True`` when the download failed for good and will not
    #: progress without a change to the object (a manual retry).
    STALLED = "Stalled"


class ConditionReason(enum.StrEnum):
    """The reasons the operator itself gives its conditions (CamelCase, as metav1 wants).

    All three conditions carry the same reason: that of the phase's last transition. A
    ``Failed`` download carries its failure's reason instead (``status.lastFailure.reason``,
    e.g. ``HTTPError429`` or one of the reasons here), and a ``Blocked`` one the reason of
    the admission gate that holds it (the circuit breaker's ``CircuitOpen``,
    ``CircuitProbesBusy`` or ``CircuitStateUnavailable``).
    """

    #: Accepted, not yet queued.
    PENDING = "Pending"
    #: Waiting for a worker slot.
    QUEUED = "Queued"
    #: A failed download was queued again by the retry annotation.
    RETRY_REQUESTED = "RetryRequested"
    #: A worker Pod runs (or is about to run) the current attempt.
    RUNNING = "Running"
    #: Waiting out the backoff before the next attempt.
    BACKING_OFF = "BackingOff"
    #: The apiserver refused the worker Pod; backing off before trying again.
    POD_REJECTED = "PodRejected"
    #: ``spec.suspend`` is true.
    SUSPENDED = "Suspended"
    #: The download finished and its files are on the volume.
    SUCCEEDED = "Succeeded"
    #: Failed for good: there is no claim to write into (permanent failure reason).
    NO_OUTPUT_CLAIM = "NoOutputClaim"
    #: Failed for good: ``spec.output.s3`` names no bucket and there is no default bucket.
    NO_OUTPUT_BUCKET = "NoOutputBucket"
    #: Failed for good: the object breaks the API's rules (permanent failure reason).
    INVALID_SPEC = "InvalidSpec"


NonNegativeInt = Annotated[int, Field(ge=0)]

# Same as metav1.Condition's reason: CamelCase words.
REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
REASON_MAX_LENGTH = 1024
# Same as metav1.Condition's type: an optionally prefixed name.
CONDITION_TYPE_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)
MESSAGE_MAX_LENGTH = 32768


class Progress(StatusModel):
    """Progress of the running attempt, updated every few seconds."""

    percent: float | None = Field(
        default=None, ge=0, le=100, description="Share of the download done, 0 to 100."
    )
    downloaded_bytes: NonNegativeInt | None = Field(
        default=None, description="Bytes downloaded so far."
    )
    total_bytes: NonNegativeInt | None = Field(
        default=None, description="Expected size in bytes, exact or estimated; unset if unknown."
    )
    speed_bytes_per_second: float | None = Field(
        default=None, ge=0, description="Current download speed in bytes per second."
    )
    eta_seconds: NonNegativeInt | None = Field(
        default=None, description="Estimated seconds until the download is done."
    )
    stage: Stage | None = Field(default=None, description="What the attempt is doing.")
    update_time: AwareDatetime | None = Field(
        default=None, description="When this progress was reported."
    )


class ResultFile(StatusModel):
    """A file the download wrote."""

    path: str = Field(
        min_length=1,
        max_length=4096,
        description=(
            "Path relative to the volume's root, or the object's `s3://bucket/key` URI for "
            "an S3 destination."
        ),
    )
    size_bytes: NonNegativeInt = Field(description="Size in bytes.")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the content, lowercase hex."
    )


class DownloadResult(StatusModel):
    """What was downloaded, set when the download succeeded."""

    video_id: str | None = Field(default=None, description="The site's id of the video.")
    extractor: str | None = Field(
        default=None, description="yt-dlp extractor that handled the URL, e.g. `youtube`."
    )
    title: str | None = Field(default=None, description="Title of the video.")
    uploader: str | None = Field(default=None, description="Uploader or channel.")
    duration_seconds: float | None = Field(
        default=None, ge=0, description="Duration of the video in seconds."
    )
    format_id: str | None = Field(
        default=None, description="yt-dlp format id(s) downloaded, e.g. `137+140`."
    )
    resolution: str | None = Field(
        default=None, description="Resolution of the video, e.g. `1920x1080`, or `audio only`."
    )
    files: list[ResultFile] = Field(
        default_factory=list,
        description="Files written: the media file first, then side files.",
    )
    skipped: bool | None = Field(
        default=None,
        description=(
            "True when the download archive already recorded this video: `files` are those an "
            "earlier download wrote, and deleting this VideoDownload never deletes them."
        ),
    )


class Failure(StatusModel):
    """Why the last attempt failed."""

    failure_class: FailureClass = Field(
        alias="class", description="How the failure is handled: retried or not."
    )
    reason: str = Field(
        min_length=1,
        max_length=REASON_MAX_LENGTH,
        pattern=REASON_PATTERN,
        description="CamelCase reason, e.g. `HTTPError429`, `VideoUnavailable`.",
    )
    message: str = Field(
        default="",
        max_length=MESSAGE_MAX_LENGTH,
        description="Human-readable detail, usually yt-dlp's error message.",
    )
    exit_code: int | None = Field(default=None, description="Exit code of the worker process.")
    time: AwareDatetime | None = Field(default=None, description="When the failure happened.")


class Condition(StatusModel):
    """One aspect of the object's state, per the Kubernetes API conventions."""

    type: str = Field(
        min_length=1,
        max_length=316,
        pattern=CONDITION_TYPE_PATTERN,
        description="Type of the condition: `Ready`, `Reconciling` or `Stalled`.",
    )
    status: ConditionStatus = Field(description="`True`, `False` or `Unknown`.")
    reason: str = Field(
        min_length=1,
        max_length=REASON_MAX_LENGTH,
        pattern=REASON_PATTERN,
        description="CamelCase reason for the condition's last transition.",
    )
    message: str = Field(
        default="",
        max_length=MESSAGE_MAX_LENGTH,
        description="Human-readable detail of the transition.",
    )
    last_transition_time: AwareDatetime = Field(
        description="When the condition last changed its status."
    )
    observed_generation: NonNegativeInt | None = Field(
        default=None,
        description="`metadata.generation` the condition was set for.",
    )


class VideoDownloadStatus(StatusModel):
    """Observed state of a VideoDownload."""

    observed_generation: NonNegativeInt | None = Field(
        default=None,
        description=(
            "`metadata.generation` the operator last acted on; absent until it first "
            "observed the object."
        ),
    )
    phase: Phase | None = Field(
        default=None,
        description=(
            "Where the download is: `Pending` (not yet queued), `Queued` (waiting for a "
            "worker slot), `Running` (a worker Pod is downloading), `BackingOff` (waiting "
            "before the next attempt), `Blocked` (the site's circuit breaker is open, or "
            "the worker Pod cannot start), "
            "`Suspended` (`spec.suspend` is true), `Succeeded`, or `Failed` (a permanent "
            "failure, or every attempt used up)."
        ),
    )
    attempts: NonNegativeInt | None = Field(
        default=None, description="Attempts started so far, the running one included."
    )
    start_time: AwareDatetime | None = Field(
        default=None, description="When the first attempt started."
    )
    completion_time: AwareDatetime | None = Field(
        default=None, description="When the download succeeded or finally failed."
    )
    next_attempt_time: AwareDatetime | None = Field(
        default=None, description="When the next attempt may start, while backing off."
    )
    worker_pod: str | None = Field(
        default=None, description="Name of the worker Pod of the current or last attempt."
    )
    progress: Progress | None = Field(default=None, description="Progress of the attempt.")
    result: DownloadResult | None = Field(
        default=None, description="What was downloaded, once succeeded."
    )
    last_failure: Failure | None = Field(
        default=None, description="Why the last failed attempt failed."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=16,
        description=(
            "Conditions in kstatus style: `Ready` is True once the download succeeded (and "
            "while it is suspended), "
            "`Reconciling` is True while work is under way, `Stalled` is True when the "
            "download cannot go on without a change to the object."
        ),
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
        },
    )

    def condition(self, condition_type: str) -> Condition | None:
        """The condition of ``condition_type``, if set."""
        return next((c for c in self.conditions if c.type == condition_type), None)
