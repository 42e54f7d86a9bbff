"""Benchmark: the worker versus the plain yt-dlp CLI on the same large local file.

Run as a script (not collected by pytest):

    .venv/bin/python tests/benchmarks/bench_worker.py [--runs 5] [--size-mb 200]

Both download the same file from the local media server, taking turns run by run so that
disk cache and CPU contention affect them alike. The worker runs three times per run: as
the operator starts it, told which extractor takes the URL (``VIDEODL_EXTRACTOR``); untold,
searching every extractor as the CLI does; and told, with progress on, patching a stand-in
apiserver (a local HTTP server answering each patch at once) as a worker Pod patches its
VideoDownload's status. Reported per tool (medians):

- wall: process start to exit (the worker includes hashing its result file);
- first request: process start to the server seeing the extraction request (start-up);
- first byte: process start to the download request (start-up plus extraction);
- transfer: the download request's duration on the server;
- CPU: user and system seconds of the process (less sensitive to a busy machine);
- throughput: file size over wall time, and over transfer time.

The target is a worker/CLI throughput ratio of at least 0.95.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.server
import json
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

from videodl.breaker import sites
from videodl.workerapi import environment
from videodl_devkit import testing
from videodl_devkit.mediaserver import MediaServer

MEDIA_CACHE = pathlib.Path(tempfile.gettempdir()) / "videodl-test-media"
CLI = "yt-dlp CLI"
WORKER = "worker"
UNHINTED = "worker, untold"
REPORTING = "worker, progress"
TEMPLATE = "%(title).200B [%(id)s].%(ext)s"


@dataclasses.dataclass(frozen=True)
class Sample:
    wall: float
    first_request: float
    first_byte: float
    transfer: float
    cpu: float


def cli_command(url: str, output_dir: pathlib.Path) -> list[str]:
    ytdlp = pathlib.Path(sys.executable).with_name("yt-dlp")
    return [
        str(ytdlp),
        "--no-cache-dir",
        "--no-progress",
        "-f",
        "bv*+ba/b",
        "-P",
        str(output_dir),
        "-o",
        TEMPLATE,
        url,
    ]


class _Apiserver(http.server.BaseHTTPRequestHandler):
    """Answers every progress patch as the apiserver would answer a good one."""

    def do_PATCH(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.patches += 1  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def stand_in_apiserver(root: pathlib.Path) -> Iterator[tuple[pathlib.Path, Any]]:
    """A local server taking progress patches, and a kubeconfig that points at it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Apiserver)
    server.patches = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    kubeconfig = root / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"http://{host!s}:{port}"}}],
                "users": [{"name": "u", "user": {"token": "bench"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    try:
        yield kubeconfig, server
    finally:
        server.shutdown()
        server.server_close()


def worker_command(
    url: str, output_dir: pathlib.Path, *, hinted: bool, kubeconfig: pathlib.Path | None = None
) -> tuple[list[str], dict[str, str]]:
    hint = sites.extractor_hint(url) if hinted else None
    progress = (
        {}
        if kubeconfig is None
        else {
            environment.PROGRESS: "on",
            environment.NAME: "bench",
            environment.NAMESPACE: "bench",
            "KUBECONFIG": str(kubeconfig),
        }
    )
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    env = {
        **inherited,
        **({} if hint is None else {environment.EXTRACTOR: hint}),
        environment.SPEC: json.dumps({"url": url}),
        environment.PROGRESS: "off",
        **progress,
        environment.OUTPUT_DIR: str(output_dir),
        environment.TMP_DIR: str(output_dir.parent / "tmp"),
        environment.TERMINATION_MESSAGE_PATH: str(output_dir.parent / "termination-log"),
        environment.ALLOWED_NETWORKS: testing.LOOPBACK_NETWORKS,
    }
    return [sys.executable, "-m", "videodl.worker"], env


def measure(
    server: MediaServer, path: str, command: list[str], env: dict[str, str] | None
) -> Sample:
    before = len(server.requests(path))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    probe, download = server.requests(path)[before:]
    return Sample(
        wall=wall,
        first_request=probe.started_at - started,
        first_byte=download.started_at - started,
        transfer=download.finished_at - download.started_at,
        cpu=cpu,
    )


def median(samples: list[Sample], field: str) -> float:
    return statistics.median(getattr(s, field) for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mb", type=int, default=200)
    args = parser.parse_args()

    with MediaServer(MEDIA_CACHE) as server:
        large = server.library.large_file(args.size_mb)
        size = large.stat().st_size
        path = f"/media/{large.name}"
        url = server.url(path)
        # The worker as the operator starts it (told the URL's extractor, which the
        # operator finds at once) and as it would start without being told.
        sites.warm_up()
        tools = (CLI, WORKER, UNHINTED, REPORTING)
        results: dict[str, list[Sample]] = {tool: [] for tool in tools}
        with (
            tempfile.TemporaryDirectory(prefix="videodl-bench-") as scratch,
            tempfile.TemporaryDirectory(prefix="videodl-bench-api-") as api_dir,
            stand_in_apiserver(pathlib.Path(api_dir)) as (kubeconfig, apiserver),
        ):
            root = pathlib.Path(scratch)
            for run in range(args.runs):
                # Each tool goes first, second, third and last equally often.
                turn = run % len(tools)
                for tool in tools[turn:] + tools[:turn]:
                    out = root / "out"
                    shutil.rmtree(root, ignore_errors=True)
                    out.mkdir(parents=True)
                    if tool == CLI:
                        results[tool].append(measure(server, path, cli_command(url, out), None))
                    else:
                        command, env = worker_command(
                            url,
                            out,
                            hinted=tool != UNHINTED,
                            kubeconfig=kubeconfig if tool == REPORTING else None,
                        )
                        results[tool].append(measure(server, path, command, env))
                    print(f"run {run + 1} {tool}: {results[tool][-1]}", file=sys.stderr)
            patches = apiserver.patches

    print(f"\nFile: {size / 1e6:.1f} MB, {args.runs} runs each, medians.\n")
    header = (
        f"{'':<16}{'wall s':>9}{'1st req s':>11}{'1st byte s':>12}"
        f"{'transfer s':>12}{'CPU s':>8}{'MB/s wall':>11}{'MB/s xfer':>11}"
    )
    print(header)
    print("-" * len(header))
    for tool, samples in results.items():
        wall, transfer = median(samples, "wall"), median(samples, "transfer")
        print(
            f"{tool:<16}{wall:>9.3f}{median(samples, 'first_request'):>11.3f}"
            f"{median(samples, 'first_byte'):>12.3f}{transfer:>12.3f}{median(samples, 'cpu'):>8.3f}"
            f"{size / 1e6 / wall:>11.1f}{size / 1e6 / transfer:>11.1f}"
        )
    print(f"\nProgress patches taken by the stand-in apiserver: {patches}.")
    cli = results[CLI]
    for tool in (WORKER, UNHINTED, REPORTING):
        worker = results[tool]
        # Each run measures every tool back to back: the ratio within a run cancels most of
        # a shared machine's drift, and its median is robust to a run disturbed by other work.
        paired = statistics.median(c.wall / w.wall for c, w in zip(cli, worker, strict=True))
        ratio_wall = median(cli, "wall") / median(worker, "wall")
        ratio_transfer = median(cli, "transfer") / median(worker, "transfer")
        print(
            f"\nThroughput ratio {tool}/CLI: {paired:.3f} end to end (median of the runs' "
            f"ratios; {ratio_wall:.3f} as a ratio of medians), "
            f"{ratio_transfer:.3f} during the transfer (target >= 0.95); "
            f"CPU time ratio CLI/worker {median(cli, 'cpu') / median(worker, 'cpu'):.3f}."
        )
        print(
            f"Start-up of {tool}: "
            f"{median(worker, 'first_request'):.3f} s to its first request "
            f"(CLI {median(cli, 'first_request'):.3f} s), "
            f"{median(worker, 'first_byte'):.3f} s to the first byte of the download "
            f"(CLI {median(cli, 'first_byte'):.3f} s)."
        )


if __name__ == "__main__":
    main()
