"""Run the shipped Argo CD health check as Argo CD does, and read its upstream-style tests.

The check lives in Argo CD's own layout, ``resource_customizations/<group>/<Kind>/``:
``health.lua``, and ``health_test.yaml`` listing ``{healthStatus: {status, message},
inputPath}`` cases over ``testdata/*.yaml``, which Argo CD's ``TestLuaHealthScript`` runs.
Argo CD runs Lua with gopher-lua, a Lua 5.1, so this runs it with Lua 5.1 too (lupa's
``lua51`` module, not the newest Lua lupa picks by default), with only the libraries Argo CD
opens for health checks (base, package, table, string, math), ``obj`` as a global and the
returned table as the health.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import lupa.lua51
import yaml

REPO = pathlib.Path(__file__).resolve().parents[3]
CUSTOMIZATIONS = REPO / "docs" / "gitops" / "resource_customizations"
VIDEODOWNLOAD = CUSTOMIZATIONS / "videodl.dev" / "VideoDownload"
HEALTH_LUA = VIDEODOWNLOAD / "health.lua"
HEALTH_TEST = VIDEODOWNLOAD / "health_test.yaml"

#: Argo CD's health codes (``health.HealthStatusCode``); anything else is an error there.
STATUSES = frozenset({"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"})

#: Libraries Argo CD does not open for a health check (without ``useOpenLibs``), and lupa's own.
_CLOSED = ("io", "os", "debug", "coroutine", "dofile", "loadfile", "python")


@dataclasses.dataclass(frozen=True)
class Health:
    """What a health check returned: an Argo CD health code and a message ("" if none)."""

    status: str
    message: str = ""


@dataclasses.dataclass(frozen=True)
class Case:
    """One case of ``health_test.yaml``: the object's file and the health expected of it."""

    input_path: str
    expected: Health


class _KubernetesYAML(yaml.SafeLoader):
    """YAML as Kubernetes reads it: timestamps stay strings (no datetime objects)."""


_KubernetesYAML.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path: pathlib.Path) -> Any:
    """A YAML file read as Kubernetes does (as JSON would carry it)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_KubernetesYAML)


def cases(test_file: pathlib.Path = HEALTH_TEST) -> list[Case]:
    """The cases of a ``health_test.yaml``, in order."""
    document = load(test_file)
    found = []
    for entry in document["tests"]:
        expected = entry["healthStatus"]
        assert set(expected) <= {"status", "message"}, f"{test_file}: {expected}"
        found.append(
            Case(entry["inputPath"], Health(expected["status"], expected.get("message", "")))
        )
    return found


def _to_lua(runtime: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return runtime.table_from({k: _to_lua(runtime, v) for k, v in value.items()})
    if isinstance(value, list):
        return runtime.table_from([_to_lua(runtime, v) for v in value])
    return value


def health(obj: dict[str, Any], script: str | None = None) -> Health:
    """Run ``script`` (default: the shipped health.lua) on ``obj`` under Lua 5.1, as Argo CD.

    A script that fails, returns no table or an unknown health code raises, as Argo CD
    reports an error for it.
    """
    runtime = lupa.lua51.LuaRuntime(register_eval=False, register_builtins=False)
    assert runtime.lua_version == (5, 1)
    lua_globals = runtime.globals()
    for name in _CLOSED:
        lua_globals[name] = None
    lua_globals.obj = _to_lua(runtime, obj)
    text = HEALTH_LUA.read_text(encoding="utf-8") if script is None else script
    result = runtime.execute(text)
    if lupa.lua51.lua_type(result) != "table":
        msg = f"the health check returned {result!r}, not a table"
        raise TypeError(msg)
    status, message = result["status"], result["message"]
    if status not in STATUSES:
        msg = f"the health check returned status {status!r}, not one of {sorted(STATUSES)}"
        raise ValueError(msg)
    if message is not None and not isinstance(message, str):
        msg = f"the health check returned message {message!r}, not a string"
        raise TypeError(msg)
    return Health(status, message or "")
