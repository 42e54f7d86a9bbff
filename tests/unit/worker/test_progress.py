"""Tests for videodl.worker.progress."""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from videodl.api.status import Stage
from videodl.worker.progress import ProgressReporter, RecordingSink

NOW = datetime.datetime(2026, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reporter(interval: float = 5.0) -> tuple[ProgressReporter, RecordingSink, FakeClock]:
    sink, clock = RecordingSink(), FakeClock()
    return (
        ProgressReporter(sink, interval_seconds=interval, clock=clock, wall_clock=lambda: NOW),
        sink,
        clock,
    )


def downloading(done: int, total: int | None, **info: Any) -> dict[str, Any]:
    return {
        "status": "downloading",
        "downloaded_bytes": done,
        "total_bytes": total,
        "speed": 1000.0,
        "eta": 7.6,
        "filename": info.pop("filename", "/data/v.mp4"),
        "info_dict": {"id": "v", **info},
    }


def finished(total: int, **info: Any) -> dict[str, Any]:
    return {
        "status": "finished",
        "downloaded_bytes": total,
        "total_bytes": total,
        "filename": info.pop("filename", "/data/v.mp4"),
        "info_dict": {"id": "v", **info},
    }


def percents(sink: RecordingSink) -> list[float]:
    return [u.percent or 0.0 for u in sink.updates]


class TestThrottling:
    def test_at_most_one_update_per_interval(self) -> None:
        """A thousand hook calls over 20 s yield one update per 5 s plus the stage changes."""
        progress, sink, clock = reporter(interval=5.0)
        progress.extracting()
        for step in range(1000):
            clock.now = step * 0.02
            progress.on_download(downloading(step * 1000, 1_000_000))
        stages = [u.stage for u in sink.updates]
        assert stages[0] == Stage.EXTRACTING
        assert stages[1:] == [Stage.DOWNLOADING] * (len(stages) - 1)
        # Extracting, the stage change at t=0, then one at 5, 10, 15 (t ends at 19.98).
        assert len(sink.updates) == 5

    def test_stage_change_is_sent_at_once(self) -> None:
        """Downloading -> PostProcessing is reported without waiting for the interval."""
        progress, sink, clock = reporter(interval=60.0)
        progress.extracting()
        progress.on_download(downloading(10, 100))
        clock.now = 0.1
        progress.on_download(finished(100))
        progress.on_postprocess({"status": "started", "postprocessor": "Merger"})
        assert [u.stage for u in sink.updates] == [
            Stage.EXTRACTING,
            Stage.DOWNLOADING,
            Stage.POST_PROCESSING,
        ]
        assert sink.updates[-1].percent == 100.0

    def test_finished_sends_100(self) -> None:
        """The end of a successful attempt is always sent, at 100 percent."""
        progress, sink, _ = reporter(interval=60.0)
        progress.extracting()
        progress.on_download(downloading(10, 100))
        progress.on_download(downloading(50, 100))
        progress.finished()
        assert sink.updates[-1].percent == 100.0
        assert sink.updates[-1].speed_bytes_per_second is None

    def test_flush_sends_only_unsent_news(self) -> None:
        """After a failure the last state goes out once; with nothing new, nothing is sent."""
        progress, sink, _ = reporter(interval=60.0)
        progress.extracting()
        progress.on_download(downloading(10, 100))
        progress.on_download(downloading(40, 100))
        assert sink.updates[-1].downloaded_bytes == 10
        progress.flush()
        assert sink.updates[-1].downloaded_bytes == 40
        count = len(sink.updates)
        progress.flush()
        assert len(sink.updates) == count


class TestShape:
    def test_fields(self) -> None:
        """An update carries bytes, total, speed, whole-second ETA, stage and time."""
        progress, sink, _ = reporter()
        progress.on_download(downloading(250, 1000))
        update = sink.updates[-1]
        assert update.percent == 25.0
        assert (update.downloaded_bytes, update.total_bytes) == (250, 1000)
        assert update.speed_bytes_per_second == 1000.0
        assert update.eta_seconds == 7
        assert update.stage == Stage.DOWNLOADING
        assert update.update_time == NOW

    def test_estimated_total(self) -> None:
        """Fragmented downloads report an estimate, which is used when nothing better exists."""
        progress, sink, _ = reporter()
        event = downloading(300, None)
        event["total_bytes_estimate"] = 1200.0
        progress.on_download(event)
        assert sink.updates[-1].percent == 25.0

    def test_percent_never_goes_back(self) -> None:
        """A growing estimate does not make the percentage fall."""
        progress, sink, clock = reporter(interval=0)
        for step, estimate in enumerate([1000, 1000, 4000, 8000]):
            clock.now = step
            event = downloading(400 + step, None)
            event["total_bytes_estimate"] = estimate
            progress.on_download(event)
        assert percents(sink) == sorted(percents(sink))
        assert percents(sink)[-1] == 40.1

    def test_junk_values_are_dropped(self) -> None:
        """Negative, infinite or non-numeric hook values never make an invalid update."""
        progress, sink, _ = reporter(interval=0)
        event = downloading(-5, None)
        event.update(speed=float("inf"), eta=-3, total_bytes_estimate="big")
        progress.on_download(event)
        update = sink.updates[-1]
        assert (update.downloaded_bytes, update.total_bytes) == (0, None)
        assert (update.speed_bytes_per_second, update.eta_seconds) == (None, None)

    def test_subtitles_do_not_count(self) -> None:
        """Subtitle downloads (no video id) neither move the bar nor change the stage."""
        progress, sink, _ = reporter(interval=0)
        progress.extracting()
        progress.on_download(
            {"status": "finished", "downloaded_bytes": 80, "info_dict": {"ext": "vtt"}}
        )
        assert [u.stage for u in sink.updates] == [Stage.EXTRACTING]

    def test_merged_parts_share_the_bar(self) -> None:
        """Video then audio of a merged format make one 0..100 run, weighted by bytes."""
        progress, sink, _ = reporter(interval=0)
        formats = {"requested_formats": [{"format_id": "137"}, {"format_id": "140"}]}
        progress.on_download(downloading(500, 1000, filename="/d/v.f137.mp4", **formats))
        assert sink.updates[-1].percent == 25.0
        progress.on_download(finished(1000, filename="/d/v.f137.mp4", **formats))
        assert sink.updates[-1].percent == 50.0
        progress.on_download(downloading(100, 200, filename="/d/v.f140.m4a", **formats))
        assert sink.updates[-1].percent == 91.7
        assert (sink.updates[-1].downloaded_bytes, sink.updates[-1].total_bytes) == (1100, 1200)
        progress.on_download(finished(200, filename="/d/v.f140.m4a", **formats))
        assert sink.updates[-1].percent == 100.0

    def test_playlist_entries_share_the_bar(self) -> None:
        """The second of four playlist entries, half done, is 37.5 percent overall."""
        progress, sink, _ = reporter(interval=0)
        progress.on_download(downloading(50, 100, playlist_index=2, n_entries=4))
        assert sink.updates[-1].percent == 37.5


hook_events = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=3, allow_nan=False),
        st.sampled_from(["downloading", "finished", "postprocess"]),
        st.integers(min_value=0, max_value=10_000),
        st.none() | st.integers(min_value=1, max_value=10_000),
        st.sampled_from(["a", "b"]),
    ),
    max_size=200,
)


@given(events=hook_events, interval=st.floats(min_value=0.5, max_value=10))
def test_invariants(events: list[tuple[float, str, int, int | None, str]], interval: float) -> None:
    """Percent stays within 0..100 and never falls; updates are bounded by time and stages."""
    progress, sink, clock = reporter(interval=interval)
    progress.extracting()
    stage_changes = 0
    last_stage = Stage.EXTRACTING
    for gap, kind, done, total, video in events:
        clock.now += gap
        if kind == "postprocess":
            progress.on_postprocess({"status": "started", "postprocessor": "FFmpegMetadata"})
            stage = Stage.POST_PROCESSING
        else:
            event = downloading(done, total) if kind == "downloading" else finished(done)
            event["info_dict"]["id"] = video
            progress.on_download(event)
            stage = Stage.DOWNLOADING
        stage_changes += stage != last_stage
        last_stage = stage
    progress.finished()
    values = percents(sink)
    assert values == sorted(values)
    assert all(0 <= v <= 100 for v in values)
    assert values[-1] == 100.0
    # One for Extracting, one per stage change, one per elapsed interval, one at the end.
    assert len(sink.updates) <= 2 + stage_changes + int(clock.now / interval) + 1
