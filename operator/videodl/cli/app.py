"""The ``kubectl videodl`` commands: thin wiring of the pure modules to the cluster.

Each command reads what it needs through :class:`videodl.cli.session.Session`, computes
what to show with the pure modules and prints it with rich. Errors are
:class:`videodl.cli.problems.CliError`: one line on stderr and exit code 1 (2 for usage).
"""

from __future__ import annotations

import datetime
import itertools
import json
import queue as queues
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import click
from click.shell_completion import CompletionItem, get_completion_class
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from videodl.api import resource
from videodl.api.media import FormatPreset
from videodl.api.spec import Priority
from videodl.cli import breakers, describe, formatting, kinds, operatorconfig, queueview, render
from videodl.cli.kinds import DOWNLOADS, Kind
from videodl.cli.live import LiveTable
from videodl.cli.operatorconfig import OperatorConfig
from videodl.cli.problems import EXIT_FAILURE, CliError
from videodl.cli.session import Session
from videodl.core import ordering
from videodl.core.times import format_time
from videodl.reconcile.download import naming, podspec
from videodl.reconcile.download.record import record_of

__all__ = ["cli", "main"]

PROG: Final = "kubectl-videodl"
#: Labels of the chart's operator Deployment, to read the admission limits from it.
OPERATOR_SELECTOR: Final = "app.kubernetes.io/component=operator,app.kubernetes.io/part-of=videodl"
_OUTPUT = click.Choice(render.OUTPUTS)
_NAME = re.compile(r"[^a-z0-9-]+")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Piped output is not cut to 80 columns: a script reads whole lines.
    return Console(file=stream, width=None if stream.isatty() else 400, soft_wrap=False)


class _Context:
    """The global flags, and the session made from them on first use."""

    def __init__(
        self,
        kubeconfig: str | None,
        context: str | None,
        namespace: str | None,
        all_namespaces: bool,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.namespace = namespace
        self.all_namespaces = all_namespaces
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(
                kubeconfig=self.kubeconfig,
                context=self.context,
                namespace=self.namespace,
                all_namespaces=self.all_namespaces,
            )
        return self._session


def _state(ctx: click.Context) -> _Context:
    state = ctx.find_object(_Context)
    if state is None:  # pragma: no cover - the group always makes one
        raise click.UsageError("internal: no context")
    return state


def _complete_names(
    ctx: click.Context, _: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Names of downloads in the namespace, for shell completion (nothing on any error)."""
    try:
        root = ctx.find_root()
        params = root.params
        session = Session(
            kubeconfig=params.get("kubeconfig"),
            context=params.get("context"),
            namespace=params.get("namespace"),
        )
        found = session.list_objects(DOWNLOADS, session.namespace)
    except (CliError, click.ClickException):
        return []
    names = [str((i.get("metadata") or {}).get("name", "")) for i in found.get("items", [])]
    return [CompletionItem(n) for n in sorted(names) if n.startswith(incomplete)]


class _Group(click.Group):
    """A group whose errors become one message and an exit code, as kubectl prints them."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as exc:
            _console(stderr=True).print(f"[red]error:[/red] {exc.message}", highlight=False)
            ctx.exit(exc.code)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  kubectl videodl get -w                      # watch downloads with live progress bars
  kubectl videodl queue -A                    # the admission order, as the operator sees it
  kubectl videodl add https://example.org/v.mp4 --claim media --wait
  kubectl videodl breaker                     # every site's circuit breaker
  kubectl videodl breaker reset youtube.com
  kubectl videodl describe my-video
  kubectl videodl completion bash > /etc/bash_completion.d/kubectl-videodl
""",
)
@click.option("--kubeconfig", envvar="KUBECONFIG", help="Path to the kubeconfig file to use.")
@click.option("--context", help="The name of the kubeconfig context to use.")
@click.option("-n", "--namespace", help="The namespace (default: the context's namespace).")
@click.option("-A", "--all-namespaces", is_flag=True, help="List and watch across all namespaces.")
@click.version_option(package_name="videodl", prog_name=PROG)
@click.pass_context
def cli(
    ctx: click.Context,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    all_namespaces: bool,
) -> None:
    """See and act on videodl's downloads, queue and circuit breakers.

    A kubectl plugin: on PATH as kubectl-videodl it runs as `kubectl videodl`. Exit codes:
    0 success, 1 a failed request or download, 2 bad usage.
    """
    # KUBECONFIG may list several files; the client merges them when it is left unset.
    if kubeconfig and ":" in kubeconfig:
        kubeconfig = None
    ctx.obj = _Context(kubeconfig, context, namespace, all_namespaces)


# --- get ---------------------------------------------------------------------------------


def _kind_of(word: str) -> Kind:
    kind = kinds.kind_named(word)
    if kind is None:
        known = ", ".join(k.names[0] for k in kinds.KINDS)
        raise CliError(f"unknown kind {word!r}; the kinds are {known}", code=2)
    return kind


def _split_get_args(args: tuple[str, ...]) -> tuple[Kind, str | None]:
    """``get``, ``get NAME``, ``get KIND`` or ``get KIND NAME``."""
    if len(args) > 2:
        raise CliError("get takes at most a kind and a name", code=2)
    if len(args) == 2:
        return _kind_of(args[0]), args[1]
    if len(args) == 1 and kinds.kind_named(args[0]) is not None:
        return _kind_of(args[0]), None
    return DOWNLOADS, (args[0] if args else None)


def _rows(kind: Kind, objects: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[Any]:
    now = _now()
    return [kind.row(objects[key], now) for key in sorted(objects)]


def _print_objects(items: list[dict[str, Any]], output: str, *, single: bool) -> None:
    document: object = items[0] if single and items else render.as_list(items)
    click.echo(render.dump(document, output), nl=False)


@cli.command(
    epilog="""\b
Examples:
  kubectl videodl get                 # downloads in the namespace
  kubectl videodl get -A -o wide      # in every namespace, with URL, Pod and priority
  kubectl videodl get my-video -o yaml
  kubectl videodl get -w              # one live display, updated from a watch
"""
)
@click.argument("args", nargs=-1, shell_complete=_complete_names)
@click.option("-o", "--output", type=_OUTPUT, default="table", show_default=True)
@click.option("-w", "--watch", is_flag=True, help="Keep the display up to date from a watch.")
@click.pass_context
def get(ctx: click.Context, args: tuple[str, ...], output: str, watch: bool) -> None:  # noqa: PLR0912 - one branch per output mode
    """Show downloads: phase, progress, speed, ETA, attempts and why each one waits.

    ARGS is [KIND] [NAME]; the kind defaults to videodownloads.
    """
    state = _state(ctx)
    session = state.session
    kind, name = _split_get_args(args)
    if name is not None:
        objects = {(session.namespace, name): session.get(kind, name)}
        version = str(objects[(session.namespace, name)]["metadata"].get("resourceVersion", ""))
        scope: str | None = session.namespace
    else:
        scope = session.scope()
        listed = session.list_objects(kind, scope)
        objects = {_key(o): o for o in listed.get("items", [])}
        version = str((listed.get("metadata") or {}).get("resourceVersion", ""))
    if output in ("json", "yaml") and not watch:
        _print_objects([objects[k] for k in sorted(objects)], output, single=name is not None)
        return
    wide = output == "wide"
    all_ns = scope is None
    if not watch:
        if not objects:
            where = "any namespace" if all_ns else f"namespace {session.namespace}"
            click.echo(f"No {kind.plural} found in {where}.", err=True)
            return
        _console().print(
            render.rows_table(kind, _rows(kind, objects), wide=wide, all_namespaces=all_ns)
        )
        return
    field = f"metadata.name={name}" if name else ""
    events = _watch_events(session, kind, scope, version=version, field=field, objects=objects)
    # As kubectl's watch does, the objects as they are come first, then every change.
    first = [objects[k] for k in sorted(objects)]
    if output in ("json", "yaml"):
        for obj in itertools.chain(first, events):
            if output == "json":
                click.echo(json.dumps(obj, separators=(",", ":")))
            else:
                click.echo("---\n" + render.dump(obj, "yaml"), nl=False)
        return
    console = _console()
    if not console.is_terminal:
        for obj in itertools.chain(first, events):
            table = render.rows_table(
                kind, [kind.row(obj, _now())], wide=wide, all_namespaces=all_ns
            )
            console.print(table)
        return

    with LiveTable(kind, console=console, wide=wide, all_namespaces=all_ns) as live:
        live.update(objects)
        updates: queues.Queue[dict[str, Any] | BaseException] = queues.Queue()
        thread = threading.Thread(target=_pump, args=(events, updates), daemon=True)
        thread.start()
        while True:
            try:
                item = updates.get(timeout=1.0)
            except queues.Empty:
                item = None
            if isinstance(item, BaseException):
                raise item
            live.update(objects)


def _pump(
    events: Iterator[dict[str, Any]], into: queues.Queue[dict[str, Any] | BaseException]
) -> None:
    try:
        for obj in events:
            into.put(obj)
    except BaseException as exc:  # noqa: BLE001 - handed to the display thread to raise
        into.put(exc)


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace", "")), str(metadata.get("name", ""))


def _watch_events(
    session: Session,
    kind: Kind,
    scope: str | None,
    *,
    version: str,
    field: str,
    objects: dict[tuple[str, str], dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """Changed objects, forever: ``objects`` is kept up to date; a watch that ends is renewed."""
    while True:
        for event in session.watch(kind, scope, resource_version=version, field_selector=field):
            kind_of_event = event.get("type")
            obj = event.get("object") or {}
            if kind_of_event == "ERROR":
                # 410 Gone: the version is too old; list again and go on from there.
                listed = session.list_objects(kind, scope)
                objects.clear()
                objects.update({_key(o): o for o in listed.get("items", []) if _matches(o, field)})
                version = str((listed.get("metadata") or {}).get("resourceVersion", ""))
                break
            version = str((obj.get("metadata") or {}).get("resourceVersion", version))
            if kind_of_event == "BOOKMARK":
                continue
            if kind_of_event == "DELETED":
                objects.pop(_key(obj), None)
            else:
                objects[_key(obj)] = obj
            yield obj


def _matches(obj: Mapping[str, Any], field: str) -> bool:
    return not field or field == f"metadata.name={_key(obj)[1]}"


# --- describe ----------------------------------------------------------------------------


@cli.command(name="describe")
@click.argument("name", shell_complete=_complete_names)
@click.pass_context
def describe_command(ctx: click.Context, name: str) -> None:
    """Show a download with its attempts, failures (class and reason), files and Events.

    \b
    Example:
      kubectl videodl describe my-video
    """
    session = _state(ctx).session
    obj = session.get(DOWNLOADS, name)
    uid = str(obj["metadata"].get("uid", ""))
    label = naming.download_label(name, uid)
    pods = session.pods(f"{naming.LABEL_DOWNLOAD}={label},{naming.LABEL_COMPONENT}=worker")
    events = session.events(uid)
    click.echo(describe.describe(obj, pods=pods, events=events, now=_now()), nl=False)


# --- queue -------------------------------------------------------------------------------


def _operator_config(
    session: Session,
    *,
    operator: str | None,
    max_running: int | None,
    per_namespace: int | None,
    aging: float | None,
) -> OperatorConfig:
    """The operator's settings: its Deployment (given, or found by label), then the flags."""
    found: OperatorConfig = operatorconfig.DEFAULTS
    if operator:
        namespace, _, name = operator.rpartition("/")
        deployment = session.deployment(namespace or session.namespace, name)
        found = operatorconfig.from_deployment(deployment)
    else:
        deployments = session.deployments(OPERATOR_SELECTOR)
        if len(deployments) == 1:
            found = operatorconfig.from_deployment(deployments[0])
    overrides: dict[str, Any] = {}
    if max_running is not None:
        overrides["max_running"] = max_running
    if per_namespace is not None:
        overrides["max_running_per_namespace"] = per_namespace or None
    if aging is not None:
        overrides["aging_seconds"] = aging
    if overrides:
        overrides["source"] = f"{found.source}, with flags"
    return found.model_copy(update=overrides)


def _operator_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        (
            click.option(
                "--operator",
                metavar="[NAMESPACE/]DEPLOYMENT",
                help="The operator Deployment to read settings from (default: found by label).",
            ),
            click.option("--max-running", type=click.IntRange(1), help="Override the limit."),
            click.option(
                "--max-running-per-namespace",
                type=click.IntRange(0),
                help="Override the per-namespace limit (0: none).",
            ),
            click.option(
                "--aging-seconds", type=click.FloatRange(0, min_open=True), help="Override aging."
            ),
            click.option("--breaker-namespace", help="Namespace of the breaker ConfigMap."),
            click.option("--breaker-configmap", help="Name of the breaker ConfigMap."),
        )
    ):
        func = option(func)
    return func


def _breaker_location(
    config: OperatorConfig, namespace: str | None, name: str | None
) -> tuple[str, str]:
    return namespace or config.breaker_namespace, name or config.breaker_configmap


def _site(url: str) -> str | None:
    from videodl.breaker import sites  # noqa: PLC0415 - loads yt-dlp's extractor table

    try:
        return sites.site_of(url)
    except ValueError:
        return None


@cli.command(
    epilog="""\b
Examples:
  kubectl videodl queue -A
  kubectl videodl queue --max-running 1 --aging-seconds 60   # as an operator with these flags
"""
)
@click.option("-o", "--output", type=_OUTPUT, default="table", show_default=True)
@_operator_options
@click.pass_context
def queue(
    ctx: click.Context,
    *,
    output: str,
    operator: str | None,
    max_running: int | None,
    max_running_per_namespace: int | None,
    aging_seconds: float | None,
    breaker_namespace: str | None,
    breaker_configmap: str | None,
) -> None:
    """The admission queue in the order the operator starts downloads.

    Computed with the operator's own ordering (priority raised by aging, then creation
    time, under the cluster and per-namespace limits) and its breaker decisions. The limits
    are read from the operator Deployment (its VIDEODL_* variables and flags); the flags
    here override them.
    """
    state = _state(ctx)
    session = state.session
    config = _operator_config(
        session,
        operator=operator,
        max_running=max_running,
        per_namespace=max_running_per_namespace,
        aging=aging_seconds,
    )
    try:
        listed = session.list_objects(DOWNLOADS, None)
        partial = False
    except CliError:
        listed = session.list_objects(DOWNLOADS, session.namespace)
        partial = True
    records = [record_of(o) for o in listed.get("items", [])]
    now = _now()
    sites = {r.uid: _site(r.url) for r in records if r.problem is None and r.phase is not None}
    data = _breaker_data(session, *_breaker_location(config, breaker_namespace, breaker_configmap))
    from videodl.core.breaker_state import BreakerStateError, SiteState  # noqa: PLC0415

    states: dict[str, SiteState] = {}
    for site, value in data.items():
        try:
            states[site] = SiteState.from_configmap_value(value)
        except BreakerStateError:
            continue
    lines = queueview.lines(
        records,
        limits=ordering.Limits(
            cluster=config.max_running, per_namespace=config.max_running_per_namespace
        ),
        aging_seconds=config.aging_seconds,
        now=now,
        sites=sites,
        breakers=states,
    )
    if not state.all_namespaces:
        lines = [line for line in lines if line.namespace == session.namespace]
    if output in ("json", "yaml"):
        document = {
            "settings": config.model_dump(mode="json"),
            "items": [line.model_dump(mode="json", by_alias=False) for line in lines],
        }
        click.echo(render.dump(document, output), nl=False)
        return
    per_ns = config.max_running_per_namespace
    err = _console(stderr=True)
    err.print(
        f"limits: {config.max_running} running in the cluster, "
        f"{per_ns if per_ns is not None else 'no limit'} per namespace; aging "
        f"{config.aging_seconds:g}s per level (from {config.source})",
        highlight=False,
    )
    if partial:
        err.print(
            f"note: only namespace {session.namespace} could be listed; positions count only it",
            highlight=False,
        )
    if not lines:
        err.print("The queue is empty.", highlight=False)
        return
    all_ns = state.all_namespaces
    headers = (
        ["POSITION"]
        + (["NAMESPACE"] if all_ns else [])
        + ["NAME", "PRIORITY", "EFFECTIVE", "WAITING", "WAITS FOR", "DETAIL"]
    )
    if output == "wide":
        headers.append("SITE")
    table = render.simple_table(headers)
    for line in lines:
        cells = [str(line.position) if line.position else "-"]
        cells += [line.namespace] if all_ns else []
        cells += [
            line.name,
            line.priority.value,
            line.effective_priority.value,
            formatting.age(line.waiting_since, now),
            line.waits_for,
            line.detail,
        ]
        if output == "wide":
            cells.append(line.site or "")
        table.add_row(*cells)
    _console().print(table)


def _breaker_data(session: Session, namespace: str, name: str) -> dict[str, str]:
    try:
        configmap = session.configmap(namespace, name)
    except CliError as exc:
        if "not found" in exc.message.lower() or "404" in exc.message:
            return {}
        raise
    return dict(configmap.get("data") or {})


# --- breaker -----------------------------------------------------------------------------


class _BreakerGroup(click.Group):
    """``breaker`` lists every site, ``breaker SITE`` one; ``reset`` and ``open`` act."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "get", self.commands["get"], args
        return super().resolve_command(ctx, args)


@cli.group(
    cls=_BreakerGroup,
    invoke_without_command=True,
    epilog="""\b
Examples:
  kubectl videodl breaker
  kubectl videodl breaker youtube.com -o yaml
  kubectl videodl breaker reset youtube.com
  kubectl videodl breaker reset --all
  kubectl videodl breaker open Youtube --until 2030-01-01T00:00:00Z
""",
)
@click.option("--breaker-namespace", help="Namespace of the breaker ConfigMap.")
@click.option("--breaker-configmap", help="Name of the breaker ConfigMap.")
@click.option("--operator", metavar="[NAMESPACE/]DEPLOYMENT", help="Operator to read them from.")
@click.option("-o", "--output", type=_OUTPUT, default="table", show_default=True)
@click.pass_context
def breaker(
    ctx: click.Context,
    breaker_namespace: str | None,
    breaker_configmap: str | None,
    operator: str | None,
    output: str,
) -> None:
    """The per-site circuit breakers: state, failures, open until, probes."""
    ctx.meta["breaker"] = (breaker_namespace, breaker_configmap, operator)
    if ctx.invoked_subcommand is None:
        ctx.invoke(breaker_get, site=None, output=output)


def _breaker_target(ctx: click.Context) -> tuple[Session, str, str]:
    session = _state(ctx).session
    namespace, name, operator = ctx.meta.get("breaker", (None, None, None))
    config = operatorconfig.DEFAULTS
    if not (namespace and name):
        config = _operator_config(
            session, operator=operator, max_running=None, per_namespace=None, aging=None
        )
    return session, *_breaker_location(config, namespace, name)


@breaker.command(name="get")
@click.argument("site", required=False)
@click.option("-o", "--output", type=_OUTPUT, default="table", show_default=True)
@click.pass_context
def breaker_get(ctx: click.Context, site: str | None, output: str) -> None:
    """Show every site's breaker, or one site's."""
    session, namespace, name = _breaker_target(ctx)
    data = _breaker_data(session, namespace, name)
    lines = breakers.lines(data, now=_now())
    if site is not None:
        lines = [line for line in lines if line.site == site]
        if not lines:
            from videodl.cli import suggest  # noqa: PLC0415

            msg = f"no breaker for site {site!r} in ConfigMap {namespace}/{name}"
            raise CliError(msg + suggest.hint(site, data))
    if output in ("json", "yaml"):
        click.echo(render.dump([line.model_dump() for line in lines], output), nl=False)
        return
    if not lines:
        click.echo(f"No site has a breaker yet (ConfigMap {namespace}/{name}).", err=True)
        return
    headers = ["SITE", "STATE", "FAILURES", "OPEN UNTIL", "PROBES", "CHANGED", "REASON"]
    if output == "wide":
        headers += ["WINDOW", "FORCED", "LAST FAILURE"]
    table = render.simple_table(headers)
    for line in lines:
        cells = [
            line.site,
            line.state,
            str(line.failures),
            line.open_until,
            str(line.probes),
            line.changed,
            line.reason,
        ]
        if output == "wide":
            cells += [line.window, str(line.forced).lower(), line.last_failure]
        table.add_row(*cells)
    _console().print(table)


def _command(ctx: click.Context, annotations: dict[str, str], timeout: float) -> None:
    """Annotate the ConfigMap and wait until the operator has applied (and removed) it."""
    from videodl.breaker import admin  # noqa: PLC0415

    session, namespace, name = _breaker_target(ctx)
    session.annotate_configmap(namespace, name, annotations)
    deadline = time.monotonic() + timeout
    while True:
        metadata = session.configmap(namespace, name).get("metadata") or {}
        current = metadata.get("annotations") or {}
        if not any(a in current for a in annotations):
            click.echo(current.get(admin.ANNOTATION_LAST_COMMAND, "applied"))
            return
        if time.monotonic() >= deadline:
            raise CliError(
                f"the operator has not applied {', '.join(annotations)} on ConfigMap "
                f"{namespace}/{name} within {timeout:g}s; is the operator running? (the "
                "annotation stays and is applied when it runs)"
            )
        time.sleep(0.1)


@breaker.command(name="reset")
@click.argument("sites", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Close every site.")
@click.option(
    "--timeout", default=10.0, show_default=True, help="Seconds to wait for the operator."
)
@click.pass_context
def breaker_reset(
    ctx: click.Context, sites: tuple[str, ...], everything: bool, timeout: float
) -> None:
    """Close SITE(s), or every site with --all, and clear their counters."""
    if bool(sites) == everything:
        raise click.UsageError("give one or more SITEs or --all")
    try:
        annotation = breakers.reset_annotation(None if everything else sites)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="SITE") from None
    _command(ctx, annotation, timeout)


@breaker.command(name="open")
@click.argument("site")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z"]),
    help="RFC 3339 time to open until (default: until reset).",
)
@click.option(
    "--for", "duration", type=click.FloatRange(0, min_open=True), help="Seconds to open for."
)
@click.option(
    "--timeout", default=10.0, show_default=True, help="Seconds to wait for the operator."
)
@click.pass_context
def breaker_open(
    ctx: click.Context,
    site: str,
    *,
    until: datetime.datetime | None,
    duration: float | None,
    timeout: float,
) -> None:
    """Open SITE (its downloads wait) until --until, for --for seconds, or until reset."""
    if until is not None and duration is not None:
        raise click.UsageError("give --until or --for, not both")
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=datetime.UTC)
    if duration is not None:
        until = _now() + datetime.timedelta(seconds=duration)
    try:
        annotation = breakers.force_open_annotation(site, until)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="SITE") from None
    _command(ctx, annotation, timeout)


# --- add ---------------------------------------------------------------------------------


def _name_from_url(url: str) -> str:
    stem = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    cleaned = _NAME.sub("-", stem.lower()).strip("-")[:40].strip("-")
    return cleaned or "download"


@cli.command(
    epilog="""\b
Examples:
  kubectl videodl add https://example.org/talk.mp4 --claim media
  kubectl videodl add https://example.org/talk.mp4 --priority High --preset 720p --wait
  kubectl videodl add https://example.org/talk.mp4 --dry-run=server -o yaml
"""
)
@click.argument("url")
@click.option("--name", help="Name of the VideoDownload (default: from the URL, made unique).")
@click.option("--priority", type=click.Choice([p.value for p in Priority], case_sensitive=False))
@click.option("--preset", type=click.Choice([p.value for p in FormatPreset], case_sensitive=False))
@click.option("--claim", help="PersistentVolumeClaim to write into (default: the operator's).")
@click.option("--sub-path", help="Directory inside the claim.")
@click.option("--dry-run", type=click.Choice(["none", "server"]), default="none", show_default=True)
@click.option("--wait", is_flag=True, help="Follow it to the end; exit 1 when it fails.")
@click.option(
    "--timeout", type=float, default=0, help="With --wait: give up after SECONDS (0: never)."
)
@click.option("-o", "--output", type=click.Choice(["name", "json", "yaml"]), default="name")
@click.pass_context
def add(
    ctx: click.Context,
    *,
    url: str,
    name: str | None,
    priority: str | None,
    preset: str | None,
    claim: str | None,
    sub_path: str | None,
    dry_run: str,
    wait: bool,
    timeout: float,
    output: str,
) -> None:
    """Create a VideoDownload of URL."""
    session = _state(ctx).session
    spec: dict[str, Any] = {"url": url}
    if priority:
        spec["priority"] = next(p.value for p in Priority if p.value.lower() == priority.lower())
    if preset:
        value = next(p.value for p in FormatPreset if p.value.lower() == preset.lower())
        spec["format"] = {"preset": value}
    out: dict[str, Any] = {}
    if claim:
        out["persistentVolumeClaim"] = {"claimName": claim}
    if sub_path:
        out["subPath"] = sub_path
    if out:
        spec["output"] = out
    metadata: dict[str, Any] = (
        {"name": name} if name else {"generateName": _name_from_url(url) + "-"}
    )
    body = {
        "apiVersion": resource.API_VERSION,
        "kind": resource.KIND,
        "metadata": metadata,
        "spec": spec,
    }
    created = session.create(DOWNLOADS, body, dry_run=dry_run == "server")
    created_name = str(created["metadata"].get("name") or metadata.get("name") or "")
    if output == "name":
        suffix = " (server dry run)" if dry_run == "server" else ""
        click.echo(f"{resource.PLURAL}.{resource.GROUP}/{created_name} created{suffix}")
    else:
        click.echo(render.dump(created, output), nl=False)
    if wait and dry_run != "server":
        _follow(session, created, timeout)


def _follow(session: Session, created: dict[str, Any], timeout: float) -> None:
    """Show the download's progress until it ends; raise CliError when it failed."""
    name = str(created["metadata"]["name"])
    objects: dict[tuple[str, str], dict[str, Any]] = {_key(created): created}
    version = str(created["metadata"].get("resourceVersion", ""))
    deadline = time.monotonic() + timeout if timeout > 0 else None
    err = _console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        console=err,
        transient=False,
    )
    task = progress.add_task(name, total=100, detail="")
    last_phase = ""
    final: dict[str, Any] = created
    with progress:
        updates: queues.Queue[dict[str, Any] | BaseException] = queues.Queue()
        events = _watch_events(
            session,
            DOWNLOADS,
            session.namespace,
            version=version,
            field=f"metadata.name={name}",
            objects=objects,
        )
        threading.Thread(target=_pump, args=(events, updates), daemon=True).start()
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                raise CliError(f"{name} has not finished within {timeout:g}s (phase {last_phase})")
            try:
                item = updates.get(timeout=0.5)
            except queues.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            final = item
            row = DOWNLOADS.row(item, _now())
            phase = row.cells.get("phase", "")
            detail = " ".join(
                v
                for v in (
                    phase,
                    row.cells["speed"],
                    row.cells["eta"] and "ETA " + row.cells["eta"],
                    row.cells["reason"],
                )
                if v
            )
            progress.update(task, completed=row.percent or 0, detail=detail)
            if phase != last_phase:
                if not err.is_terminal:
                    err.print(f"{name}: {phase} {row.cells['reason']}".rstrip(), highlight=False)
                last_phase = phase
            if row.finished:
                break
    status = final.get("status") or {}
    if status.get("phase") == "Succeeded":
        files = ((status.get("result") or {}).get("files")) or []
        for file in files:
            click.echo(f"{file.get('path')} ({formatting.bytes_text(file.get('sizeBytes'))})")
        return
    failure = status.get("lastFailure") or {}
    raise CliError(
        f"{name} failed: {failure.get('class', '?')} {failure.get('reason', '?')}: "
        f"{failure.get('message', '')}",
        code=EXIT_FAILURE,
    )


# --- retry, suspend, resume, delete ------------------------------------------------------


@cli.command()
@click.argument("name", shell_complete=_complete_names)
@click.pass_context
def retry(ctx: click.Context, name: str) -> None:
    """Queue a Failed download again (the videodl.dev/retry annotation); attempts restart."""
    session = _state(ctx).session
    obj = session.get(DOWNLOADS, name)
    phase = (obj.get("status") or {}).get("phase")
    if phase != "Failed":
        raise CliError(
            f"{name} is {phase or 'not seen yet'}, not Failed: "
            "only a Failed download can be retried"
        )
    token = format_time(_now()) + f"/{time.time_ns() % 1_000_000}"
    session.patch(DOWNLOADS, name, {"metadata": {"annotations": {naming.ANNOTATION_RETRY: token}}})
    click.echo(f"{resource.PLURAL}.{resource.GROUP}/{name} retry requested")


def _set_suspend(ctx: click.Context, name: str, suspend: bool) -> None:
    session = _state(ctx).session
    session.patch(DOWNLOADS, name, {"spec": {"suspend": suspend}})
    word = "suspended" if suspend else "resumed"
    click.echo(f"{resource.PLURAL}.{resource.GROUP}/{name} {word}")


@cli.command()
@click.argument("name", shell_complete=_complete_names)
@click.pass_context
def suspend(ctx: click.Context, name: str) -> None:
    """Suspend a download (spec.suspend: true): a running worker stops, nothing starts."""
    _set_suspend(ctx, name, True)


@cli.command()
@click.argument("name", shell_complete=_complete_names)
@click.pass_context
def resume(ctx: click.Context, name: str) -> None:
    """Resume a suspended download (spec.suspend: false): it queues again."""
    _set_suspend(ctx, name, False)


@cli.command()
@click.argument("name", shell_complete=_complete_names)
@click.option(
    "--keep-files",
    is_flag=True,
    help="Keep the downloaded files even when deletionPolicy is Delete (sets it to Retain).",
)
@click.pass_context
def delete(ctx: click.Context, name: str, keep_files: bool) -> None:
    """Delete a download; its files go too when its deletionPolicy is Delete."""
    session = _state(ctx).session
    obj = session.get(DOWNLOADS, name)
    policy = (obj.get("spec") or {}).get("deletionPolicy", "Retain")
    if keep_files and policy == "Delete":
        session.patch(DOWNLOADS, name, {"spec": {"deletionPolicy": "Retain"}})
        policy = "Retain"
    session.delete(DOWNLOADS, name)
    files = "files kept" if policy == "Retain" else "files are being removed"
    click.echo(f"{resource.PLURAL}.{resource.GROUP}/{name} deleted ({files})")


# --- logs --------------------------------------------------------------------------------


@cli.command(
    epilog="""\b
Examples:
  kubectl videodl logs my-video -f
  kubectl videodl logs my-video --attempt 1
"""
)
@click.argument("name", shell_complete=_complete_names)
@click.option("--attempt", type=click.IntRange(1), help="The attempt (default: the latest).")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming while the worker runs.")
@click.option("--tail", type=int, default=-1, help="Lines from the end (-1: all).")
@click.option("--timestamps", is_flag=True, help="Prefix each line with its time.")
@click.option(
    "--pod-running-timeout",
    type=click.FloatRange(0),
    default=20.0,
    show_default=True,
    help="With --follow, seconds to wait for the worker to start.",
)
@click.pass_context
def logs(
    ctx: click.Context,
    name: str,
    *,
    attempt: int | None,
    follow: bool,
    tail: int,
    timestamps: bool,
    pod_running_timeout: float,
) -> None:
    """The worker's log of a download's attempt, through the Pod log API."""
    session = _state(ctx).session
    obj = session.get(DOWNLOADS, name)
    uid = str(obj["metadata"].get("uid", ""))
    label = naming.download_label(name, uid)
    selector = f"{naming.LABEL_DOWNLOAD}={label},{naming.LABEL_COMPONENT}=worker"
    pods = describe.attempts(session.pods(selector))
    if attempt is not None:
        pods = [p for p in pods if p[0] == attempt]
    if not pods:
        which = f"attempt {attempt}" if attempt else "any attempt"
        raise CliError(
            f"{name} has no worker Pod for {which} (the Pods of ended attempts may be gone)"
        )
    pod = pods[-1][2]
    if follow:
        _wait_started(session, selector, pod, pod_running_timeout)
    for chunk in session.log_stream(
        pod,
        container=podspec.WORKER_CONTAINER,
        follow=follow,
        tail_lines=tail if tail >= 0 else None,
        timestamps=timestamps,
    ):
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()


def _wait_started(session: Session, selector: str, pod: str, timeout: float) -> None:
    """Wait until the worker of ``pod`` has started, as ``kubectl logs -f`` does: the log API
    refuses a container still waiting to start. After ``timeout`` its answer is shown."""
    deadline = time.monotonic() + timeout
    while True:
        found = [p for p in session.pods(selector) if p["metadata"].get("name") == pod]
        if not found or describe.container_started(found[0], podspec.WORKER_CONTAINER):
            return
        if time.monotonic() >= deadline:
            return
        time.sleep(0.5)


# --- completion --------------------------------------------------------------------------


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script of SHELL.

    \b
    Example:
      source <(kubectl-videodl completion bash)
    """
    completer = get_completion_class(shell)
    if completer is None:  # pragma: no cover - the choice allows only known shells
        raise CliError(f"no completion for {shell}", code=2)
    click.echo(completer(cli, {}, PROG, "_KUBECTL_VIDEODL_COMPLETE").source())


def main() -> None:
    """Run the command line (the ``kubectl-videodl`` console script)."""
    cli(prog_name=PROG)
