"""SHA-256 of the media files while they are downloaded, not after.

A download writes its file once, front to back: yt-dlp appends to ``<name>.part`` (a
resumed download appends to what is there; one that starts over, reported by fewer
downloaded bytes than before, is followed again from the start) and renames it when
done. :class:`Follower` reads the growing file on a thread of its own from the page cache
the writer has just filled, so when the download ends only the last blocks remain to
hash. The open descriptor survives the rename (same inode), and :class:`Hashes` remembers
each digest with the file's identity at the end (device, inode, size, modification
time): :meth:`Hashes.digest_of` answers only while the file on disk is still exactly
that file.
Anything else (a post-processor that wrote a new file, a download that truncated and
started over) is hashed from scratch by the caller.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
import threading
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["Digest", "Follower", "Hashes"]

_CHUNK: Final = 1024 * 1024
#: How long the follower sleeps at the end of the file before looking again.
_IDLE_SECONDS: Final = 0.02


@dataclasses.dataclass(frozen=True)
class Digest:
    """A file's SHA-256 and size, with the identity the file had when it was taken."""

    sha256: str
    size: int
    identity: tuple[int, int, int, int]


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


class Follower:
    """Hashes one file as another writer appends to it."""

    def __init__(self, path: pathlib.Path) -> None:
        self._handle = path.open("rb")
        self._digest = hashlib.sha256()
        self._read = 0
        self._broken = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="hash", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        while not self._done.is_set():
            if not self._step():
                self._done.wait(_IDLE_SECONDS)

    def _step(self) -> bool:
        """Hash what was appended since; False at the end of what is written so far."""
        block = self._handle.read(_CHUNK)
        if block:
            self._digest.update(block)
            self._read += len(block)
            return True
        if os.fstat(self._handle.fileno()).st_size < self._read:
            # The writer truncated the file and starts over: what was hashed is stale.
            self._broken = True
            self._done.set()
        return False

    def finish(self) -> Digest | None:
        """Hash the rest and stop; None when the file was not written front to back."""
        self._done.set()
        self._thread.join()
        try:
            if not self._broken:
                while self._step():
                    pass
            stat = os.fstat(self._handle.fileno())
        finally:
            self._handle.close()
        if self._broken or stat.st_size != self._read:
            return None
        return Digest(sha256=self._digest.hexdigest(), size=self._read, identity=_identity(stat))

    def cancel(self) -> None:
        """Stop without a result."""
        self._done.set()
        self._thread.join()
        self._handle.close()


class Hashes:
    """Followers of the files being downloaded and the digests of those finished."""

    def __init__(self) -> None:
        self._followers: dict[str, Follower] = {}
        self._digests: dict[str, Digest] = {}
        self._downloaded: dict[str, int] = {}
        #: Digests handed out by :meth:`digest_of` (files that were not read again).
        self.hits = 0
        self._lock = threading.Lock()

    def on_download(self, event: Mapping[str, Any]) -> None:
        """yt-dlp ``progress_hooks`` entry point."""
        final = event.get("filename")
        if not isinstance(final, str) or not final:
            return
        if event.get("status") == "downloading":
            part = event.get("tmpfilename")
            downloaded = event.get("downloaded_bytes")
            if isinstance(downloaded, int) and downloaded < self._downloaded.get(final, 0):
                # Fewer bytes than before: the download started over (a server that cannot
                # resume), and what was hashed may mix two writes.
                self.restart(final)
            if isinstance(downloaded, int):
                self._downloaded[final] = downloaded
            self.writing(final, part if isinstance(part, str) and part else final)
        elif event.get("status") == "finished":
            self.finished(final)

    def writing(self, final: str, part: str) -> None:
        """The file to be named ``final`` is being written as ``part``: follow it (once)."""
        with self._lock:
            if final in self._followers:
                return
            try:
                self._followers[final] = Follower(pathlib.Path(part))
            except OSError:
                return  # not there yet: the next call tries again

    def restart(self, final: str) -> None:
        """Forget what was hashed of ``final``; the next call follows it from the start."""
        with self._lock:
            follower = self._followers.pop(final, None)
        if follower is not None:
            follower.cancel()

    def finished(self, final: str) -> None:
        """The file is complete and named ``final``: keep its digest."""
        with self._lock:
            follower = self._followers.pop(final, None)
        if follower is None:
            return
        digest = follower.finish()
        if digest is not None:
            with self._lock:
                self._digests[str(pathlib.Path(final).resolve())] = digest

    def digest_of(self, path: pathlib.Path) -> Digest | None:
        """The digest taken while ``path`` was downloaded, if it is still that file."""
        with self._lock:
            digest = self._digests.get(str(path.resolve()))
        if digest is None:
            return None
        try:
            same = _identity(path.stat()) == digest.identity
        except OSError:
            return None
        if not same:
            return None
        self.hits += 1
        return digest

    def close(self) -> None:
        """Stop every follower still running (a failed or interrupted download)."""
        with self._lock:
            followers, self._followers = list(self._followers.values()), {}
        for follower in followers:
            follower.cancel()
