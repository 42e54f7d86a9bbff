"""A fake CoreV1Api for ConfigMaps with the apiserver's optimistic concurrency rules."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 JSON merge patch."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            target[key] = _merge(dict(target.get(key) or {}), value)
        else:
            target[key] = value
    return target


class FakeConfigMapApi:
    """Read, create and merge-patch ConfigMaps; a patch with a stale resourceVersion gets 409.

    ``before_patch`` runs before each patch is checked, which lets a test slip in a
    competing write exactly where a real race would put it.
    """

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.version = 100
        self.lock = threading.Lock()
        self.calls: list[str] = []
        self.before_patch: Callable[[], None] | None = None

    def _bump(self) -> str:
        self.version += 1
        return str(self.version)

    def _model(self, obj: dict[str, Any]) -> client.V1ConfigMap:
        meta = obj["metadata"]
        return client.V1ConfigMap(
            metadata=client.V1ObjectMeta(
                name=meta["name"],
                namespace=meta["namespace"],
                uid=meta["uid"],
                resource_version=meta["resourceVersion"],
                labels=dict(meta.get("labels") or {}),
                annotations=dict(meta.get("annotations") or {}) or None,
            ),
            data=dict(obj.get("data") or {}) or None,
        )

    def read_namespaced_config_map(self, name: str, namespace: str) -> client.V1ConfigMap:
        with self.lock:
            self.calls.append("read")
            obj = self.objects.get((namespace, name))
            if obj is None:
                raise client.ApiException(status=404, reason="Not Found")
            return self._model(obj)

    def create_namespaced_config_map(
        self, namespace: str, body: client.V1ConfigMap
    ) -> client.V1ConfigMap:
        with self.lock:
            self.calls.append("create")
            name = body.metadata.name
            if (namespace, name) in self.objects:
                raise client.ApiException(status=409, reason="AlreadyExists")
            obj = {
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "uid": f"uid-{name}",
                    "resourceVersion": self._bump(),
                    "labels": dict(body.metadata.labels or {}),
                    "annotations": dict(body.metadata.annotations or {}),
                },
                "data": dict(body.data or {}),
            }
            self.objects[(namespace, name)] = obj
            return self._model(obj)

    def patch_namespaced_config_map(
        self, name: str, namespace: str, body: dict[str, Any], _content_type: str = ""
    ) -> client.V1ConfigMap:
        assert _content_type == "application/merge-patch+json"
        if self.before_patch is not None:
            hook, self.before_patch = self.before_patch, None
            hook()
        with self.lock:
            self.calls.append("patch")
            obj = self.objects.get((namespace, name))
            if obj is None:
                raise client.ApiException(status=404, reason="Not Found")
            body = copy.deepcopy(body)
            wanted = body.get("metadata", {}).pop("resourceVersion", None)
            if wanted is not None and wanted != obj["metadata"]["resourceVersion"]:
                raise client.ApiException(status=409, reason="Conflict")
            _merge(obj, body)
            obj["metadata"]["resourceVersion"] = self._bump()
            return self._model(obj)

    # Test conveniences, acting like kubectl.

    def edit(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        """Apply a merge patch unconditionally, as ``kubectl annotate``/``edit`` would."""
        with self.lock:
            obj = self.objects[(namespace, name)]
            _merge(obj, copy.deepcopy(patch))
            obj["metadata"]["resourceVersion"] = self._bump()

    def delete(self, namespace: str, name: str) -> None:
        with self.lock:
            del self.objects[(namespace, name)]


@pytest.fixture
def fake_api() -> FakeConfigMapApi:
    return FakeConfigMapApi()
