"""The operator settings the command line needs, read from the operator's Deployment.

The chart passes every setting as a ``VIDEODL_*`` environment variable of the operator
container (``--max-running`` is ``VIDEODL_MAX_RUNNING``), and ``operator.extraArgs`` may add
flags; a flag wins over its variable, as in the operator. Only the settings of the queue
and of the breaker's ConfigMap are read here; the defaults are the operator's (a unit test
keeps them equal). Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

__all__ = ["DEFAULTS", "OperatorConfig", "from_deployment", "from_values"]

_FLAGS: Final = {
    "max_running": "--max-running",
    "max_running_per_namespace": "--max-running-per-namespace",
    "aging_seconds": "--aging-seconds",
    "breaker_namespace": "--breaker-namespace",
    "breaker_configmap": "--breaker-configmap",
}


def _env_name(flag: str) -> str:
    return "VIDEODL_" + flag.removeprefix("--").replace("-", "_").upper()


class OperatorConfig(BaseModel):
    """Admission limits and the breaker's ConfigMap, as the operator uses them."""

    model_config = ConfigDict(frozen=True)

    max_running: int = 20
    #: None: only the cluster-wide limit applies.
    max_running_per_namespace: int | None = None
    aging_seconds: float = 300.0
    breaker_namespace: str = "videodl-system"
    breaker_configmap: str = "videodl-breaker"
    #: Where the values came from, for the header of ``queue``.
    source: str = "the operator's defaults"


DEFAULTS: Final = OperatorConfig()


def from_values(raw: Mapping[str, str], *, source: str) -> OperatorConfig:
    """The settings from raw strings by field name; a missing or empty value keeps its default.

    Raises ``ValueError`` naming the setting and its flag when a value cannot be read.
    """
    values: dict[str, Any] = {}
    for field, given in raw.items():
        text = given.strip()
        flag = _FLAGS[field]
        try:
            if field in ("max_running", "max_running_per_namespace"):
                if field == "max_running_per_namespace" and text.lower() in ("", "none"):
                    values[field] = None
                    continue
                values[field] = int(text)
            elif field == "aging_seconds":
                number = float(text)
                if not math.isfinite(number) or number < 0:
                    raise ValueError(text)
                values[field] = number
            elif text:
                values[field] = text
        except ValueError:
            msg = f"{flag} of the operator ({text!r}) is not a valid value"
            raise ValueError(msg) from None
    return DEFAULTS.model_copy(update={**values, "source": source})


def _container_values(container: Mapping[str, Any]) -> dict[str, str]:
    raw: dict[str, str] = {}
    for variable in container.get("env") or ():
        for field, flag in _FLAGS.items():
            if variable.get("name") == _env_name(flag) and "value" in variable:
                raw[field] = str(variable["value"])
    words: Sequence[str] = [*(container.get("command") or ()), *(container.get("args") or ())]
    for index, word in enumerate(words):
        for field, flag in _FLAGS.items():
            if word.startswith(flag + "="):
                raw[field] = word.partition("=")[2]
            elif word == flag and index + 1 < len(words):
                raw[field] = words[index + 1]
    return raw


def from_deployment(deployment: Mapping[str, Any], container: str = "operator") -> OperatorConfig:
    """The settings of the operator Deployment's container named ``container``."""
    metadata = deployment.get("metadata") or {}
    spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = spec.get("containers") or []
    chosen = next((c for c in containers if c.get("name") == container), None)
    if chosen is None and containers:
        chosen = containers[0]
    where = f"Deployment {metadata.get('namespace', '')}/{metadata.get('name', '')}"
    if chosen is None:
        return DEFAULTS.model_copy(update={"source": f"{where} (no container; defaults)"})
    return from_values(_container_values(chosen), source=where)
