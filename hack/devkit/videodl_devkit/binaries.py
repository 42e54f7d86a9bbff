"""Where the control plane's binaries come from.

They are built from Go modules by ``hack/build-binaries.sh`` into a cache directory keyed by
their versions, once per machine. ``VIDEODL_BIN_DIR`` points at a ready directory instead.
"""

from __future__ import annotations

import os
import pathlib
import subprocess

REQUIRED = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")

_SCRIPT = pathlib.Path(__file__).resolve().parents[3] / "hack" / "build-binaries.sh"


class BinariesError(RuntimeError):
    """The binaries are missing and cannot be built."""


def ensure() -> pathlib.Path:
    """Return the directory holding the binaries, building them first when missing.

    The build prints its progress to stderr; it is skipped when everything is cached.
    """
    override = os.environ.get("VIDEODL_BIN_DIR")
    if override:
        directory = pathlib.Path(override)
    else:
        if not _SCRIPT.is_file():
            msg = f"cannot build the control plane: {_SCRIPT} is missing; set VIDEODL_BIN_DIR"
            raise BinariesError(msg)
        done = subprocess.run(
            ["bash", str(_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False
        )
        if done.returncode != 0:
            msg = f"building the control plane failed (exit {done.returncode}); see the log above"
            raise BinariesError(msg)
        directory = pathlib.Path(done.stdout.strip().splitlines()[-1])
    missing = [name for name in REQUIRED if not (directory / name).is_file()]
    if missing:
        msg = f"{directory} lacks {', '.join(missing)}: unset VIDEODL_BIN_DIR or point it elsewhere"
        raise BinariesError(msg)
    return directory
