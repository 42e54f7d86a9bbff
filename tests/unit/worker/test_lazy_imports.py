"""What a worker loads at start-up: every worker pays for it before its first request."""

from __future__ import annotations

import subprocess
import sys


def test_a_worker_loads_boto3_only_for_s3_outputs() -> None:
    """boto3 takes about 0.1 s to import; a worker writing to a claim never uses it."""
    probe = (
        "import sys, videodl.worker.__main__; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('boto3', 'botocore', 's3transfer')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_worker_loads_the_kubernetes_client_only_to_patch_progress() -> None:
    """The client takes about 0.2 s to import; the progress patcher's thread loads it
    (videodl.worker.kube.connect) while the download starts."""
    probe = (
        "import sys, videodl.worker.__main__, videodl.worker.kube; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
