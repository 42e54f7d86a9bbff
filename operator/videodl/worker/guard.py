"""The worker's guard at the point of writing and of connecting, through Python's audit hooks.

While a :class:`Guard` is active (:func:`active`), every audited operation of the
process passes through it before it happens (PEP 578, :func:`sys.addaudithook`):

- **Writes.** Opening a file for writing, creating a directory, renaming, linking,
  removing, truncating or changing the times or mode of a path is refused unless the
  path, resolved with symlinks followed, lies inside the output directory (or is one of a
  few named files: the cookie jar's private copy, ``/dev/null``). That holds for every
  path yt-dlp writes, whatever its origin: media, ``.part`` and ``.ytdl`` files,
  fragments, info.json files at every level, thumbnails, subtitles, descriptions,
  ffmpeg's temporary names, the download archive. An operation relative to a directory
  descriptor cannot be checked and is refused; yt-dlp uses none.
- **Connections.** Every ``connect`` (and ``sendto``) of an IPv4 or IPv6 socket goes to
  an address yt-dlp has resolved already; it is checked with :mod:`videodl.worker.egress`
  before the connection is attempted, so a redirect or a DNS answer to a private address
  is refused as surely as such a URL.
- **Programs.** Only ffmpeg and ffprobe may be started, and only on local files inside
  the output directory: a program's own connections and writes are out of the guard's
  sight, so yt-dlp must fetch everything itself (its native HLS and DASH downloaders do).

A refusal raises at the operation (``OutputPathRefusedError``, ``EgressRefusedError``)
and is also recorded: when the guard ends, the first refusal is raised again, so an
attempt fails even where yt-dlp catches the error and carries on (it only warns about a
thumbnail it could not fetch, for instance).

The guard covers the whole process except threads that declare themselves exempt with
:func:`exempt_current_thread`: the progress patcher (:mod:`videodl.worker.kube`), whose
connections go to the apiserver, which the egress policy would refuse. Audit hooks
cannot be removed, so the hook is installed once and does nothing while no guard is
active. They are no sandbox against hostile Python code (PEP 578 says so); the threat
here is hostile input to yt-dlp, not hostile code.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pathlib
import re
import shutil
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final, NoReturn

from videodl.worker import egress, paths
from videodl.worker.egress import EgressRefusedError
from videodl.worker.paths import OutputPathRefusedError

__all__ = ["PROGRAMS", "Guard", "active", "exempt_current_thread"]

#: The programs yt-dlp may start (by file name): merging, conversion, embedding, probing.
PROGRAMS: Final = frozenset({"ffmpeg", "ffprobe"})

_WRITE_FLAGS: Final = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_NETWORK_URL: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_LOCAL_INPUTS: Final = ("file:", "pipe:")
_INET_FAMILIES: Final = (socket.AF_INET, socket.AF_INET6)

_current: Guard | None = None
_installed = False
_install_lock = threading.Lock()
_thread = threading.local()


class Guard:
    """What may be written and reached during one attempt, and what was refused."""

    def __init__(
        self,
        *,
        output_dir: pathlib.Path,
        policy: egress.Policy,
        writable_files: Iterable[pathlib.Path] = (),
    ) -> None:
        self.root = paths.resolve(output_dir)
        self.policy = policy
        named = [*writable_files, pathlib.Path(os.devnull)]
        self.writable_files = frozenset(paths.resolve(f) for f in named)
        #: Every refusal, in order; the first is what the attempt fails with.
        self.refusals: list[OutputPathRefusedError | EgressRefusedError] = []

    # -- the checks ------------------------------------------------------------------------

    def check_write(self, operation: str, path: object, *, allow_root: bool = False) -> None:
        """Refuse ``operation`` on ``path`` unless it resolves inside the output directory.

        ``allow_root`` lets the operation touch the output directory itself (creating it
        when it exists, setting its times, creating an anonymous file in it).
        """
        if isinstance(path, int):  # an open descriptor: checked when it was opened
            return
        if not isinstance(path, str | bytes | os.PathLike):
            self._refuse(OutputPathRefusedError(f"refusing to {operation} {path!r}"))
        try:
            resolved = paths.resolve(path)
        except OutputPathRefusedError as exc:
            self._refuse(exc)
        if resolved in self.writable_files or paths.within(
            resolved, self.root, allow_root=allow_root
        ):
            return
        self._refuse(
            OutputPathRefusedError(
                f"refusing to {operation} {os.fsdecode(path)!r}: it resolves to "
                f"{str(resolved)!r}, outside the output directory {str(self.root)!r} "
                "(check spec.output.template, the titles it uses, and symlinks in the volume)"
            )
        )

    def check_connect(self, family: object, address: object) -> None:
        """Refuse a connection to ``address`` unless the egress policy allows it."""
        if family not in _INET_FAMILIES:
            return
        if not isinstance(address, tuple) or len(address) < 2:
            self._refuse(EgressRefusedError(f"refusing to connect to {address!r}"))
        host, port = str(address[0]), address[1]
        reason = egress.refusal(host, int(port), self.policy, name=getattr(_thread, "name", None))
        if reason is not None:
            self._refuse(EgressRefusedError(reason))

    def check_program(self, executable: object, args: object) -> None:
        """Refuse a program other than ffmpeg or ffprobe, or one given a non-local file."""
        words = _words(args)
        program = os.fsdecode(executable) if isinstance(executable, str | bytes) else None
        program = program or (words[0] if words else "")
        name = pathlib.PurePath(program).name
        # A program that is not there cannot run: yt-dlp probes for optional tools
        # (AtomicParsley for thumbnails, say) and carries on without them.
        if name not in PROGRAMS and shutil.which(program) is not None:
            self._refuse(
                EgressRefusedError(
                    f"refusing to run {program!r}: the worker runs no program but "
                    f"{' and '.join(sorted(PROGRAMS))}, since it cannot check where another "
                    "program connects or writes"
                )
            )
        for previous, word in itertools.pairwise(words):
            if word.startswith("file:"):
                self.check_write(f"let {name} use", word.removeprefix("file:"))
            elif previous == "-i" and word != "-" and not word.startswith(_LOCAL_INPUTS):
                detail = "a URL" if _NETWORK_URL.match(word) else "a non-local input"
                self._refuse(
                    EgressRefusedError(
                        f"refusing to let {name} read {word!r} ({detail}): it would fetch it "
                        "itself, where the worker's egress guard cannot check its "
                        "connections; only what yt-dlp downloaded goes to ffmpeg"
                    )
                )

    def _refuse(self, error: OutputPathRefusedError | EgressRefusedError) -> NoReturn:
        self.refusals.append(error)
        raise error

    def raise_refusal(self, during: BaseException | None = None) -> None:
        """Raise the first refusal, if any, chained to ``during`` (what the attempt raised
        instead, if anything)."""
        if not self.refusals:
            return
        first = self.refusals[0]
        if during is None or during is first:
            raise first
        # A fresh copy: the original may sit in ``during``'s chain already, and chaining it
        # to its own consequence would make a cycle.
        raise type(first)(*first.args) from during

    # -- the audit events ------------------------------------------------------------------

    def on_event(self, event: str, args: tuple[Any, ...]) -> None:
        """Check one audit event (those not listed pass)."""
        handler = _HANDLERS.get(event)
        if handler is not None:
            handler(self, args)


def _text(word: object) -> str:
    return os.fsdecode(word) if isinstance(word, str | bytes | os.PathLike) else str(word)


def _words(args: object) -> list[str]:
    if isinstance(args, str | bytes):
        return [os.fsdecode(args)]
    if isinstance(args, Sequence):
        return [
            os.fsdecode(a) if isinstance(a, str | bytes | os.PathLike) else str(a) for a in args
        ]
    return []


def _no_dir_fd(guard: Guard, operation: str, *dir_fds: object) -> None:
    if any(fd not in (None, -1) for fd in dir_fds):
        guard._refuse(
            OutputPathRefusedError(
                f"refusing to {operation} relative to a directory descriptor (it cannot be checked)"
            )
        )


def _on_open(guard: Guard, args: tuple[Any, ...]) -> None:
    path, mode, flags = args
    flags = flags if isinstance(flags, int) else 0
    if flags & _WRITE_FLAGS or (isinstance(mode, str) and any(c in mode for c in "wax+")):
        # The output directory itself may be "opened for writing": tempfile does so with
        # the directory it creates a file in, and no open can write the directory as such.
        guard.check_write("write", path, allow_root=True)


def _path_op(operation: str, *, allow_root: bool = False, dir_fd: int | None = None) -> _Handler:
    def handle(guard: Guard, args: tuple[Any, ...]) -> None:
        if dir_fd is not None and len(args) > dir_fd:
            _no_dir_fd(guard, operation, args[dir_fd])
        guard.check_write(operation, args[0], allow_root=allow_root)

    return handle


def _two_path_op(operation: str) -> _Handler:
    def handle(guard: Guard, args: tuple[Any, ...]) -> None:
        source, target, *dir_fds = args
        _no_dir_fd(guard, operation, *dir_fds)
        guard.check_write(operation, source)
        guard.check_write(operation, target)

    return handle


def _on_symlink(guard: Guard, args: tuple[Any, ...]) -> None:
    target, link, dir_fd = args
    _no_dir_fd(guard, "create a symlink", dir_fd)
    guard.check_write("create a symlink at", link)
    guard.check_write("point a symlink at", pathlib.Path(_text(link)).parent / _text(target))


def _on_connect(guard: Guard, args: tuple[Any, ...]) -> None:
    sock, address = args
    guard.check_connect(getattr(sock, "family", None), address)


def _on_getaddrinfo(_guard: Guard, args: tuple[Any, ...]) -> None:
    # Only remembered, to name the host in a refusal of the address it resolves to.
    host = args[0]
    _thread.name = os.fsdecode(host) if isinstance(host, str | bytes) else None


def _on_popen(guard: Guard, args: tuple[Any, ...]) -> None:
    guard.check_program(args[0], args[1])


def _on_exec(guard: Guard, args: tuple[Any, ...]) -> None:
    guard.check_program(args[0], args[1])


def _on_spawn(guard: Guard, args: tuple[Any, ...]) -> None:
    guard.check_program(args[1], args[2])


def _on_system(guard: Guard, args: tuple[Any, ...]) -> None:
    guard.check_program(None, os.fsdecode(args[0]).split())


_Handler = Callable[[Guard, tuple[Any, ...]], None]
_HANDLERS: Final[dict[str, _Handler]] = {
    "open": _on_open,
    "os.mkdir": _path_op("create the directory", allow_root=True, dir_fd=2),
    "os.rename": _two_path_op("rename"),
    "os.link": _two_path_op("link"),
    "os.symlink": _on_symlink,
    "os.remove": _path_op("remove", dir_fd=1),
    "os.rmdir": _path_op("remove the directory", dir_fd=1),
    "os.truncate": _path_op("truncate"),
    "os.utime": _path_op("set the times of", allow_root=True, dir_fd=3),
    "os.chmod": _path_op("change the mode of", allow_root=True, dir_fd=2),
    "os.chown": _path_op("change the owner of", allow_root=True, dir_fd=3),
    "os.mkfifo": _path_op("create a FIFO at", dir_fd=2),
    "os.mknod": _path_op("create a device node at", dir_fd=3),
    "os.setxattr": _path_op("set an attribute of", allow_root=True),
    "os.removexattr": _path_op("remove an attribute of", allow_root=True),
    "socket.connect": _on_connect,
    "socket.sendto": _on_connect,
    "socket.getaddrinfo": _on_getaddrinfo,
    "subprocess.Popen": _on_popen,
    "os.posix_spawn": _on_exec,
    "os.exec": _on_exec,
    "os.spawn": _on_spawn,
    "os.system": _on_system,
}


def _hook(event: str, args: tuple[Any, ...]) -> None:
    guard = _current
    if guard is None or getattr(_thread, "exempt", False) or getattr(_thread, "busy", False):
        return
    _thread.busy = True  # the checks themselves must not be checked
    try:
        guard.on_event(event, args)
    finally:
        _thread.busy = False


def _install() -> None:
    global _installed  # noqa: PLW0603 - one hook per process, by the nature of audit hooks
    with _install_lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


def exempt_current_thread() -> None:
    """Leave the calling thread out of every guard (the progress patcher's, only)."""
    _thread.exempt = True


@contextlib.contextmanager
def active(guard: Guard) -> Iterator[Guard]:
    """Enforce ``guard`` for the duration of the block; then raise its first refusal.

    Byte-code caching is off meanwhile: a module imported late would write its cache
    next to its source.
    """
    global _current  # noqa: PLW0603 - the hook reads the active guard from here
    if _current is not None:
        msg = "a guard is already active"
        raise RuntimeError(msg)
    _install()
    saved_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    _current = guard
    try:
        yield guard
    except BaseException as exc:
        _current = None
        guard.raise_refusal(during=exc)
        raise
    finally:
        _current = None
        sys.dont_write_bytecode = saved_bytecode
    guard.raise_refusal()
