"""The operator's configuration: typed settings grouped by concern, read from flags and env.

Every setting has a command-line flag and a ``VIDEODL_*`` environment variable (the table is
:data:`videodl.operator.options.OPTIONS`); a flag wins over the variable, the variable over
the default. :func:`load` checks every value and raises :class:`SettingsError` listing each
bad one with the flag, the variable and the fix. A group of settings that a lower layer uses
is defined in that layer and only collected here:
:class:`~videodl.reconcile.download.settings.WorkerSettings` and
:class:`~videodl.breaker.settings.BreakerSettings` (which embeds the state machine's own
:class:`~videodl.core.breaker_config.BreakerConfig`, so its cross-checks are that class's).
Pure: the caller passes ``argv`` and the environment.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Final

from videodl.api.resource import MANAGER
from videodl.breaker.settings import BreakerSettings
from videodl.operator import options
from videodl.reconcile.download.settings import WorkerSettings
from videodl.reconcile.playlist.settings import IndexerSettings

__all__ = [
    "AdmissionSettings",
    "MetricsSettings",
    "Settings",
    "SettingsError",
    "WatchSettings",
    "help_text",
    "load",
    "reference_table",
]

#: What to do when the breaker's state machine refuses a combination of its tunables, by
#: the tunable its message names first; the state machine itself says what is wrong.
_BREAKER_FIXES: Final = {
    "min_calls": "lower it or widen the window",
    "open_base_seconds": "lower it or raise the maximum",
}


class SettingsError(ValueError):
    """One or more settings are invalid; ``problems`` has one readable line per setting."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid operator settings:\n" + "\n".join(f"  {p}" for p in problems))


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
class MetricsSettings:
    """The HTTP endpoint serving ``/metrics`` and ``/healthz``."""

    port: int = 8080
    bind_address: str = "0.0.0.0"  # noqa: S104 - scraped from outside the Pod


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the operator is configured with."""

    watch: WatchSettings = dataclasses.field(default_factory=WatchSettings)
    admission: AdmissionSettings = dataclasses.field(default_factory=AdmissionSettings)
    worker: WorkerSettings = dataclasses.field(default_factory=WorkerSettings)
    metrics: MetricsSettings = dataclasses.field(default_factory=MetricsSettings)
    breaker: BreakerSettings = dataclasses.field(default_factory=BreakerSettings)
    playlist: IndexerSettings = dataclasses.field(default_factory=IndexerSettings)
    #: ``app.kubernetes.io/instance`` of this operator's Pods; tells operators apart.
    instance: str = "videodl"
    #: Admin kubeconfig path; unset uses the in-cluster config, then ``KUBECONFIG``.
    kubeconfig: str | None = None
    #: Downloads reconciled concurrently.
    reconcile_workers: int = 32
    #: A subscription that missed more slots than this gets a ``TooManyMissedTimes`` warning.
    missed_slots_warning: int = 100
    log_level: str = "INFO"
    #: Name of the Lease that elects one active replica; None runs standalone.
    peering: str | None = None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=MANAGER,
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
    for option in options.OPTIONS:
        parser.add_argument(
            option.flag,
            dest=option.path,
            metavar=option.metavar,
            default=None,
            help=f"{option.help} [{option.env}]",
        )
    return parser


@dataclasses.dataclass(frozen=True)
class _GroupError:
    """A group of settings refused its values as a whole; ``path`` is the group's."""

    path: str
    error: ValueError


def _replace(
    section: Any, values: Mapping[str, Any], errors: list[_GroupError], prefix: str = ""
) -> Any:
    """``section`` with the values at dotted paths below it, each group built once.

    A group such as :class:`~videodl.core.breaker_config.BreakerConfig` checks its fields together
    when it is built, so all of its fields are set in one step, never one by one. A group
    that refuses its values keeps its defaults and adds to ``errors``, so the other groups
    are still built and checked.
    """
    direct: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for path, value in values.items():
        field, _, rest = path.partition(".")
        if rest:
            nested.setdefault(field, {})[rest] = value
        else:
            direct[field] = value
    for field, below in nested.items():
        direct[field] = _replace(getattr(section, field), below, errors, f"{prefix}{field}.")
    if not direct:
        return section
    try:
        return dataclasses.replace(section, **direct)
    except ValueError as exc:
        errors.append(_GroupError(prefix.rstrip("."), exc))
        return section


def _group_problem(error: _GroupError) -> str:
    """The refusal of a group, told with flags and variables instead of field names."""
    fields = {
        option.path.removeprefix(f"{error.path}."): option
        for option in options.OPTIONS
        if option.path.startswith(f"{error.path}.")
    }
    text = str(error.error)
    # Longest names first, so that e.g. ``open_max_seconds`` is not read as a shorter name.
    names = sorted(fields, key=len, reverse=True)
    first = next((name for name in names if text.startswith(name)), None)
    if names:
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
        text = pattern.sub(lambda match: fields[match.group(1)].flag, text)
    if first is None:
        return f"{error.path}: {text}"
    option = fields[first]
    fix = _BREAKER_FIXES.get(first, "change it or the setting it is compared with")
    return f"{option.flag} [{option.env}]: {text}; {fix}"


def _cross_checks(settings: Settings) -> list[str]:
    problems = []
    per_ns = settings.admission.max_running_per_namespace
    if per_ns is not None and per_ns > settings.admission.max_running:
        problems.append(
            f"--max-running-per-namespace [VIDEODL_MAX_RUNNING_PER_NAMESPACE]: {per_ns} is above "
            f"--max-running ({settings.admission.max_running}); lower it or raise --max-running"
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
    for option in options.OPTIONS:
        value: Any = defaults
        for part in option.path.split("."):
            value = getattr(value, part)
        interpreter = option.path in (
            "worker.command",
            "worker.cleanup_command",
            "playlist.command",
        )
        if interpreter:
            # Swapped before quoting: the interpreter's path may hold spaces, the word not.
            value = tuple("PYTHON" if word == sys.executable else word for word in value)
        default = _default_text(value).replace("|", "\\|")
        if interpreter:
            default = default.replace("PYTHON", "<python>")
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
    values: dict[str, Any] = {}
    for option in options.OPTIONS:
        raw = getattr(namespace, option.path)
        source = option.flag
        if raw is None:
            raw = environ.get(option.env)
            source = option.env
        if raw is None:
            continue
        try:
            values[option.path] = option.convert(raw)
        except ValueError as exc:
            problems.append(f"{option.flag} [{option.env}] (from {source}): {exc}")
    if namespace.peering is not None:
        try:
            values["peering"] = options.lease_name(namespace.peering)
        except ValueError as exc:
            problems.append(f"--peering: {exc}")
    if problems:
        raise SettingsError(problems)
    errors: list[_GroupError] = []
    settings: Settings = _replace(Settings(), values, errors)
    problems.extend(_group_problem(error) for error in errors)
    problems.extend(_cross_checks(settings))
    if problems:
        raise SettingsError(problems)
    return settings
