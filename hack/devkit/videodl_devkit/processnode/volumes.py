"""Materialising a Pod's volumes on the host, and refreshing service account tokens.

emptyDir directories are created world-writable (as a kubelet does); claims resolve to their
PersistentVolume's directory; file volumes are written from fetched Secrets, ConfigMaps,
downward API values and TokenRequest tokens. With an fsGroup, writable volumes get that group
recursively (setgid directories, group read/write), as a kubelet's volume ownership does.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from videodl_devkit.processnode import (
    environment,
    errors,
    fieldpaths,
    kubeapi,
    layout,
    projection,
    timestamps,
    volumeobjects,
    volumeplan,
)

REFRESH_FRACTION = 0.8


@dataclasses.dataclass
class TokenFile:
    """A projected token to refresh before it expires."""

    directory: pathlib.Path
    spec: projection.TokenSpec
    mode: int
    owner: int | None
    refresh_at: datetime.datetime


@dataclasses.dataclass
class Prepared:
    """A Pod's volumes on the host: directory per volume name, and tokens to refresh."""

    dirs: dict[str, str]
    tokens: list[TokenFile]


def fetch_objects(
    kube: kubeapi.Kube, namespace: str, refs: Iterable[environment.ObjectRef]
) -> dict[environment.ObjectRef, Mapping[str, Any] | None]:
    """Get each referenced Secret or ConfigMap (None when it does not exist)."""
    fetched: dict[environment.ObjectRef, Mapping[str, Any] | None] = {}
    for kind, name in sorted(set(refs)):
        plural = "secrets" if kind == "Secret" else "configmaps"
        fetched[(kind, name)] = kube.get_or_none(
            kubeapi.path("api", "v1", "namespaces", namespace, plural, name)
        )
    return fetched


def apply_fs_group(
    root: pathlib.Path, gid: int, *, read_only: bool, only_on_mismatch: bool
) -> None:
    """Give the tree to group gid: setgid directories, group read (and write unless read-only)."""
    if only_on_mismatch:
        info = root.stat()
        if info.st_gid == gid and info.st_mode & stat.S_ISGID:
            return
    file_bits = 0o040 if read_only else 0o060
    dir_bits = stat.S_ISGID | (0o050 if read_only else 0o070)
    for walked, dirnames, filenames in os.walk(root):
        current = pathlib.Path(walked)
        for entry in [current, *(current / name for name in dirnames + filenames)]:
            info = entry.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            os.chown(entry, -1, gid)
            bits = dir_bits if stat.S_ISDIR(info.st_mode) else file_bits
            entry.chmod(stat.S_IMODE(info.st_mode) | bits)


def write_file(
    directory: pathlib.Path,
    relative: str,
    *,
    data: bytes,
    mode: int,
    owner: int | None,
    group: int | None,
) -> None:
    """Write one volume file atomically (temporary file, then rename) with mode and owners."""
    target = directory / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chown(temporary, -1 if owner is None else owner, -1 if group is None else group)
        pathlib.Path(temporary).chmod(mode | (0o040 if group is not None else 0))
        pathlib.Path(temporary).replace(target)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise


class VolumeBuilder:
    """Creates the host side of Pod volumes."""

    def __init__(
        self,
        kube: kubeapi.Kube,
        *,
        paths: layout.Layout,
        node: fieldpaths.NodeResources,
    ) -> None:
        self._kube = kube
        self._paths = paths
        self._node = node

    def prepare(
        self,
        pod: Mapping[str, Any],
        plans: list[volumeplan.VolumePlan],
        *,
        fs_group: int | None,
        fs_group_on_mismatch: bool,
        token_owner: int | None,
    ) -> Prepared:
        """Make every volume exist on the host; WaitingError or SpecError when it cannot."""
        metadata = pod["metadata"]
        uid, namespace = str(metadata["uid"]), str(metadata["namespace"])
        volumes = {str(v.get("name")): v for v in (pod.get("spec") or {}).get("volumes") or []}
        prepared = Prepared(dirs={}, tokens=[])
        for plan in plans:
            if plan.kind is volumeplan.Kind.EMPTY_DIR:
                directory = self._paths.pod_volume_dir(uid, plan.name)
                directory.mkdir(parents=True, exist_ok=True)
                directory.chmod(0o777)
                if fs_group is not None:
                    apply_fs_group(directory, fs_group, read_only=False, only_on_mismatch=False)
            elif plan.kind is volumeplan.Kind.CLAIM:
                directory = self._claim_dir(namespace, plan)
                if fs_group is not None:
                    apply_fs_group(
                        directory,
                        fs_group,
                        read_only=plan.read_only,
                        only_on_mismatch=fs_group_on_mismatch,
                    )
            elif plan.kind is volumeplan.Kind.HOST_PATH:
                directory = self._host_path(plan)
            else:
                directory = self._paths.pod_volume_dir(uid, plan.name)
                prepared.tokens += self._files(
                    pod, volumes[plan.name], directory, fs_group=fs_group, token_owner=token_owner
                )
            prepared.dirs[plan.name] = str(directory)
        return prepared

    def _claim_dir(self, namespace: str, plan: volumeplan.VolumePlan) -> pathlib.Path:
        claim = self._kube.get_or_none(
            kubeapi.path(
                "api", "v1", "namespaces", namespace, "persistentvolumeclaims", plan.claim_name
            )
        )
        if claim is None:
            raise errors.WaitingError(f'persistentvolumeclaim "{plan.claim_name}" not found')
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if (claim.get("status") or {}).get("phase") != "Bound" or not volume_name:
            raise errors.WaitingError(
                f'persistentvolumeclaim "{plan.claim_name}" is not bound to a volume yet'
            )
        volume = self._kube.get_or_none(kubeapi.path("api", "v1", "persistentvolumes", volume_name))
        if volume is None:
            raise errors.WaitingError(f'persistentvolume "{volume_name}" not found')
        host = volumeobjects.host_path(volume)
        if host is None:
            raise errors.SpecError(
                f"volume {plan.name!r}: PersistentVolume {volume_name!r} is not a local or "
                "hostPath volume; the process node can only mount host directories"
            )
        directory = pathlib.Path(host)
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o777)
        return directory

    def _host_path(self, plan: volumeplan.VolumePlan) -> pathlib.Path:
        target = pathlib.Path(plan.host_path)
        kind = plan.host_path_type
        if kind == "DirectoryOrCreate" and not target.exists():
            target.mkdir(parents=True, exist_ok=True)
        elif kind == "FileOrCreate" and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch(mode=0o644)
        checks = {
            "Directory": target.is_dir,
            "DirectoryOrCreate": target.is_dir,
            "File": target.is_file,
            "FileOrCreate": target.is_file,
            "Socket": target.is_socket,
            "CharDevice": target.is_char_device,
            "BlockDevice": target.is_block_device,
        }
        if kind in checks and not checks[kind]():
            raise errors.WaitingError(
                f'MountVolume.SetUp failed for volume "{plan.name}": hostPath type check '
                f"failed: {target} is not a {kind}"
            )
        return target

    def _files(
        self,
        pod: Mapping[str, Any],
        volume: Mapping[str, Any],
        directory: pathlib.Path,
        *,
        fs_group: int | None,
        token_owner: int | None,
    ) -> list[TokenFile]:
        namespace = str(pod["metadata"]["namespace"])
        objects = fetch_objects(self._kube, namespace, projection.references(volume))
        specs = projection.token_specs(volume)
        tokens: dict[tuple[str, int], bytes] = {}
        refresh: list[TokenFile] = []
        for spec in specs:
            token, expires = self.request_token(pod, spec)
            tokens[spec.key] = token
            refresh.append(
                TokenFile(directory, spec, 0, token_owner, self._refresh_time(expires, spec))
            )
        produced = projection.files(pod, volume, objects, tokens, self._node)
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        directory.chmod(0o755)
        token_paths = {spec.path for spec in specs}
        for item in produced:
            owner = token_owner if item.path in token_paths and fs_group is None else None
            write_file(
                directory,
                item.path,
                data=item.data,
                mode=item.mode,
                owner=owner,
                group=fs_group,
            )
            for entry in refresh:
                if entry.spec.path == item.path:
                    entry.mode = item.mode
        if fs_group is not None:
            os.chown(directory, -1, fs_group)
        return refresh

    @staticmethod
    def _refresh_time(expires: datetime.datetime, spec: projection.TokenSpec) -> datetime.datetime:
        now = datetime.datetime.now(datetime.UTC)
        lifetime = min((expires - now).total_seconds(), float(spec.expiration_seconds))
        return now + datetime.timedelta(seconds=max(lifetime * REFRESH_FRACTION, 60.0))

    def request_token(
        self, pod: Mapping[str, Any], spec: projection.TokenSpec
    ) -> tuple[bytes, datetime.datetime]:
        """A token for the Pod's ServiceAccount, bound to the Pod, from the TokenRequest API."""
        metadata = pod["metadata"]
        account = str((pod.get("spec") or {}).get("serviceAccountName") or "default")
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": [spec.audience] if spec.audience else [],
                "expirationSeconds": spec.expiration_seconds,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": metadata["name"],
                    "uid": metadata["uid"],
                },
            },
        }
        api_path = kubeapi.path(
            "api", "v1", "namespaces", str(metadata["namespace"]), "serviceaccounts", account,
            "token",
        )  # fmt: skip
        try:
            answer = kubeapi.retrying(lambda: self._kube.request("POST", api_path, body=body))
        except ApiException as error:
            if error.status == 404:
                raise errors.WaitingError(f'serviceaccount "{account}" not found') from error
            raise
        status = answer.get("status") or {}
        return str(status.get("token", "")).encode(), timestamps.parse(
            str(status.get("expirationTimestamp"))
        )

    def refresh_tokens(
        self, pod: Mapping[str, Any], prepared: Prepared, *, fs_group: int | None
    ) -> None:
        """Replace tokens that reached 80% of their lifetime with fresh ones."""
        now = datetime.datetime.now(datetime.UTC)
        for entry in prepared.tokens:
            if now < entry.refresh_at:
                continue
            token, expires = self.request_token(pod, entry.spec)
            owner = entry.owner if fs_group is None else None
            write_file(
                entry.directory,
                entry.spec.path,
                data=token,
                mode=entry.mode,
                owner=owner,
                group=fs_group,
            )
            entry.refresh_at = self._refresh_time(expires, entry.spec)
