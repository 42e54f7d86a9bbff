"""Starting container processes, signalling their process groups, and cleaning up leftovers.

Each container runs in its own session (and process group, whose id is the container's pid),
so a signal to the group reaches everything the container started. A pid record
(`<pid> <start time>`) per container lets a restarted agent kill what a killed agent left.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pathlib
import signal
import subprocess


@dataclasses.dataclass(frozen=True)
class Launch:
    """Everything needed to start one container run."""

    argv: list[str]
    env: dict[str, str]
    log_file: pathlib.Path
    pid_file: pathlib.Path


def start(launch: Launch) -> subprocess.Popen[bytes]:
    """Start the run in a new session, stdout and stderr appended to its log file."""
    launch.log_file.parent.mkdir(parents=True, exist_ok=True)
    with launch.log_file.open("ab") as log:
        process = subprocess.Popen(
            launch.argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=launch.env,
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
    started = start_time(process.pid) or ""
    launch.pid_file.parent.mkdir(parents=True, exist_ok=True)
    launch.pid_file.write_text(f"{process.pid} {started}\n", encoding="utf-8")
    return process


def exit_code(returncode: int) -> int:
    """A shell-style exit code: 128 + signal number for a process killed by a signal."""
    return returncode if returncode >= 0 else 128 - returncode


def signal_group(pgid: int, signum: signal.Signals) -> bool:
    """Send signum to the process group; False when it no longer exists."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields after it are plain.
    return stat.rsplit(")", 1)[1].split()[19]


def kill_leftovers(pods_root: pathlib.Path, logger: logging.Logger) -> int:
    """Kill process groups recorded under pods_root that are still alive; return how many."""
    killed = 0
    if not pods_root.is_dir():
        return 0
    for record in pods_root.glob("*/containers/*/pid"):
        try:
            pid_text, _, started = record.read_text(encoding="utf-8").strip().partition(" ")
            pid = int(pid_text)
        except (OSError, ValueError):
            continue
        current = start_time(pid)
        # A live pid with another start time is a different process: leave it alone. A dead
        # leader's pid cannot be reused while its group has members, so the group is safe.
        if current is not None and current != started:
            continue
        if signal_group(pid, signal.SIGKILL):
            killed += 1
            logger.info("killed leftover process group %d (%s)", pid, record.parent.name)
    return killed
