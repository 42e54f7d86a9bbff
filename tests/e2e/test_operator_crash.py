"""Crash safety: the operator is killed with SIGKILL at random moments while 50 downloads run.

Workers are the stand-in worker (``python -m videodl_devkit.testing worker``), which
takes a few seconds, records every run it finishes in the claim, and reports a valid
result: fifty real yt-dlp processes would measure the machine, not the operator.
"""

from __future__ import annotations

import collections
import json
import random
import time

from tests.e2e.test_operator import CLAIM, Bed, bed, installed  # noqa: F401 - fixtures

from videodl.api import resource
from videodl.reconcile.download import naming
from videodl_devkit import testing

DOWNLOADS = 50
KILLS = 12


class TestCrashSafety:
    def test_sigkill_at_random_moments_loses_and_repeats_nothing(self, bed: Bed) -> None:  # noqa: F811
        """Every download ends Succeeded exactly once, each attempt has one Pod and one run,
        and no object is ever without a phase once it has one."""
        rng = random.Random(20261123)
        operator = bed.start_operator(
            "--max-running=10", f"--worker-command={testing.instant_worker_command(3.0)}"
        )
        names = [f"d{index:02d}" for index in range(DOWNLOADS)]
        bed.apply(
            *(
                {
                    "apiVersion": resource.API_VERSION,
                    "kind": resource.KIND,
                    "metadata": {"name": name},
                    "spec": {
                        "url": f"https://media.example/{name}",
                        "output": {"persistentVolumeClaim": {"claimName": CLAIM}},
                    },
                }
                for name in names
            )
        )
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 3.0))
            operator.kill()
            # Start again at once, without waiting: the next kill may hit a starting operator.
            operator.start(wait=False)
        operator.wait_healthy()

        def all_succeeded() -> bool:
            objects = bed.objects.list_namespaced_custom_object(
                resource.GROUP, resource.VERSION, bed.namespace, resource.PLURAL
            )["items"]
            phases = [(o.get("status") or {}).get("phase") for o in objects]
            return len(phases) == DOWNLOADS and all(p == "Succeeded" for p in phases)

        bed.wait("all downloads to succeed", all_succeeded, timeout=300)
        time.sleep(2)  # let the watches deliver the last changes
        assert operator.starts == KILLS + 1

        for name in names:
            states = [o.get("status") or {} for _, o in bed.history.states(name)]
            phases = [s.get("phase") for s in states]
            first = next(i for i, p in enumerate(phases) if p)
            assert all(phases[first:]), f"{name} lost its phase: {phases}"
            entered = [
                i
                for i, p in enumerate(phases)
                if p == "Succeeded" and (i == 0 or phases[i - 1] != p)
            ]
            assert len(entered) == 1, f"{name} became Succeeded {len(entered)} times: {phases}"
            assert phases[-1] == "Succeeded"
            assert states[-1]["attempts"] == 1

        pods_per_attempt: collections.Counter[tuple[str, str]] = collections.Counter()
        for pod in bed.history.pod_names().values():
            labels = pod["metadata"]["labels"]
            pods_per_attempt[(labels[naming.LABEL_DOWNLOAD], labels[naming.LABEL_ATTEMPT])] += 1
        assert set(pods_per_attempt) == {(name, "1") for name in names}
        assert set(pods_per_attempt.values()) == {1}, pods_per_attempt

        runs = bed.claim_dir() / "runs"
        for name in names:
            lines = (runs / f"{name}.log").read_text().splitlines()
            assert len(lines) == 1, f"{name} ran {len(lines)} times: {lines}"
            assert json.loads(lines[0])["attempt"] == "1"
