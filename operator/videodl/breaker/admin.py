"""Administrator commands, given as annotations on the breaker's ConfigMap.

``videodl.dev/reset=<site>[,<site>...]|all``
    Close the named sites (or every site in the ConfigMap) and clear their counters.
``videodl.dev/force-open=<site>[,until=<RFC3339 time>]``
    Open a site until the given time (then it probes as usual) or, without ``until``, until
    it is reset.

The operator applies a command as soon as its watch sees it, in the same conditional write
that removes the annotation and records the outcome in ``videodl.dev/last-command``, so a
command is applied exactly once however many operator processes see it. A reset runs
before a force-open given at the same time. A command that cannot be applied is removed
too, and ``videodl.dev/last-command`` says why. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from videodl.breaker.keys import validate_key
from videodl.core import breaker, breaker_state

__all__ = [
    "ANNOTATION_FORCE_OPEN",
    "ANNOTATION_LAST_COMMAND",
    "ANNOTATION_RESET",
    "COMMAND_ANNOTATIONS",
    "Applied",
    "CommandError",
    "ForceOpen",
    "Reset",
    "apply",
    "parse_force_open",
    "parse_reset",
]

ANNOTATION_RESET: Final = "videodl.dev/reset"
ANNOTATION_FORCE_OPEN: Final = "videodl.dev/force-open"
#: Written by the operator: the time, the last command and what came of it.
ANNOTATION_LAST_COMMAND: Final = "videodl.dev/last-command"
COMMAND_ANNOTATIONS: Final = (ANNOTATION_RESET, ANNOTATION_FORCE_OPEN)
_ALL: Final = "all"


class CommandError(ValueError):
    """An annotation's value is not a command; the message says how to write it."""


@dataclasses.dataclass(frozen=True)
class Reset:
    """Close ``sites``; ``None`` means every site."""

    sites: tuple[str, ...] | None


@dataclasses.dataclass(frozen=True)
class ForceOpen:
    """Open ``site`` until ``until`` (``None``: until reset)."""

    site: str
    until: datetime | None


def _site(raw: str, annotation: str, example: str) -> str:
    try:
        return validate_key(raw)
    except ValueError as exc:
        msg = f"{annotation}: {exc}; for example {annotation}={example}"
        raise CommandError(msg) from None


def parse_reset(value: str) -> Reset:
    """Parse ``all`` or a comma-separated list of site keys."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts:
        msg = f"{ANNOTATION_RESET}: give a site key or 'all', e.g. {ANNOTATION_RESET}=all"
        raise CommandError(msg)
    if any(p.lower() == _ALL for p in parts):
        return Reset(sites=None)
    return Reset(sites=tuple(dict.fromkeys(_site(p, ANNOTATION_RESET, "Youtube") for p in parts)))


def parse_force_open(value: str) -> ForceOpen:
    """Parse ``<site>`` or ``<site>,until=<RFC3339 time>``."""
    site_part, _, rest = value.partition(",")
    example = "Youtube,until=2030-01-01T00:00:00Z"
    site = _site(site_part.strip(), ANNOTATION_FORCE_OPEN, example)
    until: datetime | None = None
    for option in (o.strip() for o in rest.split(",") if o.strip()):
        key, sep, raw = option.partition("=")
        if key.strip() != "until" or not sep:
            msg = (
                f"{ANNOTATION_FORCE_OPEN}: unknown option {option!r}; the only option is "
                f"until=<RFC3339 time>, e.g. {ANNOTATION_FORCE_OPEN}={example}"
            )
            raise CommandError(msg)
        until = _rfc3339(raw.strip(), example)
    return ForceOpen(site=site, until=until)


def _rfc3339(raw: str, example: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        msg = (
            f"{ANNOTATION_FORCE_OPEN}: until={raw!r} is not an RFC 3339 time with a zone; "
            f"write it like {ANNOTATION_FORCE_OPEN}={example}"
        )
        raise CommandError(msg)
    return moment


@dataclasses.dataclass(frozen=True)
class Applied:
    """What applying the commands found on the ConfigMap changes, and what it reports."""

    #: New values of site keys.
    data: Mapping[str, str]
    #: Transitions made, by site, for Events and metrics.
    transitions: tuple[tuple[str, breaker.Transition], ...]
    #: One line per command, also written to ``videodl.dev/last-command``.
    report: tuple[str, ...]
    errors: tuple[str, ...]
    #: The command annotations to remove.
    consumed: tuple[str, ...]

    @property
    def acknowledgement(self) -> str:
        """The value of ``videodl.dev/last-command``."""
        return "; ".join(self.report)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _decode(value: str | None) -> breaker_state.SiteState:
    if value is None:
        return breaker_state.SiteState()
    try:
        return breaker_state.SiteState.from_configmap_value(value)
    except breaker_state.BreakerStateError:
        # A value an administrator broke: the command replaces it with a valid one.
        return breaker_state.SiteState()


def apply(
    data: Mapping[str, str], annotations: Mapping[str, str], *, now: datetime
) -> Applied | None:
    """Apply the commands in ``annotations`` to the site states in ``data``.

    Returns ``None`` when there is no command. ``now`` is timezone-aware.
    """
    present = [a for a in COMMAND_ANNOTATIONS if a in annotations]
    if not present:
        return None
    stamp = _iso(now)
    changed: dict[str, str] = {}
    transitions: list[tuple[str, breaker.Transition]] = []
    report: list[str] = []
    errors: list[str] = []

    def current(site: str) -> breaker_state.SiteState:
        return _decode(changed.get(site, data.get(site)))

    def store(site: str, state: breaker_state.SiteState, transition: breaker.Transition) -> None:
        changed[site] = state.to_configmap_value()
        transitions.append((site, transition))

    if ANNOTATION_RESET in annotations:
        value = annotations[ANNOTATION_RESET]
        try:
            command = parse_reset(value)
        except CommandError as exc:
            errors.append(str(exc))
            report.append(f"{stamp} reset={value}: error: {exc}")
        else:
            sites = sorted(data) if command.sites is None else command.sites
            for site in sites:
                state, transition = breaker.reset(current(site), now=now)
                store(site, state, transition)
            report.append(f"{stamp} reset={value}: closed {len(sites)} site(s)")

    if ANNOTATION_FORCE_OPEN in annotations:
        value = annotations[ANNOTATION_FORCE_OPEN]
        try:
            force = parse_force_open(value)
            state, transition = breaker.force_open(current(force.site), now=now, until=force.until)
        except (CommandError, ValueError) as exc:
            errors.append(str(exc))
            report.append(f"{stamp} force-open={value}: error: {exc}")
        else:
            store(force.site, state, transition)
            span = "until reset" if state.open_until is None else f"until {_iso(state.open_until)}"
            report.append(f"{stamp} force-open={value}: {force.site} open {span}")

    return Applied(
        data=changed,
        transitions=tuple(transitions),
        report=tuple(report),
        errors=tuple(errors),
        consumed=tuple(present),
    )
