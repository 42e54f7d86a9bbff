"""Tests for videodl.reconcile.download.record: the compact in-memory form of a VideoDownload."""

from __future__ import annotations

import datetime

from tests.unit.reconcile.download.builders import T0, UID, download

from videodl.api.spec import DeletionPolicy, Priority
from videodl.api.status import Phase
from videodl.reconcile.download import record as records


class TestRecord:
    def test_summary_and_model(self) -> None:
        """The summary carries what admission reads; the model parses back to the object."""
        body = download(
            spec={"priority": "High", "suspend": True, "deletionPolicy": "Delete",
                  "ttlSecondsAfterFinished": 30},
            status={"phase": "BackingOff", "attempts": 2, "nextAttemptTime": "2026-01-01T00:01:00Z",
                    "conditions": [{"type": "Reconciling", "status": "True", "reason": "BackingOff",
                                    "lastTransitionTime": "2026-01-01T00:00:30Z"}]},
            finalizers=["videodl.dev/cleanup"],
        )  # fmt: skip
        record = records.record_of(body)
        assert record.problem is None
        assert (record.namespace, record.name, record.uid) == ("media", "clip", UID)
        assert record.created == T0
        assert record.priority == Priority.HIGH
        assert record.suspend
        assert record.deletion_policy == DeletionPolicy.DELETE
        assert record.ttl_seconds_after_finished == 30
        assert record.phase == Phase.BACKING_OFF
        assert record.attempts == 2
        assert record.next_attempt_time == T0 + datetime.timedelta(minutes=1)
        assert record.reconciling_since == T0 + datetime.timedelta(seconds=30)
        assert record.finalizers == ("videodl.dev/cleanup",)
        model = record.model
        assert model is not None
        assert model.spec.priority == Priority.HIGH
        assert model.status is not None
        assert model.status.attempts == 2

    def test_only_used_metadata_is_kept(self) -> None:
        """managedFields, labels and foreign annotations are not kept; the operator's are."""
        body = download(
            annotations={
                "videodl.dev/retry": "1",
                "kubectl.kubernetes.io/last-applied-configuration": "{...}",
            }
        )
        body["metadata"]["managedFields"] = [{"manager": "kubectl"}]
        body["metadata"]["labels"] = {"team": "a"}
        model = records.record_of(body).model
        assert model is not None
        assert model.metadata["annotations"] == {"videodl.dev/retry": "1"}
        assert "managedFields" not in model.metadata
        assert "labels" not in model.metadata

    def test_unreadable_object(self) -> None:
        """An object the models reject keeps its problem and its status."""
        body = download(spec={"url": "ftp://nope"}, status={"phase": "Queued"})
        record = records.record_of(body)
        assert record.problem is not None
        assert "spec.url" in record.problem
        assert record.model is None
        assert record.status.phase == Phase.QUEUED
