"""What the process node accepts in a Pod spec, and how a container's spec becomes a process.

Images are ignored, so a container must carry its own `command`; there is no image user, so
`runAsNonRoot` needs an explicit non-zero `runAsUser`; sidecar init containers
(`restartPolicy: Always` on an init container) are not supported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from videodl_devkit.processnode import errors, mountscript

RESTART_POLICIES = ("Always", "OnFailure", "Never")


def check_pod(pod: Mapping[str, Any]) -> None:
    """Raise SpecError for Pod-level features the process node cannot run."""
    spec = pod.get("spec") or {}
    policy = spec.get("restartPolicy") or "Always"
    if policy not in RESTART_POLICIES:
        raise errors.SpecError(
            f"spec.restartPolicy {policy!r} is not one of {', '.join(RESTART_POLICIES)}"
        )
    for container in spec.get("initContainers") or []:
        if container.get("restartPolicy") == "Always":
            raise errors.SpecError(
                f"init container {container.get('name')!r} has restartPolicy Always (a sidecar); "
                "the process node does not run sidecar containers: move it to spec.containers"
            )


def restart_policy(pod: Mapping[str, Any]) -> str:
    """The Pod's restartPolicy (Always when unset, as the API defaults it)."""
    return str((pod.get("spec") or {}).get("restartPolicy") or "Always")


def identity(pod: Mapping[str, Any], container: Mapping[str, Any]) -> mountscript.Identity:
    """The uid, gid and groups a container runs as; SpecError when runAsNonRoot cannot hold."""
    pod_context = (pod.get("spec") or {}).get("securityContext") or {}
    context = container.get("securityContext") or {}
    name = container.get("name")

    def pick(field: str) -> Any:
        value = context.get(field)
        return pod_context.get(field) if value is None else value

    uid, gid, non_root = pick("runAsUser"), pick("runAsGroup"), pick("runAsNonRoot")
    if non_root and uid is None:
        raise errors.SpecError(
            f"container {name!r} has runAsNonRoot and no runAsUser; the process node ignores "
            "images, so there is no image user: set securityContext.runAsUser to a non-zero uid"
        )
    if non_root and int(uid) == 0:
        raise errors.SpecError(
            f"container {name!r}: runAsUser 0 breaks runAsNonRoot; set a non-zero runAsUser"
        )
    groups: list[int] = []
    for group in [pod_context.get("fsGroup"), *(pod_context.get("supplementalGroups") or [])]:
        if group is not None and int(group) not in groups:
            groups.append(int(group))
    drop = [str(c).upper() for c in ((context.get("capabilities") or {}).get("drop") or [])]
    return mountscript.Identity(
        uid=0 if uid is None else int(uid),
        gid=0 if gid is None else int(gid),
        groups=tuple(groups),
        no_new_privs=context.get("allowPrivilegeEscalation") is False,
        drop_all_capabilities="ALL" in drop,
    )


def command(container: Mapping[str, Any], expand: Callable[[str], str]) -> list[str]:
    """The container's argv (command + args, `$(VAR)` expanded); SpecError without a command."""
    base = container.get("command") or []
    if not base:
        raise errors.SpecError(
            f"container {container.get('name')!r} has no command; the process node ignores "
            "images and cannot use their entrypoint: set command (and args) on the container"
        )
    return [expand(str(part)) for part in [*base, *(container.get("args") or [])]]


def working_dir(container: Mapping[str, Any]) -> str:
    """The container's working directory (`/` when unset)."""
    return str(container.get("workingDir") or "/")


def fs_group(pod: Mapping[str, Any]) -> int | None:
    """The Pod's fsGroup, if any."""
    value = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroup")
    return None if value is None else int(value)
