"""Tests for videodl.worker.hashing: digests taken while a file is written."""

from __future__ import annotations

import hashlib
import os
import pathlib
import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from videodl.worker.hashing import Follower, Hashes


def write_slowly(path: pathlib.Path, blocks: list[bytes], *, mode: str = "ab") -> None:
    with path.open(mode) as handle:
        for block in blocks:
            handle.write(block)
            handle.flush()
            time.sleep(0.001)


def test_follower_hashes_what_a_writer_appends(tmp_path: pathlib.Path) -> None:
    part = tmp_path / "video.mp4.part"
    part.write_bytes(b"")
    blocks = [os.urandom(70_000) for _ in range(40)]
    follower = Follower(part)
    writer = threading.Thread(target=write_slowly, args=(part, blocks))
    writer.start()
    writer.join()
    digest = follower.finish()
    data = b"".join(blocks)
    assert digest is not None
    assert (digest.sha256, digest.size) == (hashlib.sha256(data).hexdigest(), len(data))


def test_a_resumed_part_is_hashed_from_its_start(tmp_path: pathlib.Path) -> None:
    part = tmp_path / "video.mp4.part"
    part.write_bytes(b"first half;")
    follower = Follower(part)
    write_slowly(part, [b"second half"])
    digest = follower.finish()
    assert digest is not None
    assert digest.sha256 == hashlib.sha256(b"first half;second half").hexdigest()


def test_a_truncated_file_gives_no_digest(tmp_path: pathlib.Path) -> None:
    part = tmp_path / "video.mp4.part"
    part.write_bytes(os.urandom(500_000))
    follower = Follower(part)
    deadline = time.monotonic() + 5
    while follower._read < 500_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    write_slowly(part, [b"a fresh start"], mode="wb")
    assert follower.finish() is None


def hook_events(hashes: Hashes, final: pathlib.Path, part: pathlib.Path, data: bytes) -> None:
    """What yt-dlp's HTTP downloader reports: blocks to the part file, rename, finished."""
    with part.open("wb") as handle:
        for start in range(0, len(data), 65_536):
            handle.write(data[start : start + 65_536])
            handle.flush()
            hashes.on_download(
                {"status": "downloading", "filename": str(final), "tmpfilename": str(part)}
            )
    part.rename(final)
    hashes.on_download({"status": "finished", "filename": str(final)})


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=300_000))
def test_digest_of_a_downloaded_file_matches_reading_it(data: bytes) -> None:
    """Whatever was written, the digest taken on the way equals hashing the final file."""
    import tempfile

    with tempfile.TemporaryDirectory() as name:
        folder = pathlib.Path(name)
        final, part = folder / "v.mp4", folder / "v.mp4.part"
        hashes = Hashes()
        hook_events(hashes, final, part, data)
        hashes.close()
        digest = hashes.digest_of(final)
        if data:
            assert digest is not None
            assert digest.sha256 == hashlib.sha256(final.read_bytes()).hexdigest()
            assert digest.size == final.stat().st_size
        else:
            # No block, no hook call while downloading: nothing was followed.
            assert digest is None


def test_a_file_replaced_after_download_is_not_trusted(tmp_path: pathlib.Path) -> None:
    """A post-processor that writes a new file under the same name: hash it again."""
    final, part = tmp_path / "v.mp4", tmp_path / "v.mp4.part"
    hashes = Hashes()
    hook_events(hashes, final, part, os.urandom(200_000))
    assert hashes.digest_of(final) is not None
    replacement = tmp_path / "v.temp.mp4"
    replacement.write_bytes(b"remuxed")
    replacement.replace(final)
    assert hashes.digest_of(final) is None


def test_close_stops_followers_of_an_interrupted_download(tmp_path: pathlib.Path) -> None:
    final, part = tmp_path / "v.mp4", tmp_path / "v.mp4.part"
    part.write_bytes(b"partial")
    hashes = Hashes()
    hashes.on_download({"status": "downloading", "filename": str(final), "tmpfilename": str(part)})
    hashes.close()
    assert hashes.digest_of(final) is None
    assert not [t for t in threading.enumerate() if t.name == "hash"]


def test_a_download_that_starts_over_is_followed_again(tmp_path: pathlib.Path) -> None:
    """A server that cannot resume: the part file is rewritten from byte 0, maybe longer."""
    final, part = tmp_path / "v.mp4", tmp_path / "v.mp4.part"
    hashes = Hashes()
    old = os.urandom(300_000)
    part.write_bytes(old)
    event = {"status": "downloading", "filename": str(final), "tmpfilename": str(part)}
    hashes.on_download({**event, "downloaded_bytes": len(old)})
    time.sleep(0.1)
    new = os.urandom(900_000)
    with part.open("wb") as handle:
        handle.write(new[:1000])
        handle.flush()
        hashes.on_download({**event, "downloaded_bytes": 1000})
        handle.write(new[1000:])
    hashes.on_download({**event, "downloaded_bytes": len(new)})
    part.rename(final)
    hashes.on_download({"status": "finished", "filename": str(final)})
    digest = hashes.digest_of(final)
    assert digest is not None
    assert digest.sha256 == hashlib.sha256(new).hexdigest()
