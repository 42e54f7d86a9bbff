"""The shell script that starts a container: private mounts, working directory, identity, exec.

The agent runs `unshare --mount --propagation private -- bash -c <script>`; the script, still
root in the new mount namespace, first opens every volume source (and the directory of the
start marker) as a file descriptor, because a mount can hide the agent's own state directory:
a Pod that mounts an emptyDir at /tmp hides a state directory under /tmp. Then it creates
missing mount points on the host (directories for directory sources, empty files for file
sources), bind-mounts every volume from its descriptor (`/proc/self/fd/N`), binds the stand-in
image's own directories back where a volume hid them (see :func:`hidden_image_paths`),
remounts read-only ones, enters the working directory, checks that the command exists,
leaves a marker that the setup succeeded, closes the descriptors and execs the command
through `setpriv` with the container's uid, gid and groups. A setup failure exits 128 with
a message on stderr (the container's log).
"""

from __future__ import annotations

import dataclasses
import posixpath
import shlex
from collections.abc import Sequence

from videodl_devkit.processnode import volumeplan

SETUP_FAILED_EXIT = 128


@dataclasses.dataclass(frozen=True)
class Tools:
    """Absolute paths of the util-linux and shell tools the script uses."""

    unshare: str = "/usr/bin/unshare"
    # bash, not sh: the script opens descriptors numbered 10 and up.
    sh: str = "/bin/bash"
    mkdir: str = "/bin/mkdir"
    mount: str = "/bin/mount"
    setpriv: str = "/usr/bin/setpriv"


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who the command runs as, from the container's and Pod's securityContext."""

    uid: int = 0
    gid: int = 0
    groups: tuple[int, ...] = ()
    no_new_privs: bool = False
    drop_all_capabilities: bool = False


def _setpriv(identity: Identity, tools: Tools) -> list[str]:
    argv = [tools.setpriv, f"--reuid={identity.uid}", f"--regid={identity.gid}"]
    if identity.groups:
        argv.append("--groups=" + ",".join(str(g) for g in identity.groups))
    else:
        argv.append("--clear-groups")
    if identity.no_new_privs:
        argv.append("--no-new-privs")
    if identity.drop_all_capabilities:
        argv += ["--inh-caps=-all", "--bounding-set=-all"]
    # The command dies with the agent even if the agent is killed without cleaning up.
    argv += ["--pdeathsig=KILL", "--"]
    return argv


_FIRST_FD = 10
# mount(8) would resolve /proc/self/fd/N to the path it names, which an earlier mount may
# have hidden; the kernel follows the descriptor itself.
_BIND = "--no-canonicalize --bind"


def _mount_lines(mount: volumeplan.Mount, fd: int, tools: Tools) -> list[str]:
    q = shlex.quote
    src, dst = f"/proc/self/fd/{fd}", q(mount.target)
    parent = q(posixpath.dirname(mount.target) or "/")
    create = (
        f"if [ -d {src} ]; then {q(tools.mkdir)} -p -- {dst}; "
        f"else {q(tools.mkdir)} -p -- {parent} && {{ [ -e {dst} ] || : > {dst}; }}; fi "
        f"|| fail {q(f'cannot create mount point {mount.target}')}"
    )
    lines = [
        create,
        f"{q(tools.mount)} {_BIND} {src} {dst} "
        f"|| fail {q(f'cannot bind-mount {mount.source} at {mount.target}')}",
    ]
    if mount.read_only:
        lines.append(
            f"{q(tools.mount)} -o remount,bind,ro {dst} "
            f"|| fail {q(f'cannot make {mount.target} read-only')}"
        )
    return lines


def _covers(target: str, path: str) -> bool:
    return path.startswith(target.rstrip("/") + "/")


def hidden_image_paths(
    mounts: Sequence[volumeplan.Mount], image_paths: Sequence[str]
) -> dict[str, int]:
    """Image paths a volume would hide, each with the index of the last mount hiding it.

    The process node's stand-in image is the host's file system, and its Python, the
    virtualenv and the product's sources are part of it. A volume mounted over one of their
    parents (an emptyDir at /tmp, with the checkout under /tmp) would hide them, which an
    image's own files never are; so they are bound back over the volume. A volume mounted
    exactly at an image path replaces it, as a volume over an image directory does.
    """
    hidden: dict[str, int] = {}
    for path in image_paths:
        covering = [i for i, m in enumerate(mounts) if _covers(m.target, path)]
        if covering:
            hidden[path] = covering[-1]
    return hidden


def script(
    *,
    mounts: Sequence[volumeplan.Mount],
    working_dir: str,
    argv: Sequence[str],
    identity: Identity,
    started_marker: str,
    tools: Tools,
    image_paths: Sequence[str] = (),
) -> str:
    """The setup-and-exec script for one container start."""
    if not argv:
        raise ValueError("a container needs a command to run")
    q = shlex.quote
    command = argv[0]
    not_found = f'exec: "{command}": executable file not found in $PATH'
    lines = [f"fail() {{ printf 'process node: %s\\n' \"$1\" >&2; exit {SETUP_FAILED_EXIT}; }}"]
    marker_fd = _FIRST_FD + len(mounts)
    for fd, mount in enumerate(mounts, start=_FIRST_FD):
        lines.append(
            f"exec {fd}< {q(mount.source)} || fail {q(f'cannot open volume source {mount.source}')}"
        )
    marker_dir, marker_name = posixpath.split(started_marker)
    lines.append(
        f"exec {marker_fd}< {q(marker_dir or '/')} || fail {q('cannot open the marker directory')}"
    )
    hidden = hidden_image_paths(mounts, image_paths)
    image_fds = dict(zip(hidden, range(marker_fd + 1, marker_fd + 1 + len(hidden)), strict=True))
    for path, fd in image_fds.items():
        lines.append(f"exec {fd}< {q(path)} || fail {q(f'cannot open image path {path}')}")
    for index, (fd, mount) in enumerate(enumerate(mounts, start=_FIRST_FD)):
        mount_lines = _mount_lines(mount, fd, tools)
        rebinds = [
            f"{q(tools.mkdir)} -p -- {q(path)} && {q(tools.mount)} {_BIND} "
            f"/proc/self/fd/{image_fds[path]} {q(path)} "
            f"|| fail {q(f'cannot keep image path {path} visible under {mount.target}')}"
            for path, last in hidden.items()
            if last == index
        ]
        # Before a read-only remount: the image path's mount point is made inside the volume.
        lines += mount_lines[:2] + rebinds + mount_lines[2:]
    last_fd = marker_fd + len(image_fds)
    closes = " ".join(f"{fd}<&-" for fd in range(_FIRST_FD, last_fd + 1))
    lines += [
        f"{q(tools.mkdir)} -p -- {q(working_dir)} && cd -- {q(working_dir)} "
        f"|| fail {q(f'cannot enter working directory {working_dir}')}",
        f"command -v -- {q(command)} >/dev/null 2>&1 || fail {q(not_found)}",
        f": > /proc/self/fd/{marker_fd}/{q(marker_name)} "
        f"|| fail {q('cannot write the start marker')}",
        f"exec {closes}",
        "exec " + " ".join(q(part) for part in [*_setpriv(identity, tools), *argv]),
    ]
    return "\n".join(lines) + "\n"


def launch_argv(setup: str, tools: Tools) -> list[str]:
    """The argv that runs the setup script in a fresh private mount namespace."""
    return [tools.unshare, "--mount", "--propagation", "private", "--", tools.sh, "-c", setup]
