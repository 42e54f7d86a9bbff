"""The operator's command-line flags and environment variables, and how each value is read.

:data:`OPTIONS` is the table of every setting: its dotted path in
:class:`videodl.operator.settings.Settings` (``breaker.config.min_calls``), its flag, its
``VIDEODL_*`` variable and a converter that turns the raw string into the value or raises
``ValueError`` saying what is wrong and how to write it. The loader and the generated
settings reference in ``docs/operator.md`` both come from this table. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shlex
from collections.abc import Callable
from typing import Any, Final

from videodl.api import quantity
from videodl.api._base import DNS_SUBDOMAIN_PATTERN
from videodl.api.output import S3_BUCKET_PATTERN, S3_ENDPOINT_PATTERN
from videodl.api.spec import Priority
from videodl.reconcile.download import settings as worker_settings
from videodl.workerapi import environment as worker_environment

__all__ = ["OPTIONS", "Option", "lease_name"]

_DNS_SUBDOMAIN = re.compile(DNS_SUBDOMAIN_PATTERN)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_RESOURCE_NAME = re.compile(r"^([a-z0-9.-]+/)?[A-Za-z0-9][-A-Za-z0-9_.]*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _int(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def convert(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            msg = f"{raw!r} is not a whole number"
            raise ValueError(msg) from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"at least {minimum}" if maximum is None else f"{minimum} to {maximum}"
            msg = f"must be {bounds}, got {value}"
            raise ValueError(msg)
        return value

    return convert


def _optional_int(minimum: int) -> Callable[[str], int | None]:
    whole = _int(minimum)

    def convert(raw: str) -> int | None:
        if raw.strip().lower() in ("", "none", "unlimited"):
            return None
        return whole(raw)

    return convert


def _float(
    minimum: float, maximum: float | None = None, *, open_min: bool = False
) -> Callable[[str], float]:
    def convert(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            msg = f"{raw!r} is not a number"
            raise ValueError(msg)
        too_small = value <= minimum if open_min else value < minimum
        if too_small or (maximum is not None and value > maximum):
            low = f"above {minimum}" if open_min else f"at least {minimum}"
            bounds = low if maximum is None else f"{low} and at most {maximum}"
            msg = f"must be {bounds}, got {value}"
            raise ValueError(msg)
        return value

    return convert


def _name(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        value = raw.strip()
        if not value or not pattern.match(value) or len(value) > 253:
            msg = f"{raw!r} is not a valid {what} (lowercase letters, digits, '-')"
            raise ValueError(msg)
        return value

    return convert


def _optional_name(pattern: re.Pattern[str], what: str) -> Callable[[str], str | None]:
    required = _name(pattern, what)

    def convert(raw: str) -> str | None:
        return None if not raw.strip() else required(raw)

    return convert


def _namespaces(raw: str) -> tuple[str, ...]:
    names = [part.strip() for part in raw.split(",") if part.strip()]
    check = _name(_DNS_LABEL, "namespace name")
    return tuple(dict.fromkeys(check(name) for name in names))


def _command(raw: str) -> tuple[str, ...]:
    try:
        words = shlex.split(raw)
    except ValueError as exc:
        msg = f"cannot split {raw!r} into words ({exc}); quote it like a shell command line"
        raise ValueError(msg) from None
    if not words:
        msg = "must not be empty; give a command such as 'python -m videodl.worker'"
        raise ValueError(msg)
    return tuple(words)


def _pairs(raw: str) -> list[tuple[str, str]]:
    pairs = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            msg = f"{item!r} is not KEY=VALUE; separate pairs with commas"
            raise ValueError(msg)
        pairs.append((key.strip(), value.strip()))
    return pairs


def _resources(raw: str) -> dict[str, str]:
    resources: dict[str, str] = {}
    for key, value in _pairs(raw):
        if not _RESOURCE_NAME.match(key):
            msg = f"{key!r} is not a resource name such as cpu or memory"
            raise ValueError(msg)
        if not quantity.is_quantity(value):
            msg = f"{value!r} for {key} is not a quantity such as 500m, 256Mi or 1"
            raise ValueError(msg)
        resources[key] = value
    return resources


def _priority_class_names(raw: str) -> dict[Priority, str]:
    names = worker_settings.default_priority_class_names()
    levels = {level.value.lower(): level for level in Priority}
    for key, value in _pairs(raw):
        level = levels.get(key.lower())
        if level is None:
            known = ", ".join(p.value for p in Priority)
            msg = f"{key!r} is not a priority level; use one of {known}"
            raise ValueError(msg)
        if not value:
            # An empty name switches priority classes off for that level.
            del names[level]
            continue
        if not _DNS_SUBDOMAIN.match(value):
            msg = f"{value!r} for {key} is not a valid PriorityClass name"
            raise ValueError(msg)
        names[level] = value
    return names


def _image(raw: str) -> str:
    value = raw.strip()
    if not value or any(c.isspace() for c in value):
        msg = f"{raw!r} is not an image reference such as ghcr.io/org/worker:1.0"
        raise ValueError(msg)
    return value


def _absolute_path(raw: str) -> str:
    value = raw.strip()
    if not value.startswith("/") or ".." in value.split("/") or value == "/":
        msg = f"{raw!r} is not an absolute directory path such as /tmp"
        raise ValueError(msg)
    return value.rstrip("/")


def _networks(raw: str) -> tuple[str, ...]:
    return worker_environment.parse_networks(raw)


def _optional_pattern(pattern: str, what: str) -> Callable[[str], str | None]:
    compiled = re.compile(pattern)

    def convert(raw: str) -> str | None:
        value = raw.strip()
        if value and not compiled.match(value):
            msg = f"{raw!r} is not {what}"
            raise ValueError(msg)
        return value or None

    return convert


def _optional_bool(raw: str) -> bool | None:
    value = raw.strip().lower()
    if value in ("", "auto"):
        return None
    if value in ("true", "false"):
        return value == "true"
    msg = f"{raw!r} must be true, false or empty (auto)"
    raise ValueError(msg)


def _optional_quantity(raw: str) -> str | None:
    value = raw.strip()
    if value and not quantity.is_quantity(value):
        msg = f"{raw!r} is not a quantity such as 20Gi"
        raise ValueError(msg)
    return value or None


def _text(raw: str) -> str:
    return raw.strip()


def _optional_text(raw: str) -> str | None:
    return raw.strip() or None


def _label_value(raw: str) -> str:
    value = raw.strip()
    if not value or len(value) > 63 or not _LABEL_VALUE.match(value):
        msg = f"{raw!r} is not a label value (at most 63 letters, digits, '-', '_', '.')"
        raise ValueError(msg)
    return value


def _log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        msg = f"{raw!r} is not one of DEBUG, INFO, WARNING, ERROR"
        raise ValueError(msg)
    return value


#: The name given to ``--peering`` (a flag of its own, see the settings loader).
lease_name: Final = _name(_DNS_SUBDOMAIN, "Lease name")


@dataclasses.dataclass(frozen=True)
class Option:
    """One setting: its dotted path in ``Settings``, its flag, variable and parser."""

    path: str
    flag: str
    convert: Callable[[str], Any]
    help: str
    metavar: str = "VALUE"

    @property
    def env(self) -> str:
        """The environment variable: ``VIDEODL_`` and the flag in upper snake case."""
        return "VIDEODL_" + self.flag.removeprefix("--").replace("-", "_").upper()


OPTIONS: Final[tuple[Option, ...]] = (
    Option("watch.namespaces", "--namespaces", _namespaces,
           "comma-separated namespaces to watch; empty watches the whole cluster", "NS,..."),
    Option("admission.max_running", "--max-running", _int(1),
           "running workers in the whole cluster", "N"),
    Option("admission.max_running_per_namespace", "--max-running-per-namespace",
           _optional_int(1), "running workers per namespace; empty means no per-namespace limit",
           "N"),
    Option("admission.aging_seconds", "--aging-seconds", _float(0, open_min=True),
           "seconds a queued download waits before it counts as one priority level higher",
           "SECONDS"),
    Option("admission.interval_seconds", "--admission-interval-seconds",
           _float(0.05, 60), "longest pause between two admission passes", "SECONDS"),
    Option("admission.backoff_jitter", "--backoff-jitter", _float(0, 1),
           "fraction (0 to 1) by which retry delays are randomly shortened", "FRACTION"),
    Option("worker.image", "--worker-image", _image, "container image of worker Pods", "IMAGE"),
    Option("worker.command", "--worker-command", _command,
           "command of the worker container, split like a shell line", "COMMAND"),
    Option("playlist.command", "--indexer-command", _command,
           "command of the VideoPlaylist indexer container", "COMMAND"),
    Option("worker.cleanup_command", "--cleanup-command", _command,
           "command of the file cleanup container (deletionPolicy: Delete)", "COMMAND"),
    Option("worker.service_account", "--worker-service-account",
           _name(_DNS_SUBDOMAIN, "ServiceAccount name"),
           "ServiceAccount of worker Pods (needs patch on videodownloads/status)", "NAME"),
    Option("worker.priority_class_names", "--priority-class-names", _priority_class_names,
           "PriorityClass per level, e.g. Critical=urgent,Lowest= (empty: none); "
           "unlisted levels use videodl-<level>", "LEVEL=NAME,..."),
    Option("worker.requests", "--worker-requests", _resources,
           "default resource requests of workers, e.g. cpu=100m,memory=128Mi", "RES=QTY,..."),
    Option("worker.limits", "--worker-limits", _resources,
           "default resource limits of workers, e.g. memory=1Gi", "RES=QTY,..."),
    Option("worker.default_claim", "--default-claim",
           _optional_name(_DNS_SUBDOMAIN, "PersistentVolumeClaim name"),
           "claim for downloads that do not name one (in their own namespace)", "NAME"),
    Option("worker.s3.endpoint", "--s3-endpoint",
           _optional_pattern(S3_ENDPOINT_PATTERN, "an http(s) URL such as https://s3.example.com"),
           "S3 endpoint for downloads whose spec.output.s3 names none; empty: AWS", "URL"),
    Option("worker.s3.bucket", "--s3-bucket",
           _optional_pattern(S3_BUCKET_PATTERN, "an S3 bucket name (3-63 of a-z 0-9 . -)"),
           "bucket for downloads whose spec.output.s3 names none", "BUCKET"),
    Option("worker.s3.region", "--s3-region", _optional_text,
           "region S3 requests are signed for when the spec names none (us-east-1)", "REGION"),
    Option("worker.s3.credentials_secret", "--s3-credentials-secret",
           _optional_name(_DNS_SUBDOMAIN, "Secret name"),
           "Secret (keys accessKeyId, secretAccessKey) in the download's namespace for "
           "downloads whose spec.output.s3 names none", "NAME"),
    Option("worker.s3.force_path_style", "--s3-force-path-style", _optional_bool,
           "path-style bucket addressing: true, false, or empty for 'when an endpoint is set'",
           "BOOL"),
    Option("worker.s3.scratch_size_limit", "--s3-scratch-size-limit", _optional_quantity,
           "size limit of the scratch emptyDir of S3 downloads; empty: none", "QUANTITY"),
    Option("worker.s3.part_size_bytes", "--s3-part-size-bytes", _int(5 * 1024 * 1024),
           "least part size of multipart uploads (S3's minimum is 5 MiB)", "BYTES"),
    Option("worker.active_deadline_seconds", "--active-deadline-seconds", _int(1, 604800),
           "longest an attempt may run when the spec does not say", "SECONDS"),
    Option("worker.progress_interval_seconds", "--progress-interval-seconds", _float(0),
           "least seconds between two progress updates of a worker", "SECONDS"),
    Option("worker.termination_grace_seconds", "--termination-grace-seconds", _int(1, 3600),
           "seconds a stopped worker gets to leave a resumable partial file", "SECONDS"),
    Option("worker.scratch_dir", "--worker-scratch-dir", _absolute_path,
           "where worker Pods mount their scratch emptyDir", "PATH"),
    Option("worker.allowed_networks", worker_environment.ALLOWED_NETWORKS_FLAG, _networks,
           "comma-separated CIDRs workers may connect to besides public addresses, e.g. "
           "127.0.0.0/8,::1/128; empty: public addresses only", "CIDR,..."),
    Option("worker.unschedulable_grace_seconds", "--worker-unschedulable-grace-seconds",
           _float(0, 3600), "how long a worker Pod no node fits may wait (for preemption) "
           "before the download is Blocked and its slot freed", "SECONDS"),
    Option("worker.start_timeout_seconds", "--worker-start-timeout-seconds",
           _float(1, 86400), "longest a worker Pod may stay unstarted when Kubernetes gives "
           "no reason", "SECONDS"),
    Option("worker.blocked_retry_seconds", "--worker-blocked-retry-seconds",
           _float(1, 3600), "seconds between two tries of a download whose worker could not "
           "start (a missing Secret or claim); no attempt is used", "SECONDS"),
    Option("metrics.port", "--metrics-port", _int(0, 65535),
           "port of /metrics and /healthz (0 picks a free port)", "PORT"),
    Option("metrics.bind_address", "--metrics-bind-address", _text,
           "address the metrics endpoint listens on", "ADDRESS"),
    Option("breaker.configmap_name", "--breaker-configmap",
           _name(_DNS_SUBDOMAIN, "ConfigMap name"), "ConfigMap holding circuit breaker state",
           "NAME"),
    Option("breaker.configmap_namespace", "--breaker-namespace",
           _name(_DNS_LABEL, "namespace name"), "namespace of the breaker ConfigMap", "NS"),
    Option("breaker.config.failure_threshold", "--breaker-failure-threshold", _int(1),
           "throttled or transient failures in a row that open a site's breaker", "N"),
    Option("breaker.config.window_size", "--breaker-window-size", _int(1, 1000),
           "last outcomes per site kept for the failure-rate rule", "N"),
    Option("breaker.config.min_calls", "--breaker-min-calls", _int(1, 1000),
           "outcomes the window must hold before the failure-rate rule applies", "N"),
    Option("breaker.config.failure_ratio", "--breaker-failure-ratio", _float(0, 1, open_min=True),
           "fraction of failures in the window that opens a site's breaker", "FRACTION"),
    Option("breaker.config.open_base_seconds", "--breaker-open-seconds", _float(0, open_min=True),
           "open duration after a first trip; doubles per consecutive trip", "SECONDS"),
    Option("breaker.config.open_max_seconds", "--breaker-max-open-seconds",
           _float(0, open_min=True), "longest open duration", "SECONDS"),
    Option("breaker.config.open_jitter", "--breaker-open-jitter", _float(0, 1),
           "fraction (0 to 1) by which open durations are randomly shortened", "FRACTION"),
    Option("breaker.config.half_open_probes", "--breaker-probes", _int(1, 100),
           "downloads admitted at once as probes while a site is half-open", "N"),
    Option("breaker.config.probe_timeout_seconds", "--breaker-probe-timeout-seconds",
           _float(0, open_min=True), "longest a probe holds its slot without an outcome",
           "SECONDS"),
    Option("breaker.config.close_after_successes", "--breaker-close-after-successes", _int(1, 100),
           "probe successes that close a half-open site", "N"),
    Option("instance", "--instance", _label_value,
           "app.kubernetes.io/instance label of worker Pods; separates operator instances",
           "NAME"),
    Option("kubeconfig", "--kubeconfig", _optional_text,
           "kubeconfig to use; unset: in-cluster config, then KUBECONFIG", "PATH"),
    Option("reconcile_workers", "--reconcile-workers", _int(1, 256),
           "downloads reconciled at the same time", "N"),
    Option("missed_slots_warning", "--missed-slots-warning", _int(1, 100000),
           "slots a VideoSubscription may miss before a TooManyMissedTimes warning", "N"),
    Option("log_level", "--log-level", _log_level, "DEBUG, INFO, WARNING or ERROR", "LEVEL"),
)  # fmt: skip
