"""Tests for videodl.reconcile.download.podspec: the worker and cleanup Pod manifests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.unit.reconcile.download.builders import UID, download

from videodl.api.resource import VideoDownload
from videodl.api.spec import Priority
from videodl.reconcile.download import naming, podspec
from videodl.reconcile.download.settings import WorkerSettings, default_priority_class_names
from videodl.workerapi import cleanup, environment

IDENTITY = podspec.PodIdentity(name="clip", namespace="media", uid=UID, run=3, attempt=2)
SETTINGS = WorkerSettings(
    image="registry.example/worker:1",
    command=("python", "-m", "videodl.worker"),
    service_account="downloader",
)


def build(
    spec: dict[str, Any] | None = None,
    settings: WorkerSettings = SETTINGS,
    extractor: str | None = None,
) -> dict[str, Any]:
    model = VideoDownload.from_object(download(spec=spec))
    return podspec.worker_pod(
        model, IDENTITY, settings=settings, instance="prod", extractor=extractor
    )


def env(pod: dict[str, Any]) -> dict[str, Any]:
    container = pod["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


class TestIdentity:
    def test_name_labels_owner(self) -> None:
        """The Pod is named for the run and labelled and owned as the operator finds it again."""
        pod = build()
        meta = pod["metadata"]
        assert meta["name"] == naming.worker_pod_name("clip", UID, 3)
        assert meta["labels"] == {
            "app.kubernetes.io/name": "videodl-worker",
            "app.kubernetes.io/managed-by": "videodl-operator",
            "app.kubernetes.io/instance": "prod",
            "app.kubernetes.io/component": "worker",
            "videodl.dev/download": "clip",
            "videodl.dev/run": "3",
            "videodl.dev/attempt": "2",
        }
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "videodl.dev/v1alpha1",
                "kind": "VideoDownload",
                "name": "clip",
                "uid": UID,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]


class TestSpec:
    def test_basics(self) -> None:
        """restartPolicy Never, the deadline, the ServiceAccount and the priority class."""
        spec = build({"activeDeadlineSeconds": 900, "priority": "High"})["spec"]
        assert spec["restartPolicy"] == "Never"
        assert spec["activeDeadlineSeconds"] == 900
        assert spec["serviceAccountName"] == "downloader"
        assert spec["priorityClassName"] == "videodl-high"

    def test_default_deadline(self) -> None:
        """Without a spec deadline the operator's default applies."""
        assert build()["spec"]["activeDeadlineSeconds"] == SETTINGS.active_deadline_seconds

    def test_priority_class_switched_off(self) -> None:
        """A level without a configured class gets no priorityClassName."""
        names = default_priority_class_names()
        del names[Priority.NORMAL]
        pod = build(settings=WorkerSettings(priority_class_names=names))
        assert "priorityClassName" not in pod["spec"]

    def test_worker_contract(self) -> None:
        """The worker gets its spec, name, namespace, attempt and paths as it expects."""
        pod = build({"priority": "Low"})
        values = env(pod)
        spec = json.loads(values[environment.SPEC])
        assert spec["url"] == "https://media.example/watch?v=abc"
        assert spec["priority"] == "Low"
        assert values[environment.NAME] == "clip"
        assert values[environment.NAMESPACE] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
        assert values[environment.ATTEMPT] == "2"
        assert values[environment.OUTPUT_DIR] == "/data"
        assert values[environment.TMP_DIR] == "/tmp"
        assert values[environment.TERMINATION_MESSAGE_PATH] == "/dev/termination-log"
        # The worker's own parser accepts what the operator wrote.
        resolved = {k: v for k, v in values.items() if isinstance(v, str)}
        job = environment.load({**resolved, environment.NAMESPACE: "media"})
        assert job.attempt == 2
        assert job.spec.priority == Priority.LOW

    def test_the_extractor_hint_reaches_the_worker(self) -> None:
        """A hint given is passed on, and read back as the worker reads it; none, none."""
        assert environment.EXTRACTOR not in env(build())
        values = env(build(extractor="Generic@2026.10.26"))
        assert values[environment.EXTRACTOR] == "Generic@2026.10.26"
        resolved = {k: v for k, v in values.items() if isinstance(v, str)}
        job = environment.load({**resolved, environment.NAMESPACE: "media"})
        assert job.extractor == environment.ExtractorHint(key="Generic", version="2026.10.26")

    def test_allowed_networks_reach_the_worker(self) -> None:
        """The operator's allowed networks become the worker's, which it parses back."""
        settings = WorkerSettings(allowed_networks=("127.0.0.0/8", "::1/128"))
        values = env(build(settings=settings))
        assert values[environment.ALLOWED_NETWORKS] == "127.0.0.0/8,::1/128"
        resolved = {k: v for k, v in values.items() if isinstance(v, str)}
        job = environment.load({**resolved, environment.NAMESPACE: "media"})
        assert job.allowed_networks == ("127.0.0.0/8", "::1/128")

    def test_no_allowed_networks_by_default(self) -> None:
        """Without the setting the worker gets no variable and connects to public addresses only."""
        assert environment.ALLOWED_NETWORKS not in env(build())

    def test_volumes(self) -> None:
        """The claim at /data with its subPath, an emptyDir at /tmp."""
        pod = build(
            {"output": {"persistentVolumeClaim": {"claimName": "media"}, "subPath": "shows/a"}}
        )
        container = pod["spec"]["containers"][0]
        assert {"name": "output", "mountPath": "/data", "subPath": "shows/a"} in container[
            "volumeMounts"
        ]
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes["output"]["persistentVolumeClaim"] == {"claimName": "media"}
        assert volumes["tmp"]["emptyDir"] == {}

    def test_cookies_read_only(self) -> None:
        """The cookies Secret key is mounted read-only and named to the worker."""
        pod = build({"cookies": {"secretRef": {"name": "site", "key": "jar"}}})
        container = pod["spec"]["containers"][0]
        assert {"name": "cookies", "mountPath": podspec.COOKIES_DIR, "readOnly": True} in container[
            "volumeMounts"
        ]
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes["cookies"]["secret"]["secretName"] == "site"
        assert volumes["cookies"]["secret"]["items"] == [{"key": "jar", "path": "cookies.txt"}]
        assert env(pod)[environment.COOKIES_FILE] == f"{podspec.COOKIES_DIR}/cookies.txt"

    def test_restricted_security(self) -> None:
        """Every field PodSecurity 'restricted' checks is set to a passing value."""
        pod = build()
        pod_ctx = pod["spec"]["securityContext"]
        ctx = pod["spec"]["containers"][0]["securityContext"]
        assert pod_ctx["runAsNonRoot"] is True
        assert pod_ctx["seccompProfile"] == {"type": "RuntimeDefault"}
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["runAsNonRoot"] is True
        assert ctx["runAsUser"] == 65532
        assert ctx["readOnlyRootFilesystem"] is True
        assert pod["spec"]["containers"][0]["terminationMessagePolicy"] == "FallbackToLogsOnError"
        kinds = {k for v in pod["spec"]["volumes"] for k in v if k != "name"}
        assert kinds <= {"persistentVolumeClaim", "emptyDir", "secret"}

    def test_missing_claim(self) -> None:
        """Without any claim the builder refuses with the fix."""
        model = VideoDownload.from_object(download(spec={"output": {}}))
        with pytest.raises(podspec.MissingClaimError, match="--default-claim"):
            podspec.worker_pod(model, IDENTITY, settings=SETTINGS, instance="prod")


class TestResources:
    def test_defaults(self) -> None:
        """The operator's defaults apply when the spec has none."""
        assert build()["spec"]["containers"][0]["resources"] == {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"memory": "1Gi"},
        }

    def test_spec_overrides_per_key(self) -> None:
        """The spec overrides key by key and keeps the other defaults."""
        resources = build({"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "4"}}})[
            "spec"
        ]["containers"][0]["resources"]
        assert resources == {
            "requests": {"cpu": "2", "memory": "128Mi"},
            "limits": {"cpu": "4", "memory": "1Gi"},
        }

    def test_default_limit_below_request_is_dropped(self) -> None:
        """A raised request above the default limit drops that default limit."""
        resources = build({"resources": {"requests": {"memory": "2Gi"}}})["spec"]["containers"][0][
            "resources"
        ]
        assert resources["requests"]["memory"] == "2Gi"
        assert "memory" not in resources.get("limits", {})


class TestCleanupPod:
    def test_mounts_the_volume_root(self) -> None:
        """The cleanup Pod sees the whole claim and gets the paths as JSON."""
        model = VideoDownload.from_object(
            download(
                spec={"output": {"persistentVolumeClaim": {"claimName": "media"}, "subPath": "x"}}
            )
        )
        pod = podspec.cleanup_pod(
            model, uid=UID, round_=2, paths=["x/a.mp4"], settings=SETTINGS, instance="prod"
        )
        container = pod["spec"]["containers"][0]
        assert container["volumeMounts"] == [{"name": "output", "mountPath": "/data"}]
        assert json.loads(env(pod)[cleanup.PATHS_ENV]) == ["x/a.mp4"]
        assert pod["metadata"]["name"] == naming.cleanup_pod_name("clip", UID, 2)
        assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "cleanup"
        assert pod["spec"]["automountServiceAccountToken"] is False
