"""Pods on the process node never depend on where the checkout lives: a volume mounted over
a parent of the checkout (an emptyDir at /tmp, with the checkout under /tmp) leaves the
virtualenv and the sources Pods run from visible, as an image's own files would be."""

from __future__ import annotations

import json
import pathlib
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from kubernetes import client

import videodl_devkit

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

CHECKOUT = pathlib.Path(videodl_devkit.__file__).resolve().parents[3]
PROGRAM = """
import json, os, pathlib, sys
import videodl.worker, videodl_devkit
covered = pathlib.Path(sys.argv[1])
(covered / "written-in-the-volume").write_text("x")
report = {"entries": sorted(os.listdir(covered)), "python": sys.executable}
pathlib.Path("/dev/termination-log").write_text(json.dumps(report))
"""


def test_a_volume_over_the_checkouts_parent_hides_nothing_pods_run_from(
    cluster: ClusterHandle, namespace: str
) -> None:
    """A Pod with an emptyDir mounted at the checkout's parent still runs the product's
    Python, sees the emptyDir's own content there, and writes into the emptyDir only."""
    covered = CHECKOUT.parent
    assert covered != pathlib.Path("/"), "the checkout must not sit at the root"
    name = f"checkout-{uuid.uuid4().hex[:6]}"
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "main",
                    "image": "stand-in",
                    "command": [sys.executable, "-c", PROGRAM, str(covered)],
                    "volumeMounts": [{"name": "scratch", "mountPath": str(covered)}],
                    # On failure the message is the log's tail, which says why.
                    "terminationMessagePolicy": "FallbackToLogsOnError",
                }
            ],
            "volumes": [{"name": "scratch", "emptyDir": {}}],
        },
    }
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespaced_pod(namespace, pod)
    deadline = time.monotonic() + 90
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        raw = core.read_namespaced_pod(name, namespace, _preload_content=False)
        status = json.loads(raw.data).get("status", {})
        if status.get("phase") in ("Succeeded", "Failed"):
            break
        time.sleep(0.3)
    assert status.get("phase") == "Succeeded", status.get("containerStatuses")
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    report = json.loads(terminated["message"])
    # The emptyDir's content: the file the Pod wrote and the mount point of the checkout,
    # nothing else of the host's directory.
    assert report["entries"] == sorted(["written-in-the-volume", CHECKOUT.name])
    assert report["python"] == sys.executable
    assert not (covered / "written-in-the-volume").exists()
