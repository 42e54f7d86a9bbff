"""Tests for videodl.operator.memory."""

from __future__ import annotations

import platform
import subprocess
import sys


def test_arenas_are_capped_on_glibc() -> None:
    """On glibc mallopt accepts the cap (in a fresh process: it affects the whole process)."""
    code = "from videodl.operator import memory; print(memory.limit_malloc_arenas(2))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = platform.libc_ver()[0] == "glibc"
    assert done.stdout.strip() == str(expected)
