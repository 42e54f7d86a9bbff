"""Benchmark (not a test): a 2000-entry VideoPlaylist enumerated and fanned out.

On a fresh local cluster, one VideoPlaylist lists 2000 URLs of the media server
(``spec.urls`` holds at most 1000, so the source is the media server's 2000-episode feed,
one ``spec.url``); the real indexer enumerates it, and the operator creates the 2000
children with a worker command that completes at once (the stand-in worker: 2000 real
downloads do not fit a 2-core machine). Reported:

- seconds from applying the playlist to the indexer's end, to the last child created, and
  to the playlist ``Succeeded``;
- apiserver write requests per child (POST, PUT, PATCH, DELETE, APPLY, by resource), read
  from the apiserver's own ``apiserver_request_total`` before and after;
- the operator's peak RSS (VmHWM) and CPU seconds.

Run: ``python tests/benchmarks/bench_playlist.py [--count N]``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
import time
from typing import Any

from kubernetes import client, config

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bench_operator as bench

from videodl.api import playlist as playlist_api
from videodl.api import resource
from videodl.reconcile.playlist import naming
from videodl_devkit import cluster as local
from videodl_devkit import testing
from videodl_devkit.mediaserver import MediaServer

REPO = pathlib.Path(__file__).resolve().parents[2]
CRDS = [
    REPO / "crds" / f"{resource.GROUP}_{p}.yaml" for p in (resource.PLURAL, playlist_api.PLURAL)
]
NAMESPACE = "bench-pl"
Json = dict[str, Any]


def setup(cluster: local.LocalCluster) -> None:
    for crd in CRDS:
        bench.kubectl(cluster, "apply", "--server-side", "-f", str(crd))
    bench.kubectl(cluster, "wait", "--for=condition=Established", "--all", "crd", "--timeout=60s")
    bench.apply(
        cluster, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}]
    )
    indexer_role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "indexer", "namespace": NAMESPACE},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["patch"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "indexer", "namespace": NAMESPACE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "indexer"},
        "subjects": [{"kind": "ServiceAccount", "name": "videodl-worker", "namespace": NAMESPACE}],
    }
    claim = {**testing.volume_claim("media"), "metadata": {"name": "media", "namespace": NAMESPACE}}
    bench.apply(
        cluster,
        [
            *testing.worker_rbac(NAMESPACE),
            indexer_role,
            binding,
            claim,
            *testing.priority_classes(),
        ],
    )


def run(count: int) -> Json:
    media_dir = pathlib.Path(tempfile.gettempdir()) / "videodl-test-media"
    with local.running() as cluster, MediaServer(media_dir) as media:
        setup(cluster)
        api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
        objects = client.CustomObjectsApi(api)
        log_dir = pathlib.Path(tempfile.mkdtemp(prefix="bench-playlist-"))
        operator = testing.OperatorProcess(
            kubeconfig=cluster.kubeconfig,
            log_path=log_dir / "operator.log",
            args=[
                f"--namespaces={NAMESPACE}",
                f"--breaker-namespace={NAMESPACE}",
                "--worker-scratch-dir=/scratch",
                "--max-running=20",
                f"--worker-command={testing.instant_worker_command()}",
            ],
        )
        operator.start()
        before = bench.write_counts(api)
        started = time.monotonic()
        bench.apply(
            cluster,
            [
                {
                    "apiVersion": resource.API_VERSION,
                    "kind": playlist_api.KIND,
                    "metadata": {"name": "big", "namespace": NAMESPACE},
                    "spec": {
                        "url": media.url(f"/playlist/big.rss?count={count}"),
                        "maxItems": count,
                        "template": {"output": {"persistentVolumeClaim": {"claimName": "media"}}},
                    },
                }
            ],
        )
        marks: dict[str, float] = {}

        def status() -> Json:
            found = objects.get_namespaced_custom_object(
                resource.GROUP, resource.VERSION, NAMESPACE, playlist_api.PLURAL, "big"
            )
            return dict(found.get("status") or {})

        def reached() -> bool:
            now = time.monotonic() - started
            current = status()
            if current.get("indexedRun"):
                marks.setdefault("indexed_s", now)
            if current.get("created") == count:
                marks.setdefault("all_created_s", now)
            return current.get("phase") in ("Succeeded", "Failed")

        bench.wait_until("the playlist to finish", reached, timeout=3600)
        marks["finished_s"] = time.monotonic() - started
        after = bench.write_counts(api)
        rss, cpu = bench.proc_figures(operator.popen.pid)
        children = objects.list_namespaced_custom_object(
            resource.GROUP,
            resource.VERSION,
            NAMESPACE,
            resource.PLURAL,
            label_selector=f"{naming.LABEL_PLAYLIST}=big",
        )["items"]
        final = status()
        operator.close()
        return {
            "entries": final.get("entries"),
            "children": len(children),
            "phase": final.get("phase"),
            **{k: round(v, 1) for k, v in marks.items()},
            "writes_per_child": bench.per_object(before, after, count),
            "operator_peak_rss_mib": round(rss, 1),
            "operator_cpu_s": round(cpu, 1),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(run(args.count), indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
