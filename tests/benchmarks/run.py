"""Run every benchmark script in this folder (or those named) one after another.

`make bench` calls this; `python tests/benchmarks/run.py bench_worker` runs one.
Benchmarks print figures; they do not pass or fail.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem in names or s.name in names]
    status = 0
    for script in scripts:
        print(f"\n=== {script.stem}", flush=True)
        status |= subprocess.run([sys.executable, str(script)], check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
