"""The operator test bed shared by the end-to-end tests: a namespace prepared for downloads,
the operator as a child process, and a history of every change the tests can assert on."""

from __future__ import annotations

import contextlib
import json
import pathlib
import tempfile
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from kubernetes import client, watch

from videodl.api import resource
from videodl.reconcile.download import naming
from videodl_devkit import testing

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

REPO = pathlib.Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / f"{resource.GROUP}_{resource.PLURAL}.yaml"
MEDIA_CACHE = pathlib.Path(tempfile.gettempdir()) / "videodl-test-media"
CLAIM = "media"
# The process node runs containers on the host's file system, where the cluster's own files
# may live under /tmp; an emptyDir mounted at /tmp would hide them from the container.
SCRATCH = "/scratch"
Json = dict[str, Any]


# --- watching what happens -----------------------------------------------------------------


class History:
    """Every VideoDownload and Pod change in a namespace, recorded by two watches with the
    wall-clock time each change arrived."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self._objects = client.CustomObjectsApi(api)
        self._core = client.CoreV1Api(api)
        self._namespace = namespace
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._watches: list[watch.Watch] = []
        self.downloads: list[tuple[float, str, Json]] = []
        self.pods: list[tuple[float, str, Json]] = []
        self._threads = [
            threading.Thread(
                target=self._run, args=(self._list_downloads, self.downloads), daemon=True
            ),
            threading.Thread(target=self._run, args=(self._list_pods, self.pods), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _list_downloads(self, **kwargs: Any) -> Any:
        return self._objects.list_namespaced_custom_object(
            resource.GROUP, resource.VERSION, self._namespace, resource.PLURAL, **kwargs
        )

    def _list_pods(self, **kwargs: Any) -> Any:
        return self._core.list_namespaced_pod(self._namespace, **kwargs)

    def _run(self, lister: Callable[..., Any], sink: list[tuple[float, str, Json]]) -> None:
        version = None
        while not self._stopped.is_set():
            stream = watch.Watch()
            self._watches.append(stream)
            try:
                kwargs: Json = {"timeout_seconds": 30, "allow_watch_bookmarks": False}
                if version:
                    kwargs["resource_version"] = version
                for event in stream.stream(lister, **kwargs):
                    obj = event["object"]
                    if not isinstance(obj, dict):
                        obj = self._core.api_client.sanitize_for_serialization(obj)
                    version = obj.get("metadata", {}).get("resourceVersion", version)
                    with self._lock:
                        sink.append((time.time(), event["type"], obj))
                    if self._stopped.is_set():
                        break
            except Exception:  # noqa: BLE001 - a broken watch is restarted from scratch
                version = None
                time.sleep(0.2)

    def stop(self) -> None:
        self._stopped.set()
        for stream in self._watches:
            stream.stop()
        for thread in self._threads:
            thread.join(timeout=35)

    def states(self, name: str) -> list[tuple[float, Json]]:
        with self._lock:
            return [(t, o) for t, _, o in self.downloads if o["metadata"]["name"] == name]

    def phases(self, name: str) -> list[str]:
        """Phases of ``name`` in order, each change once."""
        seen: list[str] = []
        for _, obj in self.states(name):
            phase = (obj.get("status") or {}).get("phase")
            if phase and (not seen or seen[-1] != phase):
                seen.append(phase)
        return seen

    def first_time(self, name: str, phase: str) -> float | None:
        return next(
            (t for t, o in self.states(name) if (o.get("status") or {}).get("phase") == phase), None
        )

    def pod_names(self, component: str = naming.COMPONENT_WORKER) -> dict[str, Json]:
        """Every Pod ever seen, by name, as last seen."""
        with self._lock:
            found: dict[str, Json] = {}
            for _, _, obj in self.pods:
                labels = obj["metadata"].get("labels") or {}
                if labels.get(naming.LABEL_COMPONENT) == component:
                    found[obj["metadata"]["name"]] = obj
            return found


# --- the test bed --------------------------------------------------------------------------


class Bed:
    """One namespace prepared for downloads, plus the operator and a history."""

    def __init__(self, cluster: ClusterHandle, namespace: str, log_dir: pathlib.Path) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.log_dir = log_dir
        self.api = cluster.api_client()
        self.objects = client.CustomObjectsApi(self.api)
        self.core = client.CoreV1Api(self.api)
        self.operator: testing.OperatorProcess | None = None
        self.history = History(self.api, namespace)

    def start_operator(self, *args: str) -> testing.OperatorProcess:
        process = testing.OperatorProcess(
            kubeconfig=self.cluster.kubeconfig,
            log_path=self.log_dir / "operator.log",
            args=[
                f"--namespaces={self.namespace}",
                f"--instance={self.namespace[:63]}",
                "--progress-interval-seconds=0.5",
                "--admission-interval-seconds=0.5",
                f"--worker-scratch-dir={SCRATCH}",
                f"--breaker-namespace={self.namespace}",
                *args,
            ],
        )
        process.start()
        self.operator = process
        return process

    def apply(self, *objects: Json) -> None:
        document = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
        self.cluster.kubectl("-n", self.namespace, "apply", "-f", "-", input=json.dumps(document))

    def create(self, name: str, spec: Json, **metadata: Any) -> None:
        self.apply(
            {
                "apiVersion": resource.API_VERSION,
                "kind": resource.KIND,
                "metadata": {"name": name, **metadata},
                "spec": {"output": {"persistentVolumeClaim": {"claimName": CLAIM}}, **spec},
            }
        )

    def get(self, name: str) -> Json:
        found: Json = self.objects.get_namespaced_custom_object(
            resource.GROUP, resource.VERSION, self.namespace, resource.PLURAL, name
        )
        return found

    def list_downloads(self) -> list[Json]:
        found = self.objects.list_namespaced_custom_object(
            resource.GROUP, resource.VERSION, self.namespace, resource.PLURAL
        )
        items: list[Json] = found["items"]
        return items

    def patch_spec(self, name: str, spec: Json) -> None:
        self.objects.patch_namespaced_custom_object(
            resource.GROUP, resource.VERSION, self.namespace, resource.PLURAL, name, {"spec": spec}
        )

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(client.ApiException):
                value = check()
                if value:
                    return value
            if time.monotonic() > deadline:
                tail = self.operator.tail() if self.operator else ""
                pytest.fail(f"timed out waiting for {what}\n--- operator log ---\n{tail}")
            time.sleep(0.2)

    def wait_phase(self, name: str, phase: str, timeout: float = 120.0) -> Json:
        def reached() -> Json | None:
            obj = self.get(name)
            return obj if (obj.get("status") or {}).get("phase") == phase else None

        result: Json = self.wait(f"{name} to be {phase}", reached, timeout)
        return result

    def worker_pods(self, name: str) -> list[Json]:
        selector = f"{naming.LABEL_DOWNLOAD}={name},{naming.LABEL_COMPONENT}=worker"
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=selector)
        return [self.api.sanitize_for_serialization(p) for p in pods.items]

    def claim_dir(self) -> pathlib.Path:
        assert self.cluster.storage_dir is not None, "needs the local cluster's storage"
        bound = self.core.read_namespaced_persistent_volume_claim(CLAIM, self.namespace)
        volume = self.core.read_persistent_volume(bound.spec.volume_name)
        return pathlib.Path(volume.spec.local.path)

    def event_reasons(self, name: str) -> list[str]:
        events = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        )
        ordered = sorted(
            events.items, key=lambda e: (e.first_timestamp or e.event_time, e.metadata.name)
        )
        return [e.reason for e in ordered]

    def close(self) -> None:
        if self.operator is not None:
            print("--- operator log ---\n" + self.operator.tail(200))
            self.operator.close()
        self.history.stop()
