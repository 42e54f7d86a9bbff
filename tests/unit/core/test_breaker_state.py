"""Tests for videodl.core.breaker_state: the stored state and its ConfigMap encoding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from videodl.core import breaker
from videodl.core.breaker_config import BreakerConfig
from videodl.core.breaker_state import BreakerStateError, SiteState, State

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class TestEncoding:
    def test_configmap_value_is_readable_camelcase_json(self) -> None:
        """The stored value is indented JSON with the documented camelCase keys."""
        now = T0 + timedelta(seconds=60)
        state = SiteState(state=State.OPEN, opened_at=T0, open_until=now, trip_count=1)
        _, state = breaker.admit(state, now=now, probe_id="ns/video/1", config=BreakerConfig())
        value = state.to_configmap_value()
        data = json.loads(value)
        assert set(data) == {
            "state",
            "consecutiveFailures",
            "window",
            "openedAt",
            "openUntil",
            "forced",
            "tripCount",
            "lastReason",
            "lastFailure",
            "probes",
            "successesInHalfOpen",
            "lastTransitionTime",
        }
        assert data["state"] == "HALF_OPEN"
        assert data["openUntil"] == "2026-01-01T00:01:00Z"
        assert data["probes"] == [
            {
                "id": "ns/video/1",
                "admittedAt": "2026-01-01T00:01:00Z",
                "expiresAt": "2026-01-01T00:16:00Z",
            }
        ]
        assert "\n  " in value

    def test_times_are_stored_in_utc_whole_seconds(self) -> None:
        """Times given in another zone or with microseconds are stored as UTC seconds."""
        tz = timezone(timedelta(hours=2))
        state = SiteState(opened_at=datetime(2026, 1, 1, 2, 0, 0, 999_999, tzinfo=tz))
        assert json.loads(state.to_configmap_value())["openedAt"] == "2026-01-01T00:00:00Z"

    def test_hand_written_minimal_values(self) -> None:
        """Minimal hand-written values decode: {} is closed, OPEN alone is open until reset."""
        assert SiteState.from_configmap_value("{}") == SiteState()
        state = SiteState.from_configmap_value('{"state": "OPEN", "futureField": 1}')
        decision, _ = breaker.admit(state, now=T0, probe_id="a", config=BreakerConfig())
        assert (decision.admitted, decision.until) == (False, None)

    @pytest.mark.parametrize(
        ("value", "fragment"),
        [
            ("not json", "(value)"),
            ('{"state": "SHUT"}', "state: Input should be 'CLOSED', 'OPEN' or 'HALF_OPEN'"),
            ('{"window": "SXF"}', "window"),
            ('{"tripCount": -1}', "tripCount"),
            ('{"openUntil": "2026-01-01T00:00:00"}', "openUntil"),
        ],
    )
    def test_bad_values_name_the_field(self, value: str, fragment: str) -> None:
        """An invalid stored value is reported with the field and how to recover."""
        with pytest.raises(BreakerStateError) as info:
            SiteState.from_configmap_value(value)
        assert fragment in str(info.value)
        assert "delete the key" in str(info.value)
