"""The one wrapper of the official Kubernetes client: every API request goes through here.

Requests go through the official client's configured ``ApiClient`` (authentication, TLS,
connection pool) but skip its typed models: objects are sent and returned as plain JSON
dicts, which is all videodl needs and much cheaper with thousands of objects. Errors
become :class:`ApiError` with the apiserver's status code and message.

:class:`Client` blocks (the worker's progress thread and the breaker's ConfigMap store
use it); :class:`Kube` runs the same calls in worker threads so the operator's event loop
never blocks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import quote

from kubernetes import client
from kubernetes.watch.watch import iter_resp_lines

from videodl.api.resource import GROUP, MANAGER, PLURAL, VERSION

__all__ = [
    "FIELD_MANAGER",
    "MERGE_PATCH",
    "VIDEODOWNLOADS",
    "ApiError",
    "Client",
    "Kube",
    "Resource",
    "core_path",
]

#: The field manager of every write, and the name videodl's controllers go by.
FIELD_MANAGER: Final = MANAGER
MERGE_PATCH: Final = "application/merge-patch+json"
_JSON: Final = "application/json"
_TIMEOUT_SECONDS: Final = 30.0


class ApiError(Exception):
    """An apiserver request failed: ``status`` is the HTTP status (0: no response)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        super().__init__(f"{status} {reason}: {message}")

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        """The object already exists (create) or changed since it was read (update)."""
        return self.status == 409

    @property
    def rejected(self) -> bool:
        """The apiserver refused the request for good (forbidden, invalid, quota, ...)."""
        return self.status in (400, 403, 422)


@dataclasses.dataclass(frozen=True)
class Resource:
    """A namespaced custom resource, by API group, version and plural name."""

    group: str
    version: str
    plural: str

    def path(self, namespace: str, name: str | None = None) -> str:
        """The URL path of the objects in ``namespace`` (of one, given ``name``)."""
        path = (
            f"/apis/{self.group}/{self.version}/namespaces/{quote(namespace, safe='')}/"
            f"{self.plural}"
        )
        return f"{path}/{quote(name, safe='')}" if name else path


#: The VideoDownloads, whose paths the operator and the worker write to.
VIDEODOWNLOADS: Final = Resource(GROUP, VERSION, PLURAL)


def core_path(plural: str, namespace: str, name: str | None = None) -> str:
    """The URL path of a core/v1 resource (``pods``, ``configmaps``, ...) in ``namespace``."""
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/{plural}"
    return f"{path}/{quote(name, safe='')}" if name else path


def _pod_path(namespace: str, name: str | None = None) -> str:
    return core_path("pods", namespace, name)


class Client:
    """Blocking JSON requests over an ``ApiClient``."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api

    def _send(
        self,
        method: str,
        *,
        path: str,
        body: object | None,
        query: Mapping[str, str] | None,
        content_type: str,
        timeout: float,
    ) -> Any:
        serialized = self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=list((query or {}).items()) or None,
            header_params={"Content-Type": content_type, "Accept": _JSON},
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            return self.api.call_api(*serialized, _request_timeout=timeout)
        except client.ApiException as exc:
            raise ApiError(int(exc.status or 0), str(exc.reason), str(exc.body or "")) from None
        except Exception as exc:  # urllib3 and socket errors: no response at all
            raise ApiError(0, type(exc).__name__, str(exc)) from exc

    @staticmethod
    def _check(response: Any, document: Any) -> None:
        if not 200 <= int(response.status) < 300:
            message = document.get("message", "") if isinstance(document, dict) else ""
            reason = document.get("reason", "") if isinstance(document, dict) else ""
            raise ApiError(int(response.status), str(reason or response.reason), str(message))

    def request(
        self,
        method: str,
        path: str,
        *,
        body: object | None = None,
        query: Mapping[str, str] | None = None,
        content_type: str = _JSON,
        timeout: float = _TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        """One API request; the decoded JSON response (``{}`` when empty)."""
        response = self._send(
            method, path=path, body=body, query=query, content_type=content_type, timeout=timeout
        )
        data = response.read()
        try:
            document: Any = json.loads(data) if data else {}
        except ValueError:
            document = {}
        self._check(response, document)
        return document if isinstance(document, dict) else {}

    def watch(
        self, path: str, *, query: Mapping[str, str] | None = None, timeout_seconds: int = 240
    ) -> Iterator[dict[str, Any]]:
        """Watch events (``{"type": ..., "object": {...}}``) of a collection until it ends.

        The apiserver closes the watch after ``timeout_seconds``; the caller reconnects.
        """
        params = {**(query or {}), "watch": "true", "timeoutSeconds": str(timeout_seconds)}
        response = self._send(
            "GET",
            path=path,
            body=None,
            query=params,
            content_type=_JSON,
            timeout=timeout_seconds + 30.0,
        )
        stream = response.response
        try:
            if not 200 <= int(response.status) < 300:
                self._check(response, json.loads(response.read() or b"{}"))
            for line in iter_resp_lines(stream):  # type: ignore[no-untyped-call]
                event = json.loads(line)
                if isinstance(event, dict):
                    yield event
        finally:
            stream.release_conn()


class Kube:
    """The calls the operator makes, each awaited without blocking the event loop."""

    def __init__(self, api: client.ApiClient, *, threads: int = 16) -> None:
        self.client = Client(api)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="kube"
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: object | None = None,
        query: Mapping[str, str] | None = None,
        content_type: str = _JSON,
    ) -> dict[str, Any]:
        """One API request; the decoded JSON response (``{}`` when empty)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor,
            lambda: self.client.request(
                method, path, body=body, query=query, content_type=content_type
            ),
        )

    # --- VideoDownloads -------------------------------------------------------------------

    # --- Pods -----------------------------------------------------------------------------

    async def create_pod(self, namespace: str, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """Create a Pod; returns it as created."""
        return await self.request(
            "POST", _pod_path(namespace), body=manifest, query={"fieldManager": FIELD_MANAGER}
        )

    async def delete_pod(
        self, namespace: str, name: str, uid: str | None = None
    ) -> dict[str, Any] | None:
        """Delete a Pod gracefully (its own grace period); None if it was already gone."""
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if uid:
            options["preconditions"] = {"uid": uid}
        try:
            return await self.request("DELETE", _pod_path(namespace, name), body=options)
        except ApiError as exc:
            if exc.not_found or exc.conflict:
                return None
            raise

    # --- Events ---------------------------------------------------------------------------

    async def create_event(self, namespace: str, event: Mapping[str, Any]) -> None:
        """Record a core/v1 Event."""
        await self.request("POST", core_path("events", namespace), body=event)
