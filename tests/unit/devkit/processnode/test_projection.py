"""Tests for the files of secret, configMap, downwardAPI and projected volumes."""

from __future__ import annotations

from typing import Any

import pytest

from videodl_devkit.processnode import errors, fieldpaths, projection

from . import podfixtures

NODE = fieldpaths.NodeResources(cpu="8", memory="16Gi")

# What the ServiceAccount admission plugin injects into every Pod.
API_ACCESS: dict[str, Any] = {
    "name": "kube-api-access-x1",
    "projected": {
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {
                "configMap": {
                    "name": "kube-root-ca.crt",
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                }
            },
            {
                "downwardAPI": {
                    "items": [
                        {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}
                    ]
                }
            },
        ],
    },
}


def files(
    volume: dict[str, Any], objects: dict[Any, Any], tokens: dict[Any, bytes] | None = None
) -> dict[str, tuple[bytes, int]]:
    produced = projection.files(podfixtures.pod(), volume, objects, tokens or {}, NODE)
    return {item.path: (item.data, item.mode) for item in produced}


class TestApiAccessVolume:
    def test_token_ca_and_namespace(self) -> None:
        """The injected volume yields token, ca.crt and namespace files with mode 0644."""
        objects = {
            ("ConfigMap", "kube-root-ca.crt"): podfixtures.config_map(
                "kube-root-ca.crt", **{"ca.crt": "PEM"}
            )
        }
        produced = files(API_ACCESS, objects, {("", 3607): b"jwt"})
        assert produced == {
            "ca.crt": (b"PEM", 0o644),
            "namespace": (b"ns", 0o644),
            "token": (b"jwt", 0o644),
        }

    def test_token_specs_and_references(self) -> None:
        """The volume asks for one token with the default audience and reads the CA ConfigMap."""
        assert projection.token_specs(API_ACCESS) == [projection.TokenSpec("", 3607, "token")]
        assert projection.references(API_ACCESS) == {("ConfigMap", "kube-root-ca.crt")}

    def test_missing_ca_waits(self) -> None:
        """Until kube-root-ca.crt exists in the namespace, the volume waits."""
        with pytest.raises(errors.WaitingError, match=r'configmap "kube-root-ca\.crt" not found'):
            files(API_ACCESS, {("ConfigMap", "kube-root-ca.crt"): None}, {("", 3607): b"jwt"})


class TestSecretAndConfigMap:
    def test_all_keys_without_items(self) -> None:
        """Without items every key becomes a file with the default mode."""
        volume = {"name": "v", "secret": {"secretName": "s", "defaultMode": 0o400}}
        produced = files(volume, {("Secret", "s"): podfixtures.secret("s", a="1", b="2")})
        assert produced == {"a": (b"1", 0o400), "b": (b"2", 0o400)}

    def test_items_pick_keys_paths_and_modes(self) -> None:
        """Items choose keys, put them at paths (subdirectories allowed) with their own mode."""
        volume = {
            "name": "v",
            "configMap": {
                "name": "cm",
                "items": [
                    {"key": "a", "path": "conf/a.txt", "mode": 0o600},
                    {"key": "b", "path": "b"},
                ],
            },
        }
        produced = files(
            volume, {("ConfigMap", "cm"): podfixtures.config_map("cm", a="1", b="2", c="3")}
        )
        assert produced == {"conf/a.txt": (b"1", 0o600), "b": (b"2", 0o644)}

    def test_binary_data(self) -> None:
        """ConfigMap binaryData is decoded into files too."""
        volume = {"name": "v", "configMap": {"name": "cm"}}
        cm = {"metadata": {"name": "cm"}, "binaryData": {"blob": "AAEC"}}
        assert files(volume, {("ConfigMap", "cm"): cm}) == {"blob": (b"\x00\x01\x02", 0o644)}

    def test_optional_missing_object_gives_no_files(self) -> None:
        """An optional source whose object is missing produces an empty volume."""
        volume = {"name": "v", "secret": {"secretName": "s", "optional": True}}
        assert files(volume, {("Secret", "s"): None}) == {}

    def test_missing_key_waits(self) -> None:
        """A listed key that does not exist makes the volume wait, naming the key."""
        volume = {"name": "v", "secret": {"secretName": "s", "items": [{"key": "k", "path": "k"}]}}
        with pytest.raises(errors.WaitingError, match="no key 'k'"):
            files(volume, {("Secret", "s"): podfixtures.secret("s")})

    def test_escaping_path_is_refused(self) -> None:
        """An item path with '..' is a spec error."""
        volume = {"name": "v", "configMap": {"name": "cm", "items": [{"key": "a", "path": "../a"}]}}
        with pytest.raises(errors.SpecError, match=r"\.\."):
            files(volume, {("ConfigMap", "cm"): podfixtures.config_map("cm", a="1")})


class TestDownwardApi:
    def test_fields_and_resources(self) -> None:
        """downwardAPI items write field values and resource values."""
        volume = {
            "name": "info",
            "downwardAPI": {
                "items": [
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                    {
                        "path": "cpu",
                        "resourceFieldRef": {"containerName": "main", "resource": "limits.cpu"},
                        "mode": 0o600,
                    },
                ]
            },
        }
        assert files(volume, {}) == {"cpu": (b"8", 0o600), "labels": (b'app="dl"\ntier="b"', 0o644)}


class TestUnsupported:
    def test_cluster_trust_bundle_is_a_spec_error(self) -> None:
        """A projected source the node cannot produce is refused by name."""
        volume = {"name": "v", "projected": {"sources": [{"clusterTrustBundle": {"name": "b"}}]}}
        with pytest.raises(errors.SpecError, match="clusterTrustBundle"):
            files(volume, {})
