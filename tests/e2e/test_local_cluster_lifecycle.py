"""A local cluster leaves no process behind, whether it is stopped or its owner is killed."""

from __future__ import annotations

import json
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# Starts a cluster, runs a Pod that sleeps, prints every pid, then stops the cluster when told
# "stop" on stdin, or waits to be killed.
OWNER = textwrap.dedent(
    """
    import json, subprocess, sys, time
    from videodl_devkit import cluster
    local = cluster.start()
    kubectl = [str(local.bin_dir / "kubectl"), f"--kubeconfig={local.kubeconfig}"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleeper"},
           "spec": {"restartPolicy": "Never", "containers": [
               {"name": "main", "image": "none", "command": ["sleep", "3600"]}]}}
    subprocess.run([*kubectl, "create", "-f", "-"], input=json.dumps(pod), text=True, check=True,
                   capture_output=True)
    subprocess.run([*kubectl, "wait", "--for=condition=Ready", "pod/sleeper", "--timeout=60s"],
                   check=True, capture_output=True)
    children = [c.pid for c in local.plane.children] + [local.node.pid]
    print(json.dumps({"children": children}), flush=True)
    if sys.stdin.readline().strip() == "stop":
        local.stop()
        print("stopped", flush=True)
    else:
        time.sleep(3600)
    """
)


def _sleepers() -> set[int]:
    """Pids of `sleep 3600` processes on this machine."""
    found = set()
    for proc in pathlib.Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline[:2] == [b"sleep", b"3600"]:
                found.add(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: set[int], timeout: float = 30.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    return {p for p in pids if _alive(p)}


@pytest.mark.parametrize("ending", ["stop", "kill"])
def test_no_process_outlives_the_cluster(ending: str) -> None:
    """Stopping the cluster, or SIGKILLing its owner, ends every component and Pod process."""
    before = _sleepers()
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        pids = set(json.loads(owner.stdout.readline())["children"])
        # Ready is reported once the start script has run; the exec into `sleep` follows.
        deadline = time.monotonic() + 15
        while not (pod_processes := _sleepers() - before) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(pids) == 5, "etcd, apiserver, controller-manager, scheduler and the node"
        assert len(pod_processes) == 1, "the Pod's command runs as a local process"
        assert all(_alive(p) for p in pids | pod_processes)
        if ending == "stop":
            assert owner.stdin is not None
            owner.stdin.write("stop\n")
            owner.stdin.flush()
            assert owner.stdout.readline().strip() == "stopped"
        else:
            owner.send_signal(signal.SIGKILL)
        assert _wait_gone(pids | pod_processes) == set()
    finally:
        owner.kill()
        owner.wait()
