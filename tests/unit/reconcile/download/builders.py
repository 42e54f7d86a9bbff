"""Raw VideoDownloads and Pods for the operator's unit tests, as the apiserver returns them."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from videodl.api.resource import VideoDownload
from videodl.api.status import ConditionStatus, VideoDownloadStatus
from videodl.reconcile.download import admission, naming, patches
from videodl.reconcile.download.plan import Observation, Plan
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.settings import WorkerSettings
from videodl.workerapi import termination

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
SECOND = datetime.timedelta(seconds=1)
UID = "0b5e2a9c-0000-4000-8000-000000000001"
SETTINGS = WorkerSettings(default_claim=None)


def stamp(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def download(
    name: str = "clip",
    namespace: str = "media",
    *,
    uid: str = UID,
    generation: int = 1,
    spec: Mapping[str, Any] | None = None,
    status: Mapping[str, Any] | None = None,
    annotations: Mapping[str, str] | None = None,
    finalizers: Sequence[str] = (),
    deleting: bool = False,
    created: datetime.datetime = T0,
    resource_version: str = "100",
) -> dict[str, Any]:
    """A VideoDownload object with a claim and the given parts."""
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "generation": generation,
        "resourceVersion": resource_version,
        "creationTimestamp": stamp(created),
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    if finalizers:
        metadata["finalizers"] = list(finalizers)
    if deleting:
        metadata["deletionTimestamp"] = stamp(created + datetime.timedelta(hours=1))
    body: dict[str, Any] = {
        "apiVersion": "videodl.dev/v1alpha1",
        "kind": "VideoDownload",
        "metadata": metadata,
        "spec": {
            "url": "https://media.example/watch?v=abc",
            "output": {"persistentVolumeClaim": {"claimName": "media"}},
            **(spec or {}),
        },
    }
    if status is not None:
        body["status"] = dict(status)
    return body


def success_message(title: str = "A clip", size: int = 1234) -> str:
    return termination.render(
        termination.SuccessMessage.model_validate(
            {
                "videoId": "abc",
                "extractor": "generic",
                "title": title,
                "files": [{"path": "clip.mp4", "sizeBytes": size, "sha256": "0" * 64}],
            }
        )
    )


def failure_message(failure_class: str, reason: str, message: str = "", exit_code: int = 10) -> str:
    return termination.render(
        termination.FailureMessage.model_validate(
            {"class": failure_class, "reason": reason, "message": message, "exitCode": exit_code}
        )
    )


def pod_object(
    name: str,
    *,
    namespace: str = "media",
    owner: str = "clip",
    owner_uid: str = UID,
    run: int | None = None,
    attempt: int = 1,
    phase: str = "Running",
    component: str = naming.COMPONENT_WORKER,
    deleting: bool = False,
    disrupted: bool = False,
    reason: str | None = None,
    message: str | None = None,
    exit_code: int | None = None,
    termination_message: str = "",
    container_reason: str | None = None,
    finished_at: datetime.datetime | None = None,
    resource_version: str = "200",
    node: str | None = None,
) -> dict[str, Any]:
    """A Pod object owned by a download, in the given state (on ``node``, if given)."""
    labels = {
        naming.LABEL_COMPONENT: component,
        naming.LABEL_ATTEMPT: str(attempt),
    }
    run = run if run is not None else (naming.run_of(name) or 1)
    labels[naming.LABEL_RUN] = str(run)
    status: dict[str, Any] = {"phase": phase}
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    if disrupted:
        status["conditions"] = [
            {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}
        ]
    if exit_code is not None:
        terminated: dict[str, Any] = {"exitCode": exit_code, "message": termination_message}
        if container_reason:
            terminated["reason"] = container_reason
        if finished_at is not None:
            terminated["finishedAt"] = stamp(finished_at)
        status["containerStatuses"] = [{"name": "worker", "state": {"terminated": terminated}}]
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"pod-{name}",
        "resourceVersion": resource_version,
        "labels": labels,
        "ownerReferences": [
            {
                "apiVersion": "videodl.dev/v1alpha1",
                "kind": "VideoDownload",
                "name": owner,
                "uid": owner_uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if deleting:
        metadata["deletionTimestamp"] = stamp(T0)
    spec: dict[str, Any] = {"nodeName": node} if node else {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    }


def pod(name: str, **kwargs: Any) -> PodView:
    return PodView.from_pod(pod_object(name, **kwargs))


def worker_name(run: int, name: str = "clip", uid: str = UID) -> str:
    return naming.worker_pod_name(name, uid, run)


def observe(
    body: Mapping[str, Any],
    pods: Sequence[PodView] = (),
    *,
    now: datetime.datetime = T0,
    settings: WorkerSettings = SETTINGS,
    jitter: float = 0.0,
    gone: Sequence[PodView] = (),
) -> Observation:
    model = VideoDownload.from_object(body)
    return Observation(
        download=model,
        uid=str(body["metadata"]["uid"]),
        pods=tuple(pods),
        now=now,
        settings=settings,
        backoff_jitter=jitter,
        gone=tuple(gone),
    )


def written(body: Mapping[str, Any], plan: Plan) -> dict[str, Any]:
    """``body`` after the plan's status (and metadata) writes, as the apiserver would store it."""
    new = copy.deepcopy(dict(body))
    if plan.status is not None:
        new["status"] = patches.status_json(plan.status)
    metadata = new["metadata"]
    finalizers = list(metadata.get("finalizers", []))
    if plan.add_finalizer and naming.FINALIZER not in finalizers:
        finalizers.append(naming.FINALIZER)
    if plan.remove_finalizer:
        finalizers = [f for f in finalizers if f != naming.FINALIZER]
    if finalizers:
        metadata["finalizers"] = finalizers
    else:
        metadata.pop("finalizers", None)
    if plan.retry_handled is not None:
        metadata.setdefault("annotations", {})[naming.ANNOTATION_RETRY_HANDLED] = plan.retry_handled
    return new


# --- plans and statuses the state machine's tests share -------------------------------------


def conditions(status: VideoDownloadStatus | None) -> dict[str, ConditionStatus]:
    assert status is not None
    return {c.type: c.status for c in status.conditions}


def status_in(phase: str, **fields: Any) -> dict[str, Any]:
    """A raw status the operator could have written, in ``phase``."""
    body = download()
    held = admission.hold(observe(body))
    assert held is not None
    assert held.status is not None
    base = written(body, Plan(status=held.status))["status"]
    return {**base, "phase": phase, **fields}


def running(run: int = 1, attempts: int = 1, **fields: Any) -> dict[str, Any]:
    return download(
        status=status_in(
            "Running",
            attempts=attempts,
            workerPod=worker_name(run),
            startTime="2026-01-01T00:00:00Z",
            **fields,
        )
    )


def reasons(plan: Plan) -> list[str]:
    return [e.reason for e in plan.events]
