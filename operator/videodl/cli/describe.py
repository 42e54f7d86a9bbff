"""``describe``: a download with its attempts, failures, files and Events, as text.

Pure: no I/O; the caller fetches the download, its worker Pods and its Events.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.resource import VideoDownload
from videodl.api.status import VideoDownloadStatus
from videodl.cli import formatting, waiting
from videodl.core.times import format_time, parse_time
from videodl.reconcile.download import naming

__all__ = ["attempts", "container_started", "describe"]


def _field(label: str, value: object) -> str:
    return f"{label + ':':<16}{value}"


def attempts(pods: Sequence[Mapping[str, Any]]) -> list[tuple[int, int, str, str, str]]:
    """(attempt, run, Pod, phase, how it ended) for each worker Pod, in run order."""
    found = []
    for pod in pods:
        metadata = pod.get("metadata") or {}
        labels = metadata.get("labels") or {}
        try:
            attempt = int(labels.get(naming.LABEL_ATTEMPT, "0"))
            run = int(labels.get(naming.LABEL_RUN, "0"))
        except ValueError:
            continue
        status = pod.get("status") or {}
        ended = ""
        for container in status.get("containerStatuses") or ():
            terminated = (container.get("state") or {}).get("terminated")
            if terminated:
                ended = f"exit code {terminated.get('exitCode')} ({terminated.get('reason', '')})"
        found.append((attempt, run, str(metadata.get("name", "")), status.get("phase", ""), ended))
    return sorted(found, key=lambda item: (item[1], item[0]))


def container_started(pod: Mapping[str, Any], container: str) -> bool:
    """Whether the Pod's ``container`` has run (running or terminated), or the Pod has ended
    without it: either way its log is as far along as it will get without waiting."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return True
    for entry in status.get("containerStatuses") or ():
        if entry.get("name") == container:
            state = entry.get("state") or {}
            return "running" in state or "terminated" in state
    return False


def describe(  # noqa: PLR0912, PLR0915 - one flat section after another
    obj: Mapping[str, Any],
    *,
    pods: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
) -> str:
    """The text ``kubectl videodl describe`` prints."""
    metadata = obj.get("metadata") or {}
    out = [
        _field("Name", metadata.get("name", "")),
        _field("Namespace", metadata.get("namespace", "")),
        _field("Created", f"{metadata.get('creationTimestamp', '')}"),
    ]
    try:
        download = VideoDownload.from_object(obj)
    except InvalidVideoDownloadError as exc:
        out.append(_field("Invalid", str(exc)))
        return "\n".join(out) + "\n"
    spec = download.spec
    status = download.status or VideoDownloadStatus()
    claim = spec.output.persistent_volume_claim
    out += [
        _field("URL", spec.url),
        _field("Priority", spec.priority.value),
        _field("Claim", claim.claim_name if claim else "(the operator's default claim)"),
        _field("Deletion", spec.deletion_policy.value),
        _field("Suspend", str(spec.suspend).lower()),
        _field("Phase", status.phase.value if status.phase else "(not seen by the operator)"),
        _field("Attempts", f"{status.attempts or 0} of {spec.retry.max_attempts}"),
    ]
    why = waiting.reason(
        spec, status, deleting=metadata.get("deletionTimestamp") is not None, now=now
    )
    if why:
        out.append(_field("Reason", why))
    if status.worker_pod:
        out.append(_field("Worker Pod", status.worker_pod))
    if status.start_time:
        out.append(_field("Started", format_time(status.start_time)))
    if status.completion_time:
        out.append(_field("Completed", format_time(status.completion_time)))
    progress = status.progress
    if progress is not None:
        parts = [
            formatting.percent_text(progress.percent),
            formatting.bytes_text(progress.downloaded_bytes),
            "of " + formatting.bytes_text(progress.total_bytes) if progress.total_bytes else "",
            formatting.speed_text(progress.speed_bytes_per_second),
            "ETA " + formatting.duration(progress.eta_seconds) if progress.eta_seconds else "",
            progress.stage.value if progress.stage else "",
        ]
        out.append(_field("Progress", " ".join(p for p in parts if p)))
    failure = status.last_failure
    if failure is not None:
        out.append("Last failure:")
        out.append(f"  Class:        {failure.failure_class.value}")
        out.append(f"  Reason:       {failure.reason}")
        out.append(f"  Message:      {failure.message}")
        if failure.exit_code is not None:
            out.append(f"  Exit code:    {failure.exit_code}")
        if failure.time is not None:
            out.append(f"  Time:         {format_time(failure.time)}")
    runs = attempts(pods)
    if runs:
        out.append("Attempts:")
        out.append(f"  {'ATTEMPT':<8}{'RUN':<5}{'POD':<48}{'PHASE':<11}ENDED")
        for attempt, run, pod, phase, ended in runs:
            out.append(f"  {attempt:<8}{run:<5}{pod:<48}{phase:<11}{ended}")
    result = status.result
    if result is not None:
        out.append("Result:")
        for label, value in (
            ("Title", result.title),
            ("Uploader", result.uploader),
            ("Extractor", result.extractor),
            ("Format", result.format_id),
            ("Resolution", result.resolution),
        ):
            if value:
                out.append(f"  {label + ':':<14}{value}")
        if result.files:
            out.append("  Files:")
            for file in result.files:
                out.append(f"    {file.path}  ({formatting.bytes_text(file.size_bytes)})")
    if status.conditions:
        out.append("Conditions:")
        out.append(f"  {'TYPE':<13}{'STATUS':<8}{'REASON':<20}MESSAGE")
        for c in status.conditions:
            out.append(f"  {c.type:<13}{c.status.value:<8}{c.reason:<20}{c.message}")
    out.append("Events:" if events else "Events:         <none>")
    if events:
        out.append(f"  {'TYPE':<9}{'REASON':<22}{'AGE':<8}MESSAGE")
        for event in sorted(events, key=_event_time):
            when = formatting.age(_event_time(event), now)
            out.append(
                f"  {event.get('type', ''):<9}{event.get('reason', ''):<22}{when:<8}"
                f"{event.get('message', '') or event.get('note', '')}"
            )
    return "\n".join(out) + "\n"


def _event_time(event: Mapping[str, Any]) -> datetime.datetime:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        moment = parse_time(event.get(key))
        if moment is not None:
            return moment
    metadata = event.get("metadata") or {}
    return parse_time(metadata.get("creationTimestamp")) or datetime.datetime.min.replace(
        tzinfo=datetime.UTC
    )
