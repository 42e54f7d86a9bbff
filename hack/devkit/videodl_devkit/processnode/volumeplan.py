"""Which volumes a Pod needs and where each container sees them.

A Pod's volumes become host directories (emptyDir and file volumes under the Pod's directory,
claims at their PersistentVolume's directory, hostPath as is); each container's volumeMounts
become bind mounts from those directories (or subPaths in them) to the mountPaths, plus the
container's termination message file at its terminationMessagePath.
"""

from __future__ import annotations

import dataclasses
import enum
import posixpath
from collections.abc import Callable, Mapping
from typing import Any

from videodl_devkit.processnode import errors, projection

DEFAULT_TERMINATION_PATH = "/dev/termination-log"


class Kind(enum.Enum):
    """How a volume is backed on the host."""

    EMPTY_DIR = "emptyDir"
    HOST_PATH = "hostPath"
    CLAIM = "persistentVolumeClaim"
    FILES = "files"


@dataclasses.dataclass(frozen=True)
class VolumePlan:
    """One Pod volume and what backs it."""

    name: str
    kind: Kind
    claim_name: str = ""
    host_path: str = ""
    host_path_type: str = ""
    read_only: bool = False


@dataclasses.dataclass(frozen=True)
class Mount:
    """A bind mount: host source onto the container's target path."""

    source: str
    target: str
    read_only: bool
    create_source: bool = False


_SUPPORTED = (
    "emptyDir, persistentVolumeClaim, ephemeral, hostPath, secret, configMap, downwardAPI, "
    "projected"
)


def plan(pod: Mapping[str, Any]) -> list[VolumePlan]:
    """Plan every volume of the Pod; SpecError names a volume type the node cannot back."""
    pod_name = str((pod.get("metadata") or {}).get("name", ""))
    plans: list[VolumePlan] = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        name = str(volume.get("name", ""))
        if volume.get("emptyDir") is not None:
            plans.append(VolumePlan(name, Kind.EMPTY_DIR))
        elif volume.get("persistentVolumeClaim") is not None:
            claim = volume["persistentVolumeClaim"]
            plans.append(
                VolumePlan(
                    name,
                    Kind.CLAIM,
                    claim_name=str(claim.get("claimName", "")),
                    read_only=bool(claim.get("readOnly")),
                )
            )
        elif volume.get("ephemeral") is not None:
            # The ephemeral volume controller creates the claim as <pod>-<volume>.
            plans.append(VolumePlan(name, Kind.CLAIM, claim_name=f"{pod_name}-{name}"))
        elif volume.get("hostPath") is not None:
            host = volume["hostPath"]
            plans.append(
                VolumePlan(
                    name,
                    Kind.HOST_PATH,
                    host_path=str(host.get("path", "")),
                    host_path_type=str(host.get("type") or ""),
                )
            )
        elif projection.is_file_volume(volume):
            projection.token_specs(volume)
            plans.append(VolumePlan(name, Kind.FILES, read_only=True))
        else:
            kinds = ", ".join(sorted(k for k in volume if k != "name")) or "no source"
            raise errors.SpecError(
                f"volume {name!r} uses {kinds}, which the process node does not support; "
                f"supported volume types: {_SUPPORTED}"
            )
    return plans


def _subpath(container_name: str, mount: Mapping[str, Any], expand: Callable[[str], str]) -> str:
    if mount.get("subPathExpr"):
        sub = expand(str(mount["subPathExpr"]))
        if "$(" in sub:
            raise errors.SpecError(
                f"container {container_name!r}: subPathExpr {mount['subPathExpr']!r} refers to "
                "a variable the container does not define"
            )
    else:
        sub = str(mount.get("subPath") or "")
    if sub and (sub.startswith("/") or ".." in sub.split("/")):
        raise errors.SpecError(
            f"container {container_name!r}: subPath {sub!r} must be relative and must not "
            "contain '..'"
        )
    return sub


def container_mounts(
    container: Mapping[str, Any],
    plans: Mapping[str, VolumePlan],
    volume_dirs: Mapping[str, str],
    *,
    expand: Callable[[str], str],
    termination_file: str,
) -> list[Mount]:
    """The container's bind mounts, parents before children, termination file included."""
    cname = str(container.get("name", ""))
    mounts: list[Mount] = []
    for mount in container.get("volumeMounts") or []:
        vname = str(mount.get("name", ""))
        if vname not in plans:
            raise errors.SpecError(
                f"container {cname!r}: volumeMount {vname!r} names no volume of the Pod"
            )
        volume = plans[vname]
        target = str(mount.get("mountPath", ""))
        if not target.startswith("/"):
            raise errors.SpecError(
                f"container {cname!r}: mountPath {target!r} of volume {vname!r} must be absolute"
            )
        sub = _subpath(cname, mount, expand)
        root = volume_dirs[vname]
        mounts.append(
            Mount(
                source=posixpath.normpath(posixpath.join(root, sub)) if sub else root,
                target=posixpath.normpath(target),
                read_only=bool(mount.get("readOnly")) or volume.read_only,
                create_source=bool(sub) and volume.kind is not Kind.FILES,
            )
        )
    termination_target = posixpath.normpath(
        str(container.get("terminationMessagePath") or DEFAULT_TERMINATION_PATH)
    )
    if all(m.target != termination_target for m in mounts):
        mounts.append(Mount(source=termination_file, target=termination_target, read_only=False))
    return sorted(mounts, key=lambda m: (m.target.rstrip("/").count("/"), m.target))
