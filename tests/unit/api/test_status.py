"""The status models: JSON names, the `class` alias, times, condition lookup."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from hypothesis import given
from pydantic import ValidationError

from videodl.api import crd, structural
from videodl.api.status import (
    REASON_MAX_LENGTH,
    REASON_PATTERN,
    Condition,
    ConditionReason,
    ConditionStatus,
    ConditionType,
    Failure,
    FailureClass,
    Phase,
    VideoDownloadStatus,
)

from .strategies import statuses

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
STATUS_SCHEMA = crd.openapi_schema(explain=True)["properties"]["status"]


def dump(model: Any) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


class TestFailure:
    def test_class_is_the_json_name(self) -> None:
        """failure_class is written and read as `class`."""
        failure = Failure(failure_class=FailureClass.THROTTLED, reason="HTTPError429", time=NOW)
        assert dump(failure) == {
            "class": "Throttled",
            "reason": "HTTPError429",
            "message": "",
            "time": "2026-01-02T03:04:05Z",
        }
        assert Failure.model_validate(dump(failure)) == failure

    def test_reason_must_be_camel_case(self) -> None:
        """Reasons follow the Kubernetes condition reason format."""
        with pytest.raises(ValidationError, match="reason"):
            Failure(failure_class=FailureClass.PERMANENT, reason="not a reason")


class TestTimes:
    def test_naive_times_are_rejected(self) -> None:
        """Times must carry a time zone so they serialize as RFC 3339."""
        with pytest.raises(ValidationError, match="timezone"):
            Condition(
                type="Ready",
                status=ConditionStatus.TRUE,
                reason="Succeeded",
                last_transition_time=datetime.datetime(2026, 1, 1),
            )

    def test_utc_times_serialize_with_z(self) -> None:
        """UTC times are written the way Kubernetes writes them."""
        status = VideoDownloadStatus(start_time=NOW)
        assert dump(status) == {"startTime": "2026-01-02T03:04:05Z", "conditions": []}


class TestConditions:
    def test_condition_lookup_by_type(self) -> None:
        """condition() finds an entry by type and returns None when absent."""
        ready = Condition(
            type=ConditionType.READY,
            status=ConditionStatus.FALSE,
            reason="Downloading",
            last_transition_time=NOW,
            observed_generation=2,
        )
        status = VideoDownloadStatus(conditions=[ready])
        assert status.condition("Ready") == ready
        assert status.condition(ConditionType.STALLED) is None

    def test_empty_status_has_no_observed_generation(self) -> None:
        """A fresh status leaves observedGeneration unset until the operator observes."""
        assert "observedGeneration" not in dump(VideoDownloadStatus())


class TestPhase:
    def test_only_succeeded_and_failed_are_finished(self) -> None:
        """finished is true exactly for the terminal phases."""
        assert {p for p in Phase if p.finished} == {Phase.SUCCEEDED, Phase.FAILED}


class TestRoundTrip:
    @given(statuses)
    def test_dump_and_parse_round_trips(self, raw: dict[str, Any]) -> None:
        """Parsing a status's JSON dump gives the same status."""
        parsed = VideoDownloadStatus.model_validate(raw)
        assert VideoDownloadStatus.model_validate(dump(parsed)) == parsed

    @given(statuses)
    def test_every_valid_status_fits_the_crd_schema(self, raw: dict[str, Any]) -> None:
        """What the operator can write, the status schema accepts."""
        dumped = dump(VideoDownloadStatus.model_validate(raw))
        assert structural.value_violations(dumped, STATUS_SCHEMA, "status") == []

    def test_unknown_status_fields_are_ignored(self) -> None:
        """A status written by a newer operator still parses."""
        parsed = VideoDownloadStatus.model_validate({"phase": "Running", "newField": 1})
        assert parsed.phase is Phase.RUNNING


class TestConditionDeclarations:
    def test_types_are_the_three_kstatus_conditions(self) -> None:
        """The owned condition types are Ready, Reconciling and Stalled, in that order."""
        assert [t.value for t in ConditionType] == ["Ready", "Reconciling", "Stalled"]

    @pytest.mark.parametrize("reason", list(ConditionReason))
    def test_reasons_are_valid_condition_reasons(self, reason: ConditionReason) -> None:
        """Every declared reason passes metav1.Condition's reason validation."""
        assert re.fullmatch(REASON_PATTERN, reason.value)
        assert len(reason.value) <= REASON_MAX_LENGTH

    def test_reasons_are_declared_once(self) -> None:
        """No two reasons share a value."""
        assert len({r.value for r in ConditionReason}) == len(ConditionReason)
