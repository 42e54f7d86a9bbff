"""Downloads into S3 on the operator's side: Pod manifests, defaults, failures, deletion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.unit.reconcile.download.builders import (
    UID,
    download,
    observe,
    pod,
    reasons,
    status_in,
)

from videodl.api.resource import VideoDownload
from videodl.reconcile.download import naming, podspec, transitions
from videodl.reconcile.download.settings import WorkerSettings
from videodl.workerapi import cleanup, s3
from videodl.workerapi.s3 import S3Defaults

IDENTITY = podspec.PodIdentity(name="clip", namespace="media", uid=UID, run=1, attempt=1)
DEFAULTS = S3Defaults(
    endpoint="http://gateway.storage:7070",
    bucket="videos",
    credentials_secret="s3-keys",
    scratch_size_limit="20Gi",
)
SETTINGS = WorkerSettings(s3=DEFAULTS)


def s3_download(s3_spec: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return download(spec={"output": {"s3": s3_spec or {}}}, **fields)


def worker(body: dict[str, Any], settings: WorkerSettings = SETTINGS) -> dict[str, Any]:
    model = VideoDownload.from_object(body)
    return podspec.worker_pod(model, IDENTITY, settings=settings, instance="prod")


def env_of(manifest: dict[str, Any]) -> dict[str, Any]:
    container = manifest["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


class TestWorkerPod:
    def test_defaults_fill_the_target_and_keys_come_from_the_secret(self) -> None:
        manifest = worker(s3_download({"keyPrefix": "shows//one/"}))
        env = env_of(manifest)
        assert env[s3.BUCKET] == "videos"
        assert env[s3.ENDPOINT] == "http://gateway.storage:7070"
        assert env[s3.KEY_PREFIX] == "shows/one"
        assert env[s3.PATH_STYLE] == "true"  # an endpoint is set
        assert env[s3.CREDENTIALS_SECRET] == "s3-keys"
        assert env[s3.ACCESS_KEY_ID] == {"secretKeyRef": {"name": "s3-keys", "key": "accessKeyId"}}
        assert env[s3.SECRET_ACCESS_KEY] == {
            "secretKeyRef": {"name": "s3-keys", "key": "secretAccessKey"}
        }
        assert s3.SESSION_TOKEN not in env

    def test_output_is_a_sized_scratch_volume_not_a_claim(self) -> None:
        manifest = worker(s3_download({"scratchSizeLimit": "5Gi"}))
        volumes = {v["name"]: v for v in manifest["spec"]["volumes"]}
        assert volumes["output"] == {"name": "output", "emptyDir": {"sizeLimit": "5Gi"}}
        assert "persistentVolumeClaim" not in json.dumps(manifest)

    def test_the_spec_overrides_the_defaults(self) -> None:
        spec = {
            "bucket": "other",
            "endpoint": "https://s3.eu-west-1.amazonaws.com",
            "region": "eu-west-1",
            "forcePathStyle": False,
            "credentialsSecretRef": {"name": "mine", "sessionTokenKey": "token"},
        }
        env = env_of(worker(s3_download(spec)))
        assert env[s3.BUCKET] == "other"
        assert env[s3.REGION] == "eu-west-1"
        assert env[s3.PATH_STYLE] == "false"
        assert env[s3.SESSION_TOKEN] == {"secretKeyRef": {"name": "mine", "key": "token"}}

    def test_no_secret_and_no_endpoint_uses_ambient_credentials_on_aws(self) -> None:
        env = env_of(worker(s3_download({"bucket": "b-1"}), WorkerSettings()))
        assert s3.ENDPOINT not in env
        assert s3.ACCESS_KEY_ID not in env
        assert env[s3.PATH_STYLE] == "false"

    def test_no_bucket_anywhere_fails_the_download_naming_the_fix(self) -> None:
        body = s3_download(status=status_in("Pending"))
        plan = transitions.decide(observe(body, settings=WorkerSettings()))
        assert plan.status is not None
        failure = plan.status.last_failure
        assert failure is not None
        assert failure.reason == "NoOutputBucket"
        assert "--s3-bucket" in failure.message
        assert "spec.output.s3.bucket" in failure.message


class TestDeletion:
    def deleting(self, *uris: str, **result: Any) -> dict[str, Any]:
        files = [{"path": u, "sizeBytes": 1, "sha256": "0" * 64} for u in uris]
        return download(
            spec={"deletionPolicy": "Delete", "output": {"s3": {"keyPrefix": "p"}}},
            deleting=True,
            finalizers=[naming.FINALIZER],
            status=status_in("Succeeded", result={"files": files, **result}),
        )

    def test_objects_and_the_archive_marker_are_deleted(self) -> None:
        body = self.deleting("s3://videos/p/clip.mp4", extractor="generic", videoId="clip")
        plan = transitions.decide(observe(body, settings=SETTINGS))
        assert plan.cleanup_round == 1
        assert plan.cleanup_paths == (
            "s3://videos/p/clip.mp4",
            "s3://videos/p/.videodl-archive/generic%20clip",
        )
        assert plan.cleanup_archive is None

    def test_objects_outside_the_prefix_or_bucket_are_refused(self) -> None:
        body = self.deleting(
            "s3://videos/p/ok.mp4", "s3://videos/other/x.mp4", "s3://elsewhere/p/y.mp4",
            "s3://videos/p/../z.mp4",
        )  # fmt: skip
        plan = transitions.decide(observe(body, settings=SETTINGS))
        assert plan.cleanup_paths == ("s3://videos/p/ok.mp4",)
        assert "CleanupRefused" in reasons(plan)

    def test_cleanup_pod_carries_the_target_and_no_volume(self) -> None:
        model = VideoDownload.from_object(self.deleting("s3://videos/p/ok.mp4"))
        manifest = podspec.cleanup_pod(
            model, uid=UID, round_=1, paths=["s3://videos/p/ok.mp4"], settings=SETTINGS,
            instance="prod",
        )  # fmt: skip
        env = env_of(manifest)
        assert env[cleanup.S3_ENV] == "true"
        assert env[s3.SECRET_ACCESS_KEY] == {
            "secretKeyRef": {"name": "s3-keys", "key": "secretAccessKey"}
        }
        assert manifest["spec"]["volumes"] == []
        assert manifest["spec"]["containers"][0]["volumeMounts"] == []

    def test_finalizer_released_after_the_cleanup(self) -> None:
        body = self.deleting("s3://videos/p/ok.mp4")
        name = naming.cleanup_pod_name("clip", UID, 1)
        done = pod(name, component=naming.COMPONENT_CLEANUP, run=1, phase="Succeeded")
        plan = transitions.decide(observe(body, [done], settings=SETTINGS))
        assert plan.remove_finalizer
        assert reasons(plan) == ["FilesDeleted"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("s3://b/k/x.mp4", ("b", "k/x.mp4")), ("s3://b/", None), ("/data/x", None), ("s3:///k", None)],
)
def test_parse_uri(raw: str, expected: tuple[str, str] | None) -> None:
    assert s3.parse_uri(raw) == expected
