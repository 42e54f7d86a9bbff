"""JSON access to the Kubernetes API through the official client's transport.

The node works with plain JSON objects (what the apiserver sends) rather than generated
models: patches, watches and MicroTime fields round-trip exactly. Authentication, TLS and
connection pooling come from `kubernetes.client.ApiClient` configured from the kubeconfig.
"""

from __future__ import annotations

import json
import logging
import pathlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.watch import watch as client_watch

T = TypeVar("T")
Json = dict[str, Any]
Query = Mapping[str, str | int | bool]

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"

_RETRYABLE = frozenset({429, 500, 502, 503, 504})


def status_of(error: BaseException) -> int | None:
    """The HTTP status of an API error, None for other errors."""
    return int(error.status) if isinstance(error, ApiException) and error.status else None


def is_transient(error: BaseException, *, conflicts: bool = False) -> bool:
    """Whether retrying the same call may succeed."""
    status = status_of(error)
    if status is not None:
        return status in _RETRYABLE or (conflicts and status == 409)
    return isinstance(error, urllib3.exceptions.HTTPError | OSError)


def retrying(
    call: Callable[[], T],
    *,
    attempts: int = 6,
    conflicts: bool = False,
    stop: threading.Event | None = None,
) -> T:
    """Run call, retrying transient errors with backoff (0.2 s doubling, at most 5 s)."""
    delay = 0.2
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as error:
            if attempt == attempts or not is_transient(error, conflicts=conflicts):
                raise
            if stop is not None and stop.wait(delay):
                raise
            if stop is None:
                time.sleep(delay)
            delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")


def path(*segments: str) -> str:
    """An API path from segments, each percent-encoded."""
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


class Kube:
    """A thread-safe JSON client for one apiserver."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self._api = api_client
        self._streams: set[Any] = set()
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_kubeconfig(cls, kubeconfig: pathlib.Path, *, pool_size: int = 64) -> Kube:
        """A client for the kubeconfig's current context (admin, client certificate)."""
        configuration = client.Configuration()
        # The loader is untyped; its contract is documented by the client.
        load: Any = config.load_kube_config
        load(
            config_file=str(kubeconfig),
            client_configuration=configuration,
            persist_config=False,
        )
        configuration.connection_pool_maxsize = pool_size
        return cls(client.ApiClient(configuration))

    @property
    def server(self) -> str:
        """The apiserver URL, e.g. https://127.0.0.1:6443."""
        return str(self._api.configuration.host)

    @property
    def port(self) -> int:
        """The apiserver port (443 when the URL has none)."""
        return urlsplit(self.server).port or 443

    def _send(
        self,
        method: str,
        api_path: str,
        *,
        query: Query | None,
        body: Any,
        content_type: str,
        timeout: float | tuple[float, float],
    ) -> Any:
        params = [
            (key, ("true" if value else "false") if isinstance(value, bool) else str(value))
            for key, value in (query or {}).items()
        ]
        request = self._api.param_serialize(
            method,
            api_path,
            query_params=params,
            header_params={"Accept": "application/json", "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
        )
        response: Any = self._api.call_api(*request, _request_timeout=timeout)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response

    def request(
        self,
        method: str,
        api_path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float = 30.0,
    ) -> Json:
        """One API call; the decoded JSON response, ApiException for non-2xx answers."""
        response = self._send(
            method,
            api_path,
            query=query,
            body=body,
            content_type=content_type,
            timeout=(10.0, timeout),
        )
        data = response.read()
        decoded = json.loads(data) if data else {}
        return decoded if isinstance(decoded, dict) else {"items": decoded}

    def get(self, api_path: str, *, query: Query | None = None) -> Json:
        return self.request("GET", api_path, query=query)

    def get_or_none(self, api_path: str) -> Json | None:
        """GET, or None when the object does not exist."""
        try:
            return retrying(lambda: self.get(api_path))
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def watch(self, api_path: str, *, query: Query, timeout_seconds: int) -> Iterator[Json]:
        """Stream watch events ({type, object}) until the server ends the watch."""
        with self._lock:
            if self._closed:
                return
        response = self._send(
            "GET",
            api_path,
            query={**query, "watch": True, "timeoutSeconds": timeout_seconds},
            body=None,
            content_type="application/json",
            timeout=(10.0, timeout_seconds + 30.0),
        )
        raw = response.response
        with self._lock:
            self._streams.add(raw)
        try:
            lines: Any = client_watch.iter_resp_lines
            for line in lines(raw):
                event = json.loads(line)
                if isinstance(event, dict):
                    yield event
        finally:
            with self._lock:
                self._streams.discard(raw)
            raw.release_conn()

    def close(self) -> None:
        """Stop open watches (their loops end) and refuse new ones."""
        with self._lock:
            self._closed = True
            streams = list(self._streams)
        for raw in streams:
            try:
                raw.shutdown()
            except Exception as error:  # noqa: BLE001 - closing is best effort
                logging.getLogger(__name__).debug("closing a watch: %s", error)
