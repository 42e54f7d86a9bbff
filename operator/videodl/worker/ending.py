"""How a Pod-side program ends: its termination message, its exit code, its entry point.

The worker and the playlist indexer both end the same way: the outcome's message is written
where the kubelet reads the termination message (and printed on stdout, where ``kubectl
logs`` shows it), and the process exits with the outcome's code.
"""

from __future__ import annotations

import logging
import os
import pathlib
import sys
from collections.abc import Callable, Mapping
from typing import NoReturn

from videodl.worker import signals
from videodl.worker.download import Outcome
from videodl.workerapi import environment, termination

__all__ = ["end", "run_program"]

_log = logging.getLogger("videodl.worker")


def _termination_path(environ: Mapping[str, str]) -> pathlib.Path:
    default = environment.DEFAULT_TERMINATION_MESSAGE_PATH
    path = pathlib.Path(environ.get(environment.TERMINATION_MESSAGE_PATH) or default)
    return path if path.is_absolute() else pathlib.Path(default)


def end(outcome: Outcome, environ: Mapping[str, str]) -> int:
    """Write and print the outcome's termination message; the exit code."""
    text = termination.render(outcome.message)
    path = _termination_path(environ)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        _log.warning("could not write the termination message to %s: %s", path, exc)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return int(outcome.exit_code)


def run_program(run_main: Callable[[Mapping[str, str]], int]) -> NoReturn:
    """A console entry point: logging to stderr, SIGTERM handled, ``run_main``, then exit."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    signals.install()
    code = run_main(os.environ)
    # The outcome is written and nothing is left to clean up that the kernel does not: skip
    # the interpreter's teardown, which frees every object of every module one at a time
    # (about 0.15 s with yt-dlp's thousands of extractor classes loaded, a tenth of a
    # short download's wall time).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
