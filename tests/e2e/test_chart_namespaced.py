"""The chart installed to serve a list of namespaces: it works there, and only there.

No other operator may run in the cluster meanwhile: one serving every namespace would pick
up the download this test expects to stay untouched.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

from tests.conftest import ClusterHandle
from tests.unit.chart import release

from videodl_devkit.mediaserver import MediaServer

MEDIA_CACHE = Path(tempfile.gettempdir()) / "videodl-test-media"


def test_namespaced_operator_serves_only_its_namespaces(cluster: ClusterHandle) -> None:
    """Watching one namespace, the operator completes a download there, ignores another
    namespace's, and is never refused by the narrower RBAC."""
    suffix = uuid.uuid4().hex[:6]
    home, watched, other = (f"chart-ns-{suffix}-{part}" for part in ("system", "media", "other"))
    for namespace in (home, watched, other):
        cluster.kubectl("create", "namespace", namespace)
    port = release.free_port()
    values = release.deep_merge(
        release.process_node_values(home, port), {"watch": {"namespaces": [watched]}}
    )
    try:
        with MediaServer(MEDIA_CACHE) as media, release.installed(cluster, home, home, values):
            for namespace in (watched, other):
                claim = {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "media"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
                download = {
                    "apiVersion": "videodl.dev/v1alpha1",
                    "kind": "VideoDownload",
                    "metadata": {"name": "clip"},
                    "spec": {
                        "url": media.url("/media/video.mp4"),
                        "output": {"persistentVolumeClaim": {"claimName": "media"}},
                    },
                }
                for manifest in (claim, download):
                    cluster.kubectl(
                        "apply", "--namespace", namespace, "-f", "-", input=json.dumps(manifest)
                    )

            def phase(namespace: str) -> str | None:
                obj = release.get_json(cluster, "videodownload", "clip", "--namespace", namespace)
                return obj.get("status", {}).get("phase")

            assert release.wait_for("the watched download", lambda: phase(watched) == "Succeeded")
            assert phase(other) is None
            log = release.operator_log(cluster, home)
            assert "metrics and health endpoint" in log
            assert "orbidden" not in log
    finally:
        for namespace in (home, watched, other):
            cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
