"""Local-directory PersistentVolumes for claims of the node's StorageClass.

Like a local-path provisioner: each pending claim of the class gets a directory under
<state-dir>/volumes/ and a `local` PersistentVolume pinned to this node and pre-bound to the
claim (kube-controller-manager completes the binding). When a volume is Released (its claim
was deleted) the directory and the volume are deleted; a volume deleted by someone else has
its directory removed too.
"""

from __future__ import annotations

import datetime
import logging
import shutil
import threading
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from videodl_devkit.processnode import events, kubeapi, layout, volumeobjects, watchloop


class Provisioner:
    """Provisions and cleans up this node's PersistentVolumes."""

    def __init__(
        self,
        kube: kubeapi.Kube,
        *,
        paths: layout.Layout,
        node: str,
        class_name: str,
        logger: logging.Logger,
    ) -> None:
        self._kube = kube
        self._paths = paths
        self._node = node
        self._class = class_name
        self._logger = logger
        self._reported: set[str] = set()

    def ensure_storage_class(self) -> None:
        """Create the StorageClass if it does not exist (an existing one is left as it is)."""
        path = kubeapi.path("apis", "storage.k8s.io", "v1", "storageclasses", self._class)
        if self._kube.get_or_none(path) is not None:
            return
        body = volumeobjects.storage_class(self._class)
        try:
            kubeapi.retrying(
                lambda: self._kube.request(
                    "POST", "/apis/storage.k8s.io/v1/storageclasses", body=body
                )
            )
            self._logger.info("created StorageClass %s", self._class)
        except ApiException as error:
            if error.status != 409:
                raise

    def remove_orphans(self) -> None:
        """Delete volume directories whose PersistentVolume no longer exists (run at start)."""
        self._paths.volumes_root.mkdir(parents=True, exist_ok=True)
        listing = kubeapi.retrying(lambda: self._kube.get("/api/v1/persistentvolumes"))
        names = {str(pv["metadata"]["name"]) for pv in listing.get("items") or []}
        for entry in self._paths.volumes_root.iterdir():
            if entry.is_dir() and entry.name not in names:
                self._logger.info("removing directory of deleted volume %s", entry.name)
                shutil.rmtree(entry, ignore_errors=True)

    def run_claims(self, stop: threading.Event) -> None:
        """Provision volumes for claims until stop is set."""
        watchloop.run(
            self._kube,
            "/api/v1/persistentvolumeclaims",
            query={},
            on_list=lambda claims: self._each(claims, "SYNC", self._on_claim_event),
            on_event=self._on_claim_event,
            stop=stop,
            logger=self._logger,
        )

    def run_volumes(self, stop: threading.Event) -> None:
        """Clean up released volumes until stop is set."""
        watchloop.run(
            self._kube,
            "/api/v1/persistentvolumes",
            query={},
            on_list=lambda volumes: self._each(volumes, "SYNC", self.on_volume),
            on_event=self.on_volume,
            stop=stop,
            logger=self._logger,
        )

    def _each(
        self,
        objects: list[kubeapi.Json],
        kind: str,
        handle: Callable[[str, kubeapi.Json], None],
    ) -> None:
        for obj in objects:
            try:
                handle(kind, obj)
            except Exception:
                self._logger.exception(
                    "handling %s failed", (obj.get("metadata") or {}).get("name")
                )

    def _on_claim_event(self, kind: str, claim: kubeapi.Json) -> None:
        if kind != "DELETED":
            self.on_claim(claim)

    def on_claim(self, claim: Mapping[str, Any]) -> None:
        """Provision a volume for the claim if it is of our class and waits for one."""
        if not volumeobjects.wants_volume(claim, self._class):
            return
        metadata = claim["metadata"]
        problem = volumeobjects.claim_problem(claim)
        if problem is not None:
            if metadata["uid"] not in self._reported:
                self._reported.add(metadata["uid"])
                self._record(claim, "ProvisioningFailed", problem, warning=True)
            return
        name = volumeobjects.volume_name(claim)
        directory = self._paths.pv_dir(name)
        if self._kube.get_or_none(kubeapi.path("api", "v1", "persistentvolumes", name)):
            return
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o777)  # any Pod user may write, as a local-path provisioner allows
        body = volumeobjects.persistent_volume(
            claim, node=self._node, path=str(directory), class_name=self._class
        )
        try:
            kubeapi.retrying(
                lambda: self._kube.request("POST", "/api/v1/persistentvolumes", body=body)
            )
        except ApiException as error:
            if error.status != 409:
                raise
            return
        self._logger.info(
            "provisioned %s for claim %s/%s at %s",
            name,
            metadata["namespace"],
            metadata["name"],
            directory,
        )
        self._record(claim, "ProvisioningSucceeded", f"Successfully provisioned volume {name}")

    def on_volume(self, kind: str, volume: Mapping[str, Any]) -> None:
        """Delete released volumes of ours, and the directory of ours that went away."""
        if not volumeobjects.is_ours(volume, self._node):
            return
        name = str(volume["metadata"]["name"])
        if kind == "DELETED":
            self._remove_directory(volume)
            return
        if volumeobjects.should_delete(volume, self._node):
            self._remove_directory(volume)
            try:
                kubeapi.retrying(
                    lambda: self._kube.request(
                        "DELETE", kubeapi.path("api", "v1", "persistentvolumes", name)
                    )
                )
                self._logger.info("deleted released volume %s", name)
            except ApiException as error:
                if error.status != 404:
                    raise

    def _remove_directory(self, volume: Mapping[str, Any]) -> None:
        name = str(volume["metadata"]["name"])
        directory = self._paths.pv_dir(name)
        # Only ever remove the directory this node made for that volume.
        if volumeobjects.host_path(volume) == str(directory) and directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
            self._logger.info("removed directory of volume %s", name)

    def _record(
        self, claim: Mapping[str, Any], reason: str, message: str, *, warning: bool = False
    ) -> None:
        body = events.event(
            claim,
            kind="PersistentVolumeClaim",
            reason=reason,
            message=message,
            node=self._node,
            now=datetime.datetime.now(datetime.UTC),
            warning=warning,
        )
        namespace = body["metadata"]["namespace"]
        try:
            self._kube.request(
                "POST", kubeapi.path("api", "v1", "namespaces", namespace, "events"), body=body
            )
        except Exception as error:  # noqa: BLE001 - events are best effort
            self._logger.debug("could not record event %s: %s", reason, error)
