"""Tests for videodl.cli.operatorconfig."""

from __future__ import annotations

import pytest

from videodl.breaker.settings import BreakerSettings
from videodl.cli import operatorconfig
from videodl.operator.settings import AdmissionSettings


def deployment(env: list[dict], args: list[str]) -> dict:
    return {
        "metadata": {"name": "videodl", "namespace": "videodl-system"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "operator", "env": env, "args": args}]}}
        },
    }


class TestDefaults:
    def test_same_as_the_operators(self) -> None:
        """Without a Deployment the command line assumes the operator's own defaults."""
        admission = AdmissionSettings()
        breaker = BreakerSettings()
        defaults = operatorconfig.DEFAULTS
        assert defaults.max_running == admission.max_running
        assert defaults.max_running_per_namespace == admission.max_running_per_namespace
        assert defaults.aging_seconds == admission.aging_seconds
        assert defaults.breaker_namespace == breaker.configmap_namespace
        assert defaults.breaker_configmap == breaker.configmap_name


class TestFromDeployment:
    def test_environment_as_the_chart_sets_it(self) -> None:
        """The chart's VIDEODL_* variables give the limits and the breaker's ConfigMap."""
        config = operatorconfig.from_deployment(
            deployment(
                [
                    {"name": "VIDEODL_MAX_RUNNING", "value": "3"},
                    {"name": "VIDEODL_MAX_RUNNING_PER_NAMESPACE", "value": ""},
                    {"name": "VIDEODL_AGING_SECONDS", "value": "60"},
                    {"name": "VIDEODL_BREAKER_NAMESPACE", "value": "ops"},
                    {"name": "VIDEODL_BREAKER_CONFIGMAP", "value": "cb"},
                ],
                ["--standalone"],
            )
        )
        assert (config.max_running, config.max_running_per_namespace) == (3, None)
        assert config.aging_seconds == 60.0
        assert (config.breaker_namespace, config.breaker_configmap) == ("ops", "cb")
        assert config.source == "Deployment videodl-system/videodl"

    def test_flags_win_over_variables(self) -> None:
        """extraArgs flags (both spellings) override the variables, as in the operator."""
        config = operatorconfig.from_deployment(
            deployment(
                [{"name": "VIDEODL_MAX_RUNNING", "value": "3"}],
                ["--max-running=7", "--max-running-per-namespace", "2"],
            )
        )
        assert (config.max_running, config.max_running_per_namespace) == (7, 2)

    def test_bad_value_names_the_flag(self) -> None:
        """A value that is not a number names the setting."""
        with pytest.raises(ValueError, match="--aging-seconds"):
            operatorconfig.from_deployment(
                deployment([{"name": "VIDEODL_AGING_SECONDS", "value": "soon"}], [])
            )
