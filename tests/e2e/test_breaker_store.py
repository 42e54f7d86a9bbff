"""The breaker's ConfigMap store loses no update, however many writers race on the apiserver."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from kubernetes import client

from videodl.breaker import store
from videodl.kube.client import Client

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

CONFIGMAP = "videodl-breaker"
SITE = "generic.127.0.0.1"


def _new_store(cluster: ClusterHandle, namespace: str) -> store.ConfigMapStore:
    return store.ConfigMapStore(
        client=Client(cluster.api_client()), namespace=namespace, name=CONFIGMAP
    )


def _increment(key: str, by: str) -> Callable[[store.Snapshot], store.Change[None]]:
    def mutate(snap: store.Snapshot) -> store.Change[None]:
        doc = json.loads(snap.data.get(key, '{"count": 0, "writers": {}}'))
        doc["count"] += 1
        doc["writers"][by] = doc["writers"].get(by, 0) + 1
        return store.Change(None, data={key: json.dumps(doc, sort_keys=True)})

    return mutate


# Each process has its own client, connection pool and Python interpreter, like an operator
# replica; it prints how many conflicts it hit.
WRITER = r"""
import json, sys
from kubernetes import client, config
from videodl.breaker import store
from videodl.kube.client import Client


kubeconfig, namespace, name, key, writer, count = sys.argv[1:]
api = Client(config.new_client_from_config(config_file=kubeconfig))
s = store.ConfigMapStore(client=api, namespace=namespace, name=name)

def mutate(snap):
    doc = json.loads(snap.data.get(key, '{"count": 0, "writers": {}}'))
    doc["count"] += 1
    doc["writers"][writer] = doc["writers"].get(writer, 0) + 1
    return store.Change(None, data={key: json.dumps(doc, sort_keys=True)})

conflicts = 0
for _ in range(int(count)):
    conflicts += s.update(mutate).conflicts
print(conflicts)
"""


class TestConfigMapStore:
    def test_creates_the_configmap_when_missing(
        self, cluster: ClusterHandle, namespace: str
    ) -> None:
        """Reading a missing ConfigMap creates it, labelled, with no sites."""
        snap = _new_store(cluster, namespace).read()
        assert snap.data == {}
        got = client.CoreV1Api(cluster.api_client()).read_namespaced_config_map(
            CONFIGMAP, namespace
        )
        assert got.metadata.labels["app.kubernetes.io/component"] == "circuit-breaker"
        assert got.metadata.resource_version == snap.resource_version

    def test_a_stale_snapshot_costs_a_conflict_not_an_update(
        self, cluster: ClusterHandle, namespace: str
    ) -> None:
        """A write based on an old resourceVersion is refused, re-read and applied on top."""
        s = _new_store(cluster, namespace)
        stale = s.read()
        s.update(_increment(SITE, "a"))
        written = s.update(_increment(SITE, "b"), start=stale)
        assert written.conflicts == 1
        assert json.loads(written.snapshot.data[SITE])["count"] == 2

    def test_no_change_means_no_write(self, cluster: ClusterHandle, namespace: str) -> None:
        """A mutation that changes nothing leaves the resourceVersion alone."""
        s = _new_store(cluster, namespace)
        before = s.read()
        written = s.update(lambda snap: store.Change("same", data=dict(snap.data)))
        assert (written.result, written.wrote) == ("same", False)
        assert s.read().resource_version == before.resource_version

    def test_threads_with_their_own_clients_lose_no_update(
        self, cluster: ClusterHandle, namespace: str
    ) -> None:
        """Eight threads, each with its own ApiClient, increment one key 25 times each: 200."""
        writers, each = 8, 25
        stores = [_new_store(cluster, namespace) for _ in range(writers)]
        stores[0].read()
        barrier = threading.Barrier(writers)
        errors: list[BaseException] = []

        def run(i: int) -> None:
            try:
                barrier.wait()
                for _ in range(each):
                    stores[i].update(_increment(SITE, f"t{i}"))
            except Exception as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        doc = json.loads(stores[0].read().data[SITE])
        assert doc["count"] == writers * each
        assert doc["writers"] == {f"t{i}": each for i in range(writers)}
        # The race was real: some writes had to be retried.
        assert sum(s.conflicts_total for s in stores) > 0

    def test_processes_lose_no_update(self, cluster: ClusterHandle, namespace: str) -> None:
        """Four separate processes increment one key 30 times each; the count is exactly 120."""
        writers, each = 4, 30
        _new_store(cluster, namespace).read()
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WRITER,
                    str(cluster.kubeconfig),
                    namespace,
                    CONFIGMAP,
                    SITE,
                    f"p{i}",
                    str(each),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(writers)
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0] * writers, outputs
        doc = json.loads(_new_store(cluster, namespace).read().data[SITE])
        assert doc["count"] == writers * each
        assert doc["writers"] == {f"p{i}": each for i in range(writers)}
