"""Administrator commands given as annotations on the breaker ConfigMap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from videodl.breaker import admin
from videodl.core import breaker, breaker_config, breaker_state

NOW = datetime(2030, 5, 1, 12, 0, 0, tzinfo=UTC)
CONFIG = breaker_config.BreakerConfig(failure_threshold=2)


def _open_state() -> str:
    state = breaker_state.SiteState()
    for _ in range(2):
        state, _ = breaker.record(
            state,
            breaker.Outcome.THROTTLED,
            now=NOW,
            probe_id=None,
            rng=__import__("random").Random(0),
            config=CONFIG,
        )
    assert state.state is breaker_state.State.OPEN
    return state.to_configmap_value()


class TestParseReset:
    @pytest.mark.parametrize("value", ["all", "ALL", " all ", "Youtube,all"])
    def test_all(self, value: str) -> None:
        """``all`` (in any case, anywhere in the list) means every site."""
        assert admin.parse_reset(value) == admin.Reset(sites=None)

    def test_list_of_sites(self) -> None:
        """Comma-separated keys, duplicates dropped, order kept."""
        got = admin.parse_reset("Youtube, 127.0.0.1_8080,Youtube")
        assert got == admin.Reset(sites=("Youtube", "127.0.0.1_8080"))

    @pytest.mark.parametrize(
        ("value", "needle"), [("", "give a site key"), ("bad site", "not a valid ConfigMap key")]
    )
    def test_errors_say_how(self, value: str, needle: str) -> None:
        """Bad values name the annotation and the rule."""
        with pytest.raises(admin.CommandError, match=needle) as info:
            admin.parse_reset(value)
        assert "videodl.dev/reset" in str(info.value)


class TestParseForceOpen:
    def test_site_only_opens_until_reset(self) -> None:
        """Without ``until`` the site stays open until reset."""
        assert admin.parse_force_open("Youtube") == admin.ForceOpen("Youtube", None)

    def test_until(self) -> None:
        """``until`` takes an RFC 3339 time with Z or an offset."""
        got = admin.parse_force_open("Vimeo,until=2030-05-01T13:00:00Z")
        assert got == admin.ForceOpen("Vimeo", datetime(2030, 5, 1, 13, tzinfo=UTC))
        got = admin.parse_force_open("Vimeo, until=2030-05-01T15:00:00+02:00")
        assert got.until == datetime(2030, 5, 1, 13, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("value", "needle"),
        [
            ("Vimeo,until=2030-05-01T13:00:00", "with a zone"),
            ("Vimeo,until=tomorrow", "not an RFC 3339 time"),
            ("Vimeo,for=5m", "unknown option"),
            (",until=2030-05-01T13:00:00Z", "not a valid ConfigMap key"),
        ],
    )
    def test_errors_say_how(self, value: str, needle: str) -> None:
        """Bad values name the annotation and show a correct example."""
        with pytest.raises(admin.CommandError, match=needle) as info:
            admin.parse_force_open(value)
        assert "videodl.dev/force-open=" in str(info.value)


class TestApply:
    def test_no_command_means_nothing_to_do(self) -> None:
        """Without command annotations nothing is applied."""
        assert admin.apply({"a": _open_state()}, {"other": "x"}, now=NOW) is None

    def test_reset_all_closes_every_site(self) -> None:
        """``reset=all`` closes every site in the ConfigMap and consumes the annotation."""
        data = {"a": _open_state(), "b": breaker_state.SiteState().to_configmap_value()}
        applied = admin.apply(data, {admin.ANNOTATION_RESET: "all"}, now=NOW)
        assert applied is not None
        assert set(applied.data) == {"a", "b"}
        states = {
            k: breaker_state.SiteState.from_configmap_value(v) for k, v in applied.data.items()
        }
        assert all(
            s.state is breaker_state.State.CLOSED and s.trip_count == 0 for s in states.values()
        )
        assert [(site, t.reason) for site, t in applied.transitions] == [
            ("a", breaker.TransitionReason.RESET),
            ("b", breaker.TransitionReason.RESET),
        ]
        assert applied.consumed == (admin.ANNOTATION_RESET,)
        assert applied.acknowledgement == "2030-05-01T12:00:00Z reset=all: closed 2 site(s)"

    def test_reset_one_site_leaves_others(self) -> None:
        """Resetting one site touches only that key."""
        data = {"a": _open_state(), "b": _open_state()}
        applied = admin.apply(data, {admin.ANNOTATION_RESET: "b"}, now=NOW)
        assert applied is not None
        assert set(applied.data) == {"b"}

    def test_force_open_until(self) -> None:
        """``force-open`` opens a site (known or not) until the given time."""
        until = NOW + timedelta(hours=1)
        applied = admin.apply(
            {}, {admin.ANNOTATION_FORCE_OPEN: "Youtube,until=2030-05-01T13:00:00Z"}, now=NOW
        )
        assert applied is not None
        state = breaker_state.SiteState.from_configmap_value(applied.data["Youtube"])
        assert (state.state, state.forced, state.open_until) == (
            breaker_state.State.OPEN,
            True,
            until,
        )
        assert applied.transitions[0][1].reason is breaker.TransitionReason.FORCED_OPEN
        assert "Youtube open until 2030-05-01T13:00:00Z" in applied.acknowledgement

    def test_until_in_the_past_is_an_error(self) -> None:
        """A force-open that would already be over is refused, consumed and reported."""
        applied = admin.apply(
            {}, {admin.ANNOTATION_FORCE_OPEN: "Youtube,until=2030-05-01T11:00:00Z"}, now=NOW
        )
        assert applied is not None
        assert applied.data == {}
        assert applied.consumed == (admin.ANNOTATION_FORCE_OPEN,)
        assert "must be after now" in applied.errors[0]
        assert "error" in applied.acknowledgement

    def test_reset_runs_before_force_open(self) -> None:
        """Given together, the reset runs first and the force-open wins for its site."""
        applied = admin.apply(
            {"Youtube": _open_state()},
            {admin.ANNOTATION_RESET: "all", admin.ANNOTATION_FORCE_OPEN: "Youtube"},
            now=NOW,
        )
        assert applied is not None
        state = breaker_state.SiteState.from_configmap_value(applied.data["Youtube"])
        assert state.state is breaker_state.State.OPEN
        assert [t.reason for _, t in applied.transitions] == [
            breaker.TransitionReason.RESET,
            breaker.TransitionReason.FORCED_OPEN,
        ]

    def test_a_broken_value_is_replaced_by_a_reset(self) -> None:
        """A hand-edited value that no longer decodes is replaced by a valid closed state."""
        applied = admin.apply({"a": "{not json"}, {admin.ANNOTATION_RESET: "a"}, now=NOW)
        assert applied is not None
        assert breaker_state.SiteState.from_configmap_value(applied.data["a"]).state is (
            breaker_state.State.CLOSED
        )
