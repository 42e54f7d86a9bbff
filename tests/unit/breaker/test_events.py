"""Events about breaker transitions and refused commands, attached to the ConfigMap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from videodl.breaker import events
from videodl.core import breaker, breaker_state

REF = events.ConfigMapRef(namespace="videodl-system", name="videodl-breaker", uid="u-1")
AT = datetime(2030, 5, 1, 12, 0, 0, tzinfo=UTC)


def _transition(reason: breaker.TransitionReason, to: breaker_state.State) -> breaker.Transition:
    return breaker.Transition(breaker_state.State.CLOSED, to, reason, "why it happened", AT)


class TestTransitionEvent:
    @pytest.mark.parametrize(
        ("reason", "to", "kind"),
        [
            (breaker.TransitionReason.TRIPPED, breaker_state.State.OPEN, "Warning"),
            (breaker.TransitionReason.PROBE_FAILED, breaker_state.State.OPEN, "Warning"),
            (breaker.TransitionReason.FORCED_OPEN, breaker_state.State.OPEN, "Warning"),
            (breaker.TransitionReason.PROBING, breaker_state.State.HALF_OPEN, "Normal"),
            (breaker.TransitionReason.RECOVERED, breaker_state.State.CLOSED, "Normal"),
            (breaker.TransitionReason.RESET, breaker_state.State.CLOSED, "Normal"),
        ],
    )
    def test_type_and_reason(
        self, reason: breaker.TransitionReason, to: breaker_state.State, kind: str
    ) -> None:
        """Openings are warnings, the rest normal; the reason is the transition's."""
        event = events.transition_event(
            REF, site="Youtube", transition=_transition(reason, to), instance="op-1", suffix="ab"
        )
        assert (event["type"], event["reason"]) == (kind, reason.value)

    def test_points_at_the_configmap_and_names_the_site(self) -> None:
        """The Event is about the ConfigMap and its message starts with the site."""
        event = events.transition_event(
            REF,
            site="Youtube",
            transition=_transition(breaker.TransitionReason.TRIPPED, breaker_state.State.OPEN),
            instance="op-1",
            suffix="ab",
        )
        assert event["involvedObject"] == {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "namespace": "videodl-system",
            "name": "videodl-breaker",
            "uid": "u-1",
        }
        assert event["metadata"] == {"name": "videodl-breaker.ab", "namespace": "videodl-system"}
        assert event["message"] == "site Youtube: CLOSED -> OPEN: why it happened"
        assert event["firstTimestamp"] == "2030-05-01T12:00:00Z"
        assert event["reportingInstance"] == "op-1"


class TestCommandErrorEvent:
    def test_warning_with_the_error(self) -> None:
        """A refused command is a Warning named InvalidCommand carrying the error text."""
        event = events.command_error_event(
            REF, error="x" * 2000, now=AT, instance="op-1", suffix="cd"
        )
        assert (event["type"], event["reason"]) == ("Warning", "InvalidCommand")
        assert len(event["message"]) == 1024
