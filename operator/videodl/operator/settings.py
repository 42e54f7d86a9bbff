"""The operator's configuration: typed settings grouped by concern, read from flags and env.

Every setting has a command-line flag and a ``VIDEODL_*`` environment variable; a flag wins
over the variable, the variable over the default. :func:`load` checks every value and
raises :class:`SettingsError` listing each bad one with the flag, the variable and the fix.
Pure: the caller passes ``argv`` and the environment.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from videodl.api._base import DNS_SUBDOMAIN_PATTERN, QUANTITY_PATTERN
from videodl.api.spec import Priority

__all__ = [
    "OPTIONS",
    "AdmissionSettings",
    "BreakerSettings",
    "MetricsSettings",
    "Option",
    "Settings",
    "SettingsError",
    "WatchSettings",
    "WorkerSettings",
    "default_priority_class_names",
    "help_text",
    "load",
    "reference_table",
]

_DNS_SUBDOMAIN = re.compile(DNS_SUBDOMAIN_PATTERN)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(QUANTITY_PATTERN)
_RESOURCE_NAME = re.compile(r"^([a-z0-9.-]+/)?[A-Za-z0-9][-A-Za-z0-9_.]*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


class SettingsError(ValueError):
    """One or more settings are invalid; ``problems`` has one readable line per setting."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid operator settings:\n" + "\n".join(f"  {p}" for p in problems))


def default_priority_class_names() -> dict[Priority, str]:
    """``videodl-<level>`` for every priority level, e.g. ``videodl-critical``."""
    return {level: f"videodl-{level.value.lower()}" for level in Priority}


@dataclasses.dataclass(frozen=True)
class WatchSettings:
    """What the operator watches."""

    #: Namespaces to watch; empty means the whole cluster.
    namespaces: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class AdmissionSettings:
    """How many workers run at once, and in which order queued downloads start."""

    #: Running workers in the whole cluster (all watched namespaces).
    max_running: int = 20
    #: Running workers per namespace; None means only the cluster-wide limit applies.
    max_running_per_namespace: int | None = None
    #: Seconds a queued download waits before it is treated as one priority level higher.
    aging_seconds: float = 300.0
    #: Longest pause of the admission loop between two passes (it also wakes on changes).
    interval_seconds: float = 2.0
    #: Fraction by which a retry's backoff delay is randomly shortened (0 disables jitter).
    backoff_jitter: float = 0.2


@dataclasses.dataclass(frozen=True)
class WorkerSettings:
    """How worker Pods are built."""

    image: str = "ghcr.io/videodl/worker:0.1.0"
    command: tuple[str, ...] = (sys.executable, "-m", "videodl.worker")
    #: Command of the short Pod that deletes files of a download with ``deletionPolicy: Delete``.
    cleanup_command: tuple[str, ...] = (sys.executable, "-m", "videodl.cleanup")
    service_account: str = "videodl-worker"
    #: PriorityClass per priority level; a level missing here gets no priorityClassName.
    priority_class_names: Mapping[Priority, str] = dataclasses.field(
        default_factory=default_priority_class_names
    )
    requests: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: {"cpu": "100m", "memory": "128Mi"}
    )
    limits: Mapping[str, str] = dataclasses.field(default_factory=lambda: {"memory": "1Gi"})
    #: Claim used when ``spec.output.persistentVolumeClaim`` is not set.
    default_claim: str | None = None
    #: Longest an attempt may run when ``spec.activeDeadlineSeconds`` is not set.
    active_deadline_seconds: int = 6 * 3600
    progress_interval_seconds: float = 5.0
    termination_grace_seconds: int = 30
    #: Where worker Pods mount their scratch emptyDir (their root file system is read-only).
    scratch_dir: str = "/tmp"  # noqa: S108 - a mount point inside the worker Pod


@dataclasses.dataclass(frozen=True)
class MetricsSettings:
    """The HTTP endpoint serving ``/metrics`` and ``/healthz``."""

    port: int = 8080
    bind_address: str = "0.0.0.0"  # noqa: S104 - scraped from outside the Pod


@dataclasses.dataclass(frozen=True)
class BreakerSettings:
    """Where the per-site circuit breaker keeps its state, and when it trips and recovers."""

    configmap_name: str = "videodl-breaker"
    configmap_namespace: str = "videodl-system"
    #: Counted failures in a row that open a site.
    failure_threshold: int = 5
    #: Outcomes kept for the failure-rate rule, and the least of them before it applies.
    window_size: int = 20
    min_calls: int = 10
    #: Fraction of failures in the window that opens a site.
    failure_ratio: float = 0.5
    #: Open duration of the first trip; it doubles per consecutive trip up to the maximum.
    open_seconds: float = 60.0
    max_open_seconds: float = 1800.0
    open_jitter: float = 0.1
    #: Downloads admitted at once as probes while half-open, and how long one may take.
    probes: int = 1
    probe_timeout_seconds: float = 900.0
    #: Probe successes that close a half-open site.
    close_after_successes: int = 1


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the operator is configured with."""

    watch: WatchSettings = dataclasses.field(default_factory=WatchSettings)
    admission: AdmissionSettings = dataclasses.field(default_factory=AdmissionSettings)
    worker: WorkerSettings = dataclasses.field(default_factory=WorkerSettings)
    metrics: MetricsSettings = dataclasses.field(default_factory=MetricsSettings)
    breaker: BreakerSettings = dataclasses.field(default_factory=BreakerSettings)
    #: ``app.kubernetes.io/instance`` of this operator's Pods; tells operators apart.
    instance: str = "videodl"
    #: Admin kubeconfig path; unset uses the in-cluster config, then ``KUBECONFIG``.
    kubeconfig: str | None = None
    #: Downloads reconciled concurrently.
    reconcile_workers: int = 32
    log_level: str = "INFO"
    #: Name of the Lease that elects one active replica; None runs standalone.
    peering: str | None = None


# --- converters: raw string -> value, raising ValueError with the fix -----------------------


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
        if not _QUANTITY.match(value):
            msg = f"{value!r} for {key} is not a quantity such as 500m, 256Mi or 1"
            raise ValueError(msg)
        resources[key] = value
    return resources


def _priority_class_names(raw: str) -> dict[Priority, str]:
    names = default_priority_class_names()
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


@dataclasses.dataclass(frozen=True)
class Option:
    """One setting: where it lives in :class:`Settings`, its flag, variable and parser."""

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
    Option("worker.active_deadline_seconds", "--active-deadline-seconds", _int(1, 604800),
           "longest an attempt may run when the spec does not say", "SECONDS"),
    Option("worker.progress_interval_seconds", "--progress-interval-seconds", _float(0),
           "least seconds between two progress updates of a worker", "SECONDS"),
    Option("worker.termination_grace_seconds", "--termination-grace-seconds", _int(1, 3600),
           "seconds a stopped worker gets to leave a resumable partial file", "SECONDS"),
    Option("worker.scratch_dir", "--worker-scratch-dir", _absolute_path,
           "where worker Pods mount their scratch emptyDir", "PATH"),
    Option("metrics.port", "--metrics-port", _int(0, 65535),
           "port of /metrics and /healthz (0 picks a free port)", "PORT"),
    Option("metrics.bind_address", "--metrics-bind-address", _text,
           "address the metrics endpoint listens on", "ADDRESS"),
    Option("breaker.configmap_name", "--breaker-configmap",
           _name(_DNS_SUBDOMAIN, "ConfigMap name"), "ConfigMap holding circuit breaker state",
           "NAME"),
    Option("breaker.configmap_namespace", "--breaker-namespace",
           _name(_DNS_LABEL, "namespace name"), "namespace of the breaker ConfigMap", "NS"),
    Option("breaker.failure_threshold", "--breaker-failure-threshold", _int(1),
           "throttled or transient failures in a row that open a site's breaker", "N"),
    Option("breaker.window_size", "--breaker-window-size", _int(1, 1000),
           "last outcomes per site kept for the failure-rate rule", "N"),
    Option("breaker.min_calls", "--breaker-min-calls", _int(1, 1000),
           "outcomes the window must hold before the failure-rate rule applies", "N"),
    Option("breaker.failure_ratio", "--breaker-failure-ratio", _float(0, 1, open_min=True),
           "fraction of failures in the window that opens a site's breaker", "FRACTION"),
    Option("breaker.open_seconds", "--breaker-open-seconds", _float(0, open_min=True),
           "open duration after a first trip; doubles per consecutive trip", "SECONDS"),
    Option("breaker.max_open_seconds", "--breaker-max-open-seconds", _float(0, open_min=True),
           "longest open duration", "SECONDS"),
    Option("breaker.open_jitter", "--breaker-open-jitter", _float(0, 1),
           "fraction (0 to 1) by which open durations are randomly shortened", "FRACTION"),
    Option("breaker.probes", "--breaker-probes", _int(1, 100),
           "downloads admitted at once as probes while a site is half-open", "N"),
    Option("breaker.probe_timeout_seconds", "--breaker-probe-timeout-seconds",
           _float(0, open_min=True), "longest a probe holds its slot without an outcome",
           "SECONDS"),
    Option("breaker.close_after_successes", "--breaker-close-after-successes", _int(1, 100),
           "probe successes that close a half-open site", "N"),
    Option("instance", "--instance", _label_value,
           "app.kubernetes.io/instance label of worker Pods; separates operator instances",
           "NAME"),
    Option("kubeconfig", "--kubeconfig", _optional_text,
           "kubeconfig to use; unset: in-cluster config, then KUBECONFIG", "PATH"),
    Option("reconcile_workers", "--reconcile-workers", _int(1, 256),
           "downloads reconciled at the same time", "N"),
    Option("log_level", "--log-level", _log_level, "DEBUG, INFO, WARNING or ERROR", "LEVEL"),
)  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="videodl-operator",
        description=(
            "Run the VideoDownload operator. Every flag can also be set with the "
            "environment variable shown in brackets; flags win."
        ),
        exit_on_error=False,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--standalone",
        action="store_true",
        help="run as the only replica (the default)",
    )
    mode.add_argument(
        "--peering",
        metavar="NAME",
        default=None,
        help="run as one of several replicas: the one holding the Lease NAME is active",
    )
    for option in OPTIONS:
        parser.add_argument(
            option.flag,
            dest=option.path,
            metavar=option.metavar,
            default=None,
            help=f"{option.help} [{option.env}]",
        )
    return parser


def _replace(settings: Settings, path: str, value: Any) -> Settings:
    group, _, field = path.partition(".")
    if not field:
        return dataclasses.replace(settings, **{group: value})
    section = getattr(settings, group)
    return dataclasses.replace(settings, **{group: dataclasses.replace(section, **{field: value})})


def _cross_checks(settings: Settings) -> list[str]:
    problems = []
    per_ns = settings.admission.max_running_per_namespace
    if per_ns is not None and per_ns > settings.admission.max_running:
        problems.append(
            f"--max-running-per-namespace [VIDEODL_MAX_RUNNING_PER_NAMESPACE]: {per_ns} is above "
            f"--max-running ({settings.admission.max_running}); lower it or raise --max-running"
        )
    breaker = settings.breaker
    if breaker.min_calls > breaker.window_size:
        problems.append(
            f"--breaker-min-calls [VIDEODL_BREAKER_MIN_CALLS]: {breaker.min_calls} is above "
            f"--breaker-window-size ({breaker.window_size}); lower it or widen the window"
        )
    if breaker.open_seconds > breaker.max_open_seconds:
        problems.append(
            f"--breaker-open-seconds [VIDEODL_BREAKER_OPEN_SECONDS]: {breaker.open_seconds} is "
            f"above --breaker-max-open-seconds ({breaker.max_open_seconds}); lower it or raise "
            "the maximum"
        )
    return problems


def _default_text(value: Any) -> str:
    if value is None or value == ():
        return "(unset)"
    if isinstance(value, tuple):
        return shlex.join(str(v) for v in value)
    if isinstance(value, Mapping):
        pairs = (f"{getattr(k, 'value', k)}={v}" for k, v in value.items())
        return ",".join(pairs)
    return str(value)


def reference_table() -> str:
    """The settings as a Markdown table: flag, variable, default, meaning."""
    defaults = Settings()
    rows = ["| Flag | Environment variable | Default | Meaning |", "|---|---|---|---|"]
    for option in OPTIONS:
        value: Any = defaults
        for part in option.path.split("."):
            value = getattr(value, part)
        default = _default_text(value).replace("|", "\\|")
        if option.path in ("worker.command", "worker.cleanup_command"):
            default = default.replace(sys.executable, "<python>")
        rows.append(f"| `{option.flag}` | `{option.env}` | `{default}` | {option.help} |")
    return "\n".join(rows) + "\n"


def help_text() -> str:
    """The ``--help`` text: every flag with its variable."""
    return _parser().format_help()


def load(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    """Settings from flags (``argv`` without the program name) and environment variables.

    Raises :class:`SettingsError` naming every bad value, its flag and its variable.
    """
    parser = _parser()
    try:
        namespace, unknown = parser.parse_known_args(list(argv))
    except argparse.ArgumentError as exc:
        raise SettingsError([str(exc)]) from None
    problems = [f"{arg}: unknown argument; see --help" for arg in unknown]
    settings = Settings()
    for option in OPTIONS:
        raw = getattr(namespace, option.path)
        source = option.flag
        if raw is None:
            raw = environ.get(option.env)
            source = option.env
        if raw is None:
            continue
        try:
            value = option.convert(raw)
        except ValueError as exc:
            problems.append(f"{option.flag} [{option.env}] (from {source}): {exc}")
            continue
        settings = _replace(settings, option.path, value)
    if namespace.peering is not None:
        try:
            peering = _name(_DNS_SUBDOMAIN, "Lease name")(namespace.peering)
        except ValueError as exc:
            problems.append(f"--peering: {exc}")
        else:
            settings = dataclasses.replace(settings, peering=peering)
    if not problems:
        problems.extend(_cross_checks(settings))
    if problems:
        raise SettingsError(problems)
    return settings
