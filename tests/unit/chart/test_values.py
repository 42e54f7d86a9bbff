"""values.yaml is documented key by key, and the operator accepts what the chart renders."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
import yaml

from videodl.api.spec import Priority
from videodl.breaker.settings import BreakerSettings
from videodl.core.breaker_config import BreakerConfig
from videodl.operator import options, settings
from videodl.reconcile.download.settings import default_priority_class_names
from videodl.workerapi.s3 import S3Defaults

from . import rendering

VALUES = rendering.CHART / "values.yaml"
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z][\w-]*):")

# Variables the chart leaves to the operator on purpose: in a Pod, the operator uses the
# in-cluster config (its ServiceAccount), never a kubeconfig file.
NOT_SET_BY_CHART = {"VIDEODL_KUBECONFIG"}


def undocumented_keys(text: str) -> list[str]:
    """Keys with no comment right above them, unless they sit inside a value documented as a
    whole (a key whose comment starts with "# --", such as resources or a probe)."""
    missing: list[str] = []
    # (indent, path, documented as one value)
    stack: list[tuple[int, str, bool]] = []
    comment: list[str] = []  # the comment lines right above the current line
    for line in text.splitlines():
        match = _KEY.match(line)
        if match is None:
            stripped = line.strip()
            if stripped.startswith("#"):
                comment.append(line)
            elif stripped:
                comment = []
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([*(entry[1] for entry in stack[-1:]), match["key"]])
        inside_value = any(entry[2] for entry in stack)
        own = [c for c in comment if c.startswith(" " * indent + "#")]
        if not own and not inside_value:
            missing.append(path)
        stack.append((indent, path, bool(own) and own[0].strip().startswith("# --")))
        comment = []
    return missing


def test_every_key_is_documented() -> None:
    """Every key in values.yaml has a comment right above it (or is part of a documented value)."""
    assert undocumented_keys(VALUES.read_text()) == []


def test_documentation_check_finds_an_undocumented_key() -> None:
    """The documentation check reports a key without a comment, by its path."""
    text = "# Section.\nsection:\n  # -- Documented.\n  a: 1\n  b: 2\n"
    assert undocumented_keys(text) == ["section.b"]


def _operator_env(values: dict[str, Any] | None = None) -> dict[str, str]:
    deployment = rendering.one(rendering.render(values), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"] if e["name"].startswith("VIDEODL_")}


def test_chart_sets_every_operator_setting() -> None:
    """The Deployment sets every VIDEODL_* variable the operator reads, and no other."""
    known = {option.env for option in options.OPTIONS}
    assert set(_operator_env()) == known - NOT_SET_BY_CHART


def test_default_values_equal_the_operator_defaults() -> None:
    """With default values the operator gets its own defaults, except names the chart decides."""
    loaded = settings.load([], _operator_env())
    defaults = settings.Settings()
    assert loaded.admission == defaults.admission
    assert loaded.worker.requests == defaults.worker.requests
    assert loaded.worker.limits == defaults.worker.limits
    assert loaded.worker.priority_class_names == defaults.worker.priority_class_names
    assert loaded.worker.service_account == defaults.worker.service_account
    assert loaded.worker.image == defaults.worker.image
    assert loaded.worker.active_deadline_seconds == defaults.worker.active_deadline_seconds
    assert loaded.worker.progress_interval_seconds == defaults.worker.progress_interval_seconds
    assert loaded.worker.termination_grace_seconds == defaults.worker.termination_grace_seconds
    assert loaded.worker.default_claim == defaults.worker.default_claim
    assert loaded.worker.scratch_dir == defaults.worker.scratch_dir
    assert loaded.worker.allowed_networks == defaults.worker.allowed_networks == ()
    assert loaded.metrics == defaults.metrics
    assert loaded.breaker == dataclasses.replace(
        defaults.breaker, configmap_namespace=rendering.NAMESPACE
    )
    assert loaded.reconcile_workers == defaults.reconcile_workers
    assert loaded.log_level == defaults.log_level
    # Decided by the release: its namespace (the breaker's, above) and name.
    assert loaded.instance == rendering.RELEASE
    assert loaded.watch.namespaces == ()


CHANGED: dict[str, Any] = {
    "watch": {"namespaces": ["media", "archive"]},
    "admission": {
        "maxRunning": 7,
        "maxRunningPerNamespace": 3,
        "agingSeconds": 45.5,
        "intervalSeconds": 0.5,
        "backoffJitter": 0,
    },
    "workers": {
        "image": {"repository": "registry.example/videodl/worker", "tag": "1.2.3"},
        "command": ["/usr/bin/python3", "-m", "videodl.worker", "--flag with space", "it's"],
        "cleanupCommand": ["videodl-cleanup"],
        "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": 2}},
        "defaultClaim": "media",
        "s3": {
            "endpoint": "http://gateway.storage:7070",
            "bucket": "videos",
            "region": "eu-west-1",
            "credentialsSecret": "s3-keys",
            "forcePathStyle": "false",
            "scratchSizeLimit": "20Gi",
            "partSizeBytes": 67108864,
        },
        "activeDeadlineSeconds": 600,
        "progressIntervalSeconds": 1.5,
        "terminationGraceSeconds": 9,
        "scratchDir": "/scratch",
        "allowedNetworks": ["10.20.0.0/16", "fd00:1::/64"],
        "serviceAccount": {"name": "downloader"},
    },
    "priorityClasses": {
        "classes": {
            "critical": {"name": "urgent", "value": 9000},
            "lowest": {"name": "", "value": 1},
        }
    },
    "metrics": {"port": 9100, "bindAddress": "127.0.0.1"},
    "breaker": {
        "configMap": {"name": "breaker-state", "namespace": "ops"},
        "failureThreshold": 3,
        "windowSize": 40,
        "minCalls": 8,
        "failureRatio": 0.75,
        "openSeconds": 5,
        "maxOpenSeconds": 600,
        "openJitter": 0,
        "probes": 2,
        "probeTimeoutSeconds": 30,
        "closeAfterSuccesses": 3,
    },
    "operator": {"logLevel": "DEBUG", "reconcileWorkers": 3},
}


def test_changed_values_reach_the_operator() -> None:
    """Every value the chart maps arrives in the operator's settings as set."""
    loaded = settings.load([], _operator_env(CHANGED))
    assert loaded.watch.namespaces == ("media", "archive")
    assert loaded.admission == settings.AdmissionSettings(
        max_running=7,
        max_running_per_namespace=3,
        aging_seconds=45.5,
        interval_seconds=0.5,
        backoff_jitter=0.0,
    )
    worker = loaded.worker
    assert worker.image == "registry.example/videodl/worker:1.2.3"
    assert worker.command == (
        "/usr/bin/python3",
        "-m",
        "videodl.worker",
        "--flag with space",
        "it's",
    )
    assert worker.cleanup_command == ("videodl-cleanup",)
    assert worker.requests == {"cpu": "250m", "memory": "64Mi"}
    assert worker.limits == {"cpu": "2", "memory": "1Gi"}
    assert worker.default_claim == "media"
    assert worker.s3 == S3Defaults(
        endpoint="http://gateway.storage:7070",
        bucket="videos",
        region="eu-west-1",
        credentials_secret="s3-keys",
        force_path_style=False,
        scratch_size_limit="20Gi",
        part_size_bytes=64 * 1024 * 1024,
    )
    assert worker.active_deadline_seconds == 600
    assert worker.progress_interval_seconds == 1.5
    assert worker.termination_grace_seconds == 9
    assert worker.scratch_dir == "/scratch"
    assert worker.allowed_networks == ("10.20.0.0/16", "fd00:1::/64")
    assert worker.service_account == "downloader"
    names = dict(default_priority_class_names())
    names[Priority.CRITICAL] = "urgent"
    del names[Priority.LOWEST]
    assert worker.priority_class_names == names
    assert loaded.metrics == settings.MetricsSettings(port=9100, bind_address="127.0.0.1")
    assert loaded.breaker == BreakerSettings(
        configmap_name="breaker-state",
        configmap_namespace="ops",
        config=BreakerConfig(
            failure_threshold=3,
            window_size=40,
            min_calls=8,
            failure_ratio=0.75,
            open_base_seconds=5.0,
            open_max_seconds=600.0,
            open_jitter=0.0,
            half_open_probes=2,
            probe_timeout_seconds=30.0,
            close_after_successes=3,
        ),
    )
    assert loaded.log_level == "DEBUG"
    assert loaded.reconcile_workers == 3


def test_worker_digest_pins_the_worker_image() -> None:
    """A worker image digest replaces the tag in the operator's worker image."""
    digest = "sha256:" + "ab" * 32
    env = _operator_env({"workers": {"image": {"digest": digest}}})
    assert env["VIDEODL_WORKER_IMAGE"] == f"ghcr.io/videodl/worker@{digest}"


@pytest.mark.parametrize("replicas", [1, 2])
def test_peering_flag_follows_replicas(replicas: int) -> None:
    """One replica runs --standalone; more run --peering with the Lease's name."""
    deployment = rendering.one(rendering.render({"operator": {"replicas": replicas}}), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == (["--standalone"] if replicas == 1 else ["--peering=videodl"])


def test_values_file_parses() -> None:
    """values.yaml is plain YAML whose top-level sections are the documented ones."""
    values = yaml.safe_load(VALUES.read_text())
    assert set(values) == {
        "nameOverride", "fullnameOverride", "commonLabels", "image", "imagePullSecrets",
        "operator", "serviceAccount", "rbac", "watch", "workers", "admission",
        "priorityClasses", "breaker", "metrics", "tests",
    }  # fmt: skip
