"""Progress into the VideoDownload's ``status.progress``, through the Kubernetes API.

One JSON merge patch on the ``status`` subresource per update, so the worker's service
account needs nothing but ``patch`` on ``videodownloads/status``. Patches are sent from a
background thread that always sends the newest update (older unsent ones are dropped),
so a slow apiserver never slows the download down. Progress is best effort: a failed
patch is logged, never fatal.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from kubernetes import client, config

from videodl.api.resource import GROUP, PLURAL, VERSION
from videodl.api.status import Progress

__all__ = ["KubernetesProgressSink", "load_client", "progress_patch"]

_log = logging.getLogger(__name__)


def load_client() -> Any:
    """An ApiClient: the Pod's service account in a cluster, else the kubeconfig."""
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    else:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    return client.ApiClient()


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
        api_client: Any | None = None,
        custom_objects: Any | None = None,
    ) -> None:
        """Patch VideoDownload ``namespace/name``.

        ``custom_objects`` (a ``CustomObjectsApi`` or a stand-in with its
        ``patch_namespaced_custom_object_status``) defaults to one on ``api_client``,
        which defaults to :func:`load_client`.
        """
        self._name = name
        self._namespace = namespace
        self._api = custom_objects or client.CustomObjectsApi(api_client or load_client())
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
            self._api.patch_namespaced_custom_object_status(
                group=GROUP,
                version=VERSION,
                namespace=self._namespace,
                plural=PLURAL,
                name=self._name,
                body=progress_patch(progress),
                _content_type="application/merge-patch+json",
                _request_timeout=10,
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
