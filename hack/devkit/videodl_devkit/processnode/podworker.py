"""One Pod's life on the node: volumes, init containers, containers, status, deletion.

A PodWorker thread owns a Pod from the moment the node sees it until its processes are gone:
it prepares the volumes (waiting, as a kubelet does, for missing Secrets, ConfigMaps or claim
bindings), runs the init containers one by one and then all containers (a ContainerRunner
thread each, restarting them as the restart policy says), enforces activeDeadlineSeconds,
and on deletion sends SIGTERM, waits the grace period, sends SIGKILL, reports the final
status and removes the Pod object. Every state change is reported through pods/status.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging
import os
import pathlib
import pwd
import shutil
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from videodl_devkit.processnode import (
    environment,
    errors,
    events,
    fieldpaths,
    kubeapi,
    layout,
    mountscript,
    podchecks,
    podstatus,
    processes,
    timestamps,
    volumeplan,
    volumes,
)

DEFAULT_GRACE_SECONDS = 30
GONE_GRACE_SECONDS = 2.0
KILL_WAIT_SECONDS = 5.0
LOG_TAIL_READ_BYTES = 64 * 1024
SETUP_WAIT_SECONDS = 10.0
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


@dataclasses.dataclass(frozen=True)
class NodeContext:
    """What every Pod worker shares: the API, the paths, the tools and node facts."""

    kube: kubeapi.Kube
    paths: layout.Layout
    node_name: str
    tools: mountscript.Tools
    service: dict[str, str]
    host_path_env: str
    resources: fieldpaths.NodeResources
    volumes: volumes.VolumeBuilder
    shutdown_grace: float
    logger: logging.Logger
    #: Host directories of the stand-in image, kept visible under volumes.
    image_paths: tuple[str, ...] = ()


class Stop(enum.Enum):
    """Why a Pod's containers are being stopped before they ended on their own."""

    DELETE = "the Pod is being deleted"
    GONE = "the Pod object is gone"
    DEADLINE = "activeDeadlineSeconds passed"
    SHUTDOWN = "the node is shutting down"


def delete_pod(kube: kubeapi.Kube, namespace: str, name: str, uid: str) -> None:
    """Remove the Pod object now (grace 0), only if it is still the same Pod (uid)."""
    body = {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": uid},
    }
    try:
        kubeapi.retrying(
            lambda: kube.request(
                "DELETE",
                kubeapi.path("api", "v1", "namespaces", namespace, "pods", name),
                body=body,
            )
        )
    except ApiException as error:
        if error.status not in (404, 409):
            raise


def post_event(
    ctx: NodeContext,
    pod: Mapping[str, Any],
    reason: str,
    message: str,
    *,
    warning: bool = False,
) -> None:
    """Record an Event about the Pod; failures are only logged."""
    body = events.event(
        pod,
        kind="Pod",
        reason=reason,
        message=message,
        node=ctx.node_name,
        now=datetime.datetime.now(datetime.UTC),
        warning=warning,
    )
    namespace = body["metadata"]["namespace"]
    try:
        ctx.kube.request(
            "POST",
            kubeapi.path("api", "v1", "namespaces", namespace, "events"),
            body=body,
            timeout=5.0,
        )
    except Exception as error:  # noqa: BLE001 - events are best effort
        ctx.logger.debug("could not record event %s: %s", reason, error)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _home(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_dir or "/"
    except KeyError:
        return "/"


class PodWorker:
    """Runs one Pod and reports its status."""

    def __init__(
        self, ctx: NodeContext, pod: Mapping[str, Any], *, on_done: Callable[[PodWorker], None]
    ) -> None:
        metadata = pod["metadata"]
        self.uid = str(metadata["uid"])
        self.namespace = str(metadata["namespace"])
        self.name = str(metadata["name"])
        self._ctx = ctx
        self._log = logging.LoggerAdapter(ctx.logger, {"pod": f"{self.namespace}/{self.name}"})
        self._on_done = on_done
        self._spec: Mapping[str, Any] = pod.get("spec") or {}
        self._pod: Mapping[str, Any] = pod
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._deletion = bool(metadata.get("deletionTimestamp"))
        self._gone = False
        self._shutdown = False
        self.deleted_object = False
        self.policy = podchecks.restart_policy(pod)
        self._init, self._main = podstatus.records_for(pod)
        self._status_lock = threading.Lock()
        self._conditions: dict[str, Mapping[str, Any]] = {
            str(c.get("type")): c for c in ((pod.get("status") or {}).get("conditions") or [])
        }
        self._last_status: dict[str, Any] | None = None
        self._sandbox_ready = False
        self._final = False
        self._reason = ""
        self._message = ""
        self._plans: dict[str, volumeplan.VolumePlan] = {}
        self._prepared: volumes.Prepared | None = None
        self._runners: list[ContainerRunner] = []
        started = (pod.get("status") or {}).get("startTime")
        self._start_time = timestamps.parse(started) if started else _now()
        deadline = self._spec.get("activeDeadlineSeconds")
        self._deadline = (
            None
            if deadline is None
            else self._start_time + datetime.timedelta(seconds=int(deadline))
        )
        self._thread = threading.Thread(
            target=self._run, name=f"pod-{self.namespace}-{self.name}", daemon=True
        )

    # -- what the agent calls ------------------------------------------------------------

    @property
    def latest(self) -> Mapping[str, Any]:
        with self._lock:
            return self._pod

    @property
    def deletion_requested(self) -> bool:
        with self._lock:
            return self._deletion

    def start(self) -> None:
        self._thread.start()

    def update(self, pod: Mapping[str, Any]) -> None:
        """A newer version of the Pod object was seen."""
        with self._lock:
            self._pod = pod
            if (pod.get("metadata") or {}).get("deletionTimestamp"):
                self._deletion = True
        self._wake.set()

    def forget(self) -> None:
        """The Pod object is gone: stop its processes without reporting status."""
        with self._lock:
            self._gone = True
        self._wake.set()

    def shutdown(self) -> None:
        """The node is stopping: stop the processes quickly, report nothing."""
        with self._lock:
            self._shutdown = True
        self._wake.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    # -- the Pod's life ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._live()
        except Exception as error:  # noqa: BLE001 - one bad Pod must not take the node down
            self._log.exception("running the Pod failed")
            try:
                self._fail(f"the process node could not run the Pod: {error}")
            except Exception:  # noqa: BLE001 - logged; the finally block still cleans up
                self._log.exception("reporting the failure failed")
        finally:
            self._terminate(GONE_GRACE_SECONDS, None)
            self._remove_if_deleted()
            shutil.rmtree(self._ctx.paths.pod_dir(self.uid), ignore_errors=True)
            self._on_done(self)

    def _remove_if_deleted(self) -> None:
        """A Pod whose deletion was asked for goes once its processes are gone, whatever
        failed on the way (a status write refused while it ended, say), as a kubelet's
        does: otherwise the object would wait with its deletionTimestamp forever."""
        if not self.deletion_requested or self.deleted_object:
            return
        try:
            self.remove_object()
        except Exception:  # noqa: BLE001 - logged; the node goes on with its other Pods
            self._log.exception("removing the deleted Pod object failed")

    def _live(self) -> None:
        self._log.info("starting Pod (uid %s)", self.uid)
        self.publish()
        try:
            podchecks.check_pod(self._pod)
            self._plans = {plan.name: plan for plan in volumeplan.plan(self._pod)}
            stop = self._prepare_volumes()
        except errors.SpecError as error:
            self._fail(str(error))
            return
        if stop is None:
            self._sandbox_ready = True
            self.publish()
            stop = self._run_init_containers()
        if stop is None and all(record.succeeded for record in self._init):
            for record in self._main:
                record.wait(podstatus.CREATING)
            stop = self._run_containers()
        self._finish(stop)

    def _interruption(self) -> Stop | None:
        with self._lock:
            if self._shutdown:
                return Stop.SHUTDOWN
            if self._gone:
                return Stop.GONE
            if self._deletion:
                return Stop.DELETE
        if self._deadline is not None and _now() >= self._deadline:
            return Stop.DEADLINE
        return None

    def _pause(self, seconds: float) -> Stop | None:
        """Sleep up to seconds (less if the deadline comes first), waking early on news."""
        if self._deadline is not None:
            seconds = min(seconds, max((self._deadline - _now()).total_seconds(), 0.0) + 0.05)
        self._wake.wait(seconds)
        self._wake.clear()
        return self._interruption()

    def _prepare_volumes(self) -> Stop | None:
        delay, reported = 1.0, ""
        while (stop := self._interruption()) is None:
            try:
                self._prepared = self._ctx.volumes.prepare(
                    self._pod,
                    list(self._plans.values()),
                    fs_group=podchecks.fs_group(self._pod),
                    fs_group_on_mismatch=self._fs_group_on_mismatch(),
                    token_owner=self._token_owner(),
                )
                return None
            except errors.WaitingError as error:
                message = str(error)
                for record in [*self._init, *self._main]:
                    record.wait(record.waiting_reason, message)
                self.publish()
                if message != reported:
                    reported = message
                    self._log.info("waiting: %s", message)
                    self.event("FailedMount", message, warning=True)
                if (stop := self._pause(delay)) is not None:
                    return stop
                delay = min(delay * 2, 10.0)
        return stop

    def _fs_group_on_mismatch(self) -> bool:
        context = self._spec.get("securityContext") or {}
        return context.get("fsGroupChangePolicy") == "OnRootMismatch"

    def _token_owner(self) -> int | None:
        """The uid that owns projected tokens: the one non-root uid all containers share."""
        containers = [*(self._spec.get("initContainers") or []), *self._spec["containers"]]
        try:
            uids = {podchecks.identity(self._pod, c).uid for c in containers}
        except errors.SpecError:
            return None
        return uids.pop() if len(uids) == 1 and 0 not in uids else None

    def _run_init_containers(self) -> Stop | None:
        for container, record in zip(
            self._spec.get("initContainers") or [], self._init, strict=True
        ):
            runner = ContainerRunner(self, container, record, init=True)
            self._runners = [runner]
            runner.start()
            if (stop := self._wait_for([runner])) is not None:
                return stop
            if not record.succeeded:
                return None
        return None

    def _run_containers(self) -> Stop | None:
        runners = [
            ContainerRunner(self, container, record, init=False)
            for container, record in zip(self._spec["containers"], self._main, strict=True)
        ]
        self._runners = runners
        for runner in runners:
            runner.start()
        return self._wait_for(runners)

    def _wait_for(self, runners: list[ContainerRunner]) -> Stop | None:
        while not all(runner.done.is_set() for runner in runners):
            if (stop := self._pause(5.0)) is not None:
                return stop
            self._refresh_tokens()
        return None

    def _refresh_tokens(self) -> None:
        if self._prepared is None:
            return
        try:
            self._ctx.volumes.refresh_tokens(
                self._pod, self._prepared, fs_group=podchecks.fs_group(self._pod)
            )
        except Exception as error:  # noqa: BLE001 - the old token stays valid for a while
            self._log.warning("refreshing a service account token failed: %s", error)

    def _grace_seconds(self) -> float:
        pod = self.latest
        value = (pod.get("metadata") or {}).get("deletionGracePeriodSeconds")
        if value is None:
            value = self._spec.get("terminationGracePeriodSeconds")
        return float(DEFAULT_GRACE_SECONDS if value is None else value)

    def _finish(self, stop: Stop | None) -> None:
        if stop is Stop.SHUTDOWN:
            self._terminate(self._ctx.shutdown_grace, None)
            return
        if stop is Stop.GONE:
            self._terminate(min(self._grace_seconds(), GONE_GRACE_SECONDS), None)
            return
        if stop is Stop.DEADLINE:
            self._reason, self._message = podstatus.DEADLINE, DEADLINE_MESSAGE
            self._log.info("%s; stopping its containers", stop.value)
            self.event(podstatus.DEADLINE, DEADLINE_MESSAGE, warning=True)
            self._terminate(
                float(self._spec.get("terminationGracePeriodSeconds") or DEFAULT_GRACE_SECONDS),
                podstatus.DEADLINE,
            )
        elif stop is Stop.DELETE:
            self._log.info("%s; stopping its containers", stop.value)
            self._terminate(self._grace_seconds(), None)
        self._final = True
        for record in [*self._init, *self._main]:
            record.give_up()
        self.publish()
        self._log.info("Pod ended: %s", self._last_phase())
        if self.deletion_requested:
            self.remove_object()

    def _fail(self, message: str) -> None:
        """Report the Pod Failed because it cannot run: every unfinished container says why."""
        self._terminate(GONE_GRACE_SECONDS, None)
        now = _now()
        for record in [*self._init, *self._main]:
            if record.terminated is None:
                record.finish(128, podstatus.CONFIG_ERROR, message, now)
        self._reason, self._message = "UnsupportedPodSpec", message
        self._final = True
        self._log.warning("Pod cannot run: %s", message)
        self.event("Failed", message, warning=True)
        self.publish()
        if self.deletion_requested:
            self.remove_object()

    def _terminate(self, grace: float, reason: str | None) -> None:
        """SIGTERM every running container, SIGKILL what is left after grace seconds."""
        runners = self._runners
        if not runners:
            return
        running = [runner for runner in runners if not runner.done.is_set()]
        for runner in running:
            if runner.stop(reason):
                self.event("Killing", f"Stopping container {runner.name}")
        end = time.monotonic() + max(grace, 0.0)
        while time.monotonic() < end and not all(r.done.is_set() for r in runners):
            self._wake.wait(min(0.1, max(end - time.monotonic(), 0.0)))
            self._wake.clear()
        for runner in runners:
            if not runner.done.is_set():
                runner.kill()
        for runner in runners:
            runner.done.wait(KILL_WAIT_SECONDS)

    def remove_object(self) -> None:
        """Delete the Pod object for good (grace 0, same uid)."""
        if self.deleted_object:
            return
        delete_pod(self._ctx.kube, self.namespace, self.name, self.uid)
        self.deleted_object = True
        self._log.info("removed Pod object")

    # -- status --------------------------------------------------------------------------

    def _last_phase(self) -> str:
        return str((self._last_status or {}).get("phase", ""))

    def _phase(self) -> str:
        phase = podstatus.phase(self.policy, self._init, self._main, stopping=self._final)
        if self._final and phase not in podstatus.TERMINAL_PHASES:
            return podstatus.FAILED
        return phase

    def publish(self) -> None:
        """Write the Pod's status if it changed (no-op once the Pod object is gone)."""
        with self._status_lock:
            with self._lock:
                if self._gone or self._shutdown:
                    return
                pod = self._pod
            now = _now()
            phase = self._phase()
            present = {
                str(c.get("type")): str(c.get("status"))
                for c in ((pod.get("status") or {}).get("conditions") or [])
            }
            gates = [str(g.get("conditionType")) for g in self._spec.get("readinessGates") or []]
            rendered = podstatus.render_conditions(
                podstatus.conditions(
                    pod_phase=phase,
                    sandbox_ready=self._sandbox_ready,
                    init=self._init,
                    main=self._main,
                    readiness_gates=gates,
                    present=present,
                ),
                self._conditions,
                now,
            )
            status = podstatus.pod_status(
                pod_phase=phase,
                conditions=rendered,
                init=self._init,
                main=self._main,
                start_time=self._start_time,
                reason=self._reason,
                message=self._message,
            )
            if status == self._last_status:
                return
            try:
                kubeapi.retrying(
                    lambda: self._ctx.kube.request(
                        "PATCH",
                        kubeapi.path("api", "v1", "namespaces", self.namespace, "pods", self.name)
                        + "/status",
                        body={"status": status},
                        content_type=kubeapi.STRATEGIC,
                    ),
                    attempts=10 if self._final else 6,
                )
            except ApiException as error:
                if error.status == 404:
                    with self._lock:
                        self._gone = True
                    self._wake.set()
                    return
                self._log.warning("writing Pod status failed: %s", error.reason)
                return
            except Exception as error:  # noqa: BLE001 - the next change writes status again
                self._log.warning("writing Pod status failed: %s", error)
                return
            self._conditions = {str(c["type"]): c for c in rendered}
            self._last_status = status

    def event(self, reason: str, message: str, *, warning: bool = False) -> None:
        post_event(self._ctx, self.latest, reason, message, warning=warning)

    # -- building a container run ---------------------------------------------------------

    def build_launch(
        self, container: Mapping[str, Any], record: podstatus.ContainerRecord
    ) -> processes.Launch:
        """Everything to start one run of the container; WaitingError or SpecError if not."""
        if self._prepared is None:
            raise errors.WaitingError("volumes are not ready")
        pod, ctx, cname = self.latest, self._ctx, str(container.get("name", ""))
        identity = podchecks.identity(pod, container)
        objects = volumes.fetch_objects(
            ctx.kube, self.namespace, environment.referenced_objects(container)
        )
        base = {
            "PATH": ctx.host_path_env,
            "HOSTNAME": str(self._spec.get("hostname") or self.name),
            "HOME": _home(identity.uid),
        }
        env = environment.resolve(
            pod, container, objects, base=base, service=ctx.service, node=ctx.resources
        )
        argv = podchecks.command(container, env.expand)
        termination = ctx.paths.termination_file(self.uid, cname)
        marker = ctx.paths.started_marker(self.uid, cname)
        termination.parent.mkdir(parents=True, exist_ok=True)
        termination.write_bytes(b"")
        termination.chmod(0o666)  # whatever user the container runs as writes its message
        marker.unlink(missing_ok=True)
        mounts = volumeplan.container_mounts(
            container,
            self._plans,
            self._prepared.dirs,
            expand=env.expand,
            termination_file=str(termination),
        )
        fs_group = podchecks.fs_group(pod)
        for mount in mounts:
            source = pathlib.Path(mount.source)
            if mount.create_source and not source.exists():
                source.mkdir(parents=True, exist_ok=True)
                source.chmod(0o777)
                if fs_group is not None:
                    os.chown(source, -1, fs_group)
        setup = mountscript.script(
            mounts=mounts,
            working_dir=podchecks.working_dir(container),
            argv=argv,
            identity=identity,
            started_marker=str(marker),
            tools=ctx.tools,
            image_paths=ctx.image_paths,
        )
        return processes.Launch(
            argv=mountscript.launch_argv(setup, ctx.tools),
            env=env.process,
            log_file=ctx.paths.log_file(
                self.namespace, self.name, self.uid, cname, record.restart_count
            ),
            pid_file=ctx.paths.pid_file(self.uid, cname),
        )

    @property
    def paths(self) -> layout.Layout:
        return self._ctx.paths

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        return self._log


def _tail(path: pathlib.Path) -> bytes:
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - LOG_TAIL_READ_BYTES, 0))
            return handle.read()
    except OSError:
        return b""


class ContainerRunner:
    """Runs one container (again and again if the restart policy says so) in a thread."""

    def __init__(
        self,
        worker: PodWorker,
        container: Mapping[str, Any],
        record: podstatus.ContainerRecord,
        *,
        init: bool,
    ) -> None:
        self.name = str(container.get("name", ""))
        self.done = threading.Event()
        self._worker = worker
        self._container = container
        self._record = record
        self._init = init
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._process: Any = None
        self._stopping = False
        self._stop_reason: str | None = None
        self._thread = threading.Thread(
            target=self._guarded, name=f"container-{worker.name}-{self.name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, reason: str | None) -> bool:
        """No more runs; SIGTERM the running one. True when a process was signalled."""
        with self._lock:
            self._stopping, self._stop_reason = True, reason
            process = self._process
        self._wake.set()
        return process is not None and processes.signal_group(process.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the running process group."""
        with self._lock:
            self._stopping = True
            process = self._process
        self._wake.set()
        if process is not None:
            processes.signal_group(process.pid, signal.SIGKILL)

    def _guarded(self) -> None:
        try:
            self._run()
        except Exception as error:
            self._worker.log.exception("container %s failed to run", self.name)
            if self._record.terminated is None:
                self._record.finish(
                    128,
                    podstatus.START_ERROR,
                    f"the process node could not run the container: {error}",
                    _now(),
                )
            self._worker.publish()
        finally:
            self.done.set()
            self._worker.wake()

    def _stopped(self) -> bool:
        with self._lock:
            return self._stopping

    def _run(self) -> None:
        delay = 1.0
        while not self._stopped():
            try:
                launch = self._worker.build_launch(self._container, self._record)
            except errors.WaitingError as error:
                self._record.wait(podstatus.CONFIG_ERROR, str(error))
                self._worker.publish()
                self._wake.wait(delay)
                self._wake.clear()
                delay = min(delay * 2, 10.0)
                continue
            except errors.SpecError as error:
                self._record.finish(128, podstatus.CONFIG_ERROR, str(error), _now())
                self._worker.event("Failed", f"Error: {error}", warning=True)
                self._worker.publish()
                code: int | None = 128
            else:
                code = self._run_once(launch)
            if code is None or self._stopped():
                return
            if not podstatus.should_restart(self._worker.policy, code, init=self._init):
                return
            wait = podstatus.restart_delay(self._record.restart_count + 1)
            self._record.back_off(
                f"back-off {int(wait)}s restarting failed container={self.name} "
                f"pod={self._worker.name}_{self._worker.namespace}({self._worker.uid})"
            )
            self._worker.publish()
            self._wake.wait(wait)
            self._wake.clear()

    def _run_once(self, launch: processes.Launch) -> int | None:
        paths, uid = self._worker.paths, self._worker.uid
        with self._lock:
            if self._stopping:
                return None
            process = processes.start(launch)
            self._process = process
        marker = paths.started_marker(uid, self.name)
        # Running means the command was exec'd, as a runtime reports it: wait for the setup.
        end = time.monotonic() + SETUP_WAIT_SECONDS
        while process.poll() is None and not marker.exists() and time.monotonic() < end:
            time.sleep(0.01)
        if marker.exists():
            self._record.start(process.pid, _now())
        self._worker.log.info(
            "started container %s as pid %d (log %s)", self.name, process.pid, launch.log_file
        )
        self._worker.publish()
        self._worker.event("Started", f"Started container {self.name}")
        returncode = process.wait()
        # Whatever the container left running in its group ends with it, as in a cgroup.
        processes.signal_group(process.pid, signal.SIGKILL)
        with self._lock:
            self._process = None
            stop_reason = self._stop_reason
        code = processes.exit_code(returncode)
        log = _tail(launch.log_file)
        if not marker.exists():
            reason, code = podstatus.START_ERROR, mountscript.SETUP_FAILED_EXIT
            message = podstatus.log_tail(log).strip()
        else:
            reason = stop_reason if stop_reason and code != 0 else podstatus.exit_reason(code)
            try:
                content = paths.termination_file(uid, self.name).read_bytes()
            except OSError:
                content = b""
            message = podstatus.termination_message(
                content,
                log,
                policy=self._container.get("terminationMessagePolicy"),
                exit_code=code,
            )
        self._record.finish(code, reason, message, _now())
        self._worker.log.info("container %s exited with %d (%s)", self.name, code, reason)
        self._worker.publish()
        return code
