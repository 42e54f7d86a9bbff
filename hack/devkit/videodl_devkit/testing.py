"""Helpers for testing and benchmarking the operator against a real cluster.

- :func:`priority_classes` and :func:`worker_rbac`: the objects an installation provides
  for worker Pods (the chart creates them; tests create them by hand).
- :class:`OperatorProcess`: the operator as a child process that can be killed (SIGKILL)
  and started again, for crash tests. Its workers may connect to loopback
  (:data:`LOOPBACK_NETWORKS`), where the media server of the tests listens.
- ``python -m videodl_devkit.testing worker [--sleep S]``: a stand-in worker that
  records its run in the output volume and reports a valid result at once. Point
  ``--worker-command`` at it where a thousand real downloads would not fit on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from videodl.api.spec import Priority
from videodl.reconcile.download import settings as worker_settings
from videodl.workerapi import environment, termination

__all__ = [
    "LOOPBACK_NETWORKS",
    "OperatorProcess",
    "free_port",
    "instant_worker_command",
    "priority_classes",
    "volume_claim",
    "worker_rbac",
]

#: ``--worker-allowed-networks`` for tests and the demo: their media server is on loopback,
#: which workers refuse otherwise.
LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"
_PORT_LINE = re.compile(r"metrics and health endpoint on port (\d+)")
#: PriorityClass values per level: far below system classes, ordered like the levels.
_PRIORITY_VALUES = {
    Priority.LOWEST: 1000,
    Priority.LOW: 2000,
    Priority.NORMAL: 3000,
    Priority.HIGH: 4000,
    Priority.CRITICAL: 5000,
}


def priority_classes(names: Mapping[Priority, str] | None = None) -> list[dict[str, Any]]:
    """The five PriorityClasses worker Pods use, named as the operator maps them."""
    mapping = names or worker_settings.default_priority_class_names()
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": mapping[level]},
            "value": _PRIORITY_VALUES[level],
            "globalDefault": False,
            "preemptionPolicy": "Never" if level != Priority.CRITICAL else "PreemptLowerPriority",
            "description": f"videodl downloads with priority {level.value}",
        }
        for level in Priority
        if level in mapping
    ]


def worker_rbac(namespace: str, service_account: str = "videodl-worker") -> list[dict[str, Any]]:
    """The worker ServiceAccount with a Role allowing only ``patch`` on the status."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": service_account, "namespace": namespace},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": service_account, "namespace": namespace},
            "rules": [
                {
                    "apiGroups": ["videodl.dev"],
                    "resources": ["videodownloads/status"],
                    "verbs": ["patch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": service_account, "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": service_account,
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": service_account, "namespace": namespace}
            ],
        },
    ]


def volume_claim(name: str, size: str = "1Gi") -> dict[str, Any]:
    """A ReadWriteOnce PersistentVolumeClaim of the default StorageClass, for downloads."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def instant_worker_command(sleep_seconds: float = 0.0) -> str:
    """``--worker-command`` value running the stand-in worker with this interpreter."""
    words = [sys.executable, "-m", "videodl_devkit.testing", "worker"]
    if sleep_seconds:
        words += ["--sleep", str(sleep_seconds)]
    # The operator splits the command like a shell line; the interpreter's path may hold spaces.
    return shlex.join(words)


class OperatorProcess:
    """The operator as a child process, with its log in a file."""

    def __init__(
        self,
        *,
        kubeconfig: pathlib.Path,
        log_path: pathlib.Path,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        #: The metrics port of the running process (0 until it has said which one it bound).
        self.port = 0
        self.args = [
            f"--kubeconfig={kubeconfig}",
            "--metrics-port=0",
            "--metrics-bind-address=127.0.0.1",
            f"--worker-allowed-networks={LOOPBACK_NETWORKS}",
            *args,
        ]
        self.env = {**os.environ, **(env or {})}
        self.popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_offset = 0
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True) -> None:
        """Start the operator (again); wait until its health endpoint answers."""
        assert self.popen is None or self.popen.poll() is not None, "already running"
        if self._log is None:
            self._log = self.log_path.open("ab")
        self._log.write(f"\n==== start {self.starts + 1} ====\n".encode())
        self._log.flush()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "videodl.operator", *self.args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        self.starts += 1
        self.port = 0
        self._log_offset = self.log_path.stat().st_size
        if wait:
            self.wait_healthy()

    def _bound_port(self) -> int:
        """The port this start logged (the operator binds port 0 to a free one)."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            found = _PORT_LINE.findall(log.read().decode(errors="replace"))
        return int(found[-1]) if found else 0

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.popen is not None
            if self.popen.poll() is not None:
                msg = f"the operator exited with {self.popen.returncode}:\n{self.tail()}"
                raise RuntimeError(msg)
            if not self.port:
                self.port = self._bound_port()
                if not self.port:
                    time.sleep(0.1)
                    continue
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer,  # noqa: S310
            ):
                if answer.status == 200:
                    return
            time.sleep(0.1)
        msg = f"the operator did not become healthy in {timeout}s:\n{self.tail()}"
        raise TimeoutError(msg)

    def scrape(self) -> str:
        """The ``/metrics`` exposition text."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as answer:  # noqa: S310
            return str(answer.read().decode())

    def kill(self) -> None:
        """SIGKILL: no cleanup, no last writes."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time. Returns the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.popen.returncode

    def close(self) -> None:
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 60) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> OperatorProcess:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@contextlib.contextmanager
def _termination_file(env: Mapping[str, str]) -> Iterator[pathlib.Path]:
    yield pathlib.Path(
        env.get(environment.TERMINATION_MESSAGE_PATH)
        or environment.DEFAULT_TERMINATION_MESSAGE_PATH
    )


def _stand_in_worker(sleep_seconds: float) -> int:
    env = os.environ
    name = env.get(environment.NAME, "download")
    output = pathlib.Path(env.get(environment.OUTPUT_DIR, environment.DEFAULT_OUTPUT_DIR))
    attempt = env.get(environment.ATTEMPT, "1")
    stopped = False

    def stop(*_: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop)
    deadline = time.monotonic() + sleep_seconds
    while not stopped and time.monotonic() < deadline:
        time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))
    if stopped:
        return 10  # Transient, as the real worker does on SIGTERM
    # One line per finished run: tests count them to prove nothing ran twice.
    with contextlib.suppress(OSError):
        runs = output / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        with (runs / f"{name}.log").open("a") as log:
            stamp = datetime.datetime.now(datetime.UTC).isoformat()
            log.write(json.dumps({"attempt": attempt, "time": stamp}) + "\n")
    message = termination.SuccessMessage(video_id=name, extractor="generic", title=name)
    with _termination_file(env) as path, contextlib.suppress(OSError):
        path.write_text(termination.render(message))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videodl_devkit.testing")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="a stand-in worker that succeeds at once")
    worker.add_argument("--sleep", type=float, default=0.0, help="seconds to take first")
    args = parser.parse_args(argv)
    return _stand_in_worker(args.sleep)


if __name__ == "__main__":
    sys.exit(main())
