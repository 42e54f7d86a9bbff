"""Pod status the way a kubelet reports it: container states, phase, conditions.

Container records change as processes start and end (the I/O side drives them); the functions
here turn records into the `status` a kubelet would write: `containerStatuses`,
`initContainerStatuses`, `phase`, `conditions` (keeping `lastTransitionTime` while a
condition's status does not change), `startTime`, `hostIP`/`podIP`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from videodl_devkit.processnode import timestamps

NODE_IP = "127.0.0.1"
MAX_MESSAGE_BYTES = 4096
MAX_LOG_TAIL_BYTES = 2048
MAX_LOG_TAIL_LINES = 80
INITIAL_RESTART_DELAY = 10.0
MAX_RESTART_DELAY = 300.0

CREATING = "ContainerCreating"
INITIALIZING = "PodInitializing"
CONFIG_ERROR = "CreateContainerConfigError"
START_ERROR = "StartError"
BACKOFF = "CrashLoopBackOff"
COMPLETED = "Completed"
ERROR = "Error"
DEADLINE = "DeadlineExceeded"
UNKNOWN = "ContainerStatusUnknown"

PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"
TERMINAL_PHASES = (SUCCEEDED, FAILED)

OWN_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready")


@dataclasses.dataclass(frozen=True)
class Terminated:
    """How one run of a container ended."""

    exit_code: int
    reason: str
    finished_at: datetime.datetime
    message: str = ""
    started_at: datetime.datetime | None = None
    container_id: str = ""


@dataclasses.dataclass
class ContainerRecord:
    """What the node knows about one container: current state, last run, restarts."""

    name: str
    image: str
    init: bool = False
    waiting_reason: str = CREATING
    waiting_message: str = ""
    pid: int | None = None
    started_at: datetime.datetime | None = None
    terminated: Terminated | None = None
    last_terminated: Terminated | None = None
    restart_count: int = 0

    @property
    def running(self) -> bool:
        return self.pid is not None and self.terminated is None

    @property
    def succeeded(self) -> bool:
        return self.terminated is not None and self.terminated.exit_code == 0

    @property
    def container_id(self) -> str:
        return f"process://{self.pid}" if self.pid is not None else ""

    def wait(self, reason: str, message: str = "") -> None:
        """Mark the container waiting (not started, or between runs)."""
        self.waiting_reason, self.waiting_message = reason, message

    def start(self, pid: int, now: datetime.datetime) -> None:
        """Mark the container running as process pid."""
        self.pid, self.started_at, self.terminated = pid, now, None
        self.waiting_reason, self.waiting_message = "", ""

    def finish(self, exit_code: int, reason: str, message: str, now: datetime.datetime) -> None:
        """Mark the current run (or the failed attempt to start one) ended."""
        self.terminated = Terminated(
            exit_code=exit_code,
            reason=reason,
            message=message,
            started_at=self.started_at,
            finished_at=now,
            container_id=self.container_id,
        )

    def back_off(self, message: str) -> None:
        """Move the ended run to lastState and wait before the next one."""
        self.last_terminated, self.terminated = self.terminated, None
        self.pid, self.started_at = None, None
        self.restart_count += 1
        self.wait(BACKOFF, message)

    def give_up(self) -> None:
        """Stop waiting for a restart: the last run becomes the final state again."""
        if self.terminated is None and self.last_terminated is not None and self.pid is None:
            self.terminated, self.last_terminated = self.last_terminated, None


def records_for(pod: Mapping[str, Any]) -> tuple[list[ContainerRecord], list[ContainerRecord]]:
    """Fresh records (waiting) for the Pod's init containers and containers."""
    spec = pod.get("spec") or {}
    init = [
        ContainerRecord(str(c.get("name", "")), str(c.get("image", "")), init=True)
        for c in spec.get("initContainers") or []
    ]
    main = [
        ContainerRecord(
            str(c.get("name", "")),
            str(c.get("image", "")),
            waiting_reason=INITIALIZING if init else CREATING,
        )
        for c in spec.get("containers") or []
    ]
    return init, main


def should_restart(policy: str, exit_code: int, *, init: bool) -> bool:
    """Whether a container that ended with exit_code runs again under the restart policy."""
    if policy == "Never":
        return False
    if policy == "OnFailure" or init:
        return exit_code != 0
    return True


def restart_delay(restart_count: int) -> float:
    """Seconds to wait before restart number restart_count (10 s doubling, at most 5 min)."""
    exponent = max(restart_count - 1, 0)
    return float(min(INITIAL_RESTART_DELAY * 2.0 ** min(exponent, 16), MAX_RESTART_DELAY))


def exit_reason(exit_code: int) -> str:
    """The terminated reason for an exit code (Completed or Error)."""
    return COMPLETED if exit_code == 0 else ERROR


def log_tail(data: bytes) -> str:
    """The last lines of a log, as a kubelet uses for FallbackToLogsOnError."""
    lines = data.splitlines(keepends=True)[-MAX_LOG_TAIL_LINES:]
    tail = b"".join(lines)[-MAX_LOG_TAIL_BYTES:]
    return tail.decode("utf-8", errors="replace")


def termination_message(
    file_content: bytes, log: bytes, *, policy: str | None, exit_code: int
) -> str:
    """The terminated message: the termination file, or the log tail when allowed and needed."""
    message = file_content[:MAX_MESSAGE_BYTES].decode("utf-8", errors="replace")
    if not message and policy == "FallbackToLogsOnError" and exit_code != 0:
        return log_tail(log)
    return message


def phase(
    policy: str,
    init: Sequence[ContainerRecord],
    main: Sequence[ContainerRecord],
    *,
    stopping: bool,
) -> str:
    """The Pod phase from its containers' states, as a kubelet computes it."""
    if not all(record.succeeded for record in init):
        failed = any(r.terminated is not None and not r.succeeded for r in init)
        return FAILED if failed and (stopping or policy == "Never") else PENDING
    if any(record.running for record in main):
        return RUNNING
    waiting = [record for record in main if record.terminated is None]
    if any(record.restart_count > 0 for record in waiting):
        return FAILED if stopping else RUNNING
    if waiting:
        return PENDING
    codes = [record.terminated.exit_code for record in main if record.terminated is not None]
    if not stopping and any(should_restart(policy, code, init=False) for code in codes):
        return RUNNING
    return FAILED if any(code != 0 for code in codes) else SUCCEEDED


@dataclasses.dataclass(frozen=True)
class Condition:
    """A Pod condition the node owns, before timestamps are attached."""

    type: str
    status: bool
    reason: str = ""
    message: str = ""


def _names(records: Sequence[ContainerRecord]) -> str:
    return "[" + " ".join(record.name for record in records) + "]"


def conditions(
    *,
    pod_phase: str,
    sandbox_ready: bool,
    init: Sequence[ContainerRecord],
    main: Sequence[ContainerRecord],
    readiness_gates: Sequence[str] = (),
    present: Mapping[str, str] = {},
) -> list[Condition]:
    """The conditions a kubelet owns; `present` maps other condition types to their status."""
    terminal = pod_phase in TERMINAL_PHASES
    out = [Condition("PodReadyToStartContainers", sandbox_ready and not terminal)]
    incomplete = [record for record in init if not record.succeeded]
    if incomplete and not (terminal and pod_phase == SUCCEEDED):
        out.append(
            Condition(
                "Initialized",
                False,
                "ContainersNotInitialized",
                f"containers with incomplete status: {_names(incomplete)}",
            )
        )
    else:
        out.append(Condition("Initialized", True))
    unready = [record for record in main if not record.running]
    if terminal:
        ready = Condition("ContainersReady", False, "PodCompleted")
    elif unready:
        ready = Condition(
            "ContainersReady",
            False,
            "ContainersNotReady",
            f"containers with unready status: {_names(unready)}",
        )
    else:
        ready = Condition("ContainersReady", True)
    out.append(ready)
    missing = [gate for gate in readiness_gates if present.get(gate) != "True"]
    if ready.status and missing:
        out.append(
            Condition(
                "Ready",
                False,
                "ReadinessGatesNotReady",
                f'corresponding condition of pod readiness gate "{missing[0]}" does not exist.',
            )
        )
    else:
        out.append(Condition("Ready", ready.status, ready.reason, ready.message))
    return out


def render_conditions(
    computed: Sequence[Condition],
    previous: Mapping[str, Mapping[str, Any]],
    now: datetime.datetime,
) -> list[dict[str, Any]]:
    """Conditions as API objects; lastTransitionTime moves only when the status changes."""
    out: list[dict[str, Any]] = []
    for condition in computed:
        status = "True" if condition.status else "False"
        before = previous.get(condition.type) or {}
        changed = before.get("status") != status or not before.get("lastTransitionTime")
        # Empty reason and message are sent as null so that a patch clears old ones.
        out.append(
            {
                "type": condition.type,
                "status": status,
                "reason": condition.reason or None,
                "message": condition.message or None,
                "lastProbeTime": None,
                "lastTransitionTime": (
                    timestamps.rfc3339(now) if changed else before["lastTransitionTime"]
                ),
            }
        )
    return out


def _terminated(terminated: Terminated) -> dict[str, Any]:
    state: dict[str, Any] = {
        "exitCode": terminated.exit_code,
        "reason": terminated.reason,
        "finishedAt": timestamps.rfc3339(terminated.finished_at),
    }
    if terminated.message:
        state["message"] = terminated.message
    if terminated.started_at is not None:
        state["startedAt"] = timestamps.rfc3339(terminated.started_at)
    if terminated.container_id:
        state["containerID"] = terminated.container_id
    return {"terminated": state}


def container_status(record: ContainerRecord) -> dict[str, Any]:
    """One entry of containerStatuses / initContainerStatuses."""
    if record.terminated is not None:
        state = _terminated(record.terminated)
    elif record.running and record.started_at is not None:
        state = {"running": {"startedAt": timestamps.rfc3339(record.started_at)}}
    else:
        waiting: dict[str, Any] = {"reason": record.waiting_reason or CREATING}
        if record.waiting_message:
            waiting["message"] = record.waiting_message
        state = {"waiting": waiting}
    status: dict[str, Any] = {
        "name": record.name,
        "image": record.image,
        "imageID": f"process-node://{record.image}",
        "ready": record.running,
        "started": record.running,
        "restartCount": record.restart_count,
        "state": state,
        "lastState": (
            _terminated(record.last_terminated) if record.last_terminated is not None else {}
        ),
    }
    container_id = (
        record.terminated.container_id if record.terminated is not None else record.container_id
    )
    if container_id:
        status["containerID"] = container_id
    return status


def pod_status(
    *,
    pod_phase: str,
    conditions: Sequence[Mapping[str, Any]],
    init: Sequence[ContainerRecord],
    main: Sequence[ContainerRecord],
    start_time: datetime.datetime,
    reason: str = "",
    message: str = "",
) -> dict[str, Any]:
    """The status body a kubelet would write for the Pod."""
    status: dict[str, Any] = {
        "phase": pod_phase,
        "conditions": list(conditions),
        "hostIP": NODE_IP,
        "hostIPs": [{"ip": NODE_IP}],
        "podIP": NODE_IP,
        "podIPs": [{"ip": NODE_IP}],
        "startTime": timestamps.rfc3339(start_time),
        "containerStatuses": [container_status(record) for record in main],
    }
    if init:
        status["initContainerStatuses"] = [container_status(record) for record in init]
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    return status


def lost(pod: Mapping[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """The Failed status for a Pod whose processes were lost when the node restarted."""
    init, main = records_for(pod)
    gone = "The container could not be located when the pod was terminated"
    for record in [*init, *main]:
        record.finish(137, UNKNOWN, gone, now)
    previous = {str(c.get("type")): c for c in ((pod.get("status") or {}).get("conditions") or [])}
    start = (pod.get("status") or {}).get("startTime")
    return pod_status(
        pod_phase=FAILED,
        conditions=render_conditions(
            conditions(pod_phase=FAILED, sandbox_ready=False, init=init, main=main),
            previous,
            now,
        ),
        init=init,
        main=main,
        start_time=timestamps.parse(start) if start else now,
        reason="NodeRestarted",
        message="The process node restarted while the Pod was running; its processes are gone",
    )
