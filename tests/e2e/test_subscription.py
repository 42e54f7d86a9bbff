"""VideoSubscriptions end to end: the real control plane, the process node, real indexers and
real workers (yt-dlp, ffmpeg) against a media-server channel that grows while the test runs,
the operator as a child process that the tests kill and restart.

The media server's ``/channel/<name>.rss`` is a podcast feed, newest episode first, whose
episode ``n`` has the id ``<name>-<n>`` and the upload date 2024-01-01 plus ``n - 1`` days;
:meth:`MediaServer.set_channel` sets how many episodes it has. Schedules are ``@every``
intervals of a few seconds, counted from the subscription's creation: real time, no test
clock.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from tests.e2e.operatorbed import CLAIM, Bed, Json
from tests.e2e.test_operator import bed, installed, media
from tests.e2e.test_playlist import pbed, playlist_crd

from videodl.api import playlist as playlist_api
from videodl.api import resource
from videodl.api import subscription as subscription_api
from videodl.core.times import parse_time
from videodl.reconcile.download import naming as download_naming
from videodl.reconcile.playlist import naming as playlist_naming
from videodl.reconcile.subscription import ledger, naming
from videodl_devkit.mediaserver import MediaServer

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

__all__ = ["bed", "installed", "media", "pbed", "playlist_crd"]


def channel(media: MediaServer, episodes: int) -> tuple[str, str]:
    """A new channel of ``episodes`` episodes: its name and feed URL."""
    name = f"ch{uuid.uuid4().hex[:6]}"
    media.set_channel(name, episodes)
    return name, media.url(f"/channel/{name}.rss")


def subscribe(b: Bed, name: str, spec: Json) -> None:
    template = {
        "output": {"persistentVolumeClaim": {"claimName": CLAIM}},
        **spec.pop("template", {}),
    }
    b.apply(
        {
            "apiVersion": resource.API_VERSION,
            "kind": subscription_api.KIND,
            "metadata": {"name": name},
            "spec": {"template": template, **spec},
        }
    )


def get_sub(b: Bed, name: str) -> Json:
    found: Json = b.objects.get_namespaced_custom_object(
        resource.GROUP, resource.VERSION, b.namespace, subscription_api.PLURAL, name
    )
    return found


def status(b: Bed, name: str) -> Json:
    found: Json = get_sub(b, name).get("status") or {}
    return found


def owned(b: Bed, plural: str, name: str) -> list[Json]:
    found = b.objects.list_namespaced_custom_object(
        resource.GROUP,
        resource.VERSION,
        b.namespace,
        plural,
        label_selector=f"{naming.LABEL_SUBSCRIPTION}={name}",
    )
    items: list[Json] = found["items"]
    return items


def downloads(b: Bed, name: str) -> dict[str, Json]:
    """The subscription's downloads by video id."""
    return {
        d["metadata"]["annotations"][playlist_naming.ANNOTATION_VIDEO_ID]: d
        for d in owned(b, resource.PLURAL, name)
    }


def scan_slots(b: Bed, name: str) -> list[float]:
    """Slots (Unix seconds) of the subscription's scans that exist, in order."""
    return sorted(
        parse_time(s["metadata"]["annotations"][naming.ANNOTATION_SLOT]).timestamp()
        for s in owned(b, playlist_api.PLURAL, name)
    )


def taken_scans(b: Bed, name: str, more_than: int) -> Json | None:
    """The status once more than ``more_than`` scans were started and the last one taken."""
    current = status(b, name)
    started = current.get("scans", 0)
    if started > more_than and current.get("appliedScanTime") == current.get("lastScheduleTime"):
        return current
    return None


def wait_taken(b: Bed, name: str, after: int = 0, timeout: float = 120.0) -> Json:
    result: Json = b.wait(
        f"{name} to take scan {after + 1}", lambda: taken_scans(b, name, after), timeout
    )
    return result


def wait_succeeded(b: Bed, name: str, ids: set[str], timeout: float = 180.0) -> dict[str, Json]:
    def done() -> dict[str, Json] | None:
        found = downloads(b, name)
        phases = {i: (found[i].get("status") or {}).get("phase") for i in ids if i in found}
        return found if set(phases) == ids and set(phases.values()) == {"Succeeded"} else None

    result: dict[str, Json] = b.wait(f"{sorted(ids)} of {name} to succeed", done, timeout)
    return result


def ledger_ids(b: Bed, name: str) -> set[str]:
    uid = get_sub(b, name)["metadata"]["uid"]
    found = b.core.read_namespaced_config_map(naming.ledger_name(name, uid), b.namespace)
    return set(ledger.decode(found.binary_data).ids)


def events(b: Bed, name: str) -> list[str]:
    return b.event_reasons(name)


class TestNewVideos:
    def test_none_takes_no_backlog_then_each_new_video_once_across_a_kill(
        self, pbed: Bed, media: MediaServer
    ) -> None:
        """The first scan records 3 existing videos; the 4th, added while the operator is
        SIGKILLed, is downloaded once after the restart, and never again."""
        operator = pbed.start_operator()
        chan, url = channel(media, 3)
        subscribe(pbed, "follow", {"url": url, "schedule": "@every 4s"})
        first = wait_taken(pbed, "follow")
        assert first["videos"]["known"] == 3
        assert first["videos"]["downloads"] == 0
        assert first["phase"] == "Scheduled"
        assert downloads(pbed, "follow") == {}
        assert ledger_ids(pbed, "follow") == {f"{chan}-{n}" for n in (1, 2, 3)}
        assert "BacklogSkipped" in events(pbed, "follow")

        operator.kill()
        media.set_channel(chan, 4)
        time.sleep(6)  # more than a slot passes with nobody watching
        pbed.start_operator()
        new = f"{chan}-4"
        found = wait_succeeded(pbed, "follow", {new})
        assert set(found) == {new}
        download = found[new]
        owner = download["metadata"]["ownerReferences"][0]
        assert owner["kind"] == subscription_api.KIND
        assert owner["controller"] is True
        assert download["metadata"]["name"] == naming.download_name("follow", new)
        assert download["metadata"]["annotations"][naming.ANNOTATION_UPLOAD_DATE] == "20240104"
        assert (pbed.claim_dir() / download["status"]["result"]["files"][0]["path"]).is_file()

        # Two more scans see the same feed: nothing new, no second download or attempt.
        done = status(pbed, "follow")["scans"]
        settled = wait_taken(pbed, "follow", after=done + 1)
        assert set(downloads(pbed, "follow")) == {new}
        assert len(pbed.worker_pods(download["metadata"]["name"])) == 1
        assert settled["videos"] == {
            "known": 4,
            "downloads": 1,
            "downloaded": 1,
            "failed": 0,
            "pruned": 0,
        }
        assert events(pbed, "follow").count("NewVideos") == 1
        # History: the default keeps 3 successful scans.
        assert len(owned(pbed, playlist_api.PLURAL, "follow")) <= 4

    def test_a_backlog_count_takes_the_newest_and_date_after_limits_it(
        self, pbed: Bed, media: MediaServer
    ) -> None:
        pbed.start_operator()
        chan, url = channel(media, 5)
        subscribe(pbed, "three", {"url": url, "schedule": "@every 4s", "initialBacklog": 3})
        subscribe(
            pbed,
            "dated",
            {
                "url": url,
                "schedule": "@every 4s",
                "initialBacklog": 3,
                "dateAfter": "20240104",
            },
        )
        newest = {f"{chan}-{n}" for n in (5, 4, 3)}
        assert set(wait_succeeded(pbed, "three", newest)) == newest
        dated = {f"{chan}-{n}" for n in (5, 4)}
        assert set(wait_succeeded(pbed, "dated", dated)) == dated
        wait_taken(pbed, "dated", after=status(pbed, "dated")["scans"])
        assert set(downloads(pbed, "three")) == newest
        assert set(downloads(pbed, "dated")) == dated
        assert status(pbed, "three")["videos"]["known"] == 5


class TestRetention:
    def test_keep_last_two_with_a_pinned_one_and_no_refetch(
        self, pbed: Bed, media: MediaServer
    ) -> None:
        operator = pbed.start_operator()
        chan, url = channel(media, 4)
        subscribe(pbed, "keep", {"url": url, "schedule": "@every 4s", "initialBacklog": "All"})
        ids = {f"{chan}-{n}" for n in range(1, 5)}
        found = wait_succeeded(pbed, "keep", ids)
        pinned = found[f"{chan}-1"]["metadata"]["name"]
        pbed.cluster.kubectl(
            "-n", pbed.namespace, "label", "videodownload", pinned, "videodl.dev/pinned=true"
        )
        pbed.objects.patch_namespaced_custom_object(
            resource.GROUP,
            resource.VERSION,
            pbed.namespace,
            subscription_api.PLURAL,
            "keep",
            {"spec": {"retention": {"keepLast": 2}}},
        )
        kept = {f"{chan}-{n}" for n in (1, 3, 4)}
        pbed.wait("the oldest unpinned one to go", lambda: set(downloads(pbed, "keep")) == kept)
        pbed.wait("the prune counted", lambda: status(pbed, "keep")["videos"]["pruned"] == 1)
        # Later scans do not fetch the pruned video again.
        wait_taken(pbed, "keep", after=status(pbed, "keep")["scans"] + 1)
        assert set(downloads(pbed, "keep")) == kept

        media.set_channel(chan, 5)
        kept = {f"{chan}-{n}" for n in (1, 4, 5)}
        pbed.wait("the new one in, the oldest out", lambda: set(downloads(pbed, "keep")) == kept)
        wait_succeeded(pbed, "keep", kept)
        final = pbed.wait("2 pruned", lambda: status(pbed, "keep")["videos"]["pruned"] == 2)
        assert final
        assert "videodl_subscription_pruned_total 2.0" in operator.scrape()
        assert events(pbed, "keep").count("Pruned") == 2


class TestSchedule:
    def test_downtime_runs_one_late_slot_and_a_deadline_skips_one(
        self, pbed: Bed, media: MediaServer
    ) -> None:
        """Down across many slots: one scan on restart with TooManyMissedTimes; a slot later
        than startingDeadlineSeconds is skipped with MissSchedule."""
        operator = pbed.start_operator("--missed-slots-warning=3")
        _, url = channel(media, 2)
        subscribe(
            pbed,
            "often",
            {"url": url, "schedule": "@every 2s", "successfulScansHistoryLimit": 50},
        )
        wait_taken(pbed, "often")
        operator.kill()
        killed = time.time()
        subscribe(
            pbed,
            "strict",
            {"url": url, "schedule": "@every 20s", "startingDeadlineSeconds": 3},
        )
        created = parse_time(get_sub(pbed, "strict")["metadata"]["creationTimestamp"])
        first_slot = created.timestamp() + 20
        time.sleep(max(first_slot + 7 - time.time(), 12))
        restarted = time.time()
        pbed.start_operator("--missed-slots-warning=3")

        pbed.wait("TooManyMissedTimes", lambda: "TooManyMissedTimes" in events(pbed, "often"))
        wait_taken(pbed, "often", after=status(pbed, "often")["scans"])
        # No scan for the slots missed while the operator was down: the first scan after
        # the kill is of the latest slot when the restarted operator looked (or later).
        slots = scan_slots(pbed, "often")
        after_kill = [s for s in slots if s > killed]
        assert after_kill, slots
        assert after_kill[0] > restarted - 2.5, (killed, restarted, slots)
        assert events(pbed, "often").count("TooManyMissedTimes") == 1

        pbed.wait("MissSchedule", lambda: "MissSchedule" in events(pbed, "strict"))
        assert scan_slots(pbed, "strict") == []
        skipped = parse_time(status(pbed, "strict")["lastSkippedTime"]).timestamp()
        assert skipped == pytest.approx(first_slot, abs=0.01)
        # The next slot is on time and runs.
        wait_taken(pbed, "strict", timeout=60)
        assert scan_slots(pbed, "strict") == [pytest.approx(first_slot + 20, abs=0.01)]

    def test_forbid_skips_slots_while_a_throttled_scan_waits_for_the_breaker(
        self, pbed: Bed, media: MediaServer
    ) -> None:
        """429s trip the site's breaker: the scan is Blocked with no new indexer Pod, and
        each slot meanwhile is skipped with ScanAlreadyActive."""
        host = "127.0.0.1"
        pbed.start_operator(
            "--breaker-failure-threshold=1", "--breaker-open-seconds=300", "--backoff-jitter=0"
        )
        media.set_host_mode(host, 429)
        try:
            _, url = channel(media, 2)
            subscribe(
                pbed,
                "throttled",
                {
                    "url": url,
                    "schedule": "@every 3s",
                    "template": {"retry": {"backoff": {"initialSeconds": 1}}},
                },
            )

            def blocked() -> Json | None:
                scans = owned(pbed, playlist_api.PLURAL, "throttled")
                found = [s for s in scans if (s.get("status") or {}).get("phase") == "Blocked"]
                return found[0] if found else None

            scan = pbed.wait("the scan to be Blocked by the breaker", blocked, 120)
            reasons = {c["reason"] for c in scan["status"]["conditions"]}
            assert "CircuitOpen" in reasons
            pods_before = indexer_pods(pbed, scan["metadata"]["name"])
            skipped_before = events(pbed, "throttled").count("ScanAlreadyActive")
            time.sleep(7)
            assert indexer_pods(pbed, scan["metadata"]["name"]) == pods_before
            assert len(owned(pbed, playlist_api.PLURAL, "throttled")) == 1
            assert events(pbed, "throttled").count("ScanAlreadyActive") >= skipped_before + 2
            current = status(pbed, "throttled")
            assert current["phase"] == "Scanning"
            assert current["active"] == scan["metadata"]["name"]
        finally:
            media.set_host_mode(host, None)


def indexer_pods(b: Bed, scan: str) -> list[str]:
    selector = (
        f"{playlist_naming.LABEL_PLAYLIST}={scan},"
        f"{download_naming.LABEL_COMPONENT}={playlist_naming.COMPONENT_INDEXER}"
    )
    pods = b.core.list_namespaced_pod(b.namespace, label_selector=selector)
    return sorted(p.metadata.name for p in pods.items)


def apply_error(cluster: ClusterHandle, namespace: str, spec: Json) -> str:
    manifest = {
        "apiVersion": resource.API_VERSION,
        "kind": subscription_api.KIND,
        "metadata": {"name": f"bad-{uuid.uuid4().hex[:6]}"},
        "spec": {"url": "http://127.0.0.1/channel/x.rss", "schedule": "@hourly", **spec},
    }
    done = cluster.kubectl(
        "-n", namespace, "apply", "-f", "-", input=json.dumps(manifest), check=False
    )
    assert done.returncode != 0, done.stdout
    return done.stderr


class TestBadInput:
    @pytest.mark.parametrize(
        ("spec", "words"),
        [
            ({"schedule": "61 * * *"}, "spec.schedule must be five cron fields"),
            ({"schedule": "@often"}, "spec.schedule must be five cron fields"),
            ({"schedule": "CRON_TZ=UTC 0 * * * *"}, "the zone goes in spec.timeZone"),
            ({"timeZone": "Not a zone!"}, "spec.timeZone must be an IANA time zone name"),
            ({"retention": {"keepLast": -1}}, "spec.retention.keepLast"),
            ({"retention": {"deleteOlderThan": "-5d"}}, "spec.retention.deleteOlderThan"),
            ({"startingDeadlineSeconds": -1}, "spec.startingDeadlineSeconds"),
            ({"initialBacklog": "Some"}, "spec.initialBacklog must be None"),
            ({"initialBacklog": -2}, "spec.initialBacklog must be None"),
            ({"concurrencyPolicy": "Allow"}, "spec.concurrencyPolicy"),
        ],
        ids=lambda value: json.dumps(value) if isinstance(value, dict) else "",
    )
    def test_the_apiserver_rejects_it_naming_the_field(
        self, cluster: ClusterHandle, namespace: str, installed: None, spec: Json, words: str
    ) -> None:
        message = apply_error(cluster, namespace, spec)
        assert words in message, message

    @pytest.mark.parametrize(
        ("spec", "field"),
        [
            ({"schedule": "61 * * * *"}, "spec.schedule"),
            ({"timeZone": "Mars/Olympus"}, "spec.timeZone"),
        ],
    )
    def test_what_only_the_operator_can_tell_is_stalled_at_once(
        self, pbed: Bed, media: MediaServer, spec: Json, field: str
    ) -> None:
        pbed.start_operator()
        subscribe(
            pbed, "odd", {"url": media.url("/channel/odd.rss"), "schedule": "@hourly", **spec}
        )

        def stalled() -> Json | None:
            found = status(pbed, "odd")
            conditions = {c["type"]: c for c in found.get("conditions", [])}
            return found if conditions.get("Stalled", {}).get("status") == "True" else None

        found = pbed.wait("the subscription to be Stalled", stalled, 60)
        assert found["phase"] == "Failed"
        message = next(c["message"] for c in found["conditions"] if c["type"] == "Stalled")
        assert field in message, message
        pbed.wait("the InvalidSpec Event", lambda: "InvalidSpec" in events(pbed, "odd"), 30)
        assert owned(pbed, playlist_api.PLURAL, "odd") == []
