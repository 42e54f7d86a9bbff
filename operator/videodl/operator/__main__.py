"""``python -m videodl.operator``: parse the settings, then run kopf with the handlers."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence

import kopf

from videodl.operator import handlers, memory, settings
from videodl.operator.runtime import Runtime

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the operator until SIGTERM or SIGINT; returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in args):
        print(settings.help_text())
        return 0
    try:
        config = settings.load(args, os.environ)
    except settings.SettingsError as exc:
        print(f"videodl-operator: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # kopf logs every watch event at DEBUG; keep it at WARNING unless asked for DEBUG.
    logging.getLogger("kopf").setLevel(
        logging.DEBUG if config.log_level == "DEBUG" else logging.WARNING
    )
    memory.limit_malloc_arenas()
    runtime = Runtime(config)
    registry = kopf.OperatorRegistry()
    handlers.register(registry, runtime)
    namespaces = config.watch.namespaces
    # kopf itself always runs standalone: it only watches. With --peering, the replicas
    # elect the one that writes through a Lease (see videodl.kube.leader).
    asyncio.run(
        kopf.operator(
            registry=registry,
            standalone=True,
            clusterwide=not namespaces,
            namespaces=list(namespaces),
            stop_flag=runtime.stop_flag,
        )
    )
    return 1 if runtime.lost_leadership else 0


if __name__ == "__main__":
    sys.exit(main())
