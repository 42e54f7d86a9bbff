"""Deleting never destroys what another download owns, and finalizers always finish: real
downloads on the real control plane, with the worker's download archive."""

# The fixtures imported from test_operator are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import pathlib
import time
import uuid
from typing import TYPE_CHECKING

from kubernetes import client
from tests.e2e.operatorbed import CLAIM, Bed
from tests.e2e.test_operator import bed, installed, media  # noqa: F401 - fixtures

from videodl.api import resource
from videodl.reconcile.download import naming
from videodl_devkit import testing
from videodl_devkit.mediaserver import MediaServer

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle


def delete(bed: Bed, name: str) -> None:
    bed.cluster.kubectl("-n", bed.namespace, "delete", f"vdl/{name}", "--timeout=120s")


def test_a_skipped_duplicate_never_deletes_the_first_downloads_file(
    bed: Bed, media: MediaServer
) -> None:
    """A Retain download's file survives deleting a Delete-policy duplicate that the archive
    skipped; the duplicate's status says it was skipped."""
    bed.start_operator()
    url = media.url("/media/video.mp4")
    bed.create("first", {"url": url})
    first = bed.wait_phase("first", "Succeeded")
    (entry,) = first["status"]["result"]["files"]
    written = bed.claim_dir() / entry["path"]
    assert written.exists()

    bed.create("second", {"url": url, "deletionPolicy": "Delete"})
    second = bed.wait_phase("second", "Succeeded")
    assert second["status"]["result"]["skipped"] is True
    assert [f["path"] for f in second["status"]["result"]["files"]] == [entry["path"]]
    delete(bed, "second")
    assert written.exists()
    assert "FilesKept" in bed.event_reasons("second")
    assert not bed.history.pod_names(naming.COMPONENT_CLEANUP), "a cleanup Pod ran"


def test_a_file_two_downloads_own_goes_with_the_last_one(bed: Bed, media: MediaServer) -> None:
    """Two Delete-policy downloads that both wrote a file (force): deleting one keeps it and
    its archive entry; deleting the last removes both."""
    bed.start_operator()
    url = media.url("/media/video.mp4")
    bed.create("one", {"url": url, "deletionPolicy": "Delete"})
    one = bed.wait_phase("one", "Succeeded")
    bed.create("two", {"url": url, "deletionPolicy": "Delete", "force": True})
    two = bed.wait_phase("two", "Succeeded")
    assert not two["status"]["result"].get("skipped")
    (entry,) = one["status"]["result"]["files"]
    written = bed.claim_dir() / entry["path"]
    archive = bed.claim_dir() / ".videodl-archive.txt"
    result = one["status"]["result"]
    recorded = f"{result['extractor']} {result['videoId']}"

    delete(bed, "two")
    assert written.exists()
    assert recorded in archive.read_text().splitlines()
    delete(bed, "one")
    assert not written.exists()
    assert recorded not in archive.read_text().splitlines()


def test_forged_result_paths_outside_the_directory_are_not_deleted(bed: Bed) -> None:
    """A result written with admin rights that names files outside the download's directory
    deletes none of them."""
    bed.start_operator(f"--worker-command={testing.instant_worker_command()}")
    bed.create(
        "forged",
        {
            "url": "https://media.example/f",
            "deletionPolicy": "Delete",
            "output": {"persistentVolumeClaim": {"claimName": CLAIM}, "subPath": "mine"},
        },
    )
    bed.wait_phase("forged", "Succeeded", timeout=60)
    victim = bed.claim_dir() / "theirs" / "precious.mp4"
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_bytes(b"not yours")
    files = [{"path": "theirs/precious.mp4", "sizeBytes": 9, "sha256": "0" * 64}]
    bed.objects.patch_namespaced_custom_object_status(
        resource.GROUP,
        resource.VERSION,
        bed.namespace,
        resource.PLURAL,
        "forged",
        {"status": {"result": {"files": files}}},
        _content_type="application/merge-patch+json",
    )
    delete(bed, "forged")
    assert victim.read_bytes() == b"not yours"
    assert "CleanupRefused" in bed.event_reasons("forged")


def test_a_namespace_with_downloads_in_every_phase_finishes_deleting(
    cluster: ClusterHandle,
    installed: None,
    tmp_path: pathlib.Path,
) -> None:
    """Deleting a namespace with 20 downloads (Delete and Retain; succeeded, running, queued,
    and one whose claim is missing) ends within a bounded time, the operator saying what was
    left."""
    namespace = f"doomed-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", namespace)
    doomed = Bed(cluster, namespace, tmp_path)
    try:
        doomed.apply(*testing.worker_rbac(namespace), testing.volume_claim(CLAIM))
        doomed.start_operator(
            f"--worker-command={testing.instant_worker_command(15)}",
            "--max-running=3",
            "--worker-blocked-retry-seconds=2",
        )
        for index in range(19):
            policy = "Delete" if index % 2 else "Retain"
            doomed.create(
                f"d{index:02}", {"url": f"https://media.example/{index}", "deletionPolicy": policy}
            )
        doomed.create(
            "lost",
            {
                "url": "https://media.example/lost",
                "deletionPolicy": "Delete",
                "output": {"persistentVolumeClaim": {"claimName": "missing"}},
            },
        )
        doomed.wait_phase("d01", "Succeeded", timeout=90)
        # The stand-in worker writes no file; give d01 one, so its deletion needs a cleanup Pod.
        files = [{"path": "d01.mp4", "sizeBytes": 1, "sha256": "0" * 64}]
        doomed.objects.patch_namespaced_custom_object_status(
            resource.GROUP,
            resource.VERSION,
            namespace,
            resource.PLURAL,
            "d01",
            {"status": {"result": {"files": files}}},
            _content_type="application/merge-patch+json",
        )
        phases = {(o.get("status") or {}).get("phase") for o in doomed.list_downloads()}
        assert {"Succeeded", "Running", "Queued"} <= phases, phases
        cluster.kubectl("delete", "namespace", namespace, "--wait=false")
        core = client.CoreV1Api(cluster.api_client())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                core.read_namespace(namespace)
            except client.ApiException as exc:
                if exc.status == 404:
                    break
                raise
            time.sleep(1)
        else:
            left = cluster.kubectl("get", "vdl", "-n", namespace, "-o", "yaml", check=False)
            raise AssertionError(f"namespace {namespace} still there:\n{left.stdout[:4000]}")
        log = (tmp_path / "operator.log").read_text()
        released = "d01: namespace is being deleted; releasing the finalizer, files left: d01.mp4"
        assert released in log
    finally:
        doomed.close()
