"""Progress: yt-dlp's hook calls turned into throttled ``status.progress`` updates.

yt-dlp calls its progress hook for every block it writes (hundreds of times a second on
a fast link). :class:`ProgressReporter` turns those calls into at most one update per
interval, plus one on every stage change (Extracting -> Downloading -> PostProcessing),
with a percentage that never goes backwards and is 100 at the end, so a thousand
parallel downloads do not flood the apiserver.

The percentage covers the whole attempt: the parts of a video that are merged later
(video and audio) and, for playlists, the entries. Bytes, speed and ETA describe the
video being downloaded. Subtitle downloads (which yt-dlp reports through the same hook)
are not counted.

No I/O of its own: updates go to the :class:`ProgressSink` it is given, and the clocks
are injectable for tests.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from videodl.api.status import Progress, Stage

__all__ = ["ProgressReporter", "ProgressSink", "RecordingSink"]


class ProgressSink(Protocol):
    """Where progress updates go (the VideoDownload's status, or a test's list)."""

    def publish(self, progress: Progress) -> None:
        """Deliver one update."""


@dataclasses.dataclass
class RecordingSink:
    """A sink that keeps every update, for tests and local runs."""

    updates: list[Progress] = dataclasses.field(default_factory=list)

    def publish(self, progress: Progress) -> None:
        """Remember the update."""
        self.updates.append(progress)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _number(value: Any) -> float | None:
    """A finite, non-negative number from a hook field, else None (yt-dlp may send junk)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


@dataclasses.dataclass
class _Part:
    downloaded: int = 0
    total: int | None = None

    @property
    def fraction(self) -> float:
        if not self.total:
            return 0.0
        return min(1.0, self.downloaded / self.total)


class ProgressReporter:
    """Throttles and shapes progress for a sink; wire its methods to yt-dlp's hooks."""

    def __init__(
        self,
        sink: ProgressSink,
        *,
        interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        self._sink = sink
        self._interval = interval_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._last_sent: float | None = None
        self._sent_stage: Stage | None = None
        self._dirty = False
        self._stage: Stage | None = None
        self._percent = 0.0
        self._video: str | None = None
        self._parts: dict[str, _Part] = {}
        self._expected_parts = 1
        self._entry = (1, 1)  # (index, count) in a playlist
        self._speed: float | None = None
        self._eta: int | None = None

    # -- hooks ------------------------------------------------------------------------------

    def extracting(self) -> None:
        """The attempt starts by extracting information (sent at once)."""
        self._set_stage(Stage.EXTRACTING)
        self._maybe_send()

    def on_download(self, event: Mapping[str, Any]) -> None:
        """yt-dlp ``progress_hooks`` entry point."""
        info = event.get("info_dict") or {}
        status = event.get("status")
        # Subtitles come through this hook too, with an info dict that has no id.
        if not info.get("id") or status not in ("downloading", "finished"):
            return
        self._track_video(info)
        part = self._parts.setdefault(str(event.get("filename") or ""), _Part())
        downloaded = _number(event.get("downloaded_bytes"))
        total = _number(event.get("total_bytes")) or _number(event.get("total_bytes_estimate"))
        if downloaded is not None:
            part.downloaded = int(downloaded)
        if total is not None:
            part.total = int(total)
        if status == "finished":
            part.total = part.downloaded = max(part.downloaded, part.total or 0)
        speed, eta = _number(event.get("speed")), _number(event.get("eta"))
        self._speed = speed if status == "downloading" else None
        self._eta = int(eta) if eta is not None and status == "downloading" else None
        self._set_stage(Stage.DOWNLOADING)
        self._advance(self._overall_fraction())
        self._maybe_send()

    def on_postprocess(self, event: Mapping[str, Any]) -> None:
        """yt-dlp ``postprocessor_hooks`` entry point."""
        if event.get("status") != "started":
            return
        self._speed = self._eta = None
        self._set_stage(Stage.POST_PROCESSING)
        self._maybe_send()

    def finished(self) -> None:
        """The attempt succeeded: 100 percent, sent at once."""
        self._speed = self._eta = None
        self._advance(1.0)
        self._send()

    def flush(self) -> None:
        """Send what has not been sent yet (e.g. when an attempt fails)."""
        if self._dirty:
            self._send()

    @property
    def current(self) -> Progress:
        """The progress as it stands, sent or not."""
        part = self._video_bytes()
        return Progress(
            percent=round(self._percent, 1),
            downloaded_bytes=part.downloaded if self._parts else None,
            total_bytes=part.total,
            speed_bytes_per_second=self._speed,
            eta_seconds=self._eta,
            stage=self._stage,
            update_time=self._wall_clock(),
        )

    # -- bookkeeping --------------------------------------------------------------------------

    def _track_video(self, info: Mapping[str, Any]) -> None:
        video = str(info["id"])
        if video == self._video:
            return
        self._video = video
        self._parts = {}
        self._expected_parts = max(1, len(info.get("requested_formats") or ()))
        index = info.get("playlist_index")
        count = info.get("n_entries") or info.get("playlist_count")
        if isinstance(index, int) and isinstance(count, int) and 1 <= index <= count:
            self._entry = (index, count)
        else:
            self._entry = (1, 1)

    def _video_bytes(self) -> _Part:
        parts = list(self._parts.values())
        downloaded = sum(p.downloaded for p in parts)
        known = all(p.total for p in parts) and len(parts) >= self._expected_parts
        return _Part(downloaded, sum(p.total or 0 for p in parts) if known else None)

    def _overall_fraction(self) -> float:
        whole = self._video_bytes()
        if whole.total:
            video = whole.fraction
        else:
            video = sum(p.fraction for p in self._parts.values()) / self._expected_parts
        index, count = self._entry
        return (index - 1 + min(1.0, video)) / count

    def _advance(self, fraction: float) -> None:
        percent = max(0.0, min(100.0, fraction * 100))
        if percent > self._percent:
            self._percent = percent
            self._dirty = True

    def _set_stage(self, stage: Stage) -> None:
        self._stage = stage
        self._dirty = True

    def _maybe_send(self) -> None:
        now = self._clock()
        stage_changed = self._stage != self._sent_stage
        due = self._last_sent is None or now - self._last_sent >= self._interval
        if stage_changed or due:
            self._send()

    def _send(self) -> None:
        self._last_sent = self._clock()
        self._sent_stage = self._stage
        self._dirty = False
        self._sink.publish(self.current)
