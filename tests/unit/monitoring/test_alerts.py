"""The alerting rules of docs/monitoring/alerts.yaml, tested the Prometheus way.

``promtool check rules`` parses them; ``promtool test rules`` runs their unit tests
(``alerts_test.yaml``: input series, and the alerts expected at given times), which must show
each alert firing and each alert silent; and every series, label and label value they use is
one the operator exports.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from . import promql

RULES_DIR = pathlib.Path(__file__).resolve().parents[3] / "docs" / "monitoring"
RULES = RULES_DIR / "alerts.yaml"
TESTS = RULES_DIR / "alerts_test.yaml"


def promtool(*args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool (``make deps`` installs it) and return the finished process."""
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: `make deps` installs it (Debian package prometheus)"
    return subprocess.run(
        [binary, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )


def rules() -> list[dict[str, Any]]:
    """The alerting rules of the rule file, in order."""
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def unit_tests() -> list[dict[str, Any]]:
    """The test groups of alerts_test.yaml."""
    document = yaml.safe_load(TESTS.read_text(encoding="utf-8"))
    assert document["rule_files"] == [RULES.name]
    tests: list[dict[str, Any]] = document["tests"]
    return tests


def run_suite(directory: pathlib.Path = RULES_DIR) -> subprocess.CompletedProcess[str]:
    """``promtool test rules`` on the suite in ``directory`` (rule file next to it)."""
    return promtool("test", "rules", TESTS.name, cwd=directory)


class TestRuleFile:
    def test_promtool_checks_the_rules(self) -> None:
        """`promtool check rules` accepts the rule file and finds every alert."""
        checked = promtool("check", "rules", str(RULES))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert f"SUCCESS: {len(rules())} rules found" in checked.stdout

    def test_promtool_rejects_a_syntax_error(self, tmp_path: pathlib.Path) -> None:
        """The same check fails on a rule with a PromQL syntax error."""
        text = RULES.read_text(encoding="utf-8")
        broken = text.replace("> 0.25", "> > 0.25", 1)
        assert broken != text
        (tmp_path / RULES.name).write_text(broken, encoding="utf-8")
        assert promtool("check", "rules", str(tmp_path / RULES.name)).returncode != 0

    def test_rules_select_exported_series_labels_and_values(self) -> None:
        """Each series, label and matched value of every rule is one the operator exports."""
        known = promql.universe()
        exprs = [(rule["expr"], "") for rule in rules()]
        assert promql.all_problems(exprs, known) == {}

    def test_a_misspelt_value_is_reported(self) -> None:
        """A rule matching failure_class="Throtled" would never fire; the check says why."""
        (throttled,) = [r for r in rules() if r["alert"] == "VideodlThrottled"]
        expr = throttled["expr"].replace('"Throttled"', '"Throtled"')
        (problem,) = promql.problems(expr, promql.universe())
        assert "failure_class='Throtled'" in problem

    def test_every_rule_has_a_severity_and_a_summary(self) -> None:
        """An alert without a severity or a summary cannot be routed or read."""
        for rule in rules():
            assert rule["labels"]["severity"] in {"info", "warning", "critical"}, rule["alert"]
            assert rule["annotations"]["summary"].startswith("videodl: "), rule["alert"]


class TestUnitTests:
    def test_promtool_test_rules_passes(self) -> None:
        """Every case of alerts_test.yaml passes under promtool."""
        done = run_suite()
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout

    def test_every_alert_is_seen_firing_and_silent(self) -> None:
        """Each alert has a case where it fires and one, on other series, where it does not."""
        firing: dict[str, set[str]] = {}
        silent: dict[str, set[str]] = {}
        for test in unit_tests():
            for case in test["alert_rule_test"]:
                seen = firing if case["exp_alerts"] else silent
                seen.setdefault(case["alertname"], set()).add(test["name"])
        names = {rule["alert"] for rule in rules()}
        assert set(firing) == names
        assert set(silent) == names
        for name in names:
            assert silent[name] - firing[name], f"{name}: no test group where it never fires"

    def test_input_series_are_series_the_operator_exports(self) -> None:
        """Each input series has an exported name and one of its exported label sets."""
        known = promql.universe()
        problems = [
            problem
            for test in unit_tests()
            for series in test["input_series"]
            for problem in promql.series_problems(series["series"], known)
        ]
        assert problems == []

    def test_an_unexported_input_series_is_reported(self) -> None:
        """A test series missing a label the operator always sets is not a real series."""
        known = promql.universe()
        (problem,) = promql.series_problems('videodl_downloads_total{result="failed"}', known)
        assert 'failure_class="Permanent", result="failed"' in problem

    @pytest.mark.parametrize(
        ("alert", "old", "new"),
        [
            ("VideodlBreakerOpenLong", "for: 1h", "for: 30m"),
            ("VideodlFailuresRising", "> 0.25", "> 0.5"),
            ("VideodlThrottled", 'failure_class="Throttled"', 'failure_class="Transient"'),
            ("VideodlQueueGrowing", "> 50", "> 500"),
            ("VideodlReconcileErrors", "> 0.1", "> 0.01"),
            ("VideodlOperatorAbsent", "absent(videodl_running_workers)", "absent(up)"),
        ],
    )
    def test_a_changed_rule_fails_its_tests(
        self, tmp_path: pathlib.Path, alert: str, old: str, new: str
    ) -> None:
        """Loosening or tightening any one alert makes promtool report that alert."""
        text = RULES.read_text(encoding="utf-8")
        assert text.count(old) == 1
        (tmp_path / RULES.name).write_text(text.replace(old, new), encoding="utf-8")
        shutil.copy(TESTS, tmp_path / TESTS.name)
        done = run_suite(tmp_path)
        assert done.returncode != 0, done.stdout
        assert f"alertname: {alert}," in done.stdout + done.stderr
