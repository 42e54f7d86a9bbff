"""The operator end to end: real control plane, process node, real worker with yt-dlp and
ffmpeg against the local media server, the operator as a child process.

Each test gets its own namespace (with PodSecurity ``restricted`` enforced), the worker's
ServiceAccount and Role, a claim, and an operator watching only that namespace.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from kubernetes import client
from tests.e2e.operatorbed import CLAIM, CRD_FILE, MEDIA_CACHE, Bed, Json

from videodl.api import resource
from videodl.api.playlist_crd import CRD_NAME as PLAYLIST_CRD_NAME
from videodl.api.subscription_crd import CRD_NAME as SUBSCRIPTION_CRD_NAME
from videodl.core.times import parse_time
from videodl.reconcile.download import naming
from videodl_devkit import testing
from videodl_devkit.mediaserver import MediaServer

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle


@pytest.fixture(scope="module")
def installed(cluster: ClusterHandle) -> None:
    """Every CRD from crds/ and the five PriorityClasses, applied idempotently."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRD_FILE.parent))
    cluster.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", f"crd/{resource.CRD_NAME}"
    )
    for crd in (PLAYLIST_CRD_NAME, SUBSCRIPTION_CRD_NAME):
        cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{crd}")
    document = {"apiVersion": "v1", "kind": "List", "items": testing.priority_classes()}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(document))


@pytest.fixture(scope="module")
def media() -> Iterator[MediaServer]:
    with MediaServer(MEDIA_CACHE) as server:
        yield server


@pytest.fixture
def bed(
    cluster: ClusterHandle, namespace: str, installed: None, tmp_path: pathlib.Path
) -> Iterator[Bed]:
    """A namespace enforcing PodSecurity restricted, with worker access, a claim, a history."""
    cluster.kubectl(
        "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    testbed = Bed(cluster, namespace, tmp_path)
    testbed.apply(*testing.worker_rbac(namespace), testing.volume_claim(CLAIM))
    try:
        yield testbed
    finally:
        testbed.close()


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def condition(obj: Json, kind: str) -> Json:
    return next(c for c in obj["status"]["conditions"] if c["type"] == kind)


def slow_url(media: MediaServer, seconds: float = 6.0) -> tuple[str, str]:
    """A URL of the test video under a name of its own (its requests are this test's),
    served slowly enough that a download takes about ``seconds``; and its path."""
    size = media.library.video.stat().st_size
    path = f"/named/{uuid.uuid4().hex[:12]}.mp4"
    return media.url(f"{path}?rate={max(int(size / seconds), 1024)}"), path


# --- the tests -----------------------------------------------------------------------------


class TestHappyPath:
    def test_download_succeeds_with_result_progress_and_conditions(
        self, bed: Bed, media: MediaServer
    ) -> None:
        """Running (admitted at once, in one write), then Succeeded; the file is in the claim;
        kubectl wait returns."""
        bed.start_operator()
        bed.create(
            "clip",
            {
                "url": media.url("/media/video.mp4"),
                "output": {"persistentVolumeClaim": {"claimName": CLAIM}, "subPath": "videos"},
            },
        )

        waited = bed.cluster.kubectl(
            "-n",
            bed.namespace,
            "wait",
            "--for=condition=Ready",
            "vdl/clip",
            "--timeout=180s",
            check=False,
        )
        assert waited.returncode == 0, waited.stderr + (bed.operator.tail() if bed.operator else "")

        obj = bed.get("clip")
        status = obj["status"]
        assert bed.history.phases("clip") == ["Running", "Succeeded"]
        assert status["attempts"] == 1
        assert status["observedGeneration"] == obj["metadata"]["generation"]
        assert parse_time(status["completionTime"]) >= parse_time(status["startTime"])  # type: ignore[operator]
        assert condition(obj, "Ready")["status"] == "True"
        assert condition(obj, "Reconciling")["status"] == "False"
        assert condition(obj, "Stalled")["status"] == "False"
        assert all(
            c["observedGeneration"] == obj["metadata"]["generation"] for c in status["conditions"]
        )

        source = media.library.video
        (entry,) = status["result"]["files"]
        assert entry["path"] == "videos/video [video].mp4"
        assert entry["sizeBytes"] == source.stat().st_size
        written = bed.claim_dir() / entry["path"]
        assert sha256(written) == sha256(source) == entry["sha256"]
        assert status["result"]["extractor"] == "generic"

        progress = status["progress"]
        assert progress["percent"] == 100
        assert progress["downloadedBytes"] == progress["totalBytes"] == source.stat().st_size

        (pod,) = bed.worker_pods("clip")
        assert pod["metadata"]["name"] == status["workerPod"]
        assert pod["spec"]["priorityClassName"] == "videodl-normal"
        assert pod["metadata"]["ownerReferences"][0]["uid"] == obj["metadata"]["uid"]
        assert pod["metadata"]["labels"][naming.LABEL_ATTEMPT] == "1"
        # Two Events tell a download's life: Started and Succeeded (in any order within a
        # second); waiting for a slot posts none.
        reasons = bed.event_reasons("clip")
        assert sorted(reasons) == ["Started", "Succeeded"]

    def test_metrics_endpoint_passes_promtool(self, bed: Bed, media: MediaServer) -> None:
        """/metrics counts the finished download and passes promtool check metrics."""
        operator = bed.start_operator()
        bed.create("clip", {"url": media.url("/media/video.mp4")})
        bed.wait_phase("clip", "Succeeded")

        def counted() -> str | None:
            text = operator.scrape()
            line = 'videodl_downloads_total{failure_class="none",result="succeeded"} 1.0'
            return text if line in text else None

        text = bed.wait("the success to be counted", counted, timeout=30)
        assert "videodl_attempts_total 1.0" in text
        assert 'videodl_queue_depth{priority="Critical"} 0.0' in text
        checked = subprocess.run(
            ["promtool", "check", "metrics"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        with urllib.request.urlopen(f"{operator.url}/healthz", timeout=10) as health:
            assert health.status == 200


class TestPodContents:
    def test_cookies_secret_reaches_the_site(self, bed: Bed, media: MediaServer) -> None:
        """The cookies Secret key is mounted read-only into the worker and sent to the site."""
        bed.start_operator()
        cookies = (
            "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tsession\tjar42\n"
        )
        bed.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "site-login"},
                "stringData": {"jar": cookies},
            }
        )
        path = f"/named/{uuid.uuid4().hex[:8]}.mp4"
        bed.create(
            "private",
            {
                "url": media.url(path),
                "cookies": {"secretRef": {"name": "site-login", "key": "jar"}},
            },
        )
        bed.wait_phase("private", "Succeeded")
        sent = [r.cookie for r in media.requests(path)]
        assert sent, "the site was never asked"
        assert all(c is not None and "session=jar42" in c for c in sent), sent
        (pod,) = bed.worker_pods("private")
        mounts = pod["spec"]["containers"][0]["volumeMounts"]
        assert {
            "name": "cookies",
            "mountPath": "/var/run/videodl/cookies",
            "readOnly": True,
        } in mounts

    def test_ttl_after_finished_deletes_the_object(self, bed: Bed) -> None:
        """ttlSecondsAfterFinished removes a finished download that long after it finished."""
        bed.start_operator(f"--worker-command={testing.instant_worker_command()}")
        bed.create("brief", {"url": "https://media.example/brief", "ttlSecondsAfterFinished": 2})
        done = bed.wait_phase("brief", "Succeeded", timeout=60)
        finished = parse_time(done["status"]["completionTime"])
        assert finished is not None

        def gone() -> bool:
            try:
                bed.get("brief")
            except client.ApiException as exc:
                return exc.status == 404
            return False

        bed.wait("the finished download to be deleted", gone, timeout=60)
        assert time.time() >= finished.timestamp() + 2


class TestAdmission:
    def test_limit_of_one_runs_critical_next_then_creation_order(self, bed: Bed) -> None:
        """With one slot, a Critical download created last starts next; the rest in order."""
        bed.start_operator(
            "--max-running=1", f"--worker-command={testing.instant_worker_command(0.5)}"
        )
        normal = [f"n{index:02d}" for index in range(20)]
        bed.apply(
            *(
                {
                    "apiVersion": resource.API_VERSION,
                    "kind": resource.KIND,
                    "metadata": {"name": name},
                    "spec": {
                        "url": f"https://media.example/{name}",
                        "output": {"persistentVolumeClaim": {"claimName": CLAIM}},
                    },
                }
                for name in normal
            )
        )
        bed.wait_phase("n00", "Running", timeout=60)
        bed.create("urgent", {"url": "https://media.example/urgent", "priority": "Critical"})
        for name in [*normal, "urgent"]:
            bed.wait_phase(name, "Succeeded", timeout=240)

        started = sorted(
            [*normal, "urgent"], key=lambda n: bed.history.first_time(n, "Running") or 0.0
        )
        assert started == ["n00", "urgent", *normal[1:]]
        # Never more than one Running at once.
        running: set[str] = set()
        with bed.history._lock:
            for _, _, obj in bed.history.downloads:
                name = obj["metadata"]["name"]
                if (obj.get("status") or {}).get("phase") == "Running":
                    running.add(name)
                else:
                    running.discard(name)
                assert len(running) <= 1, running
        urgent = bed.worker_pods("urgent")[0]
        assert urgent["spec"]["priorityClassName"] == "videodl-critical"


class TestRetries:
    def test_503_twice_then_200_succeeds_at_attempt_3_with_backoff(
        self, bed: Bed, media: MediaServer
    ) -> None:
        """Two transient failures back off 2 s then 4 s (less up to 20% jitter); attempt 3 wins."""
        bed.start_operator("--backoff-jitter=0.2")
        key = uuid.uuid4().hex[:8]
        bed.create(
            "flaky",
            {
                "url": media.url(f"/flaky/{key}/2/video.mp4"),
                "retry": {"maxAttempts": 3, "backoff": {"initialSeconds": 2, "factor": 2}},
            },
        )
        obj = bed.wait_phase("flaky", "Succeeded", timeout=180)
        assert obj["status"]["attempts"] == 3
        assert bed.history.phases("flaky") == [
            "Running", "BackingOff", "Running", "BackingOff", "Running", "Succeeded",
        ]  # fmt: skip
        backoffs = []
        for _, state in bed.history.states("flaky"):
            status = state.get("status") or {}
            if status.get("phase") == "BackingOff":
                failed = parse_time(status["lastFailure"]["time"])
                due = parse_time(status["nextAttemptTime"])
                assert failed is not None
                assert due is not None
                gap = (due - failed).total_seconds()
                if not backoffs or backoffs[-1] != gap:
                    backoffs.append(gap)
        assert len(backoffs) == 2, backoffs
        assert 2 * 0.8 <= backoffs[0] <= 2
        assert 4 * 0.8 <= backoffs[1] <= 4
        # Each retry started once its nextAttemptTime had come, and soon after.
        due_times = []
        for moment, state in bed.history.states("flaky"):
            status = state.get("status") or {}
            if status.get("phase") == "BackingOff":
                due = parse_time(status["nextAttemptTime"])
                assert due is not None
                if not due_times or due_times[-1][0] != due:
                    due_times.append((due, None))
            elif status.get("phase") == "Running" and due_times and due_times[-1][1] is None:
                due_times[-1] = (due_times[-1][0], moment)
        assert len(due_times) == 2
        for due, started in due_times:
            assert started is not None
            lateness = started - due.timestamp()
            assert -0.25 <= lateness <= 3.0, f"attempt started {lateness:+.2f}s from {due}"
        last = obj["status"]["lastFailure"]
        assert (last["class"], last["reason"]) == ("Transient", "HTTPError503")
        pods = bed.history.pod_names()
        attempts = sorted(p["metadata"]["labels"][naming.LABEL_ATTEMPT] for p in pods.values())
        assert attempts == ["1", "2", "3"]

    def test_404_fails_stalled_then_retry_annotation_runs_it_again(
        self, bed: Bed, media: MediaServer
    ) -> None:
        """A 404 fails after one attempt with Stalled=True; videodl.dev/retry runs it again."""
        bed.start_operator()
        bed.create("gone", {"url": media.url("/status/404/gone.mp4")})
        obj = bed.wait_phase("gone", "Failed", timeout=120)
        assert obj["status"]["attempts"] == 1
        assert obj["status"]["lastFailure"]["class"] == "Permanent"
        assert condition(obj, "Stalled")["status"] == "True"
        assert condition(obj, "Ready")["status"] == "False"
        assert condition(obj, "Reconciling")["status"] == "False"
        assert len(bed.worker_pods("gone")) == 1

        bed.cluster.kubectl(
            "-n", bed.namespace, "annotate", "vdl/gone", f"{naming.ANNOTATION_RETRY}=first"
        )

        def retried() -> Json | None:
            current = bed.get("gone")
            handled = (
                current["metadata"].get("annotations", {}).get(naming.ANNOTATION_RETRY_HANDLED)
            )
            done = (current.get("status") or {}).get("phase") == "Failed"
            return (
                current
                if handled == "first" and done and len(bed.worker_pods("gone")) == 2
                else None
            )

        again = bed.wait("the retried attempt to fail again", retried, timeout=120)
        assert again["status"]["attempts"] == 1  # a fresh budget
        assert bed.history.phases("gone")[-3:] == ["Queued", "Running", "Failed"]
        assert "RetryRequested" in bed.event_reasons("gone")


class TestSuspendAndDelete:
    def test_suspend_stops_the_pod_and_resume_continues_the_partial_file(
        self, bed: Bed, media: MediaServer
    ) -> None:
        """suspend deletes the worker and keeps the .part file; resuming fetches only the rest."""
        bed.start_operator()
        size = media.library.video.stat().st_size
        url, path = slow_url(media, seconds=8)
        bed.create("slow", {"url": url})

        def partway() -> bool:
            progress = (bed.get("slow").get("status") or {}).get("progress") or {}
            return 0 < (progress.get("downloadedBytes") or 0) < size

        bed.wait("the download to be partway", partway, timeout=90)
        bed.patch_spec("slow", {"suspend": True})
        obj = bed.wait_phase("slow", "Suspended", timeout=60)
        first_pod = obj["status"]["workerPod"]
        bed.wait(
            "the worker Pod to stop",
            lambda: all(
                p["status"].get("phase") in ("Succeeded", "Failed") for p in bed.worker_pods("slow")
            ),
            timeout=60,
        )
        parts = list(bed.claim_dir().rglob("*.part"))
        assert parts, f"no partial file in {sorted(bed.claim_dir().rglob('*'))}"
        assert 0 < parts[0].stat().st_size < size
        time.sleep(1)
        assert bed.get("slow")["status"]["phase"] == "Suspended"

        bed.patch_spec("slow", {"suspend": False})
        done = bed.wait_phase("slow", "Succeeded", timeout=120)
        assert done["status"]["workerPod"] != first_pod
        assert done["status"]["attempts"] == 1  # the stopped attempt did not count
        assert bed.history.phases("slow")[-4:] == ["Suspended", "Queued", "Running", "Succeeded"]
        requests = media.requests(path)
        assert any((r.range_start or 0) > 0 for r in requests), requests
        served = sum(r.body_bytes for r in requests)
        assert served < 2 * size, f"served {served} bytes for a {size}-byte file"
        (entry,) = done["status"]["result"]["files"]
        assert sha256(bed.claim_dir() / entry["path"]) == sha256(media.library.video)
        assert "Suspended" in bed.event_reasons("slow")

    def test_deleting_a_running_download_removes_its_pod(
        self, bed: Bed, media: MediaServer
    ) -> None:
        """Deleting a VideoDownload stops and removes its worker Pod."""
        bed.start_operator()
        bed.create("doomed", {"url": slow_url(media, seconds=30)[0]})
        bed.wait(
            "the worker to run",
            lambda: any(p["status"].get("phase") == "Running" for p in bed.worker_pods("doomed")),
            timeout=90,
        )
        started = time.monotonic()
        bed.cluster.kubectl("-n", bed.namespace, "delete", "vdl/doomed", "--wait=false")
        bed.wait("the worker Pod to be gone", lambda: not bed.worker_pods("doomed"), timeout=60)
        assert time.monotonic() - started < 30, "the Pod outlived the download it served"

    def test_deletion_policy_delete_removes_the_file(self, bed: Bed, media: MediaServer) -> None:
        """With deletionPolicy Delete the downloaded file is removed before the object goes."""
        bed.start_operator()
        bed.create("temp", {"url": media.url("/media/video.mp4"), "deletionPolicy": "Delete"})
        obj = bed.wait_phase("temp", "Succeeded")
        assert naming.FINALIZER in obj["metadata"]["finalizers"]
        (entry,) = obj["status"]["result"]["files"]
        written = bed.claim_dir() / entry["path"]
        assert written.exists()
        archive = bed.claim_dir() / ".videodl-archive.txt"
        recorded = f"{obj['status']['result']['extractor']} {obj['status']['result']['videoId']}"
        assert recorded in archive.read_text().splitlines()
        bed.cluster.kubectl("-n", bed.namespace, "delete", "vdl/temp", "--timeout=120s")
        assert not written.exists()
        # A later download of the same video is not skipped as already downloaded.
        assert recorded not in archive.read_text().splitlines()
        assert bed.history.pod_names(naming.COMPONENT_CLEANUP), "no cleanup Pod ran"

    def test_pod_deleted_from_under_a_download_is_replaced_without_an_attempt(
        self, bed: Bed, media: MediaServer
    ) -> None:
        """Deleting the running worker Pod starts a new run of the same attempt."""
        bed.start_operator()
        bed.create("resilient", {"url": slow_url(media, seconds=8)[0]})
        first = bed.wait(
            "the worker to run",
            lambda: next(
                (p for p in bed.worker_pods("resilient") if p["status"].get("phase") == "Running"),
                None,
            ),
            timeout=90,
        )
        bed.core.delete_namespaced_pod(first["metadata"]["name"], bed.namespace)
        done = bed.wait_phase("resilient", "Succeeded", timeout=120)
        assert done["status"]["attempts"] == 1
        assert done["status"]["workerPod"] != first["metadata"]["name"]
        labels = [p["metadata"]["labels"] for p in bed.history.pod_names().values()]
        assert sorted(label[naming.LABEL_RUN] for label in labels) == ["1", "2"]
        assert {label[naming.LABEL_ATTEMPT] for label in labels} == {"1"}
        assert "WorkerReplaced" in bed.event_reasons("resilient")
