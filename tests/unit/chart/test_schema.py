"""A wrong value fails `helm template` with a message that names the value and the rule."""

from __future__ import annotations

from typing import Any

import pytest

from . import rendering

BAD_VALUES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "negative replicas": (
        {"operator": {"replicas": -1}},
        ["at '/operator/replicas'", "minimum"],
    ),
    "misspelt key": (
        {"operator": {"replica": 2}},
        ["at '/operator'", "additional properties 'replica' not allowed"],
    ),
    "latest operator tag": (
        {"image": {"tag": "latest"}},
        ['image.tag: "latest" is refused'],
    ),
    "latest worker tag": (
        {"workers": {"image": {"tag": "latest"}}},
        ['workers.image.tag: "latest" is refused'],
    ),
    "bad digest": (
        {"image": {"digest": "sha256:1234"}},
        ["at '/image/digest'", "does not match pattern"],
    ),
    "bad namespace": (
        {"watch": {"namespaces": ["Media_Files"]}},
        ["at '/watch/namespaces/0'", "'Media_Files' does not match pattern"],
    ),
    "duplicate namespace": (
        {"watch": {"namespaces": ["media", "media"]}},
        ["at '/watch/namespaces'", "equal"],
    ),
    "limits left out": (
        {"operator": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": None}}},
        ["at '/operator/resources'", "limits"],
    ),
    "bad quantity": (
        {"workers": {"resources": {"requests": {"memory": "lots"}}}},
        ["at '/workers/resources/requests/memory'"],
    ),
    "port out of range": (
        {"metrics": {"port": 70000}},
        ["at '/metrics/port'", "maximum"],
    ),
    "jitter above one": (
        {"admission": {"backoffJitter": 2}},
        ["at '/admission/backoffJitter'", "maximum"],
    ),
    "zero running workers": (
        {"admission": {"maxRunning": 0}},
        ["at '/admission/maxRunning'", "minimum"],
    ),
    "per-namespace above cluster limit": (
        {"admission": {"maxRunning": 5, "maxRunningPerNamespace": 6}},
        ["admission.maxRunningPerNamespace (6) is above admission.maxRunning (5)"],
    ),
    "priority beyond system classes": (
        {"priorityClasses": {"classes": {"critical": {"name": "x", "value": 2000000000}}}},
        ["at '/priorityClasses/classes/critical/value'", "maximum"],
    ),
    "priorities out of order": (
        {"priorityClasses": {"classes": {"high": {"name": "videodl-high", "value": 10}}}},
        ["priorityClasses.classes.high.value (10) must be greater than"],
    ),
    "missing priority level": (
        {"priorityClasses": {"classes": {"normal": None}}},
        ["at '/priorityClasses/classes'", "normal"],
    ),
    "bad cidr": (
        {"workers": {"networkPolicy": {"egressExcept": ["10.0.0.0"]}}},
        ["at '/workers/networkPolicy/egressExcept/0'", "does not match pattern"],
    ),
    "allowed network without a prefix": (
        {"workers": {"allowedNetworks": ["127.0.0.1"]}},
        ["at '/workers/allowedNetworks/0'", "does not match pattern"],
    ),
    "breaker ratio of zero": (
        {"breaker": {"failureRatio": 0}},
        ["at '/breaker/failureRatio'", "exclusiveMinimum"],
    ),
    "bad log level": (
        {"operator": {"logLevel": "verbose"}},
        ["at '/operator/logLevel'", "value must be one of"],
    ),
    "empty worker command": (
        {"workers": {"command": []}},
        ["at '/workers/command'", "minItems"],
    ),
    "service monitor without service": (
        {"metrics": {"service": {"enabled": False}, "serviceMonitor": {"enabled": True}}},
        ["metrics.serviceMonitor.enabled needs metrics.service.enabled"],
    ),
    "pdb blocking drains": (
        {"operator": {"podDisruptionBudget": {"maxUnavailable": 0}}},
        ["at '/operator/podDisruptionBudget/maxUnavailable'"],
    ),
}


@pytest.mark.parametrize(("values", "expected"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_bad_value_fails_with_a_clear_message(values: dict[str, Any], expected: list[str]) -> None:
    """helm template refuses the value, and its error names the field and what is wrong."""
    done = rendering.render_raw(values, check=False)
    assert done.returncode != 0
    for fragment in expected:
        assert fragment in done.stderr, done.stderr


def test_good_edge_values_pass() -> None:
    """Values at the edges of their ranges render."""
    values = {
        "operator": {"replicas": 0, "podDisruptionBudget": {"maxUnavailable": "50%"}},
        "admission": {"maxRunning": 1, "maxRunningPerNamespace": 1, "backoffJitter": 1},
        "metrics": {"port": 65535},
        "image": {"digest": "sha256:" + "0" * 64},
        "workers": {"networkPolicy": {"enabled": True, "egressExcept": ["fd00::/8"]}},
    }
    done = rendering.render_raw(values, check=False)
    assert done.returncode == 0, done.stderr
