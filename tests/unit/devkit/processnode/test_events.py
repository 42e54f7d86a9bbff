"""Tests for Event bodies."""

from __future__ import annotations

import datetime

from videodl_devkit.processnode import events

from . import podfixtures


class TestEvent:
    def test_pod_event(self) -> None:
        """An Event names the Pod, the reason and the node as its source."""
        now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        body = events.event(
            podfixtures.pod(),
            kind="Pod",
            reason="Started",
            message="Started container main",
            node="n1",
            now=now,
        )
        assert body["metadata"] == {"generateName": "p.", "namespace": "ns"}
        assert body["involvedObject"]["uid"] == "u-1"
        assert (body["reason"], body["type"]) == ("Started", "Normal")
        assert body["source"] == {"component": "kubelet", "host": "n1"}
        assert body["firstTimestamp"] == "2026-01-01T00:00:00Z"

    def test_warning_and_long_message(self) -> None:
        """Warnings are typed as such and messages are cut to 1 KiB."""
        now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        body = events.event(
            podfixtures.pod(),
            kind="Pod",
            reason="Failed",
            message="x" * 5000,
            node="n1",
            now=now,
            warning=True,
        )
        assert body["type"] == "Warning"
        assert len(body["message"]) == 1024
