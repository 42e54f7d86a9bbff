"""The StorageClass and the local-directory PersistentVolumes the node provisions (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROVISIONER = "videodl.dev/process-node"
NODE_LABEL = "videodl.dev/process-node"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def storage_class(name: str) -> dict[str, Any]:
    """The default StorageClass whose claims this node provisions."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": {DEFAULT_CLASS: "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def wants_volume(claim: Mapping[str, Any], class_name: str) -> bool:
    """Whether a claim of this class waits for a volume to be provisioned."""
    metadata, spec = claim.get("metadata") or {}, claim.get("spec") or {}
    return (
        spec.get("storageClassName") == class_name
        and not spec.get("volumeName")
        and (claim.get("status") or {}).get("phase", "Pending") == "Pending"
        and not metadata.get("deletionTimestamp")
    )


def claim_problem(claim: Mapping[str, Any]) -> str | None:
    """Why the node cannot provision the claim, or None when it can."""
    spec = claim.get("spec") or {}
    if spec.get("volumeMode") == "Block":
        return "volumeMode Block is not supported by the process node; use Filesystem"
    if spec.get("dataSource") or spec.get("dataSourceRef"):
        return "dataSource is not supported by the process node; create the claim empty"
    if spec.get("selector"):
        return "a claim with a selector is not provisioned dynamically; remove spec.selector"
    return None


def volume_name(claim: Mapping[str, Any]) -> str:
    """The PersistentVolume name for a claim: pvc-<claim uid>, like other provisioners."""
    return f"pvc-{claim['metadata']['uid']}"


def persistent_volume(
    claim: Mapping[str, Any], *, node: str, path: str, class_name: str
) -> dict[str, Any]:
    """A `local` PersistentVolume at path, pinned to node, pre-bound to the claim."""
    metadata, spec = claim["metadata"], claim.get("spec") or {}
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": volume_name(claim),
            "labels": {NODE_LABEL: node},
            "annotations": {PROVISIONED_BY: PROVISIONER},
        },
        "spec": {
            "capacity": {"storage": size},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": class_name,
            "volumeMode": "Filesystem",
            "local": {"path": path},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/hostname",
                                    "operator": "In",
                                    "values": [node],
                                }
                            ]
                        }
                    ]
                }
            },
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": metadata["namespace"],
                "name": metadata["name"],
                "uid": metadata["uid"],
            },
        },
    }


def is_ours(volume: Mapping[str, Any], node: str) -> bool:
    """Whether this node provisioned the PersistentVolume."""
    metadata = volume.get("metadata") or {}
    return (metadata.get("annotations") or {}).get(PROVISIONED_BY) == PROVISIONER and (
        metadata.get("labels") or {}
    ).get(NODE_LABEL) == node


def should_delete(volume: Mapping[str, Any], node: str) -> bool:
    """Whether the volume is ours, released, and to be deleted with its directory."""
    spec = volume.get("spec") or {}
    return (
        is_ours(volume, node)
        and (volume.get("status") or {}).get("phase") == "Released"
        and spec.get("persistentVolumeReclaimPolicy") == "Delete"
    )


def host_path(volume: Mapping[str, Any]) -> str | None:
    """The host directory of a local or hostPath PersistentVolume."""
    spec = volume.get("spec") or {}
    for field in ("local", "hostPath"):
        if spec.get(field) and spec[field].get("path"):
            return str(spec[field]["path"])
    return None
