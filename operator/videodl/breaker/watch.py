"""A watch on the breaker's ConfigMap, so every operator process sees changes at once.

Changes written by other operator processes, administrators' commands (annotations) and
plain edits of a site's key all arrive here. The watch runs in a thread of its own
(:meth:`videodl.kube.client.Client.watch` blocks) and hands each new snapshot, or ``None``
when the ConfigMap is deleted, to a callback; it reconnects after errors and server-side
timeouts, and every (re)connection starts with the current object, so nothing is missed in
between.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from videodl.breaker.store import Snapshot
from videodl.kube.client import Client, core_path

__all__ = ["ConfigMapWatch"]

logger = logging.getLogger(__name__)

_SERVER_TIMEOUT_SECONDS = 240
_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class ConfigMapWatch:
    """Watches one ConfigMap by name and calls ``on_change`` from its own thread."""

    def __init__(
        self,
        *,
        client: Client,
        namespace: str,
        name: str,
        on_change: Callable[[Snapshot | None], None],
    ) -> None:
        self._client = client
        self._namespace = namespace
        self._name = name
        self._on_change = on_change
        self._stopped = threading.Event()
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
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            self.connections += 1
            try:
                for event in self._client.watch(
                    core_path("configmaps", self._namespace),
                    query={"fieldSelector": f"metadata.name={self._name}"},
                    timeout_seconds=_SERVER_TIMEOUT_SECONDS,
                ):
                    if self._stopped.is_set():
                        return
                    kind = event.get("type")
                    obj = event.get("object")
                    if kind == "ERROR":
                        # A Status in place of an object (e.g. 410 Gone) ends this watch:
                        # reconnect after the usual pause, starting from the current object.
                        status = obj if isinstance(obj, dict) else {}
                        msg = f"watch error {status.get('code')}: {status.get('message')}"
                        raise RuntimeError(msg)
                    failures = 0
                    if kind == "DELETED":
                        self._on_change(None)
                    elif kind in ("ADDED", "MODIFIED") and isinstance(obj, dict):
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
