"""The command line's parsing, help, completion and errors that need no cluster."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from click.testing import CliRunner
from tests.unit.cli.objects import at, download

from videodl.cli import app, describe


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app.cli, list(args), prog_name=app.PROG)
    return result.exit_code, result.stdout, result.stderr


class TestHelp:
    @pytest.mark.parametrize(
        "command", [[], ["get"], ["queue"], ["breaker"], ["add"], ["logs"], ["describe"]]
    )
    def test_help_has_examples(self, command: list[str]) -> None:
        """Every main command's help shows examples of kubectl videodl."""
        code, out, _ = run(*command, "--help")
        assert code == 0
        assert "Example" in out
        assert "kubectl videodl" in out or "kubectl-videodl" in out

    def test_kubectl_flags(self) -> None:
        """The global flags are kubectl's."""
        _, out, _ = run("--help")
        for flag in ("--kubeconfig", "--context", "-n, --namespace", "-A, --all-namespaces"):
            assert flag in out

    @pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
    def test_completion_scripts(self, shell: str) -> None:
        """completion prints a script that asks the plugin itself for completions."""
        code, out, _ = run("completion", shell)
        assert code == 0
        assert "_KUBECTL_VIDEODL_COMPLETE" in out


class TestUsageErrors:
    def test_exit_code_two(self) -> None:
        """Bad usage exits 2 before any cluster is contacted."""
        assert run("get", "-o", "xml")[0] == 2
        assert run("breaker", "reset")[0] == 2
        assert run("breaker", "reset", "a", "--all")[0] == 2
        assert run("add")[0] == 2

    def test_bad_site_key(self) -> None:
        """A site that cannot be a ConfigMap key is refused with the rule."""
        code, _, err = run(
            "breaker", "--breaker-namespace=x", "--breaker-configmap=y", "reset", "a b"
        )
        assert code == 2
        assert "not a valid ConfigMap key" in err

    def test_no_kubeconfig(self, tmp_path: pathlib.Path) -> None:
        """A missing kubeconfig is one line naming it and the flags, exit 1."""
        missing = tmp_path / "none"
        code, _, err = run(f"--kubeconfig={missing}", "get")
        assert code == 1
        assert err.startswith("error: cannot load")
        assert "--kubeconfig" in err

    def test_context_namespace(self, tmp_path: pathlib.Path) -> None:
        """Without -n the context's namespace is used, as kubectl does."""
        config = tmp_path / "config"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
                    "users": [{"name": "u", "user": {"token": "t"}}],
                    "contexts": [
                        {
                            "name": "one",
                            "context": {"cluster": "c", "user": "u", "namespace": "media"},
                        },
                        {"name": "two", "context": {"cluster": "c", "user": "u"}},
                    ],
                    "current-context": "one",
                }
            )
        )
        from videodl.cli.session import Session

        assert Session(kubeconfig=str(config), context=None, namespace=None).namespace == "media"
        assert Session(kubeconfig=str(config), context="two", namespace=None).namespace == "default"
        assert Session(kubeconfig=str(config), context="two", namespace="x").namespace == "x"


class TestNames:
    def test_name_from_url(self) -> None:
        """add names a download after its URL's file, made a valid name."""
        assert app._name_from_url("https://x.example/Talks/My Talk_2024.mp4?x=1") == "my-talk-2024"
        assert app._name_from_url("https://x.example/") == "x"
        assert app._name_from_url("https://x.example/%%%") == "download"


class TestDescribe:
    def test_attempts_failures_events_files(self) -> None:
        """describe lists the failure with class and reason, the attempts' Pods and Events."""
        obj = download(
            "clip",
            phase="Failed",
            status={
                "attempts": 2,
                "lastFailure": {
                    "class": "Permanent",
                    "reason": "HTTPError404",
                    "message": "HTTP Error 404: Not Found",
                    "exitCode": 12,
                },
            },
        )
        pods = [
            {
                "metadata": {
                    "name": f"clip-abc-r{run}",
                    "labels": {"videodl.dev/attempt": str(run), "videodl.dev/run": str(run)},
                },
                "status": {
                    "phase": "Failed",
                    "containerStatuses": [
                        {"state": {"terminated": {"exitCode": 12, "reason": "Error"}}}
                    ],
                },
            }
            for run in (2, 1)
        ]
        events = [
            {
                "type": "Warning",
                "reason": "Failed",
                "message": "gave up",
                "lastTimestamp": "2026-01-01T00:00:50Z",
            },
            {
                "type": "Normal",
                "reason": "Started",
                "message": "attempt 1",
                "lastTimestamp": "2026-01-01T00:00:10Z",
            },
        ]
        text = describe.describe(obj, pods=pods, events=events, now=at(60))
        assert "Phase:          Failed" in text
        assert "Attempts:       2 of 3" in text
        assert "  Class:        Permanent" in text
        assert "  Reason:       HTTPError404" in text
        assert "  Exit code:    12" in text
        lines = text.splitlines()
        first = next(i for i, line in enumerate(lines) if "clip-abc-r1" in line)
        second = next(i for i, line in enumerate(lines) if "clip-abc-r2" in line)
        assert first < second
        assert "exit code 12 (Error)" in lines[first]
        started = next(i for i, line in enumerate(lines) if "Started" in line)
        failed = next(i for i, line in enumerate(lines) if "gave up" in line)
        assert started < failed
        assert "50s" in lines[started]


class TestContainerStarted:
    """``logs -f`` waits for this before it asks for the log."""

    @pytest.mark.parametrize(
        ("status", "started"),
        [
            ({"phase": "Pending"}, False),
            (
                {
                    "phase": "Pending",
                    "containerStatuses": [
                        {"name": "worker", "state": {"waiting": {"reason": "ContainerCreating"}}}
                    ],
                },
                False,
            ),
            (
                {
                    "phase": "Running",
                    "containerStatuses": [
                        {"name": "sidecar", "state": {"running": {}}},
                        {"name": "worker", "state": {"waiting": {"reason": "PodInitializing"}}},
                    ],
                },
                False,
            ),
            (
                {
                    "phase": "Running",
                    "containerStatuses": [{"name": "worker", "state": {"running": {}}}],
                },
                True,
            ),
            (
                {
                    "phase": "Running",
                    "containerStatuses": [
                        {"name": "worker", "state": {"terminated": {"exitCode": 0}}}
                    ],
                },
                True,
            ),
            ({"phase": "Failed"}, True),
        ],
    )
    def test_started(self, status: dict[str, object], started: bool) -> None:
        assert describe.container_started({"status": status}, "worker") is started


class TestKubectlCompletion:
    def test_cobra_format(self, capsys: pytest.CaptureFixture[str]) -> None:
        """kubectl_complete-videodl prints candidates, then Cobra's no-file directive."""
        import sys

        from videodl.cli import complete

        assert "breaker" in complete.candidates([""])
        assert complete.candidates(["breaker", "re"]) == ["reset"]
        assert "--watch" in complete.candidates(["get", "--"])
        saved = sys.argv
        sys.argv = ["kubectl_complete-videodl", "que"]
        try:
            complete.main()
        finally:
            sys.argv = saved
        assert capsys.readouterr().out == "queue\n:4\n"
