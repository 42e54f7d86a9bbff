"""Tests for videodl.cli.breakers."""

from __future__ import annotations

import pytest
from tests.unit.cli.objects import at

from videodl.breaker import admin
from videodl.cli import breakers
from videodl.core.breaker_state import Probe, SiteState, State


class TestLines:
    def test_every_site_with_its_state(self) -> None:
        """Each site shows state, failures, open until and live probes; broken values say so."""
        data = {
            "b.example": SiteState(
                state=State.OPEN, open_until=at(600), opened_at=at(0), consecutive_failures=5
            ).to_configmap_value(),
            "a.example": SiteState(
                state=State.HALF_OPEN,
                probes=(Probe(id="p", admitted_at=at(0), expires_at=at(900)),),
                last_transition_time=at(0),
            ).to_configmap_value(),
            "c.example": "{not json",
        }
        lines = breakers.lines(data, now=at(60))
        assert [(line.site, line.state) for line in lines] == [
            ("a.example", "HALF_OPEN"),
            ("b.example", "OPEN"),
            ("c.example", "Invalid"),
        ]
        assert lines[0].probes == 1
        assert lines[0].changed == "1m"
        assert lines[1].open_until == "2026-01-01T00:10:00Z"
        assert lines[1].failures == 5

    def test_forced_open_without_end(self) -> None:
        """A breaker opened until reset says so."""
        data = {"x": SiteState(state=State.OPEN, forced=True).to_configmap_value()}
        (line,) = breakers.lines(data, now=at(0))
        assert (line.open_until, line.forced) == ("until reset", True)


class TestCommands:
    def test_annotations_are_the_operators(self) -> None:
        """The plugin writes exactly the commands videodl.breaker.admin parses."""
        assert breakers.reset_annotation(None) == {admin.ANNOTATION_RESET: "all"}
        reset = breakers.reset_annotation(("a.example", "Youtube"))
        assert admin.parse_reset(reset[admin.ANNOTATION_RESET]).sites == ("a.example", "Youtube")
        opened = breakers.force_open_annotation("Youtube", at(60))
        parsed = admin.parse_force_open(opened[admin.ANNOTATION_FORCE_OPEN])
        assert (parsed.site, parsed.until) == ("Youtube", at(60))
        assert (
            admin.parse_force_open(
                breakers.force_open_annotation("x", None)[admin.ANNOTATION_FORCE_OPEN]
            ).until
            is None
        )

    def test_bad_site_key(self) -> None:
        """A site that cannot be a ConfigMap key is refused before anything is written."""
        with pytest.raises(ValueError, match="not a valid ConfigMap key"):
            breakers.reset_annotation(("bad site",))
