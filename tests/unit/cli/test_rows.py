"""Tests for videodl.cli.rows, videodl.cli.waiting and videodl.cli.kinds."""

from __future__ import annotations

import datetime
from typing import Any

from tests.unit.cli.objects import at, download

from videodl.cli import kinds, rows


class TestDownloadRow:
    def test_running_shows_progress_speed_and_eta(self) -> None:
        """A running download's row carries its percent, speed, ETA and attempts."""
        obj = download(
            "clip",
            phase="Running",
            status={
                "attempts": 1,
                "workerPod": "clip-abc123-r1",
                "progress": {
                    "percent": 40.0,
                    "downloadedBytes": 4 * 1024 * 1024,
                    "totalBytes": 10 * 1024 * 1024,
                    "speedBytesPerSecond": 1024 * 1024,
                    "etaSeconds": 6,
                    "stage": "Downloading",
                },
            },
        )
        row = rows.download_row(obj, at(65))
        assert row.percent == 40.0
        assert row.cells["progress"] == "40%"
        assert row.cells["speed"] == "1.0MiB/s"
        assert row.cells["eta"] == "6s"
        assert row.cells["size"] == "10.0MiB"
        assert row.cells["attempts"] == "1/3"
        assert row.cells["age"] == "1m5s"
        assert row.cells["reason"] == ""
        assert not row.finished

    def test_backing_off_says_until_when_and_why(self) -> None:
        """A backing-off download says when it tries again and after which failure."""
        obj = download(
            "clip",
            phase="BackingOff",
            status={
                "attempts": 1,
                "nextAttemptTime": "2026-01-01T00:01:00Z",
                "lastFailure": {"class": "Transient", "reason": "HTTPError503", "message": "busy"},
            },
        )
        reason = rows.download_row(obj, at(30)).cells["reason"]
        assert reason == "backoff until 2026-01-01T00:01:00Z (in 30s) after Transient HTTPError503"

    def test_blocked_names_the_breaker(self) -> None:
        """A blocked download shows the breaker's message."""
        obj = download("clip", phase="Blocked")
        obj["status"]["conditions"][0]["message"] = "site media.example: circuit open"
        assert rows.download_row(obj, at(1)).cells["reason"] == (
            "breaker: site media.example: circuit open"
        )

    def test_failed_shows_class_reason_and_message(self) -> None:
        """A failed download's reason is its failure's class, reason and message."""
        obj = download(
            "clip",
            phase="Failed",
            status={
                "attempts": 1,
                "lastFailure": {"class": "Permanent", "reason": "HTTPError404", "message": "gone"},
            },
        )
        row = rows.download_row(obj, at(1))
        assert row.cells["reason"] == "Permanent HTTPError404: gone"
        assert row.finished

    def test_suspended_and_unseen(self) -> None:
        """A suspended download says how to resume; one without status asks about the operator."""
        suspended = download("a", phase="Queued", spec={"suspend": True})
        assert "resume" in rows.download_row(suspended, at(1)).cells["reason"]
        unseen = download("b", phase=None)
        assert "operator" in rows.download_row(unseen, at(1)).cells["reason"]

    def test_succeeded_is_full(self) -> None:
        """A succeeded download is 100% and finished, its size the sum of its files."""
        obj = download(
            "clip",
            phase="Succeeded",
            status={
                "attempts": 1,
                "result": {"files": [{"path": "a.mp4", "sizeBytes": 2048, "sha256": "0" * 64}]},
            },
        )
        row = rows.download_row(obj, at(1))
        assert (row.percent, row.cells["size"], row.finished) == (100.0, "2.0KiB", True)

    def test_unreadable_object_still_gets_a_row(self) -> None:
        """An object the models refuse shows as Invalid with the problem."""
        obj = download("clip")
        obj["spec"]["priority"] = "Urgent"
        row = rows.download_row(obj, at(1))
        assert row.cells["phase"] == "Invalid"
        assert "priority" in row.cells["reason"]


class TestKinds:
    def test_every_word_names_the_downloads(self) -> None:
        """The plural, singular and short name all name VideoDownloads; others name nothing."""
        for word in ("videodownloads", "VideoDownload", "vdl", "downloads"):
            assert kinds.kind_named(word) is kinds.DOWNLOADS
        assert kinds.kind_named("widgets") is None

    def test_columns_are_cells_of_the_row(self) -> None:
        """Every column of a kind shows a cell its row function fills."""
        samples = {
            kinds.DOWNLOADS.kind: download("x"),
            kinds.PLAYLISTS.kind: playlist_obj(),
            kinds.SUBSCRIPTIONS.kind: subscription_obj(),
        }
        for kind in kinds.KINDS:
            row = kind.row(samples[kind.kind], at(1))
            assert {c.key for c in kind.columns} <= set(row.cells)


def playlist_obj() -> dict[str, object]:
    return {
        "apiVersion": "videodl.dev/v1alpha1",
        "kind": "VideoPlaylist",
        "metadata": {
            "name": "shows",
            "namespace": "media",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"url": "https://media.example/feed.rss", "template": {}},
        "status": {
            "phase": "Running",
            "entries": 25,
            "created": 20,
            "children": {"succeeded": 12, "failed": 1, "running": 7},
            "progress": {"done": 13, "total": 20, "text": "13/20", "percent": 65.0},
        },
    }


def test_a_playlist_row_shows_counts_and_progress_never_children() -> None:
    now = datetime.datetime(2026, 1, 1, 0, 5, tzinfo=datetime.UTC)
    row = rows.playlist_row(playlist_obj(), now)
    assert (row.cells["phase"], row.cells["progress"]) == ("Running", "13/20")
    assert (row.cells["succeeded"], row.cells["failed"], row.cells["entries"]) == ("12", "1", "25")
    assert row.percent == 65.0
    assert not row.finished
    assert kinds.kind_named("vpl") is kinds.PLAYLISTS
    assert kinds.kind_named("VideoPlaylists") is kinds.PLAYLISTS


def subscription_obj(**status: object) -> dict[str, Any]:
    return {
        "apiVersion": "videodl.dev/v1alpha1",
        "kind": "VideoSubscription",
        "metadata": {
            "name": "example-channel",
            "namespace": "media",
            "creationTimestamp": "2025-12-01T00:00:00Z",
        },
        "spec": {
            "url": "https://www.youtube.com/@example/videos",
            "schedule": "0 */6 * * *",
            "timeZone": "Europe/Berlin",
        },
        "status": {
            "phase": "Scheduled",
            "lastScheduleTime": "2025-12-31T23:00:00Z",
            "nextScheduleTime": "2026-01-01T05:00:00Z",
            "videos": {"known": 60, "downloads": 50, "downloaded": 49, "failed": 1, "pruned": 7},
            **status,
        },
    }


class TestSubscriptionRow:
    def test_a_scheduled_subscription_shows_its_slots_and_counts(self) -> None:
        """A row carries the schedule, both slots, the counts and the age; it never finishes."""
        row = rows.subscription_row(subscription_obj(), at(0))
        assert row.cells == {
            "schedule": "0 */6 * * *",
            "suspend": "false",
            "phase": "Scheduled",
            "last_schedule": "1h",
            "next_schedule": "in 5h",
            "downloaded": "49",
            "known": "60",
            "pruned": "7",
            "age": "31d",
            "reason": "",
        }
        assert (row.namespace, row.name, row.percent, row.finished) == (
            "media",
            "example-channel",
            None,
            False,
        )

    def test_a_failed_subscription_says_why(self) -> None:
        """A Failed subscription's reason is its Stalled condition's message; it is finished."""
        stalled = {
            "type": "Stalled",
            "status": "True",
            "reason": "InvalidSpec",
            "message": "spec.timeZone 'Europe/Nowhere' is not a time zone of the IANA database",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
        obj = subscription_obj(phase="Failed", conditions=[stalled])
        del obj["status"]["nextScheduleTime"]
        row = rows.subscription_row(obj, at(0))
        assert row.cells["reason"] == stalled["message"]
        assert row.cells["next_schedule"] == ""
        assert row.finished

    def test_a_new_or_suspended_subscription_has_empty_slots(self) -> None:
        """Without a status the slots are empty and the counts 0; suspend shows as true."""
        obj = subscription_obj()
        del obj["status"]
        obj["spec"]["suspend"] = True
        row = rows.subscription_row(obj, at(0))
        assert (row.cells["phase"], row.cells["suspend"]) == ("", "true")
        assert (row.cells["last_schedule"], row.cells["next_schedule"]) == ("", "")
        assert row.cells["downloaded"] == "0"

    def test_an_unreadable_subscription_still_gets_a_row(self) -> None:
        """A subscription the models refuse shows as Invalid with the problem."""
        obj = subscription_obj()
        obj["spec"]["schedule"] = "61 * * * *"
        row = rows.subscription_row(obj, at(0))
        assert row.cells["phase"] == "Invalid"
        assert "spec.schedule" in row.cells["reason"]

    def test_every_word_names_the_subscriptions(self) -> None:
        """The plural, singular and short name all name VideoSubscriptions."""
        for word in ("videosubscriptions", "VideoSubscription", "vsub", "subscriptions"):
            assert kinds.kind_named(word) is kinds.SUBSCRIPTIONS
