"""`python -m videodl_devkit.processnode`: run the process node in the foreground.

Logs go to stderr. SIGTERM or SIGINT stops the node: every process it started gets SIGTERM,
then SIGKILL after a short grace, and nothing it started is left behind.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from videodl_devkit.processnode import agent, settings


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the node until a signal stops it."""
    config = settings.parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s processnode[%(threadName)s] %(message)s",
    )
    logger = logging.getLogger("videodl.processnode")
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        agent.Agent(config, logger).run(stop)
    except agent.StartupError as error:
        logger.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
