"""Manifests a VideoPlaylist owns: the indexer Pod, its index chunks and the children.

The indexer Pod is a worker Pod of another program: the worker image and ServiceAccount,
the same restricted security context, no claim (it writes nothing but the chunks, through
the apiserver), the template's cookies when it has some. Everything carries a controller
owner reference to the playlist, so deleting the playlist deletes it all. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from videodl.api.playlist import KIND, VideoPlaylist
from videodl.api.resource import API_VERSION, MANAGER
from videodl.reconcile.download import naming as download_naming
from videodl.reconcile.download import podspec as download_podspec
from videodl.reconcile.download.settings import WorkerSettings
from videodl.reconcile.playlist import naming
from videodl.reconcile.playlist.settings import IndexerSettings
from videodl.workerapi import environment, index
from videodl.workerapi.index import Entry

__all__ = ["INDEXER_CONTAINER", "child", "chunk", "indexer_pod", "owner_reference"]

INDEXER_CONTAINER: Final = "indexer"
_COOKIES_DIR: Final = "/var/run/videodl/cookies"
_COOKIES_FILE: Final = "cookies.txt"


def owner_reference(playlist: VideoPlaylist, uid: str) -> dict[str, Any]:
    """The controller owner reference to ``playlist``."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": playlist.name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _labels(playlist: VideoPlaylist, uid: str, instance: str, component: str) -> dict[str, str]:
    return {
        download_naming.LABEL_NAME: download_naming.WORKER_APP,
        download_naming.LABEL_MANAGED_BY: MANAGER,
        download_naming.LABEL_INSTANCE: instance,
        download_naming.LABEL_COMPONENT: component,
        naming.LABEL_PLAYLIST: naming.playlist_label(playlist.name, uid),
    }


def chunk(
    playlist: VideoPlaylist, uid: str, name: str, *, writer: str, instance: str
) -> dict[str, Any]:
    """An empty index chunk that the indexer Pod ``writer`` (alone) may fill."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": playlist.namespace,
            "labels": _labels(playlist, uid, instance, naming.COMPONENT_INDEX),
            "annotations": {index.ANNOTATION_WRITER: writer},
            "ownerReferences": [owner_reference(playlist, uid)],
        },
    }


def indexer_pod(
    playlist: VideoPlaylist,
    uid: str,
    *,
    name: str,
    run: int,
    attempt: int,
    chunks: tuple[str, ...],
    worker: WorkerSettings,
    indexer: IndexerSettings,
    instance: str,
    extractors: Sequence[str | None] = (),
) -> dict[str, Any]:
    """The indexer Pod of attempt ``attempt`` of enumeration ``run``; ``extractors`` holds
    the hint of each source's extractor, when the operator has them."""
    spec = playlist.spec
    template = spec.template
    labels = _labels(playlist, uid, instance, naming.COMPONENT_INDEXER)
    labels[download_naming.LABEL_RUN] = str(run)
    labels[download_naming.LABEL_ATTEMPT] = str(attempt)
    env: list[dict[str, Any]] = [
        {"name": index.SOURCES, "value": json.dumps(list(spec.sources))},
        {"name": index.NAME, "value": playlist.name},
        {
            "name": environment.NAMESPACE,
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        },
        {"name": index.CHUNKS, "value": ",".join(chunks)},
        {"name": index.LIMIT, "value": str(index.HARD_CAP)},
        {"name": environment.TMP_DIR, "value": worker.scratch_dir},
        {
            "name": environment.TERMINATION_MESSAGE_PATH,
            "value": environment.DEFAULT_TERMINATION_MESSAGE_PATH,
        },
        {"name": "HOME", "value": worker.scratch_dir},
        {"name": "TMPDIR", "value": worker.scratch_dir},
    ]
    if worker.allowed_networks:
        env.append(
            {
                "name": environment.ALLOWED_NETWORKS,
                "value": environment.encode_networks(worker.allowed_networks),
            }
        )
    if any(hint is not None for hint in extractors):
        env.append({"name": index.EXTRACTORS, "value": index.encode_extractors(extractors)})
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": worker.scratch_dir}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {}}]
    cookies = getattr(template, "cookies", None)
    if cookies is not None:
        ref = cookies.secret_ref
        volumes.append(
            {
                "name": "cookies",
                "secret": {
                    "secretName": ref.name,
                    "items": [{"key": ref.key, "path": _COOKIES_FILE}],
                    "defaultMode": 0o440,
                },
            }
        )
        mounts.append({"name": "cookies", "mountPath": _COOKIES_DIR, "readOnly": True})
        env.append({"name": environment.COOKIES_FILE, "value": f"{_COOKIES_DIR}/{_COOKIES_FILE}"})
    container: dict[str, Any] = {
        "name": INDEXER_CONTAINER,
        "image": worker.image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(indexer.command),
        "env": env,
        "volumeMounts": mounts,
        "securityContext": download_podspec.container_security(),
        "terminationMessagePath": environment.DEFAULT_TERMINATION_MESSAGE_PATH,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    resources: dict[str, Any] = {}
    if worker.requests:
        resources["requests"] = dict(sorted(worker.requests.items()))
    if worker.limits:
        resources["limits"] = dict(sorted(worker.limits.items()))
    if resources:
        container["resources"] = resources
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": indexer.active_deadline_seconds,
        "terminationGracePeriodSeconds": worker.termination_grace_seconds,
        "serviceAccountName": worker.service_account,
        "automountServiceAccountToken": True,
        "enableServiceLinks": False,
        "securityContext": download_podspec.pod_security(),
        "containers": [container],
        "volumes": volumes,
    }
    priority_class = worker.priority_class_names.get(template.priority)
    if priority_class:
        pod_spec["priorityClassName"] = priority_class
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": playlist.namespace,
            "labels": labels,
            "ownerReferences": [owner_reference(playlist, uid)],
        },
        "spec": pod_spec,
    }


def child(playlist: VideoPlaylist, uid: str, entry: Entry) -> dict[str, Any]:
    """The child VideoDownload of ``entry``."""
    spec = playlist.spec.child_spec(entry.url, suspend=playlist.spec.suspend)
    annotations = {naming.ANNOTATION_VIDEO_ID: entry.id}
    return {
        "apiVersion": API_VERSION,
        "kind": "VideoDownload",
        "metadata": {
            "name": naming.child_name(playlist.name, entry.id),
            "namespace": playlist.namespace,
            "labels": {
                download_naming.LABEL_MANAGED_BY: MANAGER,
                naming.LABEL_PLAYLIST: naming.playlist_label(playlist.name, uid),
                naming.LABEL_VIDEO: naming.video_label(entry.id),
            },
            "annotations": annotations,
            "ownerReferences": [owner_reference(playlist, uid)],
        },
        "spec": spec.model_dump(by_alias=True, exclude_none=True, mode="json"),
    }
