"""Tests for the StorageClass and the provisioned PersistentVolumes."""

from __future__ import annotations

from typing import Any

from videodl_devkit.processnode import volumeobjects


def claim(**spec: Any) -> dict[str, Any]:
    body = {
        "storageClassName": "videodl-local",
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "2Gi"}},
    }
    body.update(spec)
    return {
        "metadata": {"name": "data", "namespace": "ns", "uid": "c-1"},
        "spec": body,
        "status": {"phase": "Pending"},
    }


class TestStorageClass:
    def test_default_immediate_delete(self) -> None:
        """The class is the default, binds immediately and deletes released volumes."""
        sc = volumeobjects.storage_class("videodl-local")
        assert sc["metadata"]["annotations"] == {
            "storageclass.kubernetes.io/is-default-class": "true"
        }
        assert (sc["provisioner"], sc["volumeBindingMode"], sc["reclaimPolicy"]) == (
            "videodl.dev/process-node",
            "Immediate",
            "Delete",
        )


class TestClaims:
    def test_wants_volume(self) -> None:
        """Only pending, unbound, live claims of the class want a volume."""
        assert volumeobjects.wants_volume(claim(), "videodl-local")
        assert not volumeobjects.wants_volume(claim(), "other")
        assert not volumeobjects.wants_volume(claim(volumeName="pv"), "videodl-local")
        bound = claim()
        bound["status"]["phase"] = "Bound"
        assert not volumeobjects.wants_volume(bound, "videodl-local")

    def test_problems_are_explained(self) -> None:
        """Claims the node cannot serve get a reason that says what to change."""
        assert volumeobjects.claim_problem(claim()) is None
        assert "Filesystem" in str(volumeobjects.claim_problem(claim(volumeMode="Block")))
        assert "selector" in str(volumeobjects.claim_problem(claim(selector={"matchLabels": {}})))


class TestPersistentVolume:
    def test_local_volume_prebound_and_pinned(self) -> None:
        """The volume is a local directory on this node, pre-bound to the claim."""
        pv = volumeobjects.persistent_volume(
            claim(), node="n1", path="/s/volumes/pvc-c-1", class_name="videodl-local"
        )
        spec = pv["spec"]
        assert pv["metadata"]["name"] == "pvc-c-1"
        assert spec["local"] == {"path": "/s/volumes/pvc-c-1"}
        assert spec["claimRef"] == {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "namespace": "ns",
            "name": "data",
            "uid": "c-1",
        }
        assert spec["capacity"] == {"storage": "2Gi"}
        assert spec["persistentVolumeReclaimPolicy"] == "Delete"
        term = spec["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
        assert term == {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}
        assert volumeobjects.is_ours(pv, "n1")
        assert not volumeobjects.is_ours(pv, "n2")
        assert volumeobjects.host_path(pv) == "/s/volumes/pvc-c-1"

    def test_should_delete_only_released_volumes_of_ours(self) -> None:
        """Only our Released volumes are deleted."""
        pv = volumeobjects.persistent_volume(
            claim(), node="n1", path="/p", class_name="videodl-local"
        )
        pv["status"] = {"phase": "Bound"}
        assert not volumeobjects.should_delete(pv, "n1")
        pv["status"] = {"phase": "Released"}
        assert volumeobjects.should_delete(pv, "n1")
        assert not volumeobjects.should_delete(pv, "n2")
