"""The shipped Argo CD health check, run by a real Lua interpreter on objects in every phase."""

from __future__ import annotations

import pathlib
from typing import Any

import lupa
import pytest

HEALTH_LUA = pathlib.Path(__file__).parents[3] / "docs" / "gitops" / "argocd-health.lua"


def _to_lua(runtime: lupa.LuaRuntime, value: Any) -> Any:
    if isinstance(value, dict):
        return runtime.table_from({k: _to_lua(runtime, v) for k, v in value.items()})
    if isinstance(value, list):
        return runtime.table_from([_to_lua(runtime, v) for v in value])
    return value


def health(obj: dict[str, Any]) -> tuple[str, str]:
    """Run health.lua as Argo CD does: `obj` is a global, the script returns a table."""
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals().obj = _to_lua(runtime, obj)
    result = runtime.execute(HEALTH_LUA.read_text())
    return str(result["status"]), str(result["message"])


def _obj(
    phase: str | None, *, generation: int = 1, observed: int = 1, **status: Any
) -> dict[str, Any]:
    meta = {"name": "v", "namespace": "n", "generation": generation}
    if phase is None:
        return {"metadata": meta, "spec": {"url": "https://x/y.mp4"}}
    return {"metadata": meta, "status": {"phase": phase, "observedGeneration": observed, **status}}


def _cond(kind: str, status: str, message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": "R", "message": message}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_obj(None), "Progressing"),
        (
            _obj("Pending", conditions=[_cond("Ready", "False"), _cond("Reconciling", "True")]),
            "Progressing",
        ),
        (_obj("Queued", conditions=[_cond("Ready", "False")]), "Progressing"),
        (_obj("Running", progress={"percent": 42}), "Progressing"),
        (_obj("BackingOff", conditions=[_cond("Ready", "False", "retrying")]), "Progressing"),
        (
            _obj("Blocked", conditions=[_cond("Ready", "False", "circuit open until 10:00")]),
            "Suspended",
        ),
        (_obj("Suspended"), "Suspended"),
        (_obj("Succeeded", conditions=[_cond("Ready", "True", "downloaded")]), "Healthy"),
        (_obj("Failed", lastFailure={"reason": "NotFound", "message": "HTTP 404"}), "Degraded"),
        (_obj("Running", conditions=[_cond("Stalled", "True", "stuck")]), "Degraded"),
        (
            _obj("Succeeded", generation=2, observed=1, conditions=[_cond("Ready", "True")]),
            "Progressing",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_every_phase_maps_to_an_argo_health(obj: dict[str, Any], expected: str) -> None:
    """Each phase and condition combination gets the Argo CD health a user would expect."""
    assert health(obj)[0] == expected


def test_degraded_message_carries_the_failure() -> None:
    """A failed download explains itself in Argo CD's UI."""
    status, message = health(
        _obj("Failed", lastFailure={"reason": "NotFound", "message": "HTTP 404"})
    )
    assert (status, message) == ("Degraded", "NotFound: HTTP 404")


def test_progress_shows_in_the_message() -> None:
    """A running download shows its percentage."""
    assert health(_obj("Running", progress={"percent": 42}))[1] == "Running (42%)"


def test_deleting_object_is_progressing() -> None:
    """An object being deleted is reported as progressing, not healthy."""
    obj = _obj("Succeeded", conditions=[_cond("Ready", "True")])
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert health(obj) == ("Progressing", "Deleting")
