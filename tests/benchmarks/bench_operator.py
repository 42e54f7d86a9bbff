"""Benchmark (not a test): 1000 VideoDownloads at once, against 1000 plain Jobs.

On a fresh local cluster, 1000 VideoDownloads are created together with a worker command
that completes at once (``/bin/true``: a thousand real downloads do not fit a 2-core
machine); then the same 1000 as batch/v1 Jobs through kube-controller-manager. Reported:

- creation-to-Pod latency (p50, p99, max): from the object's ADDED watch event to its
  Pod's, both seen by the same watching client, and the ratio ours/Jobs';
- throughput: objects finished per second, first creation to last completion;
- the operator's peak RSS (VmHWM) and CPU seconds;
- apiserver write requests (POST, PUT, PATCH, DELETE, APPLY) per object, read from the
  apiserver's own ``apiserver_request_total`` before and after, by resource.

Run: ``python tests/benchmarks/bench_operator.py [--count N]``.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import pathlib
import re
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
from videodl.reconcile.download import naming
from videodl_devkit import cluster as local
from videodl_devkit import testing

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
    ) -> None:
        self.core = client.CoreV1Api(api)
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
            if kind == "ADDED":
                self.added.setdefault(name, now)
            if self._finished(obj):
                self.done.setdefault(name, now)

    def _pods(self) -> None:
        def pods(**kwargs: Any) -> Any:
            return self.core.list_namespaced_pod(self.namespace, **kwargs)

        for kind, obj in self._stream(pods):
            owner = self._owner_of(obj)
            if kind == "ADDED" and owner is not None:
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


def run_videodownloads(
    cluster: local.LocalCluster, api: client.ApiClient, count: int, log_dir: pathlib.Path
) -> Json:
    namespace = "bench-vd"
    apply(cluster, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])
    apply(
        cluster,
        [
            *testing.worker_rbac(namespace),
            {
                **testing.volume_claim("media"),
                "metadata": {"name": "media", "namespace": namespace},
            },
        ],
    )
    objects = client.CustomObjectsApi(api)
    operator = testing.OperatorProcess(
        kubeconfig=cluster.kubeconfig,
        log_path=log_dir / "operator.log",
        args=[
            f"--namespaces={namespace}",
            f"--max-running={count}",
            "--worker-command=/bin/true",
            "--worker-scratch-dir=/scratch",
            f"--breaker-namespace={namespace}",
        ],
    )
    operator.start()

    def list_downloads(**kwargs: Any) -> Any:
        return objects.list_namespaced_custom_object(
            resource.GROUP, resource.VERSION, namespace, resource.PLURAL, **kwargs
        )

    def owner(pod: Json) -> str | None:
        labels = pod["metadata"].get("labels") or {}
        return labels.get(naming.LABEL_DOWNLOAD)

    recorder = Recorder(
        api,
        namespace,
        list_downloads,
        owner,
        lambda o: (o.get("status") or {}).get("phase") == "Succeeded",
    )
    time.sleep(2)
    before = write_counts(api)

    def create(index: int) -> None:
        objects.create_namespaced_custom_object(
            resource.GROUP,
            resource.VERSION,
            namespace,
            resource.PLURAL,
            {
                "apiVersion": resource.API_VERSION,
                "kind": resource.KIND,
                "metadata": {"name": f"d{index:04d}"},
                "spec": {
                    "url": f"https://media.example/v/{index}",
                    "output": {"persistentVolumeClaim": {"claimName": "media"}},
                },
            },
        )

    try:
        started = create_all(count, create)
        wait_until("every VideoDownload to succeed", lambda: len(recorder.done) >= count, 1800)
        time.sleep(3)
        after = write_counts(api)
        assert operator.popen is not None
        rss, cpu = proc_figures(operator.popen.pid)
    finally:
        recorder.stop()
        operator.close()
    figures = summarise(recorder, count, started)
    figures["operator_peak_rss_mib"] = round(rss, 1)
    figures["operator_cpu_s"] = round(cpu, 1)
    figures["writes_per_object"] = per_object(before, after, count)
    failed = sum(
        1 for o in list_downloads()["items"] if ((o.get("status") or {}).get("attempts") or 0) > 1
    )
    figures["downloads_with_more_than_one_attempt"] = failed
    return figures


def run_jobs(cluster: local.LocalCluster, api: client.ApiClient, count: int) -> Json:
    namespace = "bench-job"
    apply(cluster, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])
    batch = client.BatchV1Api(api)

    def list_jobs(**kwargs: Any) -> Any:
        return batch.list_namespaced_job(namespace, **kwargs)

    def owner(pod: Json) -> str | None:
        return (pod["metadata"].get("labels") or {}).get("job-name")

    recorder = Recorder(
        api,
        namespace,
        list_jobs,
        owner,
        lambda o: ((o.get("status") or {}).get("succeeded") or 0) >= 1,
    )
    time.sleep(2)
    before = write_counts(api)

    def create(index: int) -> None:
        batch.create_namespaced_job(
            namespace,
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": f"j{index:04d}"},
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [
                                {"name": "worker", "image": "busybox", "command": ["/bin/true"]}
                            ],
                        }
                    },
                },
            },
        )

    started = create_all(count, create)
    wait_until("every Job to complete", lambda: len(recorder.done) >= count, 1800)
    time.sleep(3)
    after = write_counts(api)
    figures = summarise(recorder, count, started)
    figures["writes_per_object"] = per_object(before, after, count)
    recorder.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="objects of each kind")
    args = parser.parse_args(argv)
    log_dir = pathlib.Path(tempfile.mkdtemp(prefix="videodl-bench-operator-"))
    with local.running() as cluster:
        kubectl(cluster, "apply", "--server-side", "-f", str(CRD_FILE))
        kubectl(cluster, "wait", "--for=condition=Established", f"crd/{resource.CRD_NAME}")
        apply(cluster, testing.priority_classes())
        api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
        api.configuration.connection_pool_maxsize = 32
        ours = run_videodownloads(cluster, api, args.count, log_dir)
        jobs = run_jobs(cluster, api, args.count)
    report = {
        "videodownloads": ours,
        "jobs": jobs,
        "latency_ratio_p50": round(ours["latency_p50_s"] / jobs["latency_p50_s"], 2),
        "latency_ratio_p99": round(ours["latency_p99_s"] / jobs["latency_p99_s"], 2),
        "operator_log": str(log_dir / "operator.log"),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
