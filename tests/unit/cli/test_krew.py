"""The krew plugin manifest: the fields krew requires, and that it matches the package."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
import tarfile

import yaml

from videodl_devkit import krew

# The plugin name rules and required fields of krew's manifest validation
# (sigs.k8s.io/krew/pkg/index/validation).
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEMVER = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")


def manifest() -> dict:
    return yaml.safe_load(krew.MANIFEST.read_text())


class TestManifest:
    def test_required_fields(self) -> None:
        """apiVersion, kind, name, version, shortDescription and platforms are as krew wants."""
        plugin = manifest()
        assert plugin["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
        assert plugin["kind"] == "Plugin"
        assert NAME.match(plugin["metadata"]["name"])
        spec = plugin["spec"]
        assert SEMVER.match(spec["version"])
        assert 0 < len(spec["shortDescription"]) <= 50
        assert spec["homepage"].startswith("https://")
        assert spec["description"].strip()
        assert spec["platforms"]
        for platform in spec["platforms"]:
            assert platform["selector"]
            assert platform["uri"].startswith("https://")
            assert re.fullmatch(r"[0-9a-f]{64}", platform["sha256"])
            assert platform["bin"]
            assert all({"from", "to"} <= set(f) for f in platform["files"])

    def test_version_and_uri_follow_the_package(self) -> None:
        """The plugin version is pyproject's, and so is the release the archive comes from."""
        spec = manifest()["spec"]
        assert spec["version"] == f"v{krew.version()}"
        for platform in spec["platforms"]:
            assert f"/download/v{krew.version()}/{krew.ARCHIVE_NAME}" in platform["uri"]

    def test_checksum_is_the_archives(self) -> None:
        """The sha256 is that of the archive built from the checkout, which is reproducible."""
        built = krew.archive()
        assert built == krew.archive()
        digest = hashlib.sha256(built).hexdigest()
        assert all(p["sha256"] == digest for p in manifest()["spec"]["platforms"])
        assert krew.main(["--check"]) == 0

    def test_archive_holds_the_executable_bin(self) -> None:
        """The archive has the bin krew links, executable, and it runs the package's CLI."""
        with tarfile.open(fileobj=io.BytesIO(krew.archive())) as tar:
            members = {m.name: m for m in tar.getmembers()}
            for platform in manifest()["spec"]["platforms"]:
                member = members[platform["bin"]]
                assert member.mode & 0o111
                script = tar.extractfile(member)
                assert script is not None
                assert b"-m videodl.cli" in script.read()

    def test_launcher_runs_the_cli(self) -> None:
        """The launcher, run with this Python, prints the plugin's help."""
        done = subprocess.run(
            [str(krew.LAUNCHER), "--help"],
            capture_output=True,
            text=True,
            env={"VIDEODL_PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "kubectl videodl" in done.stdout
