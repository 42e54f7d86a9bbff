"""``python -m videodl.worker``: run one download attempt as the worker Pod's command.

Reads the Pod's environment (:mod:`videodl.workerapi.environment`), downloads, writes the
termination message (also printed on stdout) and exits with the code of the outcome
(:mod:`videodl.workerapi.exitcodes`).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping

from videodl.api.status import Progress
from videodl.worker import classify, download, ending, signals
from videodl.worker.progress import ProgressSink
from videodl.workerapi import environment, termination

__all__ = ["main"]

_log = logging.getLogger("videodl.worker")


class _LoggingSink:
    """Progress for runs without a cluster (``VIDEODL_PROGRESS=off``): the log only."""

    def publish(self, progress: Progress) -> None:
        _log.info(
            "progress %s %.1f%% (%s of %s bytes)",
            progress.stage,
            progress.percent or 0.0,
            progress.downloaded_bytes,
            progress.total_bytes,
        )


def _attempt(environ: Mapping[str, str]) -> download.Outcome:
    job = environment.load(environ)
    close = None
    sink: ProgressSink = _LoggingSink()
    if job.progress_enabled and job.name is not None and job.namespace is not None:
        # Imported here: the Kubernetes client is slow to import and runs without a
        # cluster (VIDEODL_PROGRESS=off) do not need it.
        from videodl.worker.kube import KubernetesProgressSink  # noqa: PLC0415

        kube_sink = KubernetesProgressSink(name=job.name, namespace=job.namespace)
        sink, close = kube_sink, kube_sink.close
    try:
        outcome = download.run(job, sink=sink)
        signals.ignore()
    finally:
        if close is not None:
            close()
    return outcome


def run_main(environ: Mapping[str, str]) -> int:
    """Run an attempt for ``environ``; returns the process exit code."""
    try:
        outcome = _attempt(environ)
    # Failures before or around the download (bad environment, SIGTERM while starting)
    # still end with a classified termination message.
    except (Exception, signals.Terminated, KeyboardInterrupt) as exc:  # noqa: BLE001
        signals.ignore()
        verdict = classify.classify(exc)
        if verdict.internal:
            _log.exception("worker failed")
        else:
            _log.error("worker failed: %s %s: %s", verdict.failure_class, verdict.reason, exc)
        outcome = download.Outcome(
            verdict.exit_code,
            termination.FailureMessage.create(
                failure_class=verdict.failure_class,
                reason=verdict.reason,
                message=verdict.message,
                exit_code=int(verdict.exit_code),
                time=datetime.datetime.now(datetime.UTC).replace(microsecond=0),
            ),
        )
    return ending.end(outcome, environ)


def main() -> None:
    """Console entry point (``videodl-worker``)."""
    ending.run_program(run_main)


if __name__ == "__main__":
    main()
