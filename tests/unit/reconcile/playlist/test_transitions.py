"""Tests for videodl.reconcile.playlist.transitions: the playlist's state machine."""

from __future__ import annotations

import datetime
import json
from typing import Any

from videodl.api.playlist import PlaylistPhase, VideoPlaylist
from videodl.api.status import Phase
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.playlist import naming, transitions
from videodl.reconcile.playlist.children import ChildView
from videodl.workerapi.index import Entry

NOW = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)
UID = "uid-1"


def playlist(status: dict[str, Any] | None = None, **spec: Any) -> VideoPlaylist:
    return VideoPlaylist.from_object(
        {
            "apiVersion": "videodl.dev/v1alpha1",
            "kind": "VideoPlaylist",
            "metadata": {"name": "shows", "namespace": "n", "uid": UID, "generation": 1},
            "spec": {"url": "http://media.example/feed.rss", **spec},
            "status": status or {},
        }
    )


def entries(count: int) -> tuple[Entry, ...]:
    return tuple(
        Entry(index=n, id=f"e{n}", url=f"http://media.example/{n}.mp4") for n in range(1, count + 1)
    )


def child(video_id: str, phase: Phase | None, *, suspend: bool = False) -> ChildView:
    return ChildView(
        namespace="n",
        name=naming.child_name("shows", video_id),
        uid=f"c-{video_id}",
        resource_version="1",
        owner_uid=UID,
        phase=phase,
        suspend=suspend,
        bytes=10,
    )


def pod(name: str, phase: str, *, exit_code: int = 0, message: str = "") -> PodView:
    state = {"terminated": {"exitCode": exit_code, "message": message}}
    return PodView.from_pod(
        {
            "metadata": {
                "name": name,
                "namespace": "n",
                "uid": "p",
                "resourceVersion": "1",
                "ownerReferences": [{"controller": True, "uid": UID, "name": "shows"}],
                "labels": {"app.kubernetes.io/component": "indexer"},
            },
            "status": {"phase": phase, "containerStatuses": [{"state": state}]},
        }
    )


def observe(model: VideoPlaylist, **fields: Any) -> transitions.Observation:
    values: dict[str, Any] = {
        "playlist": model,
        "uid": UID,
        "generation": 1,
        "annotations": {},
        "pods": (),
        "children": (),
        "entries": None,
        "found": None,
        "now": NOW,
        **fields,
    }
    return transitions.Observation(**values)


def indexed(**status: Any) -> dict[str, Any]:
    return {"phase": "Indexing", "indexRun": 1, "indexedRun": 1, "indexAttempts": 1, **status}


class TestIndexing:
    def test_new_playlist_is_pending_then_asks_the_gate(self) -> None:
        """A new playlist becomes Pending; then attempt 1 of enumeration 1 is to start."""
        first = transitions.decide(observe(playlist()))
        assert first.status is not None
        assert first.status.phase is PlaylistPhase.PENDING
        second = transitions.decide(observe(playlist(transitions.status_json(first.status))))
        assert second.start_index is not None
        assert (second.start_index.run, second.start_index.attempt) == (1, 1)
        assert len(second.start_index.chunks) == 10

    def test_recorded_pod_missing_is_created_again(self) -> None:
        """The write-ahead record names a Pod the view does not have: create that Pod."""
        model = playlist(
            {"phase": "Indexing", "indexRun": 1, "indexAttempts": 1, "indexerPod": "x"}
        )
        plan = transitions.decide(observe(model))
        assert plan.resume_index is not None
        assert plan.resume_index.attempt == 1

    def test_success_reads_the_chunks(self) -> None:
        """A succeeded indexer records the enumeration as done and asks for the chunks."""
        name = naming.indexer_pod_name("shows", UID, 1, 1)
        model = playlist(
            {"phase": "Indexing", "indexRun": 1, "indexAttempts": 1, "indexerPod": name}
        )
        plan = transitions.decide(observe(model, pods=(pod(name, "Succeeded"),)))
        assert plan.read_chunks
        assert plan.status is not None
        assert plan.status.indexed_run == 1
        assert plan.index_ended is not None

    def test_transient_failure_backs_off_permanent_fails(self) -> None:
        """A transient failure with attempts left backs off; a permanent one is Failed."""
        name = naming.indexer_pod_name("shows", UID, 1, 1)
        model = playlist(
            {"phase": "Indexing", "indexRun": 1, "indexAttempts": 1, "indexerPod": name}
        )
        for klass, phase in (
            ("Transient", PlaylistPhase.BACKING_OFF),
            ("Permanent", PlaylistPhase.FAILED),
        ):
            message = json.dumps({"class": klass, "reason": "HTTPError503", "message": "boom"})
            failed = pod(name, "Failed", exit_code=10, message=message)
            plan = transitions.decide(observe(model, pods=(failed,)))
            assert plan.status is not None
            assert plan.status.phase is phase
            assert plan.event is not None
        assert plan.status.conditions[2].type == "Stalled"
        assert plan.status.conditions[2].status == "True"


class TestChildren:
    def test_creates_at_most_max_items_in_batches(self) -> None:
        """25 entries, maxItems 20: 20 to create, Running, 25 found."""
        model = playlist(indexed(), maxItems=20)
        plan = transitions.decide(observe(model, entries=entries(25), found=25))
        assert [e.id for e in plan.create_children] == [f"e{n}" for n in range(1, 21)]
        assert plan.status is not None
        assert plan.status.phase is PlaylistPhase.RUNNING
        assert (plan.status.entries, plan.status.selected) == (25, 20)

    def test_dry_run_counts_and_creates_none(self) -> None:
        """A dry run selects as usual, creates no child and ends Succeeded (Ready)."""
        model = playlist(indexed(), maxItems=20, dryRun=True)
        plan = transitions.decide(observe(model, entries=entries(25), found=25))
        assert plan.create_children == ()
        assert plan.status is not None
        assert plan.status.phase is PlaylistPhase.SUCCEEDED
        assert (plan.status.entries, plan.status.selected, plan.status.created) == (25, 20, 0)
        assert plan.status.conditions[0].reason == "DryRun"
        assert plan.status.conditions[0].status == "True"

    def test_restart_creates_only_the_missing(self) -> None:
        """Children that exist are never created again."""
        model = playlist(indexed(), maxItems=5)
        existing = tuple(child(f"e{n}", None) for n in (1, 2, 4))
        plan = transitions.decide(observe(model, entries=entries(5), found=5, children=existing))
        assert [e.id for e in plan.create_children] == ["e3", "e5"]

    def test_all_finished(self) -> None:
        """Every child finished: Succeeded within maxFailed, Failed beyond it."""
        kids = (*(child(f"e{n}", Phase.SUCCEEDED) for n in (1, 2)), child("e3", Phase.FAILED))
        for max_failed, phase in ((1, PlaylistPhase.SUCCEEDED), (0, PlaylistPhase.FAILED)):
            model = playlist(indexed(), maxFailed=max_failed)
            plan = transitions.decide(observe(model, entries=entries(3), found=3, children=kids))
            assert plan.status is not None
            assert plan.status.phase is phase
            assert plan.status.progress_text == "3/3"
            assert plan.status.children is not None
            assert plan.status.children.failed == 1
            assert plan.status.bytes == 30

    def test_suspend_reaches_every_unfinished_child(self) -> None:
        """A suspended playlist suspends its running children and is Suspended (Ready)."""
        kids = (child("e1", Phase.RUNNING), child("e2", Phase.SUCCEEDED))
        model = playlist(indexed(), suspend=True)
        plan = transitions.decide(observe(model, entries=entries(2), found=2, children=kids))
        assert plan.suspend_children == (naming.child_name("shows", "e1"),)
        assert plan.suspend is True
        assert plan.status is not None
        assert plan.status.phase is PlaylistPhase.SUSPENDED
        assert plan.status.conditions[0].status == "True"

    def test_reindex_starts_a_new_enumeration(self) -> None:
        """A new reindex value starts enumeration 2; the children are left alone."""
        model = playlist(indexed(phase="Succeeded"))
        plan = transitions.decide(
            observe(
                model, entries=entries(1), found=1, annotations={naming.ANNOTATION_REINDEX: "a"}
            )
        )
        assert plan.start_index is not None
        assert (plan.start_index.run, plan.start_index.reindex) == (2, "a")
        assert not plan.create_children
