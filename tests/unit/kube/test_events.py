"""Tests for videodl.kube.events: the one builder of core/v1 Event objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from videodl.kube import events

AT = datetime(2030, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
DOWNLOAD = events.InvolvedObject(
    api_version="videodl.dev/v1alpha1",
    kind="VideoDownload",
    namespace="videos",
    name="talk",
    uid="u-1",
    resource_version="42",
)


def _event(involved: events.InvolvedObject = DOWNLOAD, message: str = "why") -> dict[str, object]:
    return events.event_object(
        involved,
        type_="Warning",
        reason="Blocked",
        message=message,
        now=AT,
        instance="op-1",
        suffix="ab12",
    )


class TestEventObject:
    def test_names_the_involved_object(self) -> None:
        """involvedObject carries kind, name, namespace, uid and resourceVersion as given."""
        event = _event()
        assert event["involvedObject"] == {
            "apiVersion": "videodl.dev/v1alpha1",
            "kind": "VideoDownload",
            "namespace": "videos",
            "name": "talk",
            "uid": "u-1",
            "resourceVersion": "42",
        }
        assert event["metadata"] == {"name": "talk.ab12", "namespace": "videos"}

    def test_unknown_uid_and_version_are_left_out(self) -> None:
        """An object not read yet is referred to by kind, namespace and name only."""
        configmap = events.InvolvedObject(
            api_version="v1", kind="ConfigMap", namespace="ops", name="videodl-breaker"
        )
        assert _event(configmap)["involvedObject"] == {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "namespace": "ops",
            "name": "videodl-breaker",
        }

    def test_reports_the_operator_and_the_moment(self) -> None:
        """Source, reporting component and instance name the operator; times are UTC seconds."""
        local = AT.astimezone(timezone(timedelta(hours=2)))
        event = events.event_object(
            DOWNLOAD,
            type_="Normal",
            reason="Started",
            message="m",
            now=local,
            instance="op-1",
            suffix="x",
        )
        assert event["source"] == {"component": "videodl-operator"}
        assert event["reportingComponent"] == "videodl.dev/videodl-operator"
        assert event["reportingInstance"] == "op-1"
        assert event["firstTimestamp"] == event["lastTimestamp"] == "2030-05-01T12:00:00Z"
        assert (event["type"], event["reason"], event["action"]) == ("Normal", "Started", "Started")
        assert event["count"] == 1

    def test_long_messages_are_cut(self) -> None:
        """The message is cut to the 1024 characters the apiserver accepts."""
        assert len(str(_event(message="x" * 5000)["message"])) == 1024
