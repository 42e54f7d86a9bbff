"""``python -m videodl_devkit``: run a local cluster in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import pathlib
import signal
import sys
import time
from types import FrameType

from videodl_devkit import cluster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videodl_devkit", description=__doc__)
    parser.add_argument("--state-dir", type=pathlib.Path, help="keep data and logs here")
    parser.add_argument(
        "--kubeconfig-link",
        type=pathlib.Path,
        help="also copy the admin kubeconfig to this path once the cluster is ready",
    )
    args = parser.parse_args(argv)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    local = cluster.start(args.state_dir)
    try:
        if args.kubeconfig_link:
            args.kubeconfig_link.write_text(local.kubeconfig.read_text())
        print(
            f"local cluster ready in {time.monotonic() - started:.1f} s\n"
            f"  export KUBECONFIG={local.kubeconfig}\n  logs: {local.log_dir}",
            flush=True,
        )
        while all(child.alive() for child in [*local.plane.children, local.node]):
            time.sleep(1)
        print("a component exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        local.stop()


if __name__ == "__main__":
    sys.exit(main())
