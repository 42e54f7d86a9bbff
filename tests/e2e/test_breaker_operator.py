"""The circuit breaker end to end: real operator, real worker (yt-dlp), real control plane.

The local media server answers 429 for every request whose Host is ``127.0.0.1`` (host A)
while ``localhost`` (host B) reaches the same server normally; the generic extractor keys
the two apart. The test follows the breaker through a trip, a failed probe, a successful
probe, a forced opening and a reset, counting worker Pods per host from their labels.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from kubernetes import client, watch
from tests.e2e.operatorbed import CLAIM, CRD_FILE, MEDIA_CACHE, Bed, Json

from videodl.api import resource
from videodl.breaker import admin
from videodl.core import breaker_state
from videodl.reconcile.download import naming
from videodl_devkit import testing
from videodl_devkit.mediaserver import MediaServer

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

CONFIGMAP = "videodl-breaker"
THRESHOLD = 3
OPEN_SECONDS = 5
MAX_RUNNING = 3
HOST_A, HOST_B = "127.0.0.1", "localhost"


@dataclasses.dataclass(frozen=True)
class Mark:
    """Something the watches saw: its resourceVersion and when it arrived (monotonic)."""

    rv: int
    at: float


@dataclasses.dataclass(frozen=True)
class Seen:
    """One state of a site's breaker as written to the ConfigMap."""

    mark: Mark
    state: breaker_state.SiteState


class Observer:
    """Watches worker Pods, VideoDownloads and the breaker ConfigMap of one namespace.

    Everything is ordered by resourceVersion: with one etcd behind the apiserver it is the
    etcd revision of each write, one global order for all objects, so "created after the
    trip" means exactly that, whatever the watches' delays.
    """

    def __init__(self, api: client.ApiClient, namespace: str, site: str) -> None:
        self._core = client.CoreV1Api(api)
        self._objects = client.CustomObjectsApi(api)
        self._namespace = namespace
        self._site = site
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._watches: list[watch.Watch] = []
        self.states: list[Seen] = []
        #: Worker Pod name -> (creation, download).
        self.pods: dict[str, tuple[Mark, str]] = {}
        #: Worker Pod name -> (the status write that recorded its run, download).
        self.runs: dict[str, tuple[Mark, str]] = {}
        self.annotations: Json = {}
        selector = f"{naming.LABEL_COMPONENT}={naming.COMPONENT_WORKER}"
        feeds: list[tuple[Callable[..., Any], dict[str, Any], Callable[[str, Any], None]]] = [
            (self._core.list_namespaced_pod, {"label_selector": selector}, self._pod),
            (self._list_downloads, {}, self._download),
            (
                self._core.list_namespaced_config_map,
                {"field_selector": f"metadata.name={CONFIGMAP}"},
                self._configmap,
            ),
        ]
        self._threads = [
            threading.Thread(target=self._run, args=feed, daemon=True) for feed in feeds
        ]
        for thread in self._threads:
            thread.start()

    def _list_downloads(self, namespace: str, **kwargs: Any) -> Any:
        return self._objects.list_namespaced_custom_object(
            resource.GROUP, resource.VERSION, namespace, resource.PLURAL, **kwargs
        )

    def _run(
        self, lister: Callable[..., Any], extra: dict[str, Any], handle: Callable[[str, Any], None]
    ) -> None:
        version: str | None = None
        while not self._stopped.is_set():
            stream = watch.Watch()
            self._watches.append(stream)
            kwargs: dict[str, Any] = {"timeout_seconds": 60, **extra}
            if version:
                kwargs["resource_version"] = version
            try:
                for event in stream.stream(lister, self._namespace, **kwargs):
                    obj = event["object"]
                    meta = obj["metadata"] if isinstance(obj, dict) else obj.metadata
                    version = (
                        meta["resourceVersion"] if isinstance(obj, dict) else meta.resource_version
                    )
                    handle(event["type"], obj)
            except Exception:  # noqa: BLE001 - the watch resumes from the last version
                time.sleep(0.2)

    def _pod(self, kind: str, pod: client.V1Pod) -> None:
        if kind != "ADDED":
            return
        download = (pod.metadata.labels or {}).get(naming.LABEL_DOWNLOAD, "")
        mark = Mark(int(pod.metadata.resource_version), time.monotonic())
        with self._lock:
            self.pods.setdefault(pod.metadata.name, (mark, download))

    def _download(self, kind: str, obj: Json) -> None:
        pod = (obj.get("status") or {}).get("workerPod")
        if kind == "DELETED" or not pod:
            return
        mark = Mark(int(obj["metadata"]["resourceVersion"]), time.monotonic())
        with self._lock:
            self.runs.setdefault(pod, (mark, obj["metadata"]["name"]))

    def _configmap(self, kind: str, cm: client.V1ConfigMap) -> None:
        if kind == "DELETED":
            return
        value = (cm.data or {}).get(self._site)
        mark = Mark(int(cm.metadata.resource_version), time.monotonic())
        with self._lock:
            self.annotations = dict(cm.metadata.annotations or {})
            if value is None:
                return
            state = breaker_state.SiteState.from_configmap_value(value)
            if not self.states or self.states[-1].state != state:
                self.states.append(Seen(mark, state))

    def first(
        self, state: breaker_state.State, trip: int, after: Mark | None = None
    ) -> Mark | None:
        """The first write of ``state`` with ``trip_count == trip`` after ``after``."""
        with self._lock:
            return next(
                (
                    s.mark
                    for s in self.states
                    if (after is None or s.mark.rv > after.rv)
                    and s.state.state is state
                    and s.state.trip_count == trip
                ),
                None,
            )

    def open_seconds(self, trip: int) -> float | None:
        """The open duration stored for the ``trip``-th consecutive trip."""
        with self._lock:
            for seen in self.states:
                state = seen.state
                if state.state is breaker_state.State.OPEN and state.trip_count == trip:
                    assert state.open_until is not None
                    assert state.opened_at is not None
                    return (state.open_until - state.opened_at).total_seconds()
        return None

    def current(self) -> breaker_state.SiteState | None:
        with self._lock:
            return self.states[-1].state if self.states else None

    def pods_of(self, prefix: str) -> list[tuple[int, str]]:
        """Worker Pods of downloads named ``prefix*``: (creation version, name), in order."""
        with self._lock:
            return sorted(
                (mark.rv, name)
                for name, (mark, download) in self.pods.items()
                if download.startswith(prefix)
            )

    def runs_of(self, prefix: str) -> list[tuple[int, str]]:
        """Runs of downloads named ``prefix*``: (version of the status write, Pod name)."""
        with self._lock:
            return sorted(
                (mark.rv, pod)
                for pod, (mark, download) in self.runs.items()
                if download.startswith(prefix)
            )

    def story(self) -> str:
        """Runs, Pods and states in resourceVersion order, for failure messages."""
        with self._lock:
            lines = [(m.rv, f"run {name} recorded ({d})") for name, (m, d) in self.runs.items()]
            lines += [(m.rv, f"pod {name} created ({d})") for name, (m, d) in self.pods.items()]
            lines += [
                (
                    s.mark.rv,
                    f"{s.state.state.value} trip {s.state.trip_count} "
                    f"probes {[p.id.split('/')[-1] for p in s.state.probes]}",
                )
                for s in self.states
            ]
        return "\n" + "\n".join(f"{rv:>8} {text}" for rv, text in sorted(lines))

    def stop(self) -> None:
        self._stopped.set()
        for stream in self._watches:
            stream.stop()
        for thread in self._threads:
            thread.join(timeout=70)


@pytest.fixture(scope="module")
def media() -> Iterator[MediaServer]:
    with MediaServer(MEDIA_CACHE) as server:
        yield server


@pytest.fixture
def bed(cluster: ClusterHandle, namespace: str, tmp_path: pathlib.Path) -> Iterator[Bed]:
    """The CRDs and PriorityClasses installed, and a namespace prepared for downloads."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRD_FILE.parent))
    extensions = client.ApiextensionsV1Api(cluster.api_client())
    deadline = time.monotonic() + 60
    while not any(
        c.type == "Established" and c.status == "True"
        for c in (
            extensions.read_custom_resource_definition(resource.CRD_NAME).status.conditions or []
        )
    ):
        assert time.monotonic() < deadline, "the VideoDownload CRD was not Established in 60s"
        time.sleep(0.2)
    classes = {"apiVersion": "v1", "kind": "List", "items": testing.priority_classes()}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(classes))
    cluster.kubectl(
        "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    testbed = Bed(cluster, namespace, tmp_path)
    testbed.apply(*testing.worker_rbac(namespace), testing.volume_claim(CLAIM))
    try:
        yield testbed
    finally:
        testbed.close()


@pytest.fixture
def observer(bed: Bed, media: MediaServer) -> Iterator[Observer]:
    watching = Observer(bed.api, bed.namespace, f"{HOST_A}_{media.port}")
    try:
        yield watching
    finally:
        watching.stop()
        media.set_host_mode(HOST_A, None)


def between(items: list[tuple[int, str]], start: Mark, end: Mark) -> list[str]:
    """Names of the items written after ``start`` and before ``end``."""
    return [name for rv, name in items if start.rv < rv < end.rv]


def metric(text: str, name: str, site: str) -> float | None:
    prefix = f'{name}{{site="{site}"}} '
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return None


def download(name: str, url: str, *, attempts: int = 20) -> Json:
    return {
        "url": url,
        "output": {"persistentVolumeClaim": {"claimName": CLAIM}, "subPath": name},
        "retry": {
            "maxAttempts": attempts,
            "backoff": {"initialSeconds": 1, "factor": 1, "maxSeconds": 1},
        },
    }


class TestBreakerEndToEnd:
    def test_trip_probe_recover_force_and_reset(
        self, bed: Bed, media: MediaServer, observer: Observer
    ) -> None:
        """429s on host A trip its breaker; B runs on; one probe per open period; reset works."""
        site_a, site_b = f"{HOST_A}_{media.port}", f"{HOST_B}_{media.port}"
        operator = bed.start_operator(
            f"--breaker-namespace={bed.namespace}",
            f"--breaker-configmap={CONFIGMAP}",
            f"--breaker-failure-threshold={THRESHOLD}",
            f"--breaker-open-seconds={OPEN_SECONDS}",
            "--breaker-open-jitter=0",
            f"--max-running={MAX_RUNNING}",
            "--backoff-jitter=0",
        )
        media.set_host_mode(HOST_A, 429)
        a_names = [f"a{i}" for i in range(6)]
        for name in a_names:
            bed.create(name, download(name, media.url("/media/video.mp4", host=HOST_A)))

        # 1. The trip.
        tripped = bed.wait(
            "host A to trip", lambda: observer.first(breaker_state.State.OPEN, 1), 180
        )
        scraped = operator.scrape()
        assert metric(scraped, "videodl_breaker_state", site_a) == 1
        # Downloads for host B start while host A is open.
        b_names = [f"b{i}" for i in range(3)]
        slow = media.library.video.stat().st_size // 3
        for name in b_names:
            url = media.url(f"/media/video.mp4?rate={slow}", host=HOST_B)
            bed.create(name, download(name, url, attempts=3))

        def blocked_with_reason() -> Json | None:
            for name in a_names:
                status = bed.get(name).get("status") or {}
                if status.get("phase") != "Blocked":
                    continue
                for cond in status.get("conditions", []):
                    if cond.get("reason") == "CircuitOpen":
                        return cond
            return None

        cond = bed.wait("a download Blocked by CircuitOpen", blocked_with_reason, 30)
        assert f"site {site_a}: circuit open until " in cond["message"]

        # 2. The first probe fails (still 429): open again, twice as long.
        half_open = bed.wait(
            "the first probe",
            lambda: observer.first(breaker_state.State.HALF_OPEN, 1, after=tripped),
            60,
        )
        reopened = bed.wait(
            "the probe to fail",
            lambda: observer.first(breaker_state.State.OPEN, 2, after=half_open),
            120,
        )
        # Times in the ConfigMap are whole seconds, so an open period may end up to 1 s early.
        assert half_open.at - tripped.at >= OPEN_SECONDS - 1.2
        assert observer.open_seconds(trip=1) == OPEN_SECONDS
        media.set_host_mode(HOST_A, None)

        # 3. Host A has recovered: after the longer open period one probe closes it.
        half_open_2 = bed.wait(
            "the second probe",
            lambda: observer.first(breaker_state.State.HALF_OPEN, 2, after=reopened),
            60,
        )
        closed = bed.wait(
            "host A to close",
            lambda: observer.first(breaker_state.State.CLOSED, 0, after=half_open_2),
            120,
        )
        assert half_open_2.at - reopened.at >= 2 * OPEN_SECONDS - 1.2
        assert observer.open_seconds(trip=2) == 2 * OPEN_SECONDS
        for name in [*a_names, *b_names]:
            bed.wait_phase(name, "Succeeded", timeout=240)

        a_runs, a_pods = observer.runs_of("a"), observer.pods_of("a")
        b_pods = observer.pods_of("b")
        story = observer.story()
        origin = Mark(0, 0.0)
        admitted = between(a_runs, origin, tripped)
        # An admission pass decides on the state it sees, then records the runs it chose:
        # a run chosen while the site was still closed may be recorded just after a trip
        # written at the same moment. One pass starts at most MAX_RUNNING runs, and every
        # later pass sees the trip.
        in_flight = between(a_runs, tripped, half_open)
        started = len(admitted) + len(in_flight)
        print(
            f"\nhost A: {started} worker Pods before the trip: {MAX_RUNNING} running at the "
            f"first 429, {started - MAX_RUNNING} started between it and the trip "
            f"({len(in_flight)} chosen before the trip, recorded just after it); threshold "
            f"{THRESHOLD}; open periods {half_open.at - tripped.at:.1f}s and "
            f"{half_open_2.at - reopened.at:.1f}s (B downloads held the slots)"
        )
        assert started <= THRESHOLD + MAX_RUNNING, story
        assert len(in_flight) <= MAX_RUNNING, story
        # Exactly one run of host A per half-open period, none in the second open period...
        assert len(between(a_runs, half_open, reopened)) == 1, story
        assert between(a_runs, reopened, half_open_2) == [], story
        assert len(between(a_runs, half_open_2, closed)) == 1, story
        # ...and no Pod is created while open but for runs chosen before the trip.
        assert set(between(a_pods, tripped, half_open)) <= {*admitted, *in_flight}, story
        assert between(a_pods, half_open, reopened) == between(a_runs, half_open, reopened)
        assert between(a_pods, reopened, half_open_2) == [], story
        assert between(a_pods, half_open_2, closed) == between(a_runs, half_open_2, closed)
        # Host B was never held back: its downloads started while host A was open.
        assert len(between(b_pods, tripped, closed)) == len(b_names), story
        assert {bed.get(n)["status"]["attempts"] for n in b_names} == {1}

        scraped = operator.scrape()
        assert metric(scraped, "videodl_breaker_state", site_a) == 0
        assert metric(scraped, "videodl_breaker_state", site_b) == 0
        assert metric(scraped, "videodl_breaker_trips_total", site_a) == 2
        assert (metric(scraped, "videodl_breaker_rejected_admissions_total", site_a) or 0) >= 1
        assert metric(scraped, "videodl_breaker_trips_total", site_b) is None

        # 4. An administrator forces host A open until reset, then resets everything.
        bed.cluster.kubectl(
            "-n", bed.namespace, "annotate", f"configmap/{CONFIGMAP}",
            f"{admin.ANNOTATION_FORCE_OPEN}={site_a}",
        )  # fmt: skip
        forced = bed.wait(
            "the force-open to apply",
            lambda: (s := observer.current()) is not None and s.forced,
            30,
        )
        assert forced
        bed.create("late", download("late", media.url("/media/video.mp4", host=HOST_A)))
        obj = bed.wait_phase("late", "Blocked", timeout=60)
        messages = [c.get("message", "") for c in obj["status"]["conditions"]]
        assert any("until an administrator resets it" in m for m in messages), messages
        assert observer.pods_of("late") == []
        forced_mark = observer.first(breaker_state.State.OPEN, 0, after=closed)
        assert forced_mark is not None

        asked = time.monotonic()
        bed.cluster.kubectl(
            "-n", bed.namespace, "annotate", f"configmap/{CONFIGMAP}",
            f"{admin.ANNOTATION_RESET}=all",
        )  # fmt: skip
        reset_at = bed.wait(
            "the reset to close host A",
            lambda: observer.first(breaker_state.State.CLOSED, 0, after=forced_mark),
            30,
        )
        print(f"reset applied {reset_at.at - asked:.2f}s after kubectl annotate")
        assert reset_at.at - asked < 5
        bed.wait_phase("late", "Succeeded", timeout=120)
        annotations = observer.annotations
        assert admin.ANNOTATION_RESET not in annotations
        assert admin.ANNOTATION_FORCE_OPEN not in annotations
        assert "reset=all: closed" in annotations[admin.ANNOTATION_LAST_COMMAND]

        # 5. Every transition has its Event on the ConfigMap.
        events = bed.core.list_namespaced_event(
            bed.namespace, field_selector=f"involvedObject.name={CONFIGMAP}"
        ).items
        reasons = [
            e.reason
            for e in sorted(
                events, key=lambda e: (e.first_timestamp, int(e.metadata.resource_version))
            )
            if (e.message or "").startswith(f"site {site_a}:")
        ]
        assert reasons == [
            "Tripped",
            "Probing",
            "ProbeFailed",
            "Probing",
            "Recovered",
            "ForcedOpen",
            "Reset",
        ], reasons
        stored = json.loads(
            bed.core.read_namespaced_config_map(CONFIGMAP, bed.namespace).data[site_a]
        )
        assert stored["state"] == "CLOSED"
