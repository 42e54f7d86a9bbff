"""The process node on the real control plane: Pods are scheduled to it, run as local
processes with their env and volumes, report status like a kubelet, and stop on deletion,
garbage collection and activeDeadlineSeconds."""

from __future__ import annotations

import json
import pathlib
import shlex
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from kubernetes import client, watch

from videodl_devkit import cluster as local

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

NODE = "videodl-node-1"
# Test-only mount paths: their mount points are left on the host as empty entries.
MOUNTS = "/mnt/videodl-e2e"
Json = dict[str, Any]


@pytest.fixture
def core(cluster: ClusterHandle) -> client.CoreV1Api:
    return client.CoreV1Api(cluster.api_client())


def apply(cluster: ClusterHandle, namespace: str, *objects: Json) -> None:
    """Create or update the objects in the namespace."""
    cluster.kubectl(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
    )


def read_pod(core: client.CoreV1Api, namespace: str, name: str) -> Json | None:
    """The Pod as JSON, or None once it is gone."""
    try:
        response = core.read_namespaced_pod(name, namespace, _preload_content=False)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise
    return json.loads(response.data)


def wait_for(
    core: client.CoreV1Api,
    namespace: str,
    name: str,
    condition: Callable[[Json | None], bool],
    *,
    timeout: float = 60.0,
) -> Json | None:
    """Poll the Pod until condition holds; fail with its last state otherwise."""
    end = time.monotonic() + timeout
    pod = read_pod(core, namespace, name)
    while not condition(pod):
        if time.monotonic() > end:
            pytest.fail(f"Pod {namespace}/{name} did not get there in {timeout}s: {pod}")
        time.sleep(0.3)
        pod = read_pod(core, namespace, name)
    return pod


def phase_is(*phases: str) -> Callable[[Json | None], bool]:
    return lambda pod: pod is not None and pod.get("status", {}).get("phase") in phases


def finished(core: client.CoreV1Api, namespace: str, name: str, timeout: float = 60.0) -> Json:
    """The Pod once it has Succeeded or Failed."""
    pod = wait_for(core, namespace, name, phase_is("Succeeded", "Failed"), timeout=timeout)
    assert pod is not None
    return pod


def terminated(pod: Json, index: int = 0) -> Json:
    """The terminated state of a container."""
    return pod["status"]["containerStatuses"][index]["state"]["terminated"]


def pod(
    name: str,
    command: list[str],
    *,
    restart: str = "Never",
    container: Json | None = None,
    **spec: Any,
) -> Json:
    """A Pod manifest with one container `main` running command."""
    main = {"name": "main", "image": "ignored.example/image:1", "command": command}
    main.update(container or {})
    body: Json = {"restartPolicy": restart, "containers": [main]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def python(script: str) -> list[str]:
    """A command that runs a Python script with this interpreter (venv included)."""
    return [sys.executable, "-c", textwrap.dedent(script)]


def pid_of(pod: Json) -> int:
    container_id = pod["status"]["containerStatuses"][0]["containerID"]
    assert container_id.startswith("process://")
    return int(container_id.removeprefix("process://"))


def process_gone(pid: int, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while pathlib.Path(f"/proc/{pid}").exists():
        if time.monotonic() > end:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture
def priority_class(cluster: ClusterHandle) -> Iterator[str]:
    """A PriorityClass for the test, removed afterwards."""
    name = f"videodl-test-{uuid.uuid4().hex[:8]}"
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": name},
                "value": 1000,
                "description": "process node test",
            }
        ),
    )
    yield name
    cluster.kubectl("delete", "priorityclass", name, "--ignore-not-found")


def test_scheduled_pod_succeeds_with_message_and_log(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api, priority_class: str
) -> None:
    """A Pod with a priorityClassName is bound by the scheduler, runs and reports like a kubelet."""
    apply(
        cluster,
        namespace,
        pod(
            "hello",
            ["sh", "-c", "echo hello from stdout; printf finished-ok > /dev/termination-log"],
            priorityClassName=priority_class,
        ),
    )
    done = finished(core, namespace, "hello")
    assert done["spec"]["nodeName"] == NODE
    assert done["spec"]["priority"] == 1000
    assert done["status"]["phase"] == "Succeeded"
    state = terminated(done)
    assert (state["exitCode"], state["reason"], state["message"]) == (0, "Completed", "finished-ok")
    assert state["startedAt"] <= state["finishedAt"]
    status = done["status"]
    assert (status["hostIP"], status["podIP"]) == ("127.0.0.1", "127.0.0.1")
    assert "startTime" in status
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["PodScheduled"]["status"] == "True"
    assert conditions["Initialized"]["status"] == "True"
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "PodCompleted"
    container = status["containerStatuses"][0]
    assert container["image"] == "ignored.example/image:1"
    assert container["containerID"].startswith("process://")
    assert (container["ready"], container["restartCount"]) == (False, 0)
    if cluster.storage_dir is not None:
        uid = done["metadata"]["uid"]
        log = cluster.storage_dir.parent / "logs" / f"{namespace}_hello_{uid}" / "main" / "0.log"
        assert log.read_text() == "hello from stdout\n"


def test_failing_command_reports_its_exit_code(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """A command that exits 3 leaves the Pod Failed with exit code 3 and reason Error."""
    apply(cluster, namespace, pod("fails", ["sh", "-c", "echo oops >&2; exit 3"]))
    done = finished(core, namespace, "fails")
    assert done["status"]["phase"] == "Failed"
    state = terminated(done)
    assert (state["exitCode"], state["reason"]) == (3, "Error")


def test_volume_over_the_agents_state_directory(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """An emptyDir at /tmp, which hides the agent's state under /tmp, still gets every mount;
    it holds nothing but the mount points of image paths under /tmp (a checkout there)."""
    under_tmp = sorted({p.split("/")[2] for p in local.image_paths() if p.startswith("/tmp/")})
    listing = "".join(f"{name}\n" for name in under_tmp)
    script = (
        f'test "$(ls -A /tmp; echo .)" = {shlex.quote(listing + ".")} && echo scratch > /tmp/x && '
        "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace > /dev/termination-log"
    )
    apply(
        cluster,
        namespace,
        pod(
            "scratch",
            ["sh", "-c", script],
            container={"volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]},
            volumes=[{"name": "tmp", "emptyDir": {}}],
        ),
    )
    done = finished(core, namespace, "scratch")
    state = terminated(done)
    assert (done["status"]["phase"], state["exitCode"]) == ("Succeeded", 0)
    assert state["message"] == namespace


def test_fallback_to_logs_on_error(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """With FallbackToLogsOnError a failing container's message is the end of its log."""
    apply(
        cluster,
        namespace,
        pod(
            "falls-back",
            ["sh", "-c", "echo first; echo last words >&2; exit 1"],
            container={"terminationMessagePolicy": "FallbackToLogsOnError"},
        ),
    )
    state = terminated(finished(core, namespace, "falls-back"))
    assert state["message"] == "first\nlast words\n"


def test_missing_command_fails_with_a_clear_message(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """A container without command fails, saying that images are not run."""
    manifest = pod("no-command", ["true"])
    del manifest["spec"]["containers"][0]["command"]
    manifest["spec"]["containers"][0]["args"] = ["--help"]
    apply(cluster, namespace, manifest)
    done = finished(core, namespace, "no-command")
    assert done["status"]["phase"] == "Failed"
    state = terminated(done)
    assert state["reason"] == "CreateContainerConfigError"
    assert "has no command" in state["message"]
    assert "set command" in state["message"]


def test_unknown_executable_is_a_start_error(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """A command that does not exist ends with StartError and exit code 128."""
    apply(cluster, namespace, pod("no-such-binary", ["/nonexistent/tool", "x"]))
    state = terminated(finished(core, namespace, "no-such-binary"))
    assert (state["exitCode"], state["reason"]) == (128, "StartError")
    assert "executable file not found" in state["message"]


def test_owner_deletion_garbage_collects_the_pod(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """Deleting the owner makes the garbage collector delete the Pod, and its process stops."""
    owner = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "owner"}, "data": {"role": "owner"}}
    )
    manifest = pod("owned", ["sleep", "3600"], terminationGracePeriodSeconds=20)
    manifest["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": "owner",
            "uid": owner.metadata.uid,
            "blockOwnerDeletion": True,
        }
    ]
    apply(cluster, namespace, manifest)
    running = wait_for(core, namespace, "owned", phase_is("Running"))
    assert running is not None
    pid = pid_of(running)
    core.delete_namespaced_config_map("owner", namespace, propagation_policy="Background")
    started = time.monotonic()
    wait_for(core, namespace, "owned", lambda p: p is None, timeout=60)
    # sleep dies on SIGTERM, so the Pod goes well before its 20 s grace period ends.
    assert time.monotonic() - started < 20
    if cluster.storage_dir is not None:
        assert process_gone(pid)


def test_claim_data_is_shared_by_later_pods(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """A Pod writes to a claim and a second Pod reads it; the volume goes with the claim."""
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    volume = {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}
    mount = {"volumeMounts": [{"name": "data", "mountPath": f"{MOUNTS}/data"}]}
    apply(cluster, namespace, claim)
    apply(
        cluster,
        namespace,
        pod(
            "writer",
            [
                "sh",
                "-c",
                f"mkdir -p {MOUNTS}/data/out && echo persisted-$(POD) > {MOUNTS}/data/out/file.txt",
            ],
            container={
                **mount,
                "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            },
            volumes=[volume],
        ),
    )
    assert finished(core, namespace, "writer")["status"]["phase"] == "Succeeded"
    apply(
        cluster,
        namespace,
        pod(
            "reader",
            ["sh", "-c", f"cat {MOUNTS}/data/out/file.txt > /dev/termination-log"],
            container={**mount, "securityContext": {"runAsUser": 1000}},
            volumes=[volume],
        ),
    )
    read = finished(core, namespace, "reader")
    assert read["status"]["phase"] == "Succeeded"
    assert terminated(read)["message"] == "persisted-writer\n"

    bound = json.loads(
        core.read_namespaced_persistent_volume_claim("data", namespace, _preload_content=False).data
    )
    assert bound["status"]["phase"] == "Bound"
    assert bound["spec"]["storageClassName"] == "videodl-local"
    pv_name = bound["spec"]["volumeName"]
    pv = json.loads(core.read_persistent_volume(pv_name, _preload_content=False).data)
    directory = pathlib.Path(pv["spec"]["local"]["path"])
    if cluster.storage_dir is not None:
        assert directory.parent == cluster.storage_dir
        assert (directory / "out" / "file.txt").read_text() == "persisted-writer\n"

    for name in ("writer", "reader"):
        core.delete_namespaced_pod(name, namespace)
    for name in ("writer", "reader"):
        wait_for(core, namespace, name, lambda p: p is None)
    core.delete_namespaced_persistent_volume_claim("data", namespace)
    end = time.monotonic() + 60
    while pv_name in {v.metadata.name for v in core.list_persistent_volume().items}:
        assert time.monotonic() < end, f"released volume {pv_name} was not deleted"
        time.sleep(0.5)
    if cluster.storage_dir is not None:
        assert not directory.exists()


def test_in_cluster_client_is_bound_by_its_role(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """A Pod's process lists its own Pod with its token and gets 403 beyond its Role."""
    cluster.kubectl("-n", namespace, "create", "serviceaccount", "lister")
    cluster.kubectl(
        "-n", namespace, "create", "role", "list-pods", "--verb=get,list", "--resource=pods"
    )
    cluster.kubectl(
        "-n",
        namespace,
        "create",
        "rolebinding",
        "lister",
        "--role=list-pods",
        f"--serviceaccount={namespace}:lister",
    )
    script = """
        import json, os, pathlib
        from kubernetes import client, config

        config.load_incluster_config()
        api = client.CoreV1Api()
        account = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount")
        namespace = (account / "namespace").read_text()
        names = [p.metadata.name for p in api.list_namespaced_pod(namespace).items]
        try:
            api.list_namespaced_secret(namespace)
            secrets = 200
        except client.ApiException as error:
            secrets = error.status
        result = {"pods": names, "secrets": secrets, "namespace": namespace, "uid": os.getuid()}
        pathlib.Path("/dev/termination-log").write_text(json.dumps(result))
    """
    apply(
        cluster,
        namespace,
        pod(
            "in-cluster",
            python(script),
            serviceAccountName="lister",
            container={
                "securityContext": {
                    "runAsUser": 1000,
                    "runAsNonRoot": True,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                }
            },
        ),
    )
    done = finished(core, namespace, "in-cluster")
    state = terminated(done)
    assert done["status"]["phase"] == "Succeeded", state
    result = json.loads(state["message"])
    assert result == {"pods": ["in-cluster"], "secrets": 403, "namespace": namespace, "uid": 1000}


def test_env_sources_reach_the_process(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """Literal, fieldRef, secretKeyRef, configMapKeyRef and envFrom values reach the process."""
    apply(
        cluster,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "stringData": {"password": "s3cret", "user": "ada"},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings"},
            "data": {"mode": "fast", "level": "3"},
        },
    )
    names = [
        "LITERAL", "EXPANDED", "POD_NAME", "POD_NAMESPACE", "POD_UID", "NODE", "ACCOUNT",
        "POD_IP", "PASSWORD", "MODE", "OPTIONAL", "CFG_level", "user",
        "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT",
    ]  # fmt: skip
    script = f"""
        import json, os, sys
        names = {names!r}
        values = {{n: os.environ.get(n) for n in names}}
        values["ARGV"] = sys.argv[1:]
        values["CWD"] = os.getcwd()
        open("/dev/termination-log", "w").write(json.dumps(values))
    """

    def field(path: str) -> Json:
        return {"valueFrom": {"fieldRef": {"fieldPath": path}}}

    env = [
        {"name": "LITERAL", "value": "plain"},
        {"name": "EXPANDED", "value": "$(LITERAL)-x"},
        {"name": "POD_NAME", **field("metadata.name")},
        {"name": "POD_NAMESPACE", **field("metadata.namespace")},
        {"name": "POD_UID", **field("metadata.uid")},
        {"name": "NODE", **field("spec.nodeName")},
        {"name": "ACCOUNT", **field("spec.serviceAccountName")},
        {"name": "POD_IP", **field("status.podIP")},
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
        {
            "name": "OPTIONAL",
            "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k", "optional": True}},
        },
    ]
    apply(
        cluster,
        namespace,
        pod(
            "env",
            [*python(script), "$(MODE)", "$$(MODE)"],
            container={
                "env": env,
                "envFrom": [
                    {"configMapRef": {"name": "settings"}, "prefix": "CFG_"},
                    {"secretRef": {"name": "creds"}},
                ],
                "workingDir": "/tmp",
            },
        ),
    )
    done = finished(core, namespace, "env")
    state = terminated(done)
    assert done["status"]["phase"] == "Succeeded", state
    values = json.loads(state["message"])
    assert values == {
        "LITERAL": "plain",
        "EXPANDED": "plain-x",
        "POD_NAME": "env",
        "POD_NAMESPACE": namespace,
        "POD_UID": done["metadata"]["uid"],
        "NODE": NODE,
        "ACCOUNT": "default",
        "POD_IP": "127.0.0.1",
        "PASSWORD": "s3cret",
        "MODE": "fast",
        "OPTIONAL": None,
        "CFG_level": "3",
        "user": "ada",
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(int(cluster.server.rsplit(":", 1)[1])),
        "ARGV": ["fast", "$(MODE)"],
        "CWD": "/tmp",
    }


def test_missing_secret_keeps_the_pod_waiting_until_it_exists(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """A Pod whose Secret does not exist yet waits with the reason, then runs once it appears."""
    apply(
        cluster,
        namespace,
        pod(
            "waits",
            ["sh", "-c", "printf %s $TOKEN > /dev/termination-log"],
            container={
                "env": [
                    {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "late", "key": "t"}}}
                ]
            },
        ),
    )

    def waiting_for_secret(pod: Json | None) -> bool:
        statuses = (pod or {}).get("status", {}).get("containerStatuses") or []
        waiting = statuses[0]["state"].get("waiting", {}) if statuses else {}
        return waiting.get("reason") == "CreateContainerConfigError"

    waiting = wait_for(core, namespace, "waits", waiting_for_secret)
    assert waiting is not None
    assert waiting["status"]["phase"] == "Pending"
    assert (
        'secret "late" not found'
        in waiting["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
    )
    apply(
        cluster,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "late"},
            "stringData": {"t": "now"},
        },
    )
    done = finished(core, namespace, "waits")
    assert terminated(done)["message"] == "now"


def test_file_volumes_and_init_containers(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """Init containers run first and share an emptyDir; Secret, ConfigMap and downward API files
    appear with their modes, read-only."""
    apply(
        cluster,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "keys"},
            "stringData": {"api": "k-1"},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "conf"},
            "data": {"a.conf": "A", "b.conf": "B"},
        },
    )
    script = """
        import json, os, stat
        def mode(path):
            return oct(stat.S_IMODE(os.stat(path).st_mode))
        try:
            open("{MOUNTS}/keys/new", "w")
            writable = True
        except OSError:
            writable = False
        result = {
            "init": open("{MOUNTS}/scratch/order").read(),
            "secret": open("{MOUNTS}/keys/api-key").read(),
            "secret_mode": mode("{MOUNTS}/keys/api-key"),
            "conf": sorted(os.listdir("{MOUNTS}/conf")),
            "single": open("{MOUNTS}/single.conf").read(),
            "labels": open("{MOUNTS}/info/labels").read(),
            "keys_writable": writable,
        }
        open("/dev/termination-log", "w").write(json.dumps(result))
    """
    manifest = pod(
        "files",
        python(script.replace("{MOUNTS}", MOUNTS)),
        container={
            "volumeMounts": [
                {"name": "scratch", "mountPath": f"{MOUNTS}/scratch"},
                {"name": "keys", "mountPath": f"{MOUNTS}/keys"},
                {"name": "conf", "mountPath": f"{MOUNTS}/conf"},
                {"name": "conf", "mountPath": f"{MOUNTS}/single.conf", "subPath": "b.conf"},
                {"name": "info", "mountPath": f"{MOUNTS}/info"},
            ]
        },
        initContainers=[
            {
                "name": f"init-{n}",
                "image": "ignored",
                "command": ["sh", "-c", f"echo {n} >> {MOUNTS}/scratch/order"],
                "volumeMounts": [{"name": "scratch", "mountPath": f"{MOUNTS}/scratch"}],
            }
            for n in (1, 2)
        ],
        volumes=[
            {"name": "scratch", "emptyDir": {}},
            {
                "name": "keys",
                "secret": {
                    "secretName": "keys",
                    "items": [{"key": "api", "path": "api-key", "mode": 0o400}],
                },
            },
            {"name": "conf", "configMap": {"name": "conf"}},
            {
                "name": "info",
                "downwardAPI": {
                    "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                },
            },
        ],
    )
    manifest["metadata"]["labels"] = {"app": "files"}
    apply(cluster, namespace, manifest)
    done = finished(core, namespace, "files")
    state = terminated(done)
    assert done["status"]["phase"] == "Succeeded", state
    assert json.loads(state["message"]) == {
        "init": "1\n2\n",
        "secret": "k-1",
        "secret_mode": "0o400",
        "conf": ["a.conf", "b.conf"],
        "single": "B",
        "labels": 'app="files"',
        "keys_writable": False,
    }
    inits = done["status"]["initContainerStatuses"]
    assert [s["state"]["terminated"]["exitCode"] for s in inits] == [0, 0]
    assert (
        inits[0]["state"]["terminated"]["finishedAt"]
        <= inits[1]["state"]["terminated"]["startedAt"]
    )


def test_on_failure_restarts_the_container(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """Under restartPolicy OnFailure a failed container runs again and the restart is counted."""
    apply(
        cluster,
        namespace,
        pod(
            "retries",
            [
                "sh",
                "-c",
                f"[ -e {MOUNTS}/scratch/tried ] && exit 0; touch {MOUNTS}/scratch/tried; exit 7",
            ],
            restart="OnFailure",
            container={"volumeMounts": [{"name": "scratch", "mountPath": f"{MOUNTS}/scratch"}]},
            volumes=[{"name": "scratch", "emptyDir": {}}],
        ),
    )
    done = finished(core, namespace, "retries", timeout=90)
    status = done["status"]["containerStatuses"][0]
    assert done["status"]["phase"] == "Succeeded"
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 7
    assert status["state"]["terminated"]["exitCode"] == 0


def test_active_deadline_kills_a_sleeping_pod(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """activeDeadlineSeconds stops a sleeping Pod: Failed with reason DeadlineExceeded."""
    apply(cluster, namespace, pod("sleeper", ["sleep", "600"], activeDeadlineSeconds=3))
    done = finished(core, namespace, "sleeper", timeout=60)
    status = done["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "DeadlineExceeded")
    assert "deadline" in status["message"]
    state = terminated(done)
    assert state["reason"] == "DeadlineExceeded"
    assert state["exitCode"] == 143
    if cluster.storage_dir is not None:
        assert process_gone(pid_of(done))


def deletion_outcome(
    core: client.CoreV1Api, namespace: str, name: str, grace: int
) -> tuple[Json, float]:
    """Delete a running Pod; return its last status before it disappeared and how long it took."""
    running = wait_for(core, namespace, name, phase_is("Running"))
    assert running is not None
    time.sleep(1)  # let the command install its signal handling
    stream = watch.Watch()
    last: Json = running
    started = time.monotonic()
    core.delete_namespaced_pod(name, namespace, grace_period_seconds=grace)
    for event in stream.stream(
        core.list_namespaced_pod,
        namespace,
        field_selector=f"metadata.name={name}",
        resource_version=running["metadata"]["resourceVersion"],
        timeout_seconds=60,
        deserialize=False,
    ):
        if event["type"] in ("MODIFIED", "DELETED"):
            last = event["object"]
        if event["type"] == "DELETED":
            stream.stop()
    return last, time.monotonic() - started


def test_deleting_a_running_pod_sends_sigterm(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """Deleting a running Pod SIGTERMs its process within the grace period; the Pod then goes."""
    script = """
        import signal, sys, time
        def stop(signum, frame):
            open("/dev/termination-log", "w").write("caught SIGTERM")
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
        print("ready", flush=True)
        time.sleep(600)
    """
    apply(cluster, namespace, pod("graceful", python(script)))
    last, took = deletion_outcome(core, namespace, "graceful", grace=30)
    state = terminated(last)
    assert (state["exitCode"], state["message"]) == (0, "caught SIGTERM")
    assert took < 30


def test_ignoring_sigterm_gets_sigkill_after_the_grace_period(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """A process that ignores SIGTERM is killed when the grace period ends (exit code 137)."""
    apply(
        cluster,
        namespace,
        pod("stubborn", ["sh", "-c", "trap '' TERM; sleep 600 & wait; sleep 600"]),
    )
    last, took = deletion_outcome(core, namespace, "stubborn", grace=3)
    assert terminated(last)["exitCode"] == 137
    assert took >= 3


def test_node_is_ready_with_a_fresh_lease(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    """The node is Ready, untainted, with its capacity, and renews its Lease."""
    node = json.loads(core.read_node(NODE, _preload_content=False).data)
    conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    assert not node["spec"].get("taints")
    assert {"cpu", "memory", "pods"} <= set(node["status"]["allocatable"])
    assert {"type": "InternalIP", "address": "127.0.0.1"} in node["status"]["addresses"]
    leases = client.CoordinationV1Api(core.api_client)

    def renew_time() -> str:
        lease = json.loads(
            leases.read_namespaced_lease(NODE, "kube-node-lease", _preload_content=False).data
        )
        assert lease["spec"]["holderIdentity"] == NODE
        assert lease["spec"]["leaseDurationSeconds"] == 40
        return str(lease["spec"]["renewTime"])

    first = renew_time()
    end = time.monotonic() + 25
    while renew_time() == first:
        assert time.monotonic() < end, "the Lease was not renewed within 25 s"
        time.sleep(1)


def test_pod_processes_run_in_a_private_mount_namespace(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api
) -> None:
    """Mounts are only visible to the Pod's process; the host keeps its own view."""
    target = f"/tmp/videodl-pn-{uuid.uuid4().hex[:8]}"
    apply(
        cluster,
        namespace,
        pod(
            "private",
            ["sh", "-c", f"echo inside > {target}/file; sleep 600"],
            container={"volumeMounts": [{"name": "scratch", "mountPath": target}]},
            volumes=[{"name": "scratch", "emptyDir": {}}],
        ),
    )
    wait_for(core, namespace, "private", phase_is("Running"))
    if cluster.storage_dir is not None:
        # The mount point exists on the host as an empty directory; the file is in the volume.
        time.sleep(0.5)
        assert list(pathlib.Path(target).iterdir()) == []
    core.delete_namespaced_pod("private", namespace, grace_period_seconds=1)
    wait_for(core, namespace, "private", lambda p: p is None)
    if cluster.storage_dir is not None:
        pathlib.Path(target).rmdir()


def group_members(pgid: int) -> list[int]:
    """Pids of live processes in a process group."""
    members = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, what
        time.sleep(0.2)


def test_agent_restart_and_shutdown_leave_no_process_behind(
    cluster: ClusterHandle, namespace: str, core: client.CoreV1Api, tmp_path: pathlib.Path
) -> None:
    """A second node agent: killed, its Pods' processes die; restarted, it fails lost Pods and
    removes Pods deleted meanwhile; stopped with SIGTERM, it ends every process it started."""
    suffix = uuid.uuid4().hex[:6]
    node, storage_class = f"videodl-restart-{suffix}", f"videodl-restart-{suffix}"
    argv = [
        sys.executable, "-m", "videodl_devkit.processnode",
        f"--kubeconfig={cluster.kubeconfig}", f"--node-name={node}",
        f"--state-dir={tmp_path / 'state'}", f"--storage-class={storage_class}",
        "--cpu=2", "--memory=1Gi", "--pods=10",
    ]  # fmt: skip
    log = (tmp_path / "agent.log").open("ab")

    def start_agent() -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)

    def node_ready() -> bool:
        try:
            body = json.loads(core.read_node(node, _preload_content=False).data)
        except client.ApiException:
            return False
        return any(
            c["type"] == "Ready" and c["status"] == "True" for c in body["status"]["conditions"]
        )

    agent = start_agent()
    try:
        wait_until(node_ready, f"node {node} did not become Ready")
        node_body = json.loads(core.read_node(node, _preload_content=False).data)
        assert node_body["status"]["capacity"]["cpu"] == "2"
        assert node_body["status"]["capacity"]["pods"] == "10"
        # Keep the scheduler away: these Pods name the node directly.
        cluster.kubectl("taint", "node", node, "videodl.dev/test=restart:NoSchedule")
        for name, command in (
            ("survivor", ["sleep", "600"]),
            ("doomed", ["sleep", "600"]),
            ("forks", ["sh", "-c", "sleep 600 & wait"]),
        ):
            apply(cluster, namespace, pod(name, command, nodeName=node))
        pids = {
            name: pid_of(wait_for(core, namespace, name, phase_is("Running")) or {})
            for name in ("survivor", "doomed", "forks")
        }
        wait_until(lambda: len(group_members(pids["forks"])) == 2, "forks did not fork")

        agent.kill()
        agent.wait(10)
        # The commands die with the agent; a forked child is left until the next start.
        wait_until(lambda: not pathlib.Path(f"/proc/{pids['survivor']}").exists(), "orphan")
        assert group_members(pids["forks"]) != []
        core.delete_namespaced_pod("doomed", namespace)

        agent = start_agent()
        wait_until(lambda: group_members(pids["forks"]) == [], "leftover group not killed")
        lost = wait_for(core, namespace, "survivor", phase_is("Failed"))
        assert lost is not None
        assert lost["status"]["reason"] == "NodeRestarted"
        assert terminated(lost)["reason"] == "ContainerStatusUnknown"
        wait_for(core, namespace, "doomed", lambda p: p is None)

        apply(cluster, namespace, pod("fresh", ["sh", "-c", "sleep 600 & wait"], nodeName=node))
        fresh = pid_of(wait_for(core, namespace, "fresh", phase_is("Running")) or {})
        wait_until(lambda: len(group_members(fresh)) == 2, "fresh did not fork")
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(30) == 0
        assert group_members(fresh) == []
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(10)
        log.close()
        # Nothing runs these Pods any more; remove them so the namespace can go.
        cluster.kubectl(
            "-n", namespace, "delete", "pods", "--all", "--force", "--grace-period=0", check=False
        )
        cluster.kubectl("delete", "node", node, "--ignore-not-found", "--wait=false")
        cluster.kubectl("delete", "storageclass", storage_class, "--ignore-not-found")
