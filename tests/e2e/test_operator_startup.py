"""Worker Pods that cannot start, on the real control plane: a missing Secret, a missing claim
and requests no node fits each leave Running within the bound, say why in status, free the
worker slot, and resume on their own without using an attempt."""

# The fixtures imported from test_operator are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import base64
from typing import Any

from tests.e2e.operatorbed import Bed, Json
from tests.e2e.test_operator import bed, installed  # noqa: F401 - fixtures

from videodl_devkit import testing

FAST = (
    "--worker-blocked-retry-seconds=2",
    "--worker-unschedulable-grace-seconds=2",
)


def ready(obj: Json) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")


def test_missing_secret_blocks_frees_the_slot_and_resumes_once_created(bed: Bed) -> None:
    """With one slot, a download whose cookies Secret is missing is Blocked naming the Secret
    while another download runs; once the Secret exists it succeeds on attempt 1."""
    bed.start_operator(
        f"--worker-command={testing.instant_worker_command()}", "--max-running=1", *FAST
    )
    bed.create(
        "locked", {"url": "https://media.example/a", "cookies": {"secretRef": {"name": "jar"}}}
    )
    blocked = bed.wait_phase("locked", "Blocked", timeout=45)
    condition = ready(blocked)
    assert condition["reason"] == "SecretNotFound"
    assert 'Secret "jar"' in condition["message"]
    assert "spec.cookies.secretRef" in condition["message"]
    assert blocked["status"].get("attempts", 0) == 0

    bed.create("free", {"url": "https://media.example/b"})
    bed.wait_phase("free", "Succeeded", timeout=60)

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "jar"},
        "data": {"cookies.txt": base64.b64encode(b"# Netscape HTTP Cookie File\n").decode()},
    }
    bed.apply(secret)
    done = bed.wait_phase("locked", "Succeeded", timeout=90)
    assert done["status"]["attempts"] == 1
    assert "Blocked" in bed.history.phases("locked")


def test_missing_claim_is_blocked_naming_the_claim(bed: Bed) -> None:
    """A download writing to a claim that does not exist is Blocked with ClaimNotFound."""
    bed.start_operator(f"--worker-command={testing.instant_worker_command()}", *FAST)
    bed.create(
        "nowhere",
        {
            "url": "https://media.example/c",
            "output": {"persistentVolumeClaim": {"claimName": "nope"}},
        },
    )
    blocked = bed.wait_phase("nowhere", "Blocked", timeout=45)
    condition = ready(blocked)
    assert condition["reason"] == "ClaimNotFound"
    assert 'PersistentVolumeClaim "nope"' in condition["message"]


def test_requests_no_node_fits_are_blocked_after_the_grace_period(bed: Bed) -> None:
    """Requests above the node's capacity leave Running after the grace period, as
    Unschedulable with the scheduler's reason and the fix."""
    bed.start_operator(f"--worker-command={testing.instant_worker_command()}", *FAST)
    bed.create(
        "huge", {"url": "https://media.example/d", "resources": {"requests": {"cpu": "500"}}}
    )
    blocked = bed.wait_phase("huge", "Blocked", timeout=45)
    condition = ready(blocked)
    assert condition["reason"] == "Unschedulable"
    assert "Insufficient cpu" in condition["message"]
    assert "spec.resources" in condition["message"]
    assert "Running" in bed.history.phases("huge")
