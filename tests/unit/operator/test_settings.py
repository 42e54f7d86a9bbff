"""Tests for videodl.operator.settings and .options: flags, variables and their checks."""

from __future__ import annotations

import pathlib
import sys

import pytest

from videodl.api.spec import Priority
from videodl.breaker.settings import BreakerSettings
from videodl.core.breaker_config import BreakerConfig
from videodl.operator import options, settings


class TestDefaults:
    def test_no_input_gives_defaults(self) -> None:
        """Without flags or variables every setting has its default."""
        loaded = settings.load([], {})
        assert loaded == settings.Settings()
        assert loaded.worker.command == (sys.executable, "-m", "videodl.worker")
        assert loaded.worker.priority_class_names[Priority.CRITICAL] == "videodl-critical"
        assert loaded.metrics.port == 8080
        assert loaded.peering is None

    def test_every_option_has_a_variable(self) -> None:
        """Each option's variable is VIDEODL_ and the flag in upper snake case."""
        envs = {o.env for o in options.OPTIONS}
        assert "VIDEODL_MAX_RUNNING_PER_NAMESPACE" in envs
        assert len(envs) == len(options.OPTIONS)


class TestSources:
    def test_environment_is_read(self) -> None:
        """VIDEODL_* variables set the values."""
        loaded = settings.load(
            [],
            {
                "VIDEODL_MAX_RUNNING": "3",
                "VIDEODL_NAMESPACES": "a, b,a",
                "VIDEODL_WORKER_COMMAND": "python3 -m videodl.worker --x 'two words'",
                "VIDEODL_WORKER_REQUESTS": "cpu=250m,memory=64Mi",
                "VIDEODL_PRIORITY_CLASS_NAMES": "Critical=urgent,lowest=",
            },
        )
        assert loaded.admission.max_running == 3
        assert loaded.watch.namespaces == ("a", "b")
        assert loaded.worker.command == ("python3", "-m", "videodl.worker", "--x", "two words")
        assert loaded.worker.requests == {"cpu": "250m", "memory": "64Mi"}
        assert loaded.worker.priority_class_names[Priority.CRITICAL] == "urgent"
        assert Priority.LOWEST not in loaded.worker.priority_class_names
        assert loaded.worker.priority_class_names[Priority.HIGH] == "videodl-high"

    def test_flag_wins_over_variable(self) -> None:
        """A flag overrides the variable for the same setting."""
        loaded = settings.load(["--max-running=7"], {"VIDEODL_MAX_RUNNING": "3"})
        assert loaded.admission.max_running == 7

    def test_unlimited_per_namespace(self) -> None:
        """An empty per-namespace limit means none."""
        loaded = settings.load(["--max-running-per-namespace="], {})
        assert loaded.admission.max_running_per_namespace is None

    def test_breaker_flags_set_the_state_machine_config(self) -> None:
        """The --breaker-* flags keep their names and set the embedded BreakerConfig."""
        loaded = settings.load(
            [
                "--breaker-configmap=state",
                "--breaker-open-seconds=5",
                "--breaker-max-open-seconds=50",
                "--breaker-probes=3",
            ],
            {"VIDEODL_BREAKER_WINDOW_SIZE": "40", "VIDEODL_BREAKER_MIN_CALLS": "30"},
        )
        assert loaded.breaker == BreakerSettings(
            configmap_name="state",
            config=BreakerConfig(
                window_size=40,
                min_calls=30,
                open_base_seconds=5.0,
                open_max_seconds=50.0,
                half_open_probes=3,
            ),
        )

    def test_peering_and_standalone(self) -> None:
        """--peering names the Lease; --standalone is accepted and is the default."""
        assert settings.load(["--peering=videodl"], {}).peering == "videodl"
        assert settings.load(["--standalone"], {}).peering is None


class TestErrors:
    @pytest.mark.parametrize(
        ("argv", "env", "expected"),
        [
            (
                ["--max-running=0"],
                {},
                "--max-running [VIDEODL_MAX_RUNNING] (from --max-running): must be at least 1",
            ),
            (
                [],
                {"VIDEODL_MAX_RUNNING": "many"},
                "(from VIDEODL_MAX_RUNNING): 'many' is not a whole number",
            ),
            (["--aging-seconds=0"], {}, "--aging-seconds"),
            (["--backoff-jitter=1.5"], {}, "at most 1"),
            (["--worker-command="], {}, "must not be empty"),
            (["--worker-command=python 'unterminated"], {}, "quote it"),
            (["--worker-requests=cpu"], {}, "is not KEY=VALUE"),
            (["--worker-limits=memory=lots"], {}, "is not a quantity"),
            (["--priority-class-names=Urgent=x"], {}, "is not a priority level"),
            (["--namespaces=Bad_Name"], {}, "is not a valid namespace name"),
            (["--metrics-port=70000"], {}, "must be 0 to 65535"),
            (["--max-running=2", "--max-running-per-namespace=5"], {}, "is above --max-running"),
            (["--no-such-flag"], {}, "--no-such-flag: unknown argument"),
            (["--log-level=loud"], {}, "DEBUG, INFO, WARNING, ERROR"),
            (["--peering=Not A Name"], {}, "--peering"),
        ],
    )
    def test_bad_value_is_named(self, argv: list[str], env: dict[str, str], expected: str) -> None:
        """Each bad value is reported with its flag, its variable and what is wrong."""
        with pytest.raises(settings.SettingsError) as caught:
            settings.load(argv, env)
        assert expected in str(caught.value)

    @pytest.mark.parametrize(
        ("argv", "expected"),
        [
            (
                ["--breaker-window-size=5", "--breaker-min-calls=8"],
                [
                    "--breaker-min-calls [VIDEODL_BREAKER_MIN_CALLS]:",
                    "--breaker-window-size (5), got 8",
                    "lower it or widen the window",
                ],
            ),
            (
                ["--breaker-open-seconds=120", "--breaker-max-open-seconds=60"],
                [
                    "--breaker-open-seconds [VIDEODL_BREAKER_OPEN_SECONDS]:",
                    "--breaker-max-open-seconds (60.0)",
                    "lower it or raise the maximum",
                ],
            ),
        ],
    )
    def test_breaker_combinations_are_named(self, argv: list[str], expected: list[str]) -> None:
        """A combination the breaker refuses names the flag, its variable and the fix."""
        with pytest.raises(settings.SettingsError) as caught:
            settings.load(argv, {})
        assert len(caught.value.problems) == 1
        for part in expected:
            assert part in caught.value.problems[0]

    def test_a_refused_group_does_not_hide_other_problems(self) -> None:
        """A refused breaker combination and a bad admission limit are both reported."""
        with pytest.raises(settings.SettingsError) as caught:
            settings.load(
                [
                    "--breaker-window-size=5",
                    "--breaker-min-calls=8",
                    "--max-running=2",
                    "--max-running-per-namespace=5",
                ],
                {},
            )
        assert len(caught.value.problems) == 2

    def test_all_problems_at_once(self) -> None:
        """Every bad setting is reported, not just the first."""
        with pytest.raises(settings.SettingsError) as caught:
            settings.load(["--max-running=0", "--metrics-port=-1"], {"VIDEODL_AGING_SECONDS": "x"})
        assert len(caught.value.problems) == 3

    def test_help_lists_variables(self) -> None:
        """--help shows each flag with its variable."""
        text = settings.help_text()
        for option in options.OPTIONS:
            assert option.flag in text
            assert option.env in text


class TestReference:
    def test_docs_table_is_current(self) -> None:
        """docs/operator.md lists every setting with its variable and default, as generated."""
        docs = pathlib.Path(__file__).resolve().parents[3] / "docs" / "operator.md"
        text = docs.read_text()
        start = text.index("<!-- settings table:")
        start = text.index("\n", start) + 1
        end = text.index("<!-- end of settings table -->")
        assert text[start:end] == settings.reference_table(), (
            "docs/operator.md is stale: replace the settings table with the output of "
            "python -c 'from videodl.operator import settings; print(settings.reference_table())'"
        )
