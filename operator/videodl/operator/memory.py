"""Keeping the operator's resident memory close to what it holds.

glibc gives every thread that allocates an arena of its own, up to eight per core, and
keeps freed memory in each. The operator's blocking Kubernetes calls run on a few dozen
threads, so under a burst of writes most of its resident memory would be arenas holding
freed buffers. Two arenas are plenty for threads that mostly wait on sockets.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Final

__all__ = ["limit_malloc_arenas"]

#: ``M_ARENA_MAX`` in glibc's ``<malloc.h>``.
_M_ARENA_MAX: Final = -8


def limit_malloc_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas at ``count``; False where the C library is not glibc.

    Call before threads start: arenas already made stay.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, count))
