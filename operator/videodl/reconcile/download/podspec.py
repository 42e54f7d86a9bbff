"""Worker and cleanup Pod manifests, built from a VideoDownload and the operator's settings.

A worker Pod runs one attempt: the spec travels as JSON in an environment variable (the
worker's contract in :mod:`videodl.workerapi.environment`), the claim is mounted at ``/data``
(at ``spec.output.subPath``), ``/tmp`` is an emptyDir because the root file system is
read-only, and the cookies Secret key is mounted read-only. A download into a bucket
(``spec.output.s3``) gets a scratch emptyDir at ``/data`` instead of the claim, the bucket's
``VIDEODL_OUTPUT_S3_*`` variables and its keys as ``secretKeyRef`` variables; its cleanup Pod
mounts nothing. Every Pod passes the PodSecurity ``restricted`` profile. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

from videodl.api import quantity
from videodl.api.resource import API_VERSION, KIND, MANAGER, VideoDownload
from videodl.api.status import ConditionReason
from videodl.reconcile.download import naming
from videodl.reconcile.download.settings import WorkerSettings
from videodl.workerapi import cleanup, environment, s3
from videodl.workerapi.s3 import S3Target

__all__ = [
    "CLEANUP_ROOT",
    "COOKIES_DIR",
    "OUTPUT_MOUNT",
    "RUN_AS_USER",
    "WORKER_CONTAINER",
    "MissingBucketError",
    "MissingClaimError",
    "PodIdentity",
    "claim_name",
    "cleanup_pod",
    "merged_resources",
    "s3_target",
    "worker_pod",
]

WORKER_CONTAINER: Final = "worker"
CLEANUP_CONTAINER: Final = "cleanup"
OUTPUT_MOUNT: Final = environment.DEFAULT_OUTPUT_DIR
TERMINATION_MESSAGE_PATH: Final = environment.DEFAULT_TERMINATION_MESSAGE_PATH
COOKIES_DIR: Final = "/var/run/videodl/cookies"
COOKIES_FILE_NAME: Final = "cookies.txt"
CLEANUP_ROOT: Final = "/data"
#: The nonroot user of distroless images; any non-zero UID passes PodSecurity.
RUN_AS_USER: Final = 65532
CLEANUP_DEADLINE_SECONDS: Final = 300


class MissingClaimError(ValueError):
    """The download names no claim and the operator has no default claim."""

    #: The failure's reason (``status.lastFailure.reason``).
    reason: str = ConditionReason.NO_OUTPUT_CLAIM.value


@dataclasses.dataclass(frozen=True)
class PodIdentity:
    """Which download, run and attempt a worker Pod belongs to."""

    name: str
    namespace: str
    uid: str
    run: int
    attempt: int


class MissingBucketError(MissingClaimError):
    """``spec.output.s3`` names no bucket and the operator has no default bucket."""

    reason = ConditionReason.NO_OUTPUT_BUCKET.value


def s3_target(download: VideoDownload, settings: WorkerSettings) -> S3Target | None:
    """The bucket the download uploads into, defaults applied; None for a volume.

    Raises :class:`MissingBucketError` with the fix when no bucket is known.
    """
    spec = download.spec.output.s3
    if spec is None:
        return None
    try:
        return s3.resolve(spec, settings.s3)
    except s3.MissingBucketError as exc:
        raise MissingBucketError(str(exc)) from None


def claim_name(download: VideoDownload, settings: WorkerSettings) -> str | None:
    """The claim to write into: the spec's, else the operator's default; None when the
    download uploads into a bucket (``spec.output.s3``).

    Raises :class:`MissingClaimError` with the fix when there is neither (for a bucket,
    :class:`MissingBucketError` when no bucket is known).
    """
    if s3_target(download, settings) is not None:
        return None
    ref = download.spec.output.persistent_volume_claim
    if ref is not None:
        return ref.claim_name
    if settings.default_claim is not None:
        return settings.default_claim
    msg = (
        "spec.output.persistentVolumeClaim.claimName is not set and the operator has no "
        "default claim: set the claim in the spec, or start the operator with --default-claim"
    )
    raise MissingClaimError(msg)


def _quantity(text: str) -> Decimal | None:
    """A quantity's value, or None when it cannot be read (it is then left alone)."""
    try:
        return quantity.parse(text)
    except ValueError:
        return None


def merged_resources(download: VideoDownload, settings: WorkerSettings) -> dict[str, Any]:
    """The operator's default requests and limits, overridden key by key by the spec.

    A default limit below a request the spec raised is dropped, since Kubernetes refuses a
    request above its limit; a limit the spec sets itself is always kept.
    """
    own = download.spec.resources
    requests = {**settings.requests, **(own.requests if own else {})}
    spec_limits = own.limits if own else {}
    limits = {**settings.limits, **spec_limits}
    for key, request in requests.items():
        if key in limits and key not in spec_limits:
            low, high = _quantity(request), _quantity(limits[key])
            if low is not None and high is not None and low > high:
                del limits[key]
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = dict(sorted(requests.items()))
    if limits:
        resources["limits"] = dict(sorted(limits.items()))
    return resources


def _owner_reference(download: VideoDownload, uid: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": download.name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _labels(download: VideoDownload, uid: str, instance: str, component: str) -> dict[str, str]:
    return {
        naming.LABEL_NAME: naming.WORKER_APP,
        naming.LABEL_MANAGED_BY: MANAGER,
        naming.LABEL_INSTANCE: instance,
        naming.LABEL_COMPONENT: component,
        naming.LABEL_DOWNLOAD: naming.download_label(download.name, uid),
    }


def _container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "runAsGroup": RUN_AS_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "runAsGroup": RUN_AS_USER,
        "fsGroup": RUN_AS_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


#: The restricted security contexts, shared with the other Pods the operator builds.
container_security = _container_security
pod_security = _pod_security


def _output_volume(claim: str | None, target: S3Target | None) -> dict[str, Any]:
    if target is None:
        return {"name": "output", "persistentVolumeClaim": {"claimName": claim}}
    # Files are downloaded into scratch space, then uploaded.
    scratch: dict[str, Any] = {}
    if target.scratch_size_limit:
        scratch["sizeLimit"] = target.scratch_size_limit
    return {"name": "output", "emptyDir": scratch}


def worker_pod(
    download: VideoDownload,
    identity: PodIdentity,
    *,
    settings: WorkerSettings,
    instance: str,
    extractor: str | None = None,
) -> dict[str, Any]:
    """The worker Pod of one run of ``download``; ``extractor`` is the hint it is given
    (``VIDEODL_EXTRACTOR``) of the extractor for its URL, when the operator has one.

    Raises :class:`MissingClaimError` when no claim is known.
    """
    spec = download.spec
    claim = claim_name(download, settings)
    target = s3_target(download, settings)
    labels = _labels(download, identity.uid, instance, naming.COMPONENT_WORKER)
    labels[naming.LABEL_RUN] = str(identity.run)
    labels[naming.LABEL_ATTEMPT] = str(identity.attempt)

    env: list[dict[str, Any]] = [
        {"name": environment.SPEC, "value": environment.encode_spec(spec)},
        {"name": environment.NAME, "value": identity.name},
        {
            "name": environment.NAMESPACE,
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        },
        {"name": environment.ATTEMPT, "value": str(identity.attempt)},
        {"name": environment.OUTPUT_DIR, "value": OUTPUT_MOUNT},
        {"name": environment.TMP_DIR, "value": settings.scratch_dir},
        {"name": environment.TERMINATION_MESSAGE_PATH, "value": TERMINATION_MESSAGE_PATH},
        {
            "name": environment.PROGRESS_INTERVAL_SECONDS,
            "value": f"{settings.progress_interval_seconds:g}",
        },
        # Libraries that keep caches under $HOME must find it writable.
        {"name": "HOME", "value": settings.scratch_dir},
        {"name": "TMPDIR", "value": settings.scratch_dir},
    ]
    if settings.allowed_networks:
        # The worker refuses every non-public address but these (worker/egress.py).
        env.append(
            {
                "name": environment.ALLOWED_NETWORKS,
                "value": environment.encode_networks(settings.allowed_networks),
            }
        )
    if extractor is not None:
        env.append({"name": environment.EXTRACTOR, "value": extractor})
    output_mount: dict[str, Any] = {"name": "output", "mountPath": OUTPUT_MOUNT}
    if spec.output.sub_path:
        output_mount["subPath"] = spec.output.sub_path
    mounts: list[dict[str, Any]] = [
        output_mount,
        {"name": "tmp", "mountPath": settings.scratch_dir},
    ]
    volumes: list[dict[str, Any]] = [
        _output_volume(claim, target),
        {"name": "tmp", "emptyDir": {}},
    ]
    if target is not None:
        # Bucket, prefix and endpoint; the keys only as references to their Secret.
        env += s3.environment_of(target)
    if spec.cookies is not None:
        ref = spec.cookies.secret_ref
        volumes.append(
            {
                "name": "cookies",
                "secret": {
                    "secretName": ref.name,
                    "items": [{"key": ref.key, "path": COOKIES_FILE_NAME}],
                    "defaultMode": 0o440,
                },
            }
        )
        mounts.append({"name": "cookies", "mountPath": COOKIES_DIR, "readOnly": True})
        env.append(
            {"name": environment.COOKIES_FILE, "value": f"{COOKIES_DIR}/{COOKIES_FILE_NAME}"}
        )

    container: dict[str, Any] = {
        "name": WORKER_CONTAINER,
        "image": settings.image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(settings.command),
        "env": env,
        "volumeMounts": mounts,
        "securityContext": _container_security(),
        "terminationMessagePath": TERMINATION_MESSAGE_PATH,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    resources = merged_resources(download, settings)
    if resources:
        container["resources"] = resources

    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": spec.active_deadline_seconds or settings.active_deadline_seconds,
        "terminationGracePeriodSeconds": settings.termination_grace_seconds,
        "serviceAccountName": settings.service_account,
        "automountServiceAccountToken": True,
        "enableServiceLinks": False,
        "securityContext": _pod_security(),
        "containers": [container],
        "volumes": volumes,
    }
    priority_class = settings.priority_class_names.get(spec.priority)
    if priority_class:
        pod_spec["priorityClassName"] = priority_class

    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": naming.worker_pod_name(identity.name, identity.uid, identity.run),
            "namespace": identity.namespace,
            "labels": labels,
            "ownerReferences": [_owner_reference(download, identity.uid)],
        },
        "spec": pod_spec,
    }


def cleanup_pod(
    download: VideoDownload,
    *,
    uid: str,
    round_: int,
    paths: Sequence[str],
    settings: WorkerSettings,
    instance: str,
    archive: tuple[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """A Pod that deletes ``paths`` (relative to the claim's root) and exits.

    With ``archive`` (a path relative to the claim's root and lines) it also drops those
    lines from the worker's download archive.

    It mounts the whole claim, not the subPath, because result paths are relative to the
    volume's root; for a bucket it mounts nothing and deletes ``s3://`` URIs with the
    download's credentials Secret. Raises :class:`MissingClaimError` when no claim is known.
    """
    claim = claim_name(download, settings)
    target = s3_target(download, settings)
    env: list[dict[str, Any]] = [
        {"name": cleanup.PATHS_ENV, "value": json.dumps(list(paths))},
        {"name": cleanup.ROOT_ENV, "value": CLEANUP_ROOT},
    ]
    if archive is not None:
        document = {"path": archive[0], "entries": list(archive[1])}
        env.append({"name": cleanup.ARCHIVE_ENV, "value": json.dumps(document)})
    if target is not None:
        # The objects are deleted with the worker's own credentials Secret.
        env.append({"name": cleanup.S3_ENV, "value": "true"})
        env += s3.environment_of(target)
    container: dict[str, Any] = {
        "name": CLEANUP_CONTAINER,
        "image": settings.image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(settings.cleanup_command),
        "env": env,
        "volumeMounts": [{"name": "output", "mountPath": CLEANUP_ROOT}] if target is None else [],
        "securityContext": _container_security(),
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"memory": "128Mi"},
        },
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": naming.cleanup_pod_name(download.name, uid, round_),
            "namespace": download.namespace,
            "labels": _labels(download, uid, instance, naming.COMPONENT_CLEANUP),
            "ownerReferences": [_owner_reference(download, uid)],
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": CLEANUP_DEADLINE_SECONDS,
            "serviceAccountName": settings.service_account,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": _pod_security(),
            "containers": [container],
            "volumes": []
            if target is not None
            else [{"name": "output", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }
