"""Where the process node keeps its files under its state directory (paths only, no I/O).

    <state-dir>/volumes/<pv-name>/                      PersistentVolume directories
    <state-dir>/pods/<pod-uid>/volumes/<volume>/        emptyDir, secret, configMap, ...
    <state-dir>/pods/<pod-uid>/containers/<container>/  termination log, pid record
    <state-dir>/logs/<ns>_<pod>_<uid>/<container>/<restart>.log   container output (kept)

Pod directories are removed when the Pod ends; logs are kept so that failed runs can be read
after the Pod object is gone; PersistentVolume directories live as long as their volume.
"""

from __future__ import annotations

import dataclasses
import pathlib


@dataclasses.dataclass(frozen=True)
class Layout:
    """Paths under one process node's state directory."""

    root: pathlib.Path

    @property
    def volumes_root(self) -> pathlib.Path:
        return self.root / "volumes"

    @property
    def pods_root(self) -> pathlib.Path:
        return self.root / "pods"

    @property
    def logs_root(self) -> pathlib.Path:
        return self.root / "logs"

    def pv_dir(self, pv_name: str) -> pathlib.Path:
        return self.volumes_root / pv_name

    def pod_dir(self, uid: str) -> pathlib.Path:
        return self.pods_root / uid

    def pod_volume_dir(self, uid: str, volume: str) -> pathlib.Path:
        return self.pod_dir(uid) / "volumes" / volume

    def container_dir(self, uid: str, container: str) -> pathlib.Path:
        return self.pod_dir(uid) / "containers" / container

    def termination_file(self, uid: str, container: str) -> pathlib.Path:
        return self.container_dir(uid, container) / "termination-log"

    def started_marker(self, uid: str, container: str) -> pathlib.Path:
        return self.container_dir(uid, container) / "started"

    def pid_file(self, uid: str, container: str) -> pathlib.Path:
        return self.container_dir(uid, container) / "pid"

    def pod_log_dir(self, namespace: str, pod: str, uid: str) -> pathlib.Path:
        return self.logs_root / f"{namespace}_{pod}_{uid}"

    def log_file(
        self, namespace: str, pod: str, uid: str, container: str, restart: int
    ) -> pathlib.Path:
        return self.pod_log_dir(namespace, pod, uid) / container / f"{restart}.log"
