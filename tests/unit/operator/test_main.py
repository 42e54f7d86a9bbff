"""Tests for videodl.operator.__main__: what happens before kopf starts."""

from __future__ import annotations

import pytest

from videodl.operator.__main__ import main


class TestMain:
    def test_bad_settings_exit_2_naming_the_flag(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A bad setting stops the operator before it connects, naming flag and variable."""
        assert main(["--max-running=0", "--metrics-port=x"]) == 2
        err = capsys.readouterr().err
        assert "--max-running [VIDEODL_MAX_RUNNING]" in err
        assert "--metrics-port [VIDEODL_METRICS_PORT]" in err

    def test_help(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--help lists the settings and exits 0."""
        assert main(["--help"]) == 0
        assert "VIDEODL_WORKER_COMMAND" in capsys.readouterr().out
