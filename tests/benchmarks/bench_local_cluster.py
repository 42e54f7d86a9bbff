"""Benchmark: warm start-to-ready time of the local cluster, and the size of the binary cache.

Start-to-ready is from the call until the apiserver answers /readyz, the controllers answer
/healthz, the process node is Ready and the default ServiceAccount exists (what a Pod needs).
Run: `.venv/bin/python tests/benchmarks/bench_local_cluster.py [--runs 5]`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import time

from videodl_devkit import binaries, cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bin_dir = binaries.ensure()
    times = []
    for run in range(args.runs):
        started = time.monotonic()
        local = cluster.start()
        times.append(time.monotonic() - started)
        local.stop()
        shutil.rmtree(local.plane.state_dir, ignore_errors=True)
        print(f"run {run + 1}: ready in {times[-1]:.2f} s", flush=True)
    cache = subprocess.run(
        ["du", "-sh", str(bin_dir)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    print(
        f"\nwarm start-to-ready: median {statistics.median(times):.2f} s, "
        f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} runs"
    )
    print(f"binary cache {bin_dir}: {cache}")


if __name__ == "__main__":
    main()
