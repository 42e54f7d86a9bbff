"""The worker as a Pod on the process node: result in the termination message, progress in
the VideoDownload's status, with a service account that may only patch ``videodownloads/status``.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from kubernetes import client

from videodl.api import resource
from videodl.api.spec import VideoDownloadSpec
from videodl.workerapi import environment, termination
from videodl.workerapi.exitcodes import ExitCode
from videodl_devkit import testing
from videodl_devkit.mediaserver import MediaServer

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

REPO = pathlib.Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / f"{resource.GROUP}_{resource.PLURAL}.yaml"
MEDIA_CACHE = pathlib.Path(tempfile.gettempdir()) / "videodl-test-media"
ACCOUNT = "videodl-worker"
# The worker's scratch space: an emptyDir at /tmp, as in the image (read-only root).
SCRATCH = environment.DEFAULT_TMP_DIR
Json = dict[str, Any]


@pytest.fixture(scope="module")
def crd(cluster: ClusterHandle) -> None:
    """The VideoDownload CRD from crds/, applied (idempotently) and Established."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRD_FILE))
    cluster.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", f"crd/{resource.CRD_NAME}"
    )


@pytest.fixture
def media_server() -> Iterator[MediaServer]:
    with MediaServer(MEDIA_CACHE) as server:
        yield server


def apply(cluster: ClusterHandle, namespace: str, *objects: Json) -> None:
    cluster.kubectl(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}),
    )


def worker_access(namespace: str) -> list[Json]:
    """The worker's service account, allowed nothing but patching VideoDownload status."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": ACCOUNT}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": ACCOUNT},
            "rules": [
                {
                    "apiGroups": [resource.GROUP],
                    "resources": [f"{resource.PLURAL}/status"],
                    "verbs": ["patch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": ACCOUNT},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ACCOUNT},
            "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": namespace}],
        },
    ]


def claim(name: str) -> Json:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


def video_download(name: str, spec: Json) -> Json:
    return {
        "apiVersion": resource.API_VERSION,
        "kind": resource.KIND,
        "metadata": {"name": name},
        "spec": spec,
    }


def worker_pod(name: str, download: str, spec: Json, sub_path: str) -> Json:
    """A worker Pod as the operator builds it: env contract, claim at /data, an emptyDir."""
    encoded = environment.encode_spec(VideoDownloadSpec.model_validate(spec))
    env = [
        {"name": environment.SPEC, "value": encoded},
        {"name": environment.NAME, "value": download},
        {
            "name": environment.NAMESPACE,
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        },
        {"name": environment.ATTEMPT, "value": "1"},
        {"name": environment.OUTPUT_DIR, "value": environment.DEFAULT_OUTPUT_DIR},
        {"name": environment.TMP_DIR, "value": SCRATCH},
        {"name": environment.PROGRESS_INTERVAL_SECONDS, "value": "0.5"},
        {"name": environment.ALLOWED_NETWORKS, "value": testing.LOOPBACK_NETWORKS},
        {"name": "HOME", "value": SCRATCH},
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "serviceAccountName": ACCOUNT,
            "securityContext": {"runAsUser": 65532, "runAsGroup": 65532, "runAsNonRoot": True},
            "containers": [
                {
                    "name": "worker",
                    "image": "ghcr.io/videodl/worker:0.1.0",
                    "command": [sys.executable, "-m", "videodl.worker"],
                    "env": env,
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "volumeMounts": [
                        {"name": "data", "mountPath": "/data", "subPath": sub_path},
                        {"name": "tmp", "mountPath": SCRATCH},
                    ],
                }
            ],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "downloads"}},
                {"name": "tmp", "emptyDir": {}},
            ],
        },
    }


def read_object(objects: client.CustomObjectsApi, namespace: str, name: str) -> Json:
    found: Json = objects.get_namespaced_custom_object(
        resource.GROUP, resource.VERSION, namespace, resource.PLURAL, name
    )
    return found


def watch_until_finished(
    core: client.CoreV1Api,
    objects: client.CustomObjectsApi,
    namespace: str,
    *,
    pod: str,
    download: str,
    timeout: float = 180,
) -> tuple[Json, list[Json]]:
    """Poll the Pod to its end, recording every distinct status.progress seen on the way."""
    seen: list[Json] = []
    deadline = time.monotonic() + timeout
    while True:
        progress = read_object(objects, namespace, download).get("status", {}).get("progress")
        if progress and (not seen or seen[-1] != progress):
            seen.append(progress)
        body = json.loads(core.read_namespaced_pod(pod, namespace, _preload_content=False).data)
        if body.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            progress = read_object(objects, namespace, download).get("status", {}).get("progress")
            if progress and seen[-1:] != [progress]:
                seen.append(progress)
            return body, seen
        assert time.monotonic() < deadline, f"worker Pod did not finish: {body.get('status')}"
        time.sleep(0.1)


def terminated(pod: Json) -> Json:
    state: Json = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    return state


@pytest.mark.usefixtures("crd")
class TestWorkerPod:
    def test_download_reports_result_and_progress(
        self, cluster: ClusterHandle, namespace: str, media_server: MediaServer
    ) -> None:
        """The Pod downloads into the claim, ends with the result, and patched progress."""
        api = cluster.api_client()
        core, objects = client.CoreV1Api(api), client.CustomObjectsApi(api)
        source = media_server.library.video
        size = source.stat().st_size
        # Served at about a third of the file per second, so progress has time to show.
        spec = {
            "url": media_server.url(f"/media/video.mp4?rate={size // 3}"),
            "output": {"persistentVolumeClaim": {"claimName": "downloads"}, "subPath": "videos"},
        }
        apply(cluster, namespace, *worker_access(namespace), claim("downloads"))
        apply(cluster, namespace, video_download("clip", spec))
        apply(cluster, namespace, worker_pod("clip-attempt-1", "clip", spec, "videos"))

        pod, progress = watch_until_finished(
            core, objects, namespace, pod="clip-attempt-1", download="clip"
        )

        state = terminated(pod)
        assert state["exitCode"] == ExitCode.SUCCEEDED, state
        message = termination.parse(state["message"])
        assert isinstance(message, termination.SuccessMessage)
        (entry,) = message.files
        assert entry.path == "videos/video [video].mp4"
        assert entry.size_bytes == size
        assert entry.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()

        assert progress, "the worker never patched status.progress"
        assert progress[-1]["percent"] == 100.0
        assert progress[-1]["stage"] == "PostProcessing"
        percents = [p.get("percent") or 0.0 for p in progress]
        assert percents == sorted(percents)
        assert len(progress) >= 2, progress
        assert all("updateTime" in p for p in progress)

        if cluster.storage_dir is not None:
            bound = core.read_namespaced_persistent_volume_claim("downloads", namespace)
            volume = core.read_persistent_volume(bound.spec.volume_name)
            written = pathlib.Path(volume.spec.local.path) / entry.path
            assert written.read_bytes() == source.read_bytes()

    def test_failure_is_classified_in_the_termination_message(
        self, cluster: ClusterHandle, namespace: str, media_server: MediaServer
    ) -> None:
        """A throttled site ends the Pod with the Throttled exit code and a matching message."""
        api = cluster.api_client()
        core, objects = client.CoreV1Api(api), client.CustomObjectsApi(api)
        spec = {
            "url": media_server.url("/status/429/clip.mp4"),
            "output": {"persistentVolumeClaim": {"claimName": "downloads"}},
        }
        apply(cluster, namespace, *worker_access(namespace), claim("downloads"))
        apply(cluster, namespace, video_download("busy", spec))
        apply(cluster, namespace, worker_pod("busy-attempt-1", "busy", spec, ""))

        pod, progress = watch_until_finished(
            core, objects, namespace, pod="busy-attempt-1", download="busy"
        )

        state = terminated(pod)
        assert state["exitCode"] == ExitCode.THROTTLED, state
        message = termination.parse(state["message"])
        assert isinstance(message, termination.FailureMessage)
        assert (message.failure_class, message.reason) == ("Throttled", "HTTPError429")
        assert progress[0]["stage"] == "Extracting"
