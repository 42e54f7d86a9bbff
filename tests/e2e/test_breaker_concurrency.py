"""Several operator processes share one breaker on the real apiserver and lose nothing.

Each writer is a separate Python process with its own client, store, watch and gate, as an
operator replica would be; they are released together so their writes really collide.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kubernetes import client

from videodl.breaker import store
from videodl.core import breaker_state
from videodl.kube.client import Client

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

CONFIGMAP = "videodl-breaker"
URL = "http://127.0.0.1:8080/media/video.mp4"
SITE = "127.0.0.1_8080"

# One operator process: wait for "go", then record outcomes or ask for admissions through
# the real gate, and report what it saw as one JSON line.
REPLICA = r"""
import asyncio, json, sys
from kubernetes import client, config
from prometheus_client import CollectorRegistry
from videodl.api.spec import Priority
from videodl.api.status import Failure, FailureClass
from videodl.breaker.gate import BreakerGate
from videodl.breaker.metrics import BreakerMetrics
from videodl.breaker.store import ConfigMapStore
from videodl.core import breaker_config
from videodl.reconcile.download import outcome
from videodl.reconcile.download.gate import Candidate
from videodl.kube.client import Kube


args = json.loads(sys.argv[1])
OUTCOMES = {
    "S": outcome.Succeeded(result=None, skipped=False, finished_at=None),
    "T": outcome.Failed(Failure(failure_class=FailureClass.THROTTLED, reason="HTTPError429",
                                message="HTTP Error 429: Too Many Requests")),
}

def candidate(i):
    name = f"{args['id']}-{i}"
    return Candidate(namespace="videos", name=name, uid=f"uid-{name}", url=args["url"],
                     priority=Priority.NORMAL, attempt=1)

async def main():
    api_client = config.new_client_from_config(config_file=args["kubeconfig"])
    kube = Kube(api_client)
    registry = CollectorRegistry()
    s = ConfigMapStore(client=kube.client, namespace=args["namespace"],
                       name=args["name"])
    gate = BreakerGate(store=s, config=breaker_config.BreakerConfig(**args["config"]),
                       metrics=BreakerMetrics(registry), post_event=kube.create_event,
                       instance=args["id"])
    await gate.start()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    admitted = []
    if args["mode"] == "record":
        await asyncio.gather(*(gate.attempt_finished(candidate(i), OUTCOMES[kind])
                               for i, kind in enumerate(args["outcomes"])))
    else:
        verdict = await gate.consider(candidate(0))
        admitted = [verdict.allowed]
    await gate.drain()
    await gate.stop()
    kube.close()
    trips = registry.get_sample_value("videodl_breaker_trips_total", {"site": args["site"]})
    print(json.dumps({"conflicts": s.conflicts_total, "writes": s.writes_total,
                      "trips": trips or 0, "admitted": admitted}), flush=True)

asyncio.run(main())
"""


def _replicas(
    cluster: ClusterHandle, namespace: str, jobs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Start one process per job, release them together, return their reports."""
    procs = []
    for job in jobs:
        args = {
            "kubeconfig": str(cluster.kubeconfig),
            "namespace": namespace,
            "name": CONFIGMAP,
            "url": URL,
            "site": SITE,
            **job,
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", REPLICA, json.dumps(args)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.communicate()[1]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def _state(cluster: ClusterHandle, namespace: str) -> breaker_state.SiteState:
    api = client.CoreV1Api(cluster.api_client())
    value = api.read_namespaced_config_map(CONFIGMAP, namespace).data[SITE]
    return breaker_state.SiteState.from_configmap_value(value)


def _event_reasons(cluster: ClusterHandle, namespace: str) -> list[str]:
    api = client.CoreV1Api(cluster.api_client())
    items = api.list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={CONFIGMAP}"
    ).items
    return sorted(e.reason for e in items)


class TestReplicas:
    def test_recorded_outcomes_add_up(self, cluster: ClusterHandle, namespace: str) -> None:
        """Four processes record 40 outcomes each at once; the window holds all 160."""
        never_trips = {
            "failure_threshold": 1_000_000,
            "window_size": 1000,
            "min_calls": 1000,
            "failure_ratio": 1.0,
        }
        pattern = "TS" * 20
        reports = _replicas(
            cluster,
            namespace,
            [
                {"id": f"r{i}", "mode": "record", "outcomes": pattern, "config": never_trips}
                for i in range(4)
            ],
        )
        state = _state(cluster, namespace)
        assert state.state is breaker_state.State.CLOSED
        assert (state.window.count("F"), state.window.count("S")) == (80, 80)
        assert sum(r["writes"] for r in reports) == 160
        # The writers really raced: some writes had to be decided again.
        conflicts = sum(r["conflicts"] for r in reports)
        assert conflicts > 0
        print(f"\n160 outcomes from 4 processes: {conflicts} conflicts retried")

    def test_one_trip_however_many_report_it(self, cluster: ClusterHandle, namespace: str) -> None:
        """Forty throttled outcomes from four processes trip the site exactly once."""
        config = {"failure_threshold": 5, "open_base_seconds": 600}
        reports = _replicas(
            cluster,
            namespace,
            [
                {"id": f"r{i}", "mode": "record", "outcomes": "T" * 10, "config": config}
                for i in range(4)
            ],
        )
        state = _state(cluster, namespace)
        assert (state.state, state.trip_count) == (breaker_state.State.OPEN, 1)
        assert sum(r["trips"] for r in reports) == 1
        assert _event_reasons(cluster, namespace) == ["Tripped"]

    def test_one_probe_however_many_ask(self, cluster: ClusterHandle, namespace: str) -> None:
        """Six processes ask at once after the open period; exactly one gets the probe slot."""
        past = datetime.now(UTC) - timedelta(seconds=5)
        opened = breaker_state.SiteState(
            state=breaker_state.State.OPEN,
            opened_at=past - timedelta(seconds=60),
            open_until=past,
            trip_count=1,
            last_reason="seeded by the test",
        )
        s = store.ConfigMapStore(
            client=Client(cluster.api_client()), namespace=namespace, name=CONFIGMAP
        )
        s.update(lambda snap: store.Change(None, data={SITE: opened.to_configmap_value()}))
        reports = _replicas(
            cluster,
            namespace,
            [{"id": f"r{i}", "mode": "admit", "config": {}} for i in range(6)],
        )
        assert sum(r["admitted"][0] for r in reports) == 1
        state = _state(cluster, namespace)
        assert state.state is breaker_state.State.HALF_OPEN
        assert len(state.probes) == 1
        assert _event_reasons(cluster, namespace) == ["Probing"]
