"""Tests for Pod status as a kubelet reports it."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl_devkit.processnode import podstatus

from . import podfixtures

T0 = datetime.datetime(2026, 1, 1, 0, 0, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(seconds=5)
T2 = T0 + datetime.timedelta(seconds=9)


def ended(name: str, code: int, *, init: bool = False) -> podstatus.ContainerRecord:
    record = podstatus.ContainerRecord(name, "img", init=init)
    record.start(100, T0)
    record.finish(code, podstatus.exit_reason(code), "", T1)
    return record


def running(name: str) -> podstatus.ContainerRecord:
    record = podstatus.ContainerRecord(name, "img")
    record.start(100, T0)
    return record


def waiting(name: str) -> podstatus.ContainerRecord:
    return podstatus.ContainerRecord(name, "img")


class TestContainerRecord:
    def test_lifecycle_to_status(self) -> None:
        """waiting -> running -> terminated shows in containerStatuses with the process id."""
        record = podstatus.ContainerRecord("main", "busybox")
        assert podstatus.container_status(record)["state"] == {
            "waiting": {"reason": "ContainerCreating"}
        }
        record.start(42, T0)
        status = podstatus.container_status(record)
        assert status["state"] == {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
        assert (status["ready"], status["started"], status["containerID"]) == (
            True,
            True,
            "process://42",
        )
        record.finish(0, podstatus.COMPLETED, "done", T1)
        status = podstatus.container_status(record)
        assert status["state"] == {
            "terminated": {
                "exitCode": 0,
                "reason": "Completed",
                "message": "done",
                "startedAt": "2026-01-01T00:00:00Z",
                "finishedAt": "2026-01-01T00:00:05Z",
                "containerID": "process://42",
            }
        }
        assert (status["ready"], status["started"], status["restartCount"]) == (False, False, 0)
        assert status["image"] == "busybox"
        assert status["imageID"] == "process-node://busybox"

    def test_back_off_keeps_last_state(self) -> None:
        """A restart moves the ended run to lastState and counts it."""
        record = ended("main", 1)
        record.back_off("back-off 10s")
        status = podstatus.container_status(record)
        assert status["restartCount"] == 1
        assert status["state"] == {
            "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}
        }
        assert status["lastState"]["terminated"]["exitCode"] == 1

    def test_give_up_restores_the_last_run(self) -> None:
        """When restarts stop during back-off, the last run becomes the final state."""
        record = ended("main", 1)
        record.back_off("back-off 10s")
        record.give_up()
        assert record.terminated is not None
        assert record.terminated.exit_code == 1


class TestPhase:
    @pytest.mark.parametrize(
        ("policy", "records", "stopping", "expected"),
        [
            ("Never", [waiting("a")], False, "Pending"),
            ("Never", [running("a"), ended("b", 0)], False, "Running"),
            ("Never", [ended("a", 0), ended("b", 0)], False, "Succeeded"),
            ("Never", [ended("a", 0), ended("b", 3)], False, "Failed"),
            ("OnFailure", [ended("a", 3)], False, "Running"),
            ("OnFailure", [ended("a", 0)], False, "Succeeded"),
            ("OnFailure", [ended("a", 3)], True, "Failed"),
            ("Always", [ended("a", 0)], False, "Running"),
            ("Always", [ended("a", 0)], True, "Succeeded"),
        ],
    )
    def test_main_containers(
        self, policy: str, records: list[podstatus.ContainerRecord], stopping: bool, expected: str
    ) -> None:
        """The phase follows the containers and whether the restart policy restarts them."""
        assert podstatus.phase(policy, [], records, stopping=stopping) == expected

    def test_failed_init_container_fails_the_pod_under_never(self) -> None:
        """An init container that failed for good fails the Pod; under OnFailure it is retried."""
        failed = [ended("init", 2, init=True)]
        assert podstatus.phase("Never", failed, [waiting("a")], stopping=False) == "Failed"
        assert podstatus.phase("OnFailure", failed, [waiting("a")], stopping=False) == "Pending"

    def test_running_init_container_is_pending(self) -> None:
        """While init containers run, the Pod is Pending."""
        init = podstatus.ContainerRecord("init", "img", init=True)
        init.start(1, T0)
        assert podstatus.phase("Never", [init], [waiting("a")], stopping=False) == "Pending"


class TestRestarts:
    @pytest.mark.parametrize(
        ("policy", "code", "init", "expected"),
        [
            ("Never", 1, False, False),
            ("OnFailure", 0, False, False),
            ("OnFailure", 1, False, True),
            ("Always", 0, False, True),
            ("Always", 0, True, False),
            ("Always", 1, True, True),
        ],
    )
    def test_should_restart(self, policy: str, code: int, init: bool, expected: bool) -> None:
        """Restart decisions follow the policy; init containers restart only on failure."""
        assert podstatus.should_restart(policy, code, init=init) is expected

    @given(st.integers(min_value=0, max_value=10_000))
    def test_delay_is_bounded_and_growing(self, count: int) -> None:
        """Back-off starts at 10 s, doubles, and never exceeds 5 minutes."""
        delay = podstatus.restart_delay(count)
        assert 10.0 <= delay <= 300.0
        assert podstatus.restart_delay(count + 1) >= delay


class TestTerminationMessage:
    def test_file_content_wins(self) -> None:
        """The termination file's content is the message."""
        assert (
            podstatus.termination_message(
                b"bye", b"log", policy="FallbackToLogsOnError", exit_code=1
            )
            == "bye"
        )

    def test_fallback_to_logs_only_on_error(self) -> None:
        """With FallbackToLogsOnError an empty file on failure falls back to the log tail."""
        assert (
            podstatus.termination_message(
                b"", b"a\nb\n", policy="FallbackToLogsOnError", exit_code=1
            )
            == "a\nb\n"
        )
        assert (
            podstatus.termination_message(b"", b"a\n", policy="FallbackToLogsOnError", exit_code=0)
            == ""
        )
        assert podstatus.termination_message(b"", b"a\n", policy="File", exit_code=1) == ""

    @given(st.text(alphabet=st.characters(max_codepoint=127), max_size=10_000))
    def test_message_is_the_first_4096_bytes(self, content: str) -> None:
        """The file's message is its start, cut at 4096 bytes."""
        message = podstatus.termination_message(content.encode(), b"", policy=None, exit_code=0)
        assert len(message) == min(len(content), 4096)
        assert content.startswith(message)

    @given(
        st.lists(
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=100),
            max_size=200,
        )
    )
    def test_log_tail_is_a_bounded_suffix(self, lines: list[str]) -> None:
        """The log tail is the end of the log: at most 80 lines and 2048 bytes."""
        data = "".join(line + "\n" for line in lines)
        tail = podstatus.log_tail(data.encode())
        assert data.endswith(tail)
        assert len(tail) <= 2048
        assert tail.count("\n") <= 80
        assert len(tail) == min(len("".join(line + "\n" for line in lines[-80:])), 2048)


class TestConditions:
    def test_running_pod_is_ready(self) -> None:
        """With every container running the Pod is Ready."""
        computed = podstatus.conditions(
            pod_phase="Running", sandbox_ready=True, init=[], main=[running("a")]
        )
        assert [(c.type, c.status) for c in computed] == [
            ("PodReadyToStartContainers", True),
            ("Initialized", True),
            ("ContainersReady", True),
            ("Ready", True),
        ]

    def test_unready_and_uninitialized_name_the_containers(self) -> None:
        """Unready and uninitialized conditions list the containers that hold them back."""
        init = podstatus.ContainerRecord("setup", "img", init=True)
        computed = {
            c.type: c
            for c in podstatus.conditions(
                pod_phase="Pending",
                sandbox_ready=False,
                init=[init],
                main=[waiting("a"), waiting("b")],
            )
        }
        assert computed["Initialized"].message == "containers with incomplete status: [setup]"
        assert computed["ContainersReady"].message == "containers with unready status: [a b]"
        assert computed["Ready"].reason == "ContainersNotReady"

    def test_completed_pod(self) -> None:
        """A finished Pod is not ready, with reason PodCompleted."""
        computed = {
            c.type: c
            for c in podstatus.conditions(
                pod_phase="Succeeded", sandbox_ready=True, init=[], main=[ended("a", 0)]
            )
        }
        assert computed["Ready"] == podstatus.Condition("Ready", False, "PodCompleted")
        assert computed["PodReadyToStartContainers"].status is False

    def test_readiness_gates(self) -> None:
        """A readiness gate whose condition is not True keeps the Pod unready."""
        computed = podstatus.conditions(
            pod_phase="Running",
            sandbox_ready=True,
            init=[],
            main=[running("a")],
            readiness_gates=["example.com/ok"],
            present={},
        )
        assert computed[-1].reason == "ReadinessGatesNotReady"
        computed = podstatus.conditions(
            pod_phase="Running",
            sandbox_ready=True,
            init=[],
            main=[running("a")],
            readiness_gates=["example.com/ok"],
            present={"example.com/ok": "True"},
        )
        assert computed[-1].status is True

    def test_transition_time_moves_only_on_change(self) -> None:
        """lastTransitionTime is kept while the status stays, and clears old reasons with null."""
        first = podstatus.render_conditions([podstatus.Condition("Ready", False, "R", "m")], {}, T0)
        assert first[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
        previous = {c["type"]: c for c in first}
        same = podstatus.render_conditions(
            [podstatus.Condition("Ready", False, "R", "m")], previous, T1
        )
        assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
        changed = podstatus.render_conditions([podstatus.Condition("Ready", True)], previous, T2)
        assert changed[0]["lastTransitionTime"] == "2026-01-01T00:00:09Z"
        assert (changed[0]["reason"], changed[0]["message"]) == (None, None)


class TestPodStatus:
    def test_body(self) -> None:
        """The status body carries phase, IPs, start time, container statuses and the reason."""
        status = podstatus.pod_status(
            pod_phase="Failed",
            conditions=[],
            init=[ended("init", 0, init=True)],
            main=[ended("a", 3)],
            start_time=T0,
            reason="DeadlineExceeded",
            message="too slow",
        )
        assert status["phase"] == "Failed"
        assert (status["hostIP"], status["podIP"]) == ("127.0.0.1", "127.0.0.1")
        assert status["podIPs"] == [{"ip": "127.0.0.1"}]
        assert status["startTime"] == "2026-01-01T00:00:00Z"
        assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3
        assert status["initContainerStatuses"][0]["name"] == "init"
        assert (status["reason"], status["message"]) == ("DeadlineExceeded", "too slow")

    def test_lost_pod(self) -> None:
        """A Pod whose processes were lost ends Failed, every container unknown with 137."""
        pod = podfixtures.pod()
        pod["status"] = {"phase": "Running", "startTime": "2026-01-01T00:00:00Z"}
        status = podstatus.lost(pod, T1)
        assert status["phase"] == "Failed"
        assert status["reason"] == "NodeRestarted"
        terminated = status["containerStatuses"][0]["state"]["terminated"]
        assert (terminated["exitCode"], terminated["reason"]) == (137, "ContainerStatusUnknown")
        assert status["startTime"] == "2026-01-01T00:00:00Z"
