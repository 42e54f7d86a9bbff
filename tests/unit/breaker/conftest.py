"""A fake of the one client wrapper for ConfigMaps, with the apiserver's concurrency rules."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from videodl.kube.client import MERGE_PATCH, ApiError

_PREFIX = "/api/v1/namespaces/"


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


def _configmap_path(path: str) -> tuple[str, str | None]:
    """``(namespace, name)`` of a ConfigMap URL path (``name`` is None for the collection)."""
    assert path.startswith(_PREFIX), path
    namespace, plural, *rest = path.removeprefix(_PREFIX).split("/")
    assert plural == "configmaps", path
    assert len(rest) <= 1, path
    return namespace, rest[0] if rest else None


class FakeConfigMapApi:
    """A fake ``videodl.kube.client.Client`` for ConfigMaps: read, create and merge-patch.

    Requests are routed by method and path as the apiserver routes them; a patch with a stale
    resourceVersion gets 409. Each route is a method of its own (``read_config_map``,
    ``create_config_map``, ``patch_config_map``) that a test may replace to inject a failure.
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

    def _response(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        metadata = {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "labels": dict(meta.get("labels") or {}),
        }
        # The apiserver leaves out empty maps, as it does for data.
        if meta.get("annotations"):
            metadata["annotations"] = dict(meta["annotations"])
        response = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
        if obj.get("data"):
            response["data"] = dict(obj["data"])
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        body: object | None = None,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        namespace, name = _configmap_path(path)
        if method == "GET" and name is not None:
            return self.read_config_map(name, namespace)
        if method == "POST" and name is None:
            assert isinstance(body, dict)
            return self.create_config_map(namespace, body)
        if method == "PATCH" and name is not None:
            assert content_type == MERGE_PATCH
            assert isinstance(body, dict)
            return self.patch_config_map(name, namespace, body)
        msg = f"unexpected request {method} {path}"
        raise AssertionError(msg)

    def watch(
        self, path: str, *, query: Mapping[str, str] | None = None, timeout_seconds: int = 240
    ) -> Iterator[dict[str, Any]]:
        msg = "the gates under test run without a watch"
        raise AssertionError(msg)

    def read_config_map(self, name: str, namespace: str) -> dict[str, Any]:
        with self.lock:
            self.calls.append("read")
            obj = self.objects.get((namespace, name))
            if obj is None:
                raise ApiError(404, "NotFound", f'configmaps "{name}" not found')
            return self._response(obj)

    def create_config_map(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls.append("create")
            name = body["metadata"]["name"]
            if (namespace, name) in self.objects:
                raise ApiError(409, "AlreadyExists", f'configmaps "{name}" already exists')
            obj = {
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "uid": f"uid-{name}",
                    "resourceVersion": self._bump(),
                    "labels": dict(body["metadata"].get("labels") or {}),
                    "annotations": dict(body["metadata"].get("annotations") or {}),
                },
                "data": dict(body.get("data") or {}),
            }
            self.objects[(namespace, name)] = obj
            return self._response(obj)

    def patch_config_map(self, name: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.before_patch is not None:
            hook, self.before_patch = self.before_patch, None
            hook()
        with self.lock:
            self.calls.append("patch")
            obj = self.objects.get((namespace, name))
            if obj is None:
                raise ApiError(404, "NotFound", f'configmaps "{name}" not found')
            body = copy.deepcopy(body)
            wanted = body.get("metadata", {}).pop("resourceVersion", None)
            if wanted is not None and wanted != obj["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", "the object has been modified")
            _merge(obj, body)
            obj["metadata"]["resourceVersion"] = self._bump()
            return self._response(obj)

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
