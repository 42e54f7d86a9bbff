"""Progress into the VideoDownload's ``status.progress``, through the Kubernetes API.

One JSON merge patch on the ``status`` subresource per update, sent with the product's
one client wrapper (:class:`videodl.kube.client.Client`), so the worker's service account
needs nothing but ``patch`` on ``videodownloads/status``. Patches are sent from a
background thread that always sends the newest update (older unsent ones are dropped),
so a slow apiserver never slows the download down. Progress is best effort: a failed
patch is logged, never fatal. That thread is exempt from the worker's guard
(:mod:`videodl.worker.guard`): the apiserver is exactly the kind of address it refuses.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Final

from kubernetes import client as k8s

from videodl.api.status import Progress
from videodl.kube import login
from videodl.kube.client import MERGE_PATCH, VIDEODOWNLOADS, Client
from videodl.worker import guard

__all__ = ["PATCH_TIMEOUT_SECONDS", "KubernetesProgressSink", "connect", "progress_patch"]

#: A patch that takes longer is given up; the next update replaces it anyway.
PATCH_TIMEOUT_SECONDS: Final = 10.0

_log = logging.getLogger(__name__)


def connect() -> Client:
    """A client as the Pod's service account in a cluster, else from the kubeconfig."""
    return Client(k8s.ApiClient(login.client_configuration(None)))


def progress_patch(progress: Progress) -> dict[str, Any]:
    """The merge patch that sets ``status.progress``.

    Unset fields are sent as null, which a merge patch treats as "remove": a stale ETA
    from an earlier update must not linger.
    """
    return {"status": {"progress": progress.model_dump(mode="json", by_alias=True)}}


class KubernetesProgressSink:
    """Patches ``status.progress`` of one VideoDownload from a background thread."""

    def __init__(self, *, name: str, namespace: str, kube: Client | None = None) -> None:
        """Patch VideoDownload ``namespace/name`` through ``kube`` (default: :func:`connect`)."""
        self._name = name
        self._namespace = namespace
        self._kube = kube or connect()
        self._pending: Progress | None = None
        self._closed = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="progress-patcher", daemon=True)
        self._thread.start()
        self.sent = 0
        self.failures = 0

    def publish(self, progress: Progress) -> None:
        """Queue ``progress`` (replacing any unsent update) and return at once."""
        with self._wake:
            self._pending = progress
            self._wake.notify()

    def close(self, timeout_seconds: float = 10.0) -> None:
        """Send the last queued update, then stop the thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout_seconds)

    def _run(self) -> None:
        # This thread talks to the apiserver, which the egress guard (meant for yt-dlp's
        # connections) would refuse as a cluster-internal address.
        guard.exempt_current_thread()
        while True:
            with self._wake:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                progress, self._pending = self._pending, None
                closing = self._closed
            if progress is not None:
                self._patch(progress)
            if closing and progress is None:
                return

    def _patch(self, progress: Progress) -> None:
        try:
            self._kube.request(
                "PATCH",
                VIDEODOWNLOADS.path(self._namespace, self._name) + "/status",
                body=progress_patch(progress),
                content_type=MERGE_PATCH,
                timeout=PATCH_TIMEOUT_SECONDS,
            )
            self.sent += 1
        except Exception as exc:  # noqa: BLE001 - progress must never fail a download
            self.failures += 1
            # Log the first failure and then every tenth, not every update.
            if self.failures == 1 or self.failures % 10 == 0:
                _log.warning(
                    "could not patch status.progress of %s/%s (%d failures so far): %s",
                    self._namespace,
                    self._name,
                    self.failures,
                    exc,
                )
