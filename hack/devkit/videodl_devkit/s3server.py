"""A real S3 server on loopback for tests and the demo: versitygw with its posix backend.

versitygw (github.com/versity/versitygw) is built and cached by ``hack/build-binaries.sh``
like the control plane. :class:`S3Server` starts it on a free loopback port with
credentials of its own, keeps its objects in a directory, makes buckets, and can be
stopped and started again on the same port and data (to test an endpoint that goes away).
Objects are files under ``<data>/<bucket>/<key>``, so tests can compare them with the
media server's files directly.

Run ``python -m videodl_devkit.s3server --dir D --port P --bucket B`` to serve by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import pathlib
import secrets
import signal
import socket
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import botocore.config

from videodl_devkit import binaries, processes

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["S3Credentials", "S3Server", "versitygw"]

_START_TIMEOUT = 20.0


def versitygw() -> pathlib.Path:
    """The cached versitygw binary, built first when missing."""
    path = binaries.ensure() / "versitygw"
    if not path.is_file():
        msg = f"{path} is missing: run hack/build-binaries.sh (it builds versitygw too)"
        raise binaries.BinariesError(msg)
    return path


@dataclasses.dataclass(frozen=True)
class S3Credentials:
    """An access key pair."""

    access_key_id: str
    secret_access_key: str

    @classmethod
    def generate(cls) -> S3Credentials:
        return cls("VDL" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class S3Server:
    """versitygw serving ``root/data`` on ``host:port``; ``with`` starts and stops it."""

    def __init__(
        self,
        root: pathlib.Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: S3Credentials | None = None,
        region: str = "us-east-1",
    ) -> None:
        self.root = root
        self.host = host
        self.port = port or _free_port(host)
        self.credentials = credentials or S3Credentials.generate()
        self.region = region
        self._child: processes.Child | None = None

    @property
    def data(self) -> pathlib.Path:
        """Where objects live: ``<data>/<bucket>/<key>``."""
        return self.root / "data"

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> S3Server:
        """Start the server and wait until it answers."""
        self.data.mkdir(parents=True, exist_ok=True)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("ROOT_", "VGW_"))},
            "ROOT_ACCESS_KEY_ID": self.credentials.access_key_id,
            "ROOT_SECRET_ACCESS_KEY": self.credentials.secret_access_key,
        }
        argv = [
            str(versitygw()),
            "--port",
            f"{self.host}:{self.port}",
            "--region",
            self.region,
            "--quiet",
            "posix",
            # A sidecar directory keeps object metadata off extended attributes, which
            # some file systems (tmpfs without user xattrs, overlay) do not store.
            "--sidecar",
            str(self.root / "meta"),
            str(self.data),
        ]
        (self.root / "meta").mkdir(parents=True, exist_ok=True)
        self._child = processes.start("versitygw", argv, log_dir=self.root, env=env)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if not self._child.alive():
                msg = f"versitygw exited at start:\n{self._child.tail()}"
                raise RuntimeError(msg)
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=0.5),
            ):
                return self
            time.sleep(0.1)
        self.stop()
        msg = f"versitygw did not listen on {self.endpoint} within {_START_TIMEOUT:g} s"
        raise RuntimeError(msg)

    def stop(self) -> None:
        """Stop the server (the data stays)."""
        if self._child is not None:
            self._child.stop(grace=5.0)
            self._child = None

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.alive()

    def client(self, credentials: S3Credentials | None = None) -> S3Client:
        """A boto3 client for this server (path-style, checksums only where required)."""
        used = credentials or self.credentials
        config = botocore.config.Config(
            region_name=self.region,
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 2},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=used.access_key_id,
            aws_secret_access_key=used.secret_access_key,
            config=config,
        )

    def make_bucket(self, name: str) -> str:
        """Create bucket ``name`` (no error when it exists); returns the name."""
        s3 = self.client()
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key in ``bucket`` under ``prefix``, sorted."""
        found: list[str] = []
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        for page in pages:
            found += [str(item["Key"]) for item in page.get("Contents", [])]
        return sorted(found)

    def multipart_uploads(self, bucket: str) -> list[dict[str, Any]]:
        """Multipart uploads in progress in ``bucket``."""
        answer = self.client().list_multipart_uploads(Bucket=bucket)
        return [dict(upload) for upload in answer.get("Uploads", [])]

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def serving(root: pathlib.Path, *buckets: str) -> Iterator[S3Server]:
    """A started server with ``buckets`` made."""
    with S3Server(root) as server:
        for bucket in buckets:
            server.make_bucket(bucket)
        yield server


def main() -> None:
    """``python -m videodl_devkit.s3server``: serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=pathlib.Path, required=True, help="data directory")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", action="append", default=[], help="bucket to make")
    args = parser.parse_args()
    with serving(args.dir, *args.bucket) as server:
        print(f"endpoint {server.endpoint}")
        print(f"access key id {server.credentials.access_key_id}")
        print(f"secret access key {server.credentials.secret_access_key}")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
