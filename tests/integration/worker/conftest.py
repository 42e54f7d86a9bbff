"""Fixtures of the worker's integration tests (defined in workerharness)."""

from tests.integration.worker.workerharness import (
    media_server,
    run_worker,
    run_worker_process,
    unique,
    workspace,
)

__all__ = ["media_server", "run_worker", "run_worker_process", "unique", "workspace"]
