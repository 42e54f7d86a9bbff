"""Tests for the command line."""

from __future__ import annotations

import pathlib

import pytest

from videodl_devkit.processnode import settings

REQUIRED = ["--kubeconfig", "/k", "--node-name", "videodl-node-1", "--state-dir", "/s"]


class TestParse:
    def test_defaults(self) -> None:
        """Only the kubeconfig, node name and state directory are required."""
        config = settings.parse(REQUIRED)
        assert config == settings.Settings(
            kubeconfig=pathlib.Path("/k"), node_name="videodl-node-1", state_dir=pathlib.Path("/s")
        )
        assert (config.cpu, config.memory, config.pods, config.storage_class) == (
            "8",
            "16Gi",
            110,
            "videodl-local",
        )

    def test_overrides(self) -> None:
        """Capacity and StorageClass can be set."""
        config = settings.parse(
            [
                *REQUIRED,
                "--cpu",
                "500m",
                "--memory",
                "2Gi",
                "--pods",
                "5",
                "--storage-class",
                "fast",
            ]
        )
        assert (config.cpu, config.memory, config.pods, config.storage_class) == (
            "500m",
            "2Gi",
            5,
            "fast",
        )

    @pytest.mark.parametrize(
        ("flag", "value", "message"),
        [
            ("--cpu", "lots", "not a Kubernetes quantity"),
            ("--memory", "0", "greater than zero"),
            ("--pods", "-1", "greater than zero"),
            ("--node-name", "Bad_Name", "not a valid name"),
        ],
    )
    def test_bad_values_name_the_flag(
        self, flag: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad value stops with a message that names the flag and the problem."""
        with pytest.raises(SystemExit):
            settings.parse([*REQUIRED, flag, value])
        err = capsys.readouterr().err
        assert flag in err
        assert message in err
