"""Downloads into S3 end to end: real control plane, process node, real yt-dlp, real versitygw.

The operator runs with the S3 server's endpoint and a credentials Secret as its defaults
(``--s3-endpoint``, ``--s3-credentials-secret``), so most manifests only name the bucket.
Worker Pods get the keys as ``secretKeyRef`` variables, download into a scratch emptyDir
and upload into versitygw on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from tests.e2e.operatorbed import Bed, Json
from tests.e2e.test_operator import bed, installed, media

from videodl.core import breaker_state
from videodl.reconcile.download import naming
from videodl_devkit.mediaserver import MediaServer
from videodl_devkit.s3server import S3Credentials, S3Server

__all__ = ["bed", "installed", "media"]

pytestmark = pytest.mark.e2e

BUCKET = "videos"
SECRET = "s3-credentials"
BREAKER = "videodl-breaker"


@pytest.fixture
def s3_server(tmp_path: pathlib.Path) -> Iterator[S3Server]:
    with S3Server(tmp_path / "s3") as server:
        server.make_bucket(BUCKET)
        yield server


def secret(name: str, credentials: S3Credentials) -> Json:
    def encoded(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "data": {
            "accessKeyId": encoded(credentials.access_key_id),
            "secretAccessKey": encoded(credentials.secret_access_key),
        },
    }


def start(bed: Bed, server: S3Server, *args: str) -> None:
    bed.apply(secret(SECRET, server.credentials))
    bed.start_operator(
        f"--s3-endpoint={server.endpoint}",
        f"--s3-credentials-secret={SECRET}",
        f"--s3-part-size-bytes={5 * 1024 * 1024}",
        *args,
    )


def s3_spec(url: str, **s3: Any) -> Json:
    return {
        "url": url,
        "output": {"template": "%(title)s.%(ext)s", "s3": {"bucket": BUCKET, **s3}},
    }


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def breaker_sites(bed: Bed) -> dict[str, breaker_state.SiteState]:
    """The breaker's recorded sites (none when the ConfigMap does not exist)."""
    found = bed.core.list_namespaced_config_map(
        bed.namespace, field_selector=f"metadata.name={BREAKER}"
    )
    if not found.items:
        return {}
    data = found.items[0].data or {}
    return {k: breaker_state.SiteState.from_configmap_value(v) for k, v in data.items()}


def assert_breaker_untouched(bed: Bed) -> None:
    for site, state in breaker_sites(bed).items():
        assert state.state is breaker_state.State.CLOSED, (site, state)
        assert state.consecutive_failures == 0, (site, state)
        assert "F" not in state.window, (site, state)


class TestS3:
    def test_download_is_uploaded_and_matches_the_media(
        self, bed: Bed, media: MediaServer, s3_server: S3Server
    ) -> None:
        """Succeeded; key from prefix and template; bytes match; no key in the Pod spec."""
        start(bed, s3_server)
        bed.create("up", s3_spec(media.url("/media/video.mp4"), keyPrefix="shows/one"))
        done = bed.wait_phase("up", "Succeeded", timeout=180)
        (entry,) = done["status"]["result"]["files"]
        assert entry["path"] == f"s3://{BUCKET}/shows/one/video.mp4"
        assert entry["sha256"] == sha256(media.library.video)
        assert sha256(s3_server.data / BUCKET / "shows/one/video.mp4") == entry["sha256"]
        # The keys reach the worker only as Secret references.
        (pod,) = bed.history.pod_names().values()
        text = json.dumps(pod)
        assert s3_server.credentials.secret_access_key not in text
        assert s3_server.credentials.access_key_id not in text
        env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
        assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {
            "name": SECRET,
            "key": "secretAccessKey",
        }
        assert any("emptyDir" in v for v in pod["spec"]["volumes"] if v["name"] == "output")
        assert s3_server.credentials.secret_access_key not in json.dumps(done)

    def test_large_file_goes_up_in_parts_and_a_killed_upload_leaves_no_object(
        self, bed: Bed, media: MediaServer, s3_server: S3Server
    ) -> None:
        """The worker Pod is deleted mid-upload: nothing under the key; the next run uploads
        the whole file in parts."""
        large = media.library.large_file(size_mb=200)
        start(bed, s3_server)
        bed.create("big", s3_spec(media.url("/media/large.mp4")))
        bed.wait("a multipart upload to begin", lambda: s3_server.multipart_uploads(BUCKET), 180)
        (first,) = bed.worker_pods("big")
        bed.core.delete_namespaced_pod(
            first["metadata"]["name"], bed.namespace, grace_period_seconds=0
        )
        bed.wait("the worker Pod to be gone", lambda: not [
            p for p in bed.worker_pods("big") if p["metadata"]["name"] == first["metadata"]["name"]
        ], 180)  # fmt: skip
        assert "large.mp4" not in s3_server.keys(BUCKET)
        done = bed.wait_phase("big", "Succeeded", timeout=300)
        # Deleted with no grace, the Pod was gone at once: the attempt went on in run 2.
        assert naming.run_of(done["status"]["workerPod"]) == 2
        assert done["status"]["attempts"] == 1
        (entry,) = done["status"]["result"]["files"]
        assert entry["sha256"] == sha256(large)
        assert sha256(s3_server.data / BUCKET / "large.mp4") == entry["sha256"]
        head = s3_server.client().head_object(Bucket=BUCKET, Key="large.mp4")
        parts = -(-large.stat().st_size // (5 * 1024 * 1024))
        assert head["ETag"].strip('"').endswith(f"-{parts}")

    def test_wrong_credentials_and_missing_bucket_fail_at_once(
        self, bed: Bed, media: MediaServer, s3_server: S3Server
    ) -> None:
        """Permanent, one attempt each, naming the Secret and the bucket; breaker untouched."""
        start(bed, s3_server)
        wrong = S3Credentials(s3_server.credentials.access_key_id, "not-the-secret")
        bed.apply(secret("wrong-keys", wrong))
        url = media.url("/media/video.mp4")
        bed.create("badkeys", s3_spec(url, credentialsSecretRef={"name": "wrong-keys"}))
        bed.create("nobucket", s3_spec(url, bucket="no-such-bucket"))
        for name, reason, named in (
            ("badkeys", "S3InvalidCredentials", "'wrong-keys'"),
            ("nobucket", "S3NoSuchBucket", "'no-such-bucket'"),
        ):
            failed = bed.wait_phase(name, "Failed", timeout=180)
            failure = failed["status"]["lastFailure"]
            assert failure["class"] == "Permanent", failure
            assert failure["reason"] == reason, failure
            assert named in failure["message"], failure
            assert failed["status"]["attempts"] == 1
            assert "not-the-secret" not in json.dumps(failed)
        assert_breaker_untouched(bed)

    def test_endpoint_down_then_up_succeeds_after_retries(
        self, bed: Bed, media: MediaServer, s3_server: S3Server
    ) -> None:
        start(bed, s3_server)
        s3_server.stop()
        spec = s3_spec(media.url("/media/video.mp4"))
        spec["retry"] = {"maxAttempts": 6, "backoff": {"initialSeconds": 2, "maxSeconds": 4}}
        bed.create("flaky", spec)
        backing_off = bed.wait_phase("flaky", "BackingOff", timeout=180)
        assert backing_off["status"]["lastFailure"]["reason"] == "S3Unreachable"
        assert backing_off["status"]["lastFailure"]["class"] == "Transient"
        assert_breaker_untouched(bed)
        s3_server.start()
        done = bed.wait_phase("flaky", "Succeeded", timeout=180)
        assert done["status"]["attempts"] >= 2
        assert "video.mp4" in s3_server.keys(BUCKET)
        # The breaker does track the site (the success is in its window), and none of the
        # storage failures before it was counted.
        bed.wait(
            "the breaker to record the success",
            lambda: any("S" in state.window for state in breaker_sites(bed).values()),
            timeout=30,
        )
        assert_breaker_untouched(bed)

    def test_second_download_is_skipped_and_force_uploads_again(
        self, bed: Bed, media: MediaServer, s3_server: S3Server
    ) -> None:
        start(bed, s3_server)
        spec = s3_spec(media.url("/media/video.mp4"))
        bed.create("first", spec)
        first = bed.wait_phase("first", "Succeeded", timeout=180)
        assert not first["status"]["result"].get("skipped")
        bed.create("second", spec)
        second = bed.wait_phase("second", "Succeeded", timeout=180)
        assert second["status"]["result"]["skipped"] is True
        assert second["status"]["result"]["files"] == first["status"]["result"]["files"]
        uploaded = s3_server.client().head_object(Bucket=BUCKET, Key="video.mp4")
        bed.create("forced", {**spec, "force": True})
        forced = bed.wait_phase("forced", "Succeeded", timeout=180)
        assert not forced["status"]["result"].get("skipped")
        again = s3_server.client().head_object(Bucket=BUCKET, Key="video.mp4")
        assert again["LastModified"] >= uploaded["LastModified"]
        assert forced["status"]["result"]["files"] == first["status"]["result"]["files"]

    def test_deletion_policy_delete_removes_the_objects_and_retain_keeps_them(
        self, bed: Bed, media: MediaServer, s3_server: S3Server
    ) -> None:
        start(bed, s3_server)
        bed.create(
            "temp",
            {
                **s3_spec(media.url("/media/video.mp4"), keyPrefix="temp"),
                "deletionPolicy": "Delete",
            },
        )
        bed.create("kept", s3_spec(media.url("/media/video.mp4"), keyPrefix="kept"))
        temp = bed.wait_phase("temp", "Succeeded", timeout=180)
        bed.wait_phase("kept", "Succeeded", timeout=180)
        assert naming.FINALIZER in temp["metadata"]["finalizers"]
        assert "temp/video.mp4" in s3_server.keys(BUCKET, "temp/")
        bed.cluster.kubectl("-n", bed.namespace, "delete", "vdl/temp", "--timeout=120s")
        bed.cluster.kubectl("-n", bed.namespace, "delete", "vdl/kept", "--timeout=120s")
        # The object and the video's archive marker are gone; the retained ones stay.
        assert s3_server.keys(BUCKET, "temp/") == []
        assert "kept/video.mp4" in s3_server.keys(BUCKET, "kept/")
        assert bed.history.pod_names(naming.COMPONENT_CLEANUP), "no cleanup Pod ran"

    def test_escaping_template_or_prefix_and_two_destinations_are_rejected_by_the_apiserver(
        self, bed: Bed, media: MediaServer
    ) -> None:
        spec = s3_spec(media.url("/media/video.mp4"), keyPrefix="p")
        spec["output"]["template"] = "../%(title)s.%(ext)s"
        with pytest.raises(AssertionError, match=r"may not contain a '\.\.' path segment"):
            bed.create("escape", spec)
        spec = s3_spec(media.url("/media/video.mp4"), keyPrefix="../p")
        with pytest.raises(AssertionError, match=r"spec.output.s3.keyPrefix may not contain"):
            bed.create("escape", spec)
        spec = s3_spec(media.url("/media/video.mp4"))
        spec["output"]["persistentVolumeClaim"] = {"claimName": "media"}
        with pytest.raises(AssertionError, match=r"persistentVolumeClaim and spec.output.s3 are"):
            bed.create("both", spec)
