"""The command line of the process node and its validated settings."""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import re
from collections.abc import Sequence

from videodl_devkit.processnode import quantities

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the agent needs to know at start."""

    kubeconfig: pathlib.Path
    node_name: str
    state_dir: pathlib.Path
    cpu: str = "8"
    memory: str = "16Gi"
    pods: int = 110
    storage_class: str = "videodl-local"
    heartbeat_seconds: float = 10.0
    lease_seconds: int = 40
    shutdown_grace_seconds: float = 5.0
    #: Host directories that belong to the stand-in image (Python, the virtualenv, the
    #: sources): they stay visible in containers whatever volume is mounted over a parent.
    image_paths: tuple[str, ...] = ()
    #: The kubelet endpoint (container logs for the apiserver): its port (0: off), its
    #: serving certificate and key, and the CA of the apiserver's client certificate.
    kubelet_port: int = 0
    kubelet_cert: pathlib.Path | None = None
    kubelet_key: pathlib.Path | None = None
    client_ca: pathlib.Path | None = None


def _name(text: str) -> str:
    if len(text) > 253 or not _DNS_SUBDOMAIN.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a valid name: use lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit"
        )
    return text


def _positive_quantity(text: str) -> str:
    try:
        value = quantities.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than zero")
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than zero")
    return value


def parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m videodl_devkit.processnode`."""
    p = argparse.ArgumentParser(
        prog="python -m videodl_devkit.processnode",
        description="Run Pods bound to one Node as local processes (a stand-in kubelet).",
    )
    p.add_argument("--kubeconfig", required=True, type=pathlib.Path, help="admin kubeconfig")
    p.add_argument("--node-name", required=True, type=_name, help="name of the Node to register")
    p.add_argument(
        "--state-dir",
        required=True,
        type=pathlib.Path,
        help="directory for Pod files, logs and PersistentVolume directories",
    )
    p.add_argument("--cpu", default="8", type=_positive_quantity, help="cpu capacity (8, 500m)")
    p.add_argument("--memory", default="16Gi", type=_positive_quantity, help="memory capacity")
    p.add_argument("--pods", default=110, type=_positive_int, help="how many Pods fit")
    p.add_argument(
        "--storage-class",
        default="videodl-local",
        type=_name,
        help="StorageClass whose claims this node provisions (created if missing)",
    )
    p.add_argument(
        "--image-path",
        action="append",
        default=[],
        type=_absolute_dir,
        help="a host directory that is part of the stand-in image: it stays visible in "
        "containers even under a volume mounted over one of its parents (repeatable)",
    )
    p.add_argument(
        "--kubelet-port",
        default=0,
        type=int,
        help="serve container logs to the apiserver on this 127.0.0.1 port (0: off)",
    )
    p.add_argument("--kubelet-cert", type=pathlib.Path, help="serving certificate of that port")
    p.add_argument("--kubelet-key", type=pathlib.Path, help="its private key")
    p.add_argument(
        "--client-ca", type=pathlib.Path, help="CA of the apiserver's kubelet client certificate"
    )
    return p


def _absolute_dir(text: str) -> str:
    path = pathlib.Path(text)
    if not path.is_absolute():
        raise argparse.ArgumentTypeError(f"{text!r} is not an absolute path")
    return str(path)


def parse(argv: Sequence[str]) -> Settings:
    """Parse and validate the command line; argparse exits with a message naming the flag."""
    p = parser()
    args = p.parse_args(list(argv))
    if args.kubelet_port and not (args.kubelet_cert and args.kubelet_key and args.client_ca):
        p.error("--kubelet-port needs --kubelet-cert, --kubelet-key and --client-ca")
    return Settings(
        kubeconfig=args.kubeconfig,
        node_name=args.node_name,
        state_dir=args.state_dir,
        cpu=args.cpu,
        memory=args.memory,
        pods=args.pods,
        storage_class=args.storage_class,
        image_paths=tuple(args.image_path),
        kubelet_port=args.kubelet_port,
        kubelet_cert=args.kubelet_cert,
        kubelet_key=args.kubelet_key,
        client_ca=args.client_ca,
    )
