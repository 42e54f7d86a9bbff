"""An in-memory stand-in for the operator's Kubernetes calls, for controller unit tests.

It keeps objects like an apiserver does (resourceVersions, merge patches, 409 on a second
create, deletion timestamps) and records every write, so tests can count and order them.
Writes to VideoDownloads arrive as :meth:`FakeKube.request` calls on their URL paths, as
the generic controller sends them.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from typing import Any

from tests.unit.reconcile.download.test_patches import apply_merge_patch

from videodl.kube.client import VIDEODOWNLOADS, ApiError
from videodl.reconcile.download.plan import Event


class FakeKube:
    """VideoDownloads and Pods in dicts; ``writes`` lists (verb, resource, name)."""

    def __init__(self) -> None:
        self.downloads: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str, str]] = []
        self._versions = itertools.count(1000)
        self.fail_next_create: ApiError | None = None

    def _bump(self, body: dict[str, Any]) -> dict[str, Any]:
        body["metadata"]["resourceVersion"] = str(next(self._versions))
        return copy.deepcopy(body)

    def add_download(self, body: Mapping[str, Any]) -> dict[str, Any]:
        stored = copy.deepcopy(dict(body))
        key = (stored["metadata"]["namespace"], stored["metadata"]["name"])
        self.downloads[key] = stored
        return self._bump(stored)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """The writes the controller sends to a VideoDownload, by method and path."""
        parts = path.split("/")
        namespace, name, subresource = parts[5], parts[7], "/".join(parts[8:])
        assert path == VIDEODOWNLOADS.path(namespace, name) + (
            f"/{subresource}" * bool(subresource)
        )
        if method == "PATCH" and subresource == "status":
            return await self.patch_download_status(namespace, name, body)
        if method == "PATCH" and not subresource:
            return await self.patch_download(namespace, name, body)
        if method == "DELETE" and not subresource:
            await self.delete_download(namespace, name, body["preconditions"]["uid"])
            return {}
        raise AssertionError(f"unexpected request {method} {path}")

    async def patch_download_status(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.writes.append(("patch", "videodownloads/status", name))
        body = self.downloads.get((namespace, name))
        if body is None:
            raise ApiError(404, "NotFound", name)
        body["status"] = apply_merge_patch(body.get("status") or {}, dict(patch)["status"])
        return self._bump(body)

    async def patch_download(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.writes.append(("patch", "videodownloads", name))
        body = self.downloads[(namespace, name)]
        metadata = dict(patch["metadata"])
        expected = metadata.pop("resourceVersion", None)
        if expected is not None and expected != body["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "the object has been modified")
        body["metadata"] = apply_merge_patch(body["metadata"], metadata)
        return self._bump(body)

    async def delete_download(self, namespace: str, name: str, uid: str) -> None:
        self.writes.append(("delete", "videodownloads", name))
        self.downloads.pop((namespace, name), None)

    async def create_pod(self, namespace: str, manifest: Mapping[str, Any]) -> dict[str, Any]:
        name = manifest["metadata"]["name"]
        self.writes.append(("create", "pods", name))
        if self.fail_next_create is not None:
            error, self.fail_next_create = self.fail_next_create, None
            raise error
        if (namespace, name) in self.pods:
            raise ApiError(409, "AlreadyExists", name)
        pod = copy.deepcopy(dict(manifest))
        pod["metadata"]["uid"] = f"pod-uid-{name}"
        pod["status"] = {"phase": "Pending"}
        self.pods[(namespace, name)] = pod
        return self._bump(pod)

    async def delete_pod(
        self, namespace: str, name: str, uid: str | None = None
    ) -> dict[str, Any] | None:
        self.writes.append(("delete", "pods", name))
        pod = self.pods.get((namespace, name))
        if pod is None:
            return None
        pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        return self._bump(pod)

    def update_spec(self, namespace: str, name: str, **spec: Any) -> dict[str, Any]:
        """A user's change of the spec: a new generation and resourceVersion."""
        body = self.downloads[(namespace, name)]
        body["spec"].update(spec)
        body["metadata"]["generation"] = body["metadata"].get("generation", 1) + 1
        return self._bump(body)

    def set_pod_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]:
        pod = self.pods[(namespace, name)]
        pod["status"] = dict(status)
        return self._bump(pod)


class FakeRecorder:
    """Keeps the Events instead of posting them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def record(self, *, name: str, events: tuple[Event, ...], **_: Any) -> None:
        self.events.extend((name, e.reason) for e in events)


class FakeGate:
    """Allows everything but the names in ``deny``; remembers outcomes."""

    def __init__(self, deny: set[str] | None = None) -> None:
        self.deny = deny or set()
        self.outcomes: list[tuple[str, int, str]] = []

    async def consider(self, candidate: Any) -> Any:
        from videodl.reconcile.download.gate import Verdict

        if candidate.name in self.deny:
            return Verdict.deny("CircuitOpen", f"{candidate.url} is failing")
        return Verdict.allow()

    async def attempt_finished(self, candidate: Any, outcome: Any) -> None:
        self.outcomes.append((candidate.name, candidate.attempt, type(outcome).__name__))
