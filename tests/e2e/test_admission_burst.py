"""A burst applied together starts in priority order, with one status write per decision.

One ``kubectl apply`` of a file that mixes priorities, with fewer worker slots than
downloads: once the operator has seen a download, no download of lower priority starts
while it waits. Each download's status changes are counted from the watch: admitted at
once it is written Running then Succeeded; made to wait, Queued first; never Pending.
"""

# ruff: noqa: F811 - pytest fixtures are imported and then named as parameters
from __future__ import annotations

from tests.e2e.test_operator import CLAIM, Bed, bed, installed  # noqa: F401 - fixtures

from videodl.api import resource
from videodl.api.spec import Priority
from videodl_devkit import testing

LIMIT = 2
#: Low ones first in the file, so a pass that sees only the first few would start them.
PRIORITIES = (
    "Low", "Low", "Normal", "Low", "High", "Normal", "Critical", "Low", "High", "Normal",
    "Low", "High", "Critical", "Normal",
)  # fmt: skip
#: A download is surely in the operator's view this long after the apiserver announced it.
OBSERVED_AFTER_SECONDS = 1.0


def test_one_apply_starts_by_priority_with_one_write_per_decision(bed: Bed) -> None:
    bed.start_operator(
        f"--max-running={LIMIT}", f"--worker-command={testing.instant_worker_command(1.0)}"
    )
    names = [f"b{index:02d}-{p.lower()}" for index, p in enumerate(PRIORITIES)]
    rank = {name: Priority(p).rank for name, p in zip(names, PRIORITIES, strict=True)}
    bed.apply(
        *(
            {
                "apiVersion": resource.API_VERSION,
                "kind": resource.KIND,
                "metadata": {"name": name},
                "spec": {
                    "url": f"https://media.example/{name}",
                    "priority": priority,
                    "output": {"persistentVolumeClaim": {"claimName": CLAIM}},
                },
            }
            for name, priority in zip(names, PRIORITIES, strict=True)
        )
    )
    for name in names:
        bed.wait_phase(name, "Succeeded", timeout=240)

    def first_seen(name: str) -> float:
        return bed.history.states(name)[0][0]

    def started(name: str) -> float:
        moment = bed.history.first_time(name, "Running")
        assert moment is not None, name
        return moment

    order = sorted(names, key=started)
    for position, name in enumerate(order):
        at = started(name)
        waiting_higher = [
            other
            for other in order[position + 1 :]
            if rank[other] > rank[name] and first_seen(other) < at - OBSERVED_AFTER_SECONDS
        ]
        assert not waiting_higher, (
            f"{name} started at position {position} while {waiting_higher} of higher "
            f"priority had been waiting; order: {order}"
        )
    # Once the first slots are taken every download has been seen: the rest go by priority.
    later = [rank[name] for name in order[LIMIT:]]
    assert later == sorted(later, reverse=True), order

    bed.wait(
        "each download's two Events",
        lambda: all(len(bed.event_reasons(n)) >= 2 for n in names),
        timeout=30,
    )
    for name in names:
        phases = bed.history.phases(name)
        assert phases in (["Running", "Succeeded"], ["Queued", "Running", "Succeeded"]), (
            name,
            phases,
        )
        assert sorted(bed.event_reasons(name)) == ["Started", "Succeeded"], name
    assert sum(bed.history.phases(n)[0] == "Queued" for n in names) >= len(names) - 2 * LIMIT
