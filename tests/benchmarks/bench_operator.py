"""Benchmark (not a test): VideoDownloads against plain Jobs, one at a time and in a burst.

Every VideoDownload runs a worker command that completes at once (``/bin/true``: a thousand
real downloads do not fit a 2-core machine), and every batch/v1 Job runs the very Pod the
operator gives a download's worker (its spec, with the same claim, volumes, service
account, requests and limits), so the sides differ only in their controllers. In one
run, on a fresh local cluster whose controller-manager and scheduler use the local client
rate (QPS 200, burst 400):

1. one at a time: ``--single`` (20) VideoDownloads, each created after the previous one
   finished, then as many Jobs;
2. a burst: ``--count`` (1000) VideoDownloads created together from 16 threads, then as
   many Jobs;
3. a restart: the operator is stopped and started again over the burst's finished objects,
   and a new download is created at once; reported is the time until its Pod exists
   (ready and admitting again) and the new process's peak RSS; then the downloads'
   namespace is deleted, so the Jobs start on a cluster without their objects and Pods;

then on a second fresh cluster with the upstream defaults (QPS 20, burst 30) the Job side
of 1 and 2 again. Reported for every side: creation-to-Pod latency (p50, p99, max: from
the object's ADDED watch event to its Pod's, both seen by one watching client) and the
ratios ours/Jobs' at both rates; objects finished per second (first creation to last
completion) and the ratio; the operator's peak RSS (VmHWM) and CPU seconds; apiserver
writes per object by resource and verb, from the apiserver's own
``apiserver_request_total`` before and after; and the operator's own Events per download.

``--restart-only N`` measures 3 alone, over N finished downloads written directly (created,
then their status patched), which makes ten thousand of them in a minute or two.

Run: ``python tests/benchmarks/bench_operator.py [--count N] [--single N]`` or
``python tests/benchmarks/bench_operator.py --restart-only N``.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import pathlib
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from kubernetes import client, config, watch

from videodl.api import resource
from videodl.api.resource import MANAGER, VideoDownload
from videodl.operator import settings as operator_settings
from videodl.reconcile.download import naming, podspec
from videodl_devkit import cluster as local
from videodl_devkit import controlplane, testing

REPO = pathlib.Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / f"{resource.GROUP}_{resource.PLURAL}.yaml"
WRITE_VERBS = {"POST", "PUT", "PATCH", "DELETE", "APPLY"}
_SAMPLE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')
Json = dict[str, Any]


def kubectl(cluster: local.LocalCluster, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(cluster.bin_dir / "kubectl"), f"--kubeconfig={cluster.kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        msg = f"kubectl {' '.join(args)}: {done.stderr}"
        raise RuntimeError(msg)
    return done.stdout


def apply(cluster: local.LocalCluster, objects: list[Json]) -> None:
    kubectl(
        cluster,
        "apply",
        "-f",
        "-",
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
    )


def remove_namespace(cluster: local.LocalCluster, namespace: str) -> None:
    """Delete a side's namespace and wait until it is gone: the next side starts on a
    cluster that holds none of its objects or Pods."""
    kubectl(cluster, "delete", "namespace", namespace, "--wait=true", "--timeout=1800s")


def write_counts(api: client.ApiClient) -> collections.Counter[tuple[str, str]]:
    """apiserver_request_total of write verbs, by (resource[/subresource], verb)."""
    response = api.call_api(*api.param_serialize("GET", "/metrics", auth_settings=["BearerToken"]))
    text = response.read().decode()
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match:
            continue
        labels = dict(_LABEL.findall(match["labels"]))
        if labels.get("verb") not in WRITE_VERBS:
            continue
        name = labels.get("resource", "")
        if labels.get("group"):
            name = f"{name}.{labels['group']}"
        if labels.get("subresource"):
            name = f"{name}/{labels['subresource']}"
        counts[(name, labels["verb"])] += int(float(match["value"]))
    return counts


class Recorder:
    """Watch arrival times of objects and their Pods in one namespace."""

    def __init__(
        self,
        api: client.ApiClient,
        namespace: str,
        list_objects: Callable[..., Any],
        owner_of: Callable[[Json], str | None],
        finished: Callable[[Json], bool],
        *,
        prefix: str = "",
    ) -> None:
        self.core = client.CoreV1Api(api)
        #: Only objects whose names start with this are recorded.
        self.prefix = prefix
        self.namespace = namespace
        self.added: dict[str, float] = {}
        self.pod_added: dict[str, float] = {}
        self.done: dict[str, float] = {}
        self._list_objects = list_objects
        self._owner_of = owner_of
        self._finished = finished
        self._stop = threading.Event()
        self._watches: list[watch.Watch] = []
        self._threads = [
            threading.Thread(target=self._objects, daemon=True),
            threading.Thread(target=self._pods, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _stream(self, lister: Callable[..., Any]) -> Iterator[tuple[str, Json]]:
        version = None
        while not self._stop.is_set():
            stream = watch.Watch()
            self._watches.append(stream)
            kwargs: Json = {"timeout_seconds": 60}
            if version:
                kwargs["resource_version"] = version
            try:
                for event in stream.stream(lister, **kwargs):
                    obj = event["object"]
                    if not isinstance(obj, dict):
                        obj = self.core.api_client.sanitize_for_serialization(obj)
                    version = obj["metadata"].get("resourceVersion", version)
                    yield event["type"], obj
            except Exception:  # noqa: BLE001 - restart a broken watch
                version = None

    def _objects(self) -> None:
        for kind, obj in self._stream(self._list_objects):
            name = obj["metadata"]["name"]
            now = time.monotonic()
            if not name.startswith(self.prefix):
                continue
            if kind == "ADDED":
                self.added.setdefault(name, now)
            if self._finished(obj):
                self.done.setdefault(name, now)

    def _pods(self) -> None:
        def pods(**kwargs: Any) -> Any:
            return self.core.list_namespaced_pod(self.namespace, **kwargs)

        for kind, obj in self._stream(pods):
            owner = self._owner_of(obj)
            if kind == "ADDED" and owner is not None and owner.startswith(self.prefix):
                self.pod_added.setdefault(owner, time.monotonic())

    def stop(self) -> None:
        self._stop.set()
        for stream in self._watches:
            stream.stop()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summarise(recorder: Recorder, count: int, started: float) -> Json:
    latencies = [
        recorder.pod_added[name] - recorder.added[name]
        for name in recorder.added
        if name in recorder.pod_added
    ]
    finished = max(recorder.done.values()) if recorder.done else float("nan")
    return {
        "objects": count,
        "pods": len(recorder.pod_added),
        "finished": len(recorder.done),
        "latency_p50_s": percentile(latencies, 0.5),
        "latency_p99_s": percentile(latencies, 0.99),
        "latency_max_s": max(latencies),
        "latency_mean_s": statistics.fmean(latencies),
        "seconds": finished - started,
        "throughput_per_s": len(recorder.done) / (finished - started),
    }


def wait_until(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(0.5)


def create_all(count: int, create: Callable[[int], None]) -> float:
    """Create ``count`` objects from 16 threads at once; returns the start time."""
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(create, range(count)))
    return started


def proc_figures(pid: int) -> tuple[float, float]:
    """(peak RSS in MiB, CPU seconds) of a live process, from /proc."""
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    peak_kib = int(re.search(r"VmHWM:\s+(\d+) kB", status)[1])  # type: ignore[index]
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return peak_kib / 1024, cpu


def per_object(
    before: collections.Counter[tuple[str, str]],
    after: collections.Counter[tuple[str, str]],
    count: int,
) -> dict[str, float]:
    delta = after - before
    return {
        f"{verb} {name}": round(value / count, 3) for (name, verb), value in sorted(delta.items())
    }


def videodownload(index: int, prefix: str = "d") -> Json:
    return {
        "apiVersion": resource.API_VERSION,
        "kind": resource.KIND,
        "metadata": {"name": f"{prefix}{index:05d}"},
        "spec": {
            "url": f"https://media.example/v/{prefix}{index}",
            "output": {"persistentVolumeClaim": {"claimName": "media"}},
        },
    }


def operator_args(namespace: str, max_running: int) -> list[str]:
    return [
        f"--namespaces={namespace}",
        f"--max-running={max_running}",
        "--worker-command=/bin/true",
        "--worker-scratch-dir=/scratch",
        f"--breaker-namespace={namespace}",
    ]


def worker_pod_spec(namespace: str) -> Json:
    """The Pod spec the operator gives a benchmark download's worker (same settings, same
    claim, volumes, requests and limits), for every Job to run the very same Pod."""
    networks = f"--worker-allowed-networks={testing.LOOPBACK_NETWORKS}"
    settings = operator_settings.load([*operator_args(namespace, 1), networks], {}).worker
    body = videodownload(0)
    body["metadata"].update(namespace=namespace, uid="0")
    identity = podspec.PodIdentity(name="j", namespace=namespace, uid="0", run=1, attempt=1)
    pod = podspec.worker_pod(
        VideoDownload.model_validate(body), identity, settings=settings, instance="bench"
    )
    spec: Json = pod["spec"]
    return spec


def job(index: int, pod_spec: Json, prefix: str = "j") -> Json:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"{prefix}{index:05d}"},
        "spec": {"backoffLimit": 0, "template": {"spec": pod_spec}},
    }


class Side:
    """One kind of object in one namespace: how to create, list and recognise them."""

    def __init__(self, api: client.ApiClient, namespace: str, *, kind: str) -> None:
        self.api = api
        self.namespace = namespace
        self.kind = kind
        self.objects = client.CustomObjectsApi(api)
        self.batch = client.BatchV1Api(api)
        self.pod_spec = worker_pod_spec(namespace) if kind == "Job" else {}

    def list(self, **kwargs: Any) -> Any:
        if self.kind == "Job":
            return self.batch.list_namespaced_job(self.namespace, **kwargs)
        return self.objects.list_namespaced_custom_object(
            resource.GROUP, resource.VERSION, self.namespace, resource.PLURAL, **kwargs
        )

    def create(self, index: int, prefix: str) -> None:
        if self.kind == "Job":
            self.batch.create_namespaced_job(self.namespace, job(index, self.pod_spec, prefix))
        else:
            self.objects.create_namespaced_custom_object(
                resource.GROUP,
                resource.VERSION,
                self.namespace,
                resource.PLURAL,
                videodownload(index, prefix),
            )

    def owner(self, pod: Json) -> str | None:
        labels = pod["metadata"].get("labels") or {}
        return labels.get("job-name" if self.kind == "Job" else naming.LABEL_DOWNLOAD)

    def finished(self, obj: Json) -> bool:
        status = obj.get("status") or {}
        if self.kind == "Job":
            return (status.get("succeeded") or 0) >= 1
        return status.get("phase") == "Succeeded"

    def recorder(self, prefix: str) -> Recorder:
        return Recorder(
            self.api, self.namespace, self.list, self.owner, self.finished, prefix=prefix
        )


def one_at_a_time(side: Side, count: int) -> Json:
    """Create ``count`` objects, each once the previous one finished: latency at rest."""
    recorder = side.recorder("s")
    time.sleep(1)
    try:
        for index in range(count):
            name = f"s{index:05d}"
            side.create(index, "s")
            wait_until(f"{name} to finish", lambda n=name: n in recorder.done, 120)
    finally:
        recorder.stop()
    latencies = [recorder.pod_added[n] - recorder.added[n] for n in recorder.added]
    return {
        "objects": count,
        "latency_median_s": round(statistics.median(latencies), 3),
        "latency_p99_s": round(percentile(latencies, 0.99), 3),
        "latency_max_s": round(max(latencies), 3),
    }


def burst(side: Side, count: int) -> Json:
    """Create ``count`` objects at once; latency, throughput and writes per object."""
    recorder = side.recorder("b")
    time.sleep(2)
    before = write_counts(side.api)
    try:
        started = create_all(count, lambda i: side.create(i, "b"))
        wait_until(f"every {side.kind} to finish", lambda: len(recorder.done) >= count, 3600)
        time.sleep(3)
        after = write_counts(side.api)
    finally:
        recorder.stop()
    figures = summarise(recorder, count, started)
    figures["writes_per_object"] = per_object(before, after, count)
    return figures


def prepare_namespace(cluster: local.LocalCluster, namespace: str, *, downloads: bool) -> None:
    apply(cluster, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])
    if downloads:
        claim = {
            **testing.volume_claim("media"),
            "metadata": {"name": "media", "namespace": namespace},
        }
        apply(cluster, [*testing.worker_rbac(namespace), claim])


def operator_events(
    api: client.ApiClient, namespace: str, samples: dict[str, str] | None = None
) -> collections.Counter[str]:
    """Events the operator posted about downloads, by reason; ``samples`` gets a message of
    each reason other than the two every download posts."""
    core = client.CoreV1Api(api)
    posted: collections.Counter[str] = collections.Counter()
    token = None
    while True:
        page = core.list_namespaced_event(namespace, limit=500, _continue=token)
        for event in page.items:
            if (event.source and event.source.component) != MANAGER:
                continue
            posted[str(event.reason)] += 1
            if samples is not None and event.reason not in ("Started", "Succeeded"):
                samples.setdefault(str(event.reason), str(event.message))
        token = page.metadata._continue
        if not token:
            return posted


@contextlib.contextmanager
def sampled(pid: int, output: pathlib.Path | None) -> Iterator[None]:
    """Sample the stacks of process ``pid`` meanwhile into ``output`` (py-spy's collapsed
    format: one line per stack, then its count of samples), when ``output`` is given."""
    if output is None:
        yield
        return
    spy = pathlib.Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "200"]
    sampler = subprocess.Popen(
        [*command, "--nonblocking", "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)


def operator_process(
    cluster: local.LocalCluster, namespace: str, log: pathlib.Path, count: int
) -> testing.OperatorProcess:
    return testing.OperatorProcess(
        kubeconfig=cluster.kubeconfig,
        log_path=log,
        args=operator_args(namespace, count),
    )


def run_videodownloads(
    cluster: local.LocalCluster, api: client.ApiClient, args: argparse.Namespace, logs: pathlib.Path
) -> Json:
    namespace = "bench-vd"
    prepare_namespace(cluster, namespace, downloads=True)
    side = Side(api, namespace, kind=resource.KIND)
    operator = operator_process(cluster, namespace, logs / "operator.log", args.count)
    operator.start()
    figures: Json = {}
    try:
        if args.single:
            figures["one_at_a_time"] = one_at_a_time(side, args.single)
        before_events = operator_events(api, namespace)
        assert operator.popen is not None
        with sampled(operator.popen.pid, args.profile):
            figures["burst"] = burst(side, args.count)
        samples: dict[str, str] = {}
        events = operator_events(api, namespace, samples)
        events.subtract(before_events)
        figures["burst"]["operator_events_per_download"] = round(
            sum(events.values()) / args.count, 3
        )
        figures["burst"]["operator_events_by_reason"] = dict(+events)
        figures["burst"]["operator_event_samples"] = samples
        assert operator.popen is not None
        rss, cpu = proc_figures(operator.popen.pid)
        figures["burst"]["operator_peak_rss_mib"] = round(rss, 1)
        figures["burst"]["operator_cpu_s"] = round(cpu, 1)
        more = sum(
            1
            for o in side.list(limit=args.count + args.single + 10)["items"]
            if ((o.get("status") or {}).get("attempts") or 0) > 1
        )
        figures["burst"]["downloads_with_more_than_one_attempt"] = more
    finally:
        operator.close()
    figures["restart"] = restart(cluster, side, logs, args.count)
    return figures


def restart(cluster: local.LocalCluster, side: Side, logs: pathlib.Path, count: int) -> Json:
    """Start the operator over the finished objects and create one new download at once."""
    recorder = side.recorder("r")
    time.sleep(2)
    operator = operator_process(cluster, side.namespace, logs / "operator-restart.log", count)
    try:
        started = time.monotonic()
        operator.start(wait=False)
        side.create(0, "r")
        wait_until("the new download's Pod", lambda: "r00000" in recorder.pod_added, 600)
        admitting = recorder.pod_added["r00000"] - started
        wait_until("the new download to finish", lambda: "r00000" in recorder.done, 120)
        operator.wait_healthy()
        assert operator.popen is not None
        rss, cpu = proc_figures(operator.popen.pid)
    finally:
        recorder.stop()
        operator.close()
    return {
        "existing_finished_objects": count,
        "start_to_new_pod_s": round(admitting, 2),
        "operator_peak_rss_mib": round(rss, 1),
        "operator_cpu_s": round(cpu, 1),
    }


#: The status of a download that finished, as the operator writes it.
_FINISHED: Json = {
    "phase": "Succeeded",
    "attempts": 1,
    "observedGeneration": 1,
    "startTime": "2026-12-01T00:00:00Z",
    "completionTime": "2026-12-01T00:00:01Z",
    "conditions": [
        {
            "type": kind,
            "status": value,
            "reason": "Succeeded",
            "message": "downloaded",
            "lastTransitionTime": "2026-12-01T00:00:01Z",
            "observedGeneration": 1,
        }
        for kind, value in (("Ready", "True"), ("Reconciling", "False"), ("Stalled", "False"))
    ],
}


def run_restart_only(
    cluster: local.LocalCluster, api: client.ApiClient, count: int, logs: pathlib.Path
) -> Json:
    """``count`` finished VideoDownloads made directly (created, status written), then a
    restart over them: far cheaper than running ``count`` downloads first."""
    namespace = "bench-vd"
    prepare_namespace(cluster, namespace, downloads=True)
    side = Side(api, namespace, kind=resource.KIND)

    def finished(index: int) -> None:
        side.create(index, "f")
        side.objects.patch_namespaced_custom_object_status(
            resource.GROUP,
            resource.VERSION,
            namespace,
            resource.PLURAL,
            f"f{index:05d}",
            {"status": _FINISHED},
            _content_type="application/merge-patch+json",
        )

    made = time.monotonic()
    create_all(count, finished)
    figures: Json = {"made_in_s": round(time.monotonic() - made, 1)}
    figures["restart"] = restart(cluster, side, logs, count)
    return figures


def run_jobs(cluster: local.LocalCluster, api: client.ApiClient, args: argparse.Namespace) -> Json:
    namespace = "bench-job"
    prepare_namespace(cluster, namespace, downloads=True)
    side = Side(api, namespace, kind="Job")
    figures: Json = {}
    if args.single:
        figures["one_at_a_time"] = one_at_a_time(side, args.single)
    figures["burst"] = burst(side, args.count)
    return figures


def ratios(ours: Json, jobs: Json) -> Json:
    found: Json = {}
    if "one_at_a_time" in ours and "one_at_a_time" in jobs:
        a, b = ours["one_at_a_time"], jobs["one_at_a_time"]
        found["one_at_a_time_latency_median"] = round(
            a["latency_median_s"] / b["latency_median_s"], 2
        )
        found["one_at_a_time_latency_p99"] = round(a["latency_p99_s"] / b["latency_p99_s"], 2)
    a, b = ours["burst"], jobs["burst"]
    found["burst_latency_p50"] = round(a["latency_p50_s"] / b["latency_p50_s"], 2)
    found["burst_latency_p99"] = round(a["latency_p99_s"] / b["latency_p99_s"], 2)
    found["burst_throughput"] = round(a["throughput_per_s"] / b["throughput_per_s"], 2)
    return found


def install(cluster: local.LocalCluster) -> None:
    """The CRDs and the workers' PriorityClasses, as the chart installs them."""
    kubectl(cluster, "apply", "--server-side", "-f", str(CRD_FILE.parent))
    kubectl(cluster, "wait", "--for=condition=Established", f"crd/{resource.CRD_NAME}")
    apply(cluster, testing.priority_classes())


def connect(cluster: local.LocalCluster) -> client.ApiClient:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    api.configuration.connection_pool_maxsize = 32
    return api


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="objects of each kind in a burst")
    parser.add_argument(
        "--single", type=int, default=20, help="objects of each kind one at a time (0: none)"
    )
    parser.add_argument(
        "--restart-only",
        type=int,
        default=0,
        metavar="N",
        help="only the restart, over N finished downloads written directly",
    )
    parser.add_argument(
        "--local-rate-only",
        action="store_true",
        help="run the Job side at the local client rate only (a 10 000-Job run at the "
        "upstream rate takes most of an hour)",
    )
    parser.add_argument(
        "--profile",
        type=pathlib.Path,
        metavar="PATH",
        help="sample the operator's stacks during the burst into PATH (py-spy, collapsed)",
    )
    args = parser.parse_args(argv)
    logs = pathlib.Path(tempfile.mkdtemp(prefix="videodl-bench-operator-"))
    if args.restart_only:
        with local.running() as cluster:
            install(cluster)
            report = run_restart_only(cluster, connect(cluster), args.restart_only, logs)
        print(json.dumps(report, indent=2))
        return 0
    local_rate, upstream = controlplane.LOCAL_RATE, controlplane.UPSTREAM_RATE
    with local.running(rate=local_rate) as cluster:
        install(cluster)
        api = connect(cluster)
        ours = run_videodownloads(cluster, api, args, logs)
        remove_namespace(cluster, "bench-vd")
        jobs_local = run_jobs(cluster, api, args)
    jobs_upstream: Json | None = None
    if not args.local_rate_only:
        with local.running(rate=upstream) as cluster:
            install(cluster)  # the worker's Pod spec names its PriorityClass
            jobs_upstream = run_jobs(cluster, connect(cluster), args)
    report = {
        "controller_client_rate": {
            "local": dataclasses.asdict(local_rate),
            "upstream_defaults": dataclasses.asdict(upstream),
        },
        "videodownloads": ours,
        "jobs_at_local_rate": jobs_local,
        "jobs_at_upstream_defaults": jobs_upstream,
        "ratio_to_jobs_at_local_rate": ratios(ours, jobs_local),
        "ratio_to_jobs_at_upstream_defaults": ratios(ours, jobs_upstream)
        if jobs_upstream
        else None,
        "operator_logs": str(logs),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
