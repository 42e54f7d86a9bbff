"""``python -m videodl_devkit.krew``: the krew plugin archive and its manifest's checksum.

The archive holds the launcher ``plugins/krew/kubectl-videodl`` (it runs ``python3 -m
videodl.cli``) and is built reproducibly (fixed times, owners and order), so its SHA-256 in
``plugins/krew/videodl.yaml`` can be checked from the checkout: ``--check`` fails when the
manifest's checksum or version is stale, ``--write`` brings them up to date, and ``--out``
writes the archive a release uploads.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import pathlib
import re
import sys
import tarfile
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[3]
PLUGIN_DIR = ROOT / "plugins" / "krew"
MANIFEST = PLUGIN_DIR / "videodl.yaml"
LAUNCHER = PLUGIN_DIR / "kubectl-videodl"
ARCHIVE_NAME = "kubectl-videodl.tar.gz"


def version() -> str:
    """The package version of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return str(project["version"])


def archive() -> bytes:
    """The plugin archive, byte for byte the same on every machine."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        data = LAUNCHER.read_bytes()
        info = tarfile.TarInfo(LAUNCHER.name)
        info.size = len(data)
        info.mode = 0o755
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0, filename="") as stream:
        stream.write(raw.getvalue())
    return compressed.getvalue()


def sha256() -> str:
    return hashlib.sha256(archive()).hexdigest()


def expected_manifest(text: str) -> str:
    """The manifest text with the archive's checksum and the package's version filled in."""
    text = re.sub(r"(?m)^(\s*sha256:\s*).*$", rf"\g<1>{sha256()}", text)
    text = re.sub(r"(?m)^(\s*version:\s*).*$", rf"\g<1>v{version()}", text)
    return re.sub(r"/download/v[^/]+/", f"/download/v{version()}/", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videodl_devkit.krew", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="fail when the manifest is stale")
    group.add_argument("--write", action="store_true", help="update the manifest")
    group.add_argument("--out", type=pathlib.Path, help="write the archive into this directory")
    args = parser.parse_args(argv)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / ARCHIVE_NAME).write_bytes(archive())
        print(f"{args.out / ARCHIVE_NAME}  sha256 {sha256()}")
        return 0
    current = MANIFEST.read_text(encoding="utf-8")
    wanted = expected_manifest(current)
    if args.write:
        MANIFEST.write_text(wanted, encoding="utf-8")
        return 0
    if current != wanted:
        print(f"{MANIFEST} is stale: run python -m videodl_devkit.krew --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
