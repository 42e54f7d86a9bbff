"""`make demo` works: every download ends in its expected phase, and the demo says so."""

from __future__ import annotations

import pathlib
import subprocess
import sys


def test_demo_settles_every_download(tmp_path: pathlib.Path) -> None:
    """The demo installs the chart, runs real downloads and a breaker trip, and ends green."""
    done = subprocess.run(
        [sys.executable, "-m", "videodl_devkit.demo", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "every download ended in its expected phase (11 of 11)" in done.stdout
    assert "removed-video failed for good: Permanent HTTPError404" in done.stdout
    assert "tripped its breaker" in done.stdout
    assert "uploaded s3://videos/demo/" in done.stdout
    downloaded = [p.name for p in tmp_path.glob("cluster/node/volumes/*/*") if p.is_file()]
    assert "podcast-episode [podcast-episode].mp3" in downloaded
    assert sum(name.startswith("clip-") for name in downloaded) == 6
