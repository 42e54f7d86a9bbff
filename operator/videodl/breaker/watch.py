"""A watch on the breaker's ConfigMap, so every operator process sees changes at once.

Changes written by other operator processes, administrators' commands (annotations) and
plain edits of a site's key all arrive here. The watch runs in a thread of its own (the
client's watch blocks) and hands each new snapshot, or ``None`` when the ConfigMap is
deleted, to a callback; it reconnects after errors and server-side timeouts, and every
(re)connection starts with the current object, so nothing is missed in between.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kubernetes import client, watch

from videodl.breaker.store import Snapshot

__all__ = ["ConfigMapWatch"]

logger = logging.getLogger(__name__)

_SERVER_TIMEOUT_SECONDS = 240
_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class ConfigMapWatch:
    """Watches one ConfigMap by name and calls ``on_change`` from its own thread."""

    def __init__(
        self,
        *,
        api: client.CoreV1Api,
        namespace: str,
        name: str,
        on_change: Callable[[Snapshot | None], None],
    ) -> None:
        self._api = api
        self._namespace = namespace
        self._name = name
        self._on_change = on_change
        self._stopped = threading.Event()
        self._watch: watch.Watch | None = None
        self._thread: threading.Thread | None = None
        #: Connections made so far (a reconnect adds one).
        self.connections = 0

    def start(self) -> None:
        """Start watching in a daemon thread."""
        self._thread = threading.Thread(
            target=self._run, name=f"watch-configmap-{self._name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop watching; the thread ends at its next event or connection timeout."""
        self._stopped.set()
        if self._watch is not None:
            self._watch.stop()  # type: ignore[no-untyped-call]
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            self._watch = watch.Watch()  # type: ignore[no-untyped-call]
            self.connections += 1
            try:
                for event in self._watch.stream(  # type: ignore[no-untyped-call]
                    self._api.list_namespaced_config_map,
                    self._namespace,
                    field_selector=f"metadata.name={self._name}",
                    timeout_seconds=_SERVER_TIMEOUT_SECONDS,
                    _request_timeout=_SERVER_TIMEOUT_SECONDS + 30,
                ):
                    if self._stopped.is_set():
                        return
                    failures = 0
                    kind = event.get("type")
                    obj = event.get("object")
                    if kind == "DELETED":
                        self._on_change(None)
                    elif kind in ("ADDED", "MODIFIED") and isinstance(obj, client.V1ConfigMap):
                        self._on_change(Snapshot.of(obj))
            except Exception:  # a watch must survive any error and reconnect
                if self._stopped.is_set():
                    return
                delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
                failures += 1
                logger.warning(
                    "watch on ConfigMap %s/%s failed; reconnecting in %.1fs",
                    self._namespace,
                    self._name,
                    delay,
                    exc_info=True,
                )
                self._stopped.wait(delay)
