"""``kubectl videodl`` end to end: the plugin as a process against the real control plane,
with the operator as a child process and real downloads from the local media server."""

# ruff: noqa: F811
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
import uuid

import yaml
from tests.e2e.operatorbed import CLAIM, Bed
from tests.e2e.test_operator import bed, installed, media, slow_url  # noqa: F401

from videodl.breaker import admin
from videodl.breaker.sites import site_of
from videodl.core import breaker_state
from videodl.reconcile.download import naming
from videodl_devkit.mediaserver import MediaServer

BREAKER = "videodl-breaker"


def cli(
    bed: Bed, *args: str, kubeconfig: pathlib.Path | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Run the plugin as kubectl runs it, with the test's namespace and kubeconfig."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "videodl.cli",
            f"--kubeconfig={kubeconfig or bed.cluster.kubeconfig}",
            f"--namespace={bed.namespace}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def breaker_args(bed: Bed) -> list[str]:
    return [f"--breaker-namespace={bed.namespace}", f"--breaker-configmap={BREAKER}"]


def start_operator(bed: Bed, *args: str) -> None:
    bed.start_operator(f"--breaker-configmap={BREAKER}", *args)
    assert bed.operator is not None
    bed.operator.wait_healthy()


def read_only_kubeconfig(bed: Bed, tmp_path: pathlib.Path) -> pathlib.Path:
    """A kubeconfig of a ServiceAccount that may only get, list and watch VideoDownloads."""
    account = "reader"
    bed.apply(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": account},
            "rules": [
                {
                    "apiGroups": ["videodl.dev"],
                    "resources": ["videodownloads"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": account},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": bed.namespace}],
        },
    )
    token = bed.cluster.kubectl("-n", bed.namespace, "create", "token", account).stdout.strip()
    admin_config = yaml.safe_load(bed.cluster.kubeconfig.read_text())
    context = next(
        c for c in admin_config["contexts"] if c["name"] == admin_config["current-context"]
    )
    cluster_entry = next(
        c for c in admin_config["clusters"] if c["name"] == context["context"]["cluster"]
    )
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster_entry],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [
            {
                "name": account,
                "context": {
                    "cluster": cluster_entry["name"],
                    "user": account,
                    "namespace": bed.namespace,
                },
            }
        ],
        "current-context": account,
    }
    path = tmp_path / "reader.kubeconfig"
    path.write_text(yaml.safe_dump(document))
    return path


class TestDownloadCommands:
    def test_add_wait_get_describe_and_lifecycle(self, bed: Bed, media: MediaServer) -> None:
        """add --wait exits 0 once Succeeded; get (table, json, yaml) and describe show it."""
        start_operator(bed)
        added = cli(
            bed, "add", media.url("/media/video.mp4"), "--name=clip", f"--claim={CLAIM}", "--wait"
        )
        assert added.returncode == 0, added.stderr + (bed.operator.tail() if bed.operator else "")
        assert "videodownloads.videodl.dev/clip created" in added.stdout
        assert "video [video].mp4 (" in added.stdout
        assert bed.get("clip")["status"]["phase"] == "Succeeded"

        listed = cli(bed, "get", "-o", "json")
        assert listed.returncode == 0, listed.stderr
        document = json.loads(listed.stdout)
        assert document["kind"] == "List"
        assert [i["metadata"]["name"] for i in document["items"]] == ["clip"]
        assert document["items"][0]["status"]["phase"] == "Succeeded"
        one = yaml.safe_load(cli(bed, "get", "clip", "-o", "yaml").stdout)
        assert one["metadata"]["name"] == "clip"

        table = cli(bed, "get")
        assert table.returncode == 0, table.stderr
        header, row = table.stdout.splitlines()
        assert header.split()[:4] == ["NAME", "PHASE", "PROGRESS", "SPEED"]
        assert row.split()[0] == "clip"
        assert "Succeeded" in row
        assert "100%" in row
        assert "1/" in row  # attempts

        described = cli(bed, "describe", "clip")
        assert described.returncode == 0, described.stderr
        text = described.stdout
        assert "Phase:          Succeeded" in text
        assert "Attempts:" in text
        assert "video [video].mp4" in text
        assert "Started" in text  # the Event of the start
        (pod,) = bed.worker_pods("clip")
        assert pod["metadata"]["name"] in text

        missing = cli(bed, "get", "clpi")
        assert missing.returncode == 1
        assert "not found" in missing.stderr
        assert "did you mean clip?" in missing.stderr

        dry = cli(bed, "add", media.url("/media/video.mp4"), "--dry-run=server", "-o", "json")
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout)["metadata"]["name"].startswith("video-")
        assert [d["metadata"]["name"] for d in bed.list_downloads()] == ["clip"]

        suspended = cli(bed, "suspend", "clip")
        assert suspended.returncode == 0, suspended.stderr
        assert bed.get("clip")["spec"]["suspend"] is True
        assert cli(bed, "resume", "clip").returncode == 0
        assert bed.get("clip")["spec"]["suspend"] is False

        not_failed = cli(bed, "retry", "clip")
        assert not_failed.returncode == 1
        assert "only a Failed download can be retried" in not_failed.stderr

        deleted = cli(bed, "delete", "clip", "--keep-files")
        assert deleted.returncode == 0, deleted.stderr
        assert "files kept" in deleted.stdout
        bed.wait("clip to be gone", lambda: not bed.list_downloads())

    def test_add_wait_on_404_fails_and_a_reader_may_get_but_not_retry(
        self, bed: Bed, media: MediaServer, tmp_path: pathlib.Path
    ) -> None:
        """A 404 ends add --wait with exit 1 and the failure; a reader may get but not retry."""
        start_operator(bed)
        added = cli(
            bed,
            "add",
            media.url("/status/404/gone.mp4"),
            "--name=gone",
            f"--claim={CLAIM}",
            "--wait",
            "--timeout=180",
        )
        assert added.returncode == 1, added.stdout + added.stderr
        failure = bed.get("gone")["status"]["lastFailure"]
        assert failure["class"] == "Permanent"
        assert f"gone failed: Permanent {failure['reason']}" in added.stderr
        assert "404" in added.stderr

        reader = read_only_kubeconfig(bed, tmp_path)
        seen = cli(bed, "get", kubeconfig=reader)
        assert seen.returncode == 0, seen.stderr
        assert "gone" in seen.stdout
        assert "Failed" in seen.stdout
        refused = cli(bed, "retry", "gone", kubeconfig=reader)
        assert refused.returncode == 1
        assert "permission denied: you may not patch videodownloads.videodl.dev" in refused.stderr
        assert f"in namespace {bed.namespace}" in refused.stderr
        assert naming.ANNOTATION_RETRY not in (bed.get("gone")["metadata"].get("annotations") or {})

        retried = cli(bed, "retry", "gone")
        assert retried.returncode == 0, retried.stderr
        bed.wait(
            "the retry to be handled",
            lambda: (bed.get("gone")["metadata"].get("annotations") or {}).get(
                naming.ANNOTATION_RETRY_HANDLED
            ),
        )

    def test_errors_without_crd_or_cluster(self, bed: Bed, tmp_path: pathlib.Path) -> None:
        """No cluster and an unknown kind give one clear line each and exit codes 1 and 2."""
        unreachable = tmp_path / "nowhere.kubeconfig"
        unreachable.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:9"}}],
                    "users": [{"name": "x", "user": {"token": "t"}}],
                    "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
                    "current-context": "x",
                }
            )
        )
        down = cli(bed, "get", kubeconfig=unreachable, timeout=120)
        assert down.returncode == 1
        assert "cannot reach the cluster at https://127.0.0.1:9" in down.stderr
        unknown = cli(bed, "get", "widgets", "w1")
        assert unknown.returncode == 2
        assert "unknown kind 'widgets'" in unknown.stderr


class TestQueue:
    def test_queue_order_is_the_start_order(self, bed: Bed, media: MediaServer) -> None:
        """With one slot, mixed priorities and aging, queue prints the start order."""
        aging = 2.0
        start_operator(bed, "--max-running=1", f"--aging-seconds={aging}")
        blocker_url, _ = slow_url(media, seconds=45)
        bed.create("blocker", {"url": blocker_url, "priority": "Critical"})
        bed.wait_phase("blocker", "Running")
        # Lowest, but waiting long enough to age up to the top: it goes before a Critical.
        bed.create("aged", {"url": media.url("/media/video.mp4"), "priority": "Lowest"})
        bed.wait_phase("aged", "Queued")
        time.sleep(4 * aging + 1)
        for name, priority in (
            ("crit", "Critical"),
            ("high", "High"),
            ("normal", "Normal"),
            ("low", "Low"),
        ):
            bed.create(name, {"url": media.url("/media/video.mp4"), "priority": priority})
            bed.wait_phase(name, "Queued")
            # Creation times count in whole seconds: one apart, aging that lifts them all to
            # the top later still leaves them in this order (then by name it would not be).
            time.sleep(1.1)
        assert bed.get("blocker")["status"]["phase"] == "Running"

        shown = cli(
            bed,
            "queue",
            "--max-running=1",
            f"--aging-seconds={aging}",
            *breaker_args(bed),
            "-o",
            "json",
        )
        assert shown.returncode == 0, shown.stderr
        items = json.loads(shown.stdout)["items"]
        printed = [i["name"] for i in items]
        assert printed == ["aged", "crit", "high", "normal", "low"]
        assert [i["position"] for i in items] == [1, 2, 3, 4, 5]
        assert {i["waitsFor"] if "waitsFor" in i else i["waits_for"] for i in items} == {
            "ClusterLimit"
        }
        assert items[0]["effective_priority"] == "Critical"
        table = cli(bed, "queue", "--max-running=1", f"--aging-seconds={aging}", *breaker_args(bed))
        assert table.returncode == 0, table.stderr
        assert "limits: 1 running in the cluster" in table.stderr
        assert [line.split()[1] for line in table.stdout.splitlines()[1:]] == printed

        for name in printed:
            bed.wait_phase(name, "Succeeded", timeout=240)
        first_running = sorted(printed, key=lambda n: bed.history.first_time(n, "Running") or 0)
        assert first_running == printed


class TestBreaker:
    def test_open_and_reset_take_effect_within_a_second(self, bed: Bed, media: MediaServer) -> None:
        """breaker open holds a site's downloads (queue says Breaker); reset lets them start."""
        start_operator(bed)
        url = media.url("/media/video.mp4")
        site = site_of(url)
        began = time.monotonic()
        opened = cli(bed, "breaker", *breaker_args(bed), "open", site, "--for=600")
        assert opened.returncode == 0, opened.stderr
        assert f"{site} open until" in opened.stdout
        configmap = json.loads(
            bed.cluster.kubectl(
                "-n", bed.namespace, "get", "configmap", BREAKER, "-o", "json"
            ).stdout
        )
        assert admin.ANNOTATION_FORCE_OPEN not in (configmap["metadata"].get("annotations") or {})
        state = breaker_state.SiteState.from_configmap_value(configmap["data"][site])
        assert state.state is breaker_state.State.OPEN
        assert state.forced
        listed = cli(bed, "breaker", *breaker_args(bed))
        assert listed.returncode == 0, listed.stderr
        (row,) = [line for line in listed.stdout.splitlines() if line.startswith(site)]
        assert row.split()[1] == "OPEN"
        assert (
            json.loads(cli(bed, "breaker", *breaker_args(bed), site, "-o", "json").stdout)[0][
                "state"
            ]
            == "OPEN"
        )

        bed.create("held", {"url": url})
        bed.wait_phase("held", "Blocked")
        queued = json.loads(cli(bed, "queue", *breaker_args(bed), "-o", "json").stdout)["items"]
        assert [(i["name"], i["waits_for"]) for i in queued] == [("held", "Breaker")]
        assert site in queued[0]["detail"]

        reset_at = time.monotonic()
        reset = cli(bed, "breaker", *breaker_args(bed), "reset", site)
        assert reset.returncode == 0, reset.stderr
        assert "closed 1 site(s)" in reset.stdout
        # The command returns once the operator applied it; most of this is Python starting.
        assert time.monotonic() - reset_at < 10
        bed.wait_phase("held", "Succeeded", timeout=120)
        closed = cli(bed, "breaker", *breaker_args(bed), "-o", "json")
        assert json.loads(closed.stdout)[0]["state"] == "CLOSED"
        assert time.monotonic() - began < 240

    def test_commands_apply_within_a_second_of_the_annotation(self, bed: Bed) -> None:
        """The annotation the plugin writes is consumed by the operator within a second."""
        start_operator(bed)
        for args in (["open", "example.org"], ["reset", "--all"]):
            result = cli(bed, "breaker", *breaker_args(bed), *args, "--timeout=1")
            assert result.returncode == 0, result.stderr + (
                bed.operator.tail() if bed.operator else ""
            )


class TestLiveDisplay:
    def test_get_watch_updates_progress_bars_in_place(self, bed: Bed, media: MediaServer) -> None:
        """Under tmux, get -w shows one table whose progress bar grows, not a scrolling log."""
        start_operator(bed)
        url, _ = slow_url(media, seconds=12)
        session = f"vdl-{uuid.uuid4().hex[:8]}"
        command = " ".join(
            [
                sys.executable,
                "-m",
                "videodl.cli",
                f"--kubeconfig={bed.cluster.kubeconfig}",
                f"--namespace={bed.namespace}",
                "get",
                "-w",
            ]
        )
        env = {**os.environ, "TERM": "xterm-256color"}
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "40", command],
            check=True,
            env=env,
        )
        try:
            bed.create("live", {"url": url})
            screens: list[str] = []
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                screen = subprocess.run(
                    ["tmux", "capture-pane", "-p", "-t", session],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                screens.append(screen)
                if "Succeeded" in screen:
                    break
                time.sleep(0.3)
            running = [s for s in screens if "Running" in s and "%" in s]
            assert running, screens[-1]
            percents = {
                line.split("%")[0].split()[-1]
                for s in running
                for line in s.splitlines()
                if "live" in line and "%" in line
            }
            assert len(percents) >= 2, percents
            final = screens[-1]
            assert "Succeeded" in final
            assert final.count("NAME") == 1  # one display, redrawn in place
            assert sum(1 for line in final.splitlines() if line.startswith("live")) == 1
            assert "█" in final
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], check=False)


class TestLogs:
    def test_kubectl_logs_and_videodl_logs_follow(self, bed: Bed, media: MediaServer) -> None:
        """kubectl logs reaches the process node's kubelet endpoint; logs -f streams to the end."""
        start_operator(bed)
        url, path = slow_url(media, seconds=6)
        bed.create("talk", {"url": url})
        running = bed.wait_phase("talk", "Running")
        pod = running["status"]["workerPod"]
        bed.wait(
            "the worker to log",
            lambda: bed.worker_pods("talk")[0]["status"].get("containerStatuses"),
        )
        follow = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "videodl.cli",
                f"--kubeconfig={bed.cluster.kubeconfig}",
                f"--namespace={bed.namespace}",
                "logs",
                "talk",
                "-f",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        streamed, errors = follow.communicate(timeout=180)
        assert follow.returncode == 0, errors
        assert f"attempt 1: {url} into /data" in streamed
        assert "download succeeded" in streamed
        # Followed to the end: the worker's last line, its termination message, is there.
        assert streamed.rstrip().splitlines()[-1].startswith('{"videoId"')
        assert bed.get("talk")["status"]["phase"] in ("Running", "Succeeded")

        plain = bed.cluster.kubectl("-n", bed.namespace, "logs", pod, "-c", "worker")
        assert plain.stdout == streamed
        tailed = bed.cluster.kubectl("-n", bed.namespace, "logs", pod, "-c", "worker", "--tail=1")
        assert tailed.stdout == streamed.splitlines(keepends=True)[-1]
        assert path.rsplit("/", 1)[-1].removesuffix(".mp4") in streamed

        by_attempt = cli(bed, "logs", "talk", "--attempt", "1")
        assert by_attempt.returncode == 0, by_attempt.stderr
        assert by_attempt.stdout == streamed
        none = cli(bed, "logs", "talk", "--attempt", "2")
        assert none.returncode == 1
        assert "no worker Pod for attempt 2" in none.stderr


class TestAsKubectlPlugin:
    def test_kubectl_finds_runs_and_completes_the_plugin(
        self, bed: Bed, media: MediaServer
    ) -> None:
        """With the console scripts on PATH, kubectl runs `kubectl videodl` and completes it."""
        bed.create("clip", {"url": media.url("/media/video.mp4")})
        scripts = pathlib.Path(sys.executable).parent
        env = {
            **os.environ,
            "PATH": f"{scripts}:{os.environ.get('PATH', '')}",
            "KUBECONFIG": str(bed.cluster.kubeconfig),
        }

        def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [bed.cluster.kubectl_binary, *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )

        listed = kubectl("videodl", "-n", bed.namespace, "get", "-o", "json")
        assert listed.returncode == 0, listed.stderr
        assert [i["metadata"]["name"] for i in json.loads(listed.stdout)["items"]] == ["clip"]
        commands = kubectl("__complete", "videodl", "br")
        assert commands.stdout.splitlines() == ["breaker", ":4"], commands.stderr
        names = subprocess.run(
            [str(scripts / "kubectl_complete-videodl"), "-n", bed.namespace, "describe", "cl"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert names.stdout.splitlines() == ["clip", ":4"], names.stderr
