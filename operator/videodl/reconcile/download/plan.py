"""What a decision is about and what it asks for: observations, plans and Events.

An :class:`Observation` is everything one decision depends on (the download, its Pods, the
time); a :class:`Plan` is what the decision asks the controller to write, in order. Both
are plain values; an :class:`Event`'s reason is one of
:class:`~videodl.reconcile.download.reasons.Reason`. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence

from videodl.api.resource import VideoDownload
from videodl.api.status import VideoDownloadStatus
from videodl.reconcile.download import naming, outcome
from videodl.reconcile.download.podspec import PodIdentity
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.reasons import Reason
from videodl.reconcile.download.settings import WorkerSettings

__all__ = ["AttemptOutcome", "Event", "Observation", "Plan"]


@dataclasses.dataclass(frozen=True)
class Event:
    """A Kubernetes Event to record on the VideoDownload."""

    type: str
    reason: str
    message: str

    @classmethod
    def of(cls, reason: Reason, message: str) -> Event:
        """The Event for ``reason``, of the type declared with it."""
        return cls(reason.type, reason.value, message)


@dataclasses.dataclass(frozen=True)
class AttemptOutcome:
    """How attempt ``attempt`` ended, for the admission gate (e.g. a circuit breaker)."""

    attempt: int
    outcome: outcome.Outcome


@dataclasses.dataclass(frozen=True)
class Observation:
    """Everything a decision depends on."""

    download: VideoDownload
    uid: str
    pods: Sequence[PodView]
    now: datetime.datetime
    settings: WorkerSettings
    backoff_jitter: float = 0.0
    #: Result paths on the same claim that other downloads own and keep (see
    #: :func:`videodl.reconcile.download.deletion.owned_elsewhere`); read while deleting.
    shared_paths: frozenset[str] = frozenset()
    #: Worker Pods of other downloads are on nodes and not finished, so nodes full of
    #: Pods or requests get room as they end.
    others_placed: bool = False
    #: The last views of this download's worker Pods seen deleted while the operator
    #: watched: a recorded run whose Pod is among them was removed, not never created.
    gone: Sequence[PodView] = ()

    @property
    def status(self) -> VideoDownloadStatus:
        return self.download.status or VideoDownloadStatus()

    @property
    def generation(self) -> int:
        return self.download.generation or 0

    @property
    def metadata(self) -> Mapping[str, object]:
        return self.download.metadata

    @property
    def deleting(self) -> bool:
        return self.metadata.get("deletionTimestamp") is not None

    @property
    def finalizers(self) -> tuple[str, ...]:
        value = self.metadata.get("finalizers") or ()
        return tuple(str(f) for f in value) if isinstance(value, list | tuple) else ()

    @property
    def annotations(self) -> Mapping[str, str]:
        value = self.metadata.get("annotations") or {}
        return value if isinstance(value, Mapping) else {}

    @property
    def workers(self) -> list[PodView]:
        return [p for p in self.pods if p.component == naming.COMPONENT_WORKER]

    @property
    def cleanups(self) -> list[PodView]:
        pods = [p for p in self.pods if p.component == naming.COMPONENT_CLEANUP]
        return sorted(pods, key=lambda p: p.run or 0)

    def pod(self, name: str | None) -> PodView | None:
        return next((p for p in self.workers if p.name == name), None) if name else None

    def gone_pod(self, name: str | None) -> PodView | None:
        """The last view of the worker Pod ``name`` if it was seen deleted."""
        return next((p for p in self.gone if p.name == name), None) if name else None


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to write, in this order: status, metadata, Pods; then Events."""

    status: VideoDownloadStatus | None = None
    add_finalizer: bool = False
    remove_finalizer: bool = False
    retry_handled: str | None = None
    create_pod: PodIdentity | None = None
    cleanup_round: int | None = None
    cleanup_paths: tuple[str, ...] = ()
    #: Download-archive file (relative to the volume) and the entries to drop from it.
    cleanup_archive: tuple[str, tuple[str, ...]] | None = None
    delete_pods: tuple[str, ...] = ()
    delete_download: bool = False
    events: tuple[Event, ...] = ()
    #: How the attempt ended, when this plan records the end of one (for the admission gate).
    attempt_ended: AttemptOutcome | None = None
    #: Decide again at this time even if nothing changes (a Pod that may not start).
    recheck_at: datetime.datetime | None = None

    @property
    def empty(self) -> bool:
        """Nothing to write (a time to decide again may still be set)."""
        return dataclasses.replace(self, recheck_at=None) == Plan()
