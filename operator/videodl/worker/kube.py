"""Progress into the VideoDownload's ``status.progress``, through the Kubernetes API.

One JSON merge patch on the ``status`` subresource per update, sent with the product's
one client wrapper (:class:`videodl.kube.client.Client`), so the worker's service account
needs nothing but ``patch`` on ``videodownloads/status``. Patches are sent from a
background thread that always sends the newest update (older unsent ones are dropped),
so a slow apiserver never slows the download down. That thread also loads the Kubernetes
client and logs in (about 0.2 s, most of it importing the client's models) while the
download starts, rather than before it. Progress is best effort: a failed login or patch
is logged, never fatal. That thread is exempt from the worker's guard
(:mod:`videodl.worker.guard`): the apiserver is exactly the kind of address it refuses.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from videodl.api.status import Progress
from videodl.worker import guard

if TYPE_CHECKING:
    from videodl.kube.client import Client

__all__ = ["PATCH_TIMEOUT_SECONDS", "KubernetesProgressSink", "connect", "progress_patch"]

#: A patch that takes longer is given up; the next update replaces it anyway.
PATCH_TIMEOUT_SECONDS: Final = 10.0

_log = logging.getLogger(__name__)


def connect() -> Client:
    """A client as the Pod's service account in a cluster, else from the kubeconfig."""
    # Loaded here, in the patcher thread: importing the client is most of a worker's
    # start-up that the download does not need.
    from kubernetes import client as k8s  # noqa: PLC0415

    from videodl.kube import login  # noqa: PLC0415
    from videodl.kube.client import Client  # noqa: PLC0415

    return Client(k8s.ApiClient(login.client_configuration(None)))


def progress_patch(progress: Progress) -> dict[str, Any]:
    """The merge patch that sets ``status.progress``.

    Unset fields are sent as null, which a merge patch treats as "remove": a stale ETA
    from an earlier update must not linger.
    """
    return {"status": {"progress": progress.model_dump(mode="json", by_alias=True)}}


class KubernetesProgressSink:
    """Patches ``status.progress`` of one VideoDownload from a background thread."""

    def __init__(
        self,
        *,
        name: str,
        namespace: str,
        kube: Client | None = None,
        login: Callable[[], Client] = connect,
    ) -> None:
        """Patch VideoDownload ``namespace/name`` through ``kube``, or a client the patcher
        thread gets from ``login`` when it starts."""
        self._name = name
        self._namespace = namespace
        self._kube = kube
        self._login = login
        self._pending: Progress | None = None
        self._closed = False
        self._wake = threading.Condition()
        self.sent = 0
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="progress-patcher", daemon=True)
        self._thread.start()

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
        kube = self._kube
        if kube is None:
            try:
                kube = self._kube = self._login()
            except Exception as exc:  # noqa: BLE001 - progress must never fail a download
                _log.warning(
                    "no progress for %s/%s: could not log in to the apiserver: %s",
                    self._namespace,
                    self._name,
                    exc,
                )
        while True:
            with self._wake:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                progress, self._pending = self._pending, None
                closing = self._closed
            if progress is not None and kube is not None:
                self._patch(kube, progress)
            if closing and progress is None:
                return

    def _patch(self, kube: Client, progress: Progress) -> None:
        from videodl.kube.client import MERGE_PATCH, VIDEODOWNLOADS  # noqa: PLC0415

        try:
            kube.request(
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
