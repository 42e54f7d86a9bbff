"""A listening socket that tells whether anything tried to connect: proof that a refused
connection was never even attempted."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator


@contextlib.contextmanager
def listener(host: str = "127.0.0.1") -> Iterator[socket.socket]:
    """A listening socket whose backlog shows whether anyone connected."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def connected(sock: socket.socket) -> bool:
    """Whether a connection is waiting in ``sock``'s backlog (it is accepted and closed)."""
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True
