"""``python -m videodl.worker.indexer``: enumerate a VideoPlaylist's sources in its Pod.

Runs yt-dlp's flat extraction (``extract_flat``) of every source under the worker's guard
(writes confined to the scratch directory, connections to the egress policy), turns each
entry into an :class:`~videodl.workerapi.index.Entry` (id, URL, title, duration, upload
date), writes them into the index chunks the operator created for this Pod
(:mod:`videodl.workerapi.index`) and ends with a termination message and exit code like a
download attempt: the playlist's title on success, a classified failure otherwise (an
HTTP 429 is ``Throttled`` and counts against the site's circuit breaker).

Nothing is selected here: the operator selects from what was recorded, so changing the
selection never needs a new enumeration.
"""

from __future__ import annotations

import datetime
import logging
import pathlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from yt_dlp.utils import DownloadError, unsmuggle_url

from videodl.api.spec import URL_MAX_LENGTH
from videodl.kube.client import MERGE_PATCH, Client, core_path
from videodl.worker import classify, egress, ending, guard, signals
from videodl.worker.download import Outcome
from videodl.worker.extractors import extractor_key
from videodl.worker.guarded import GuardedYoutubeDL
from videodl.workerapi import index, termination
from videodl.workerapi.exitcodes import ExitCode
from videodl.workerapi.index import Entry, IndexJob

__all__ = ["entries_of", "entry_of", "enumerate_sources", "main", "run"]

_log = logging.getLogger("videodl.worker.indexer")


class _Logger:
    def debug(self, message: str) -> None:
        _log.debug("%s", classify.clean_message(message))

    def info(self, message: str) -> None:
        _log.info("%s", classify.clean_message(message))

    def warning(self, message: str) -> None:
        _log.warning("%s", classify.clean_message(message))

    def error(self, message: str) -> None:
        _log.error("%s", classify.clean_message(message))


def _upload_date(entry: Mapping[str, Any]) -> str | None:
    date = entry.get("upload_date")
    if isinstance(date, str) and len(date) == 8 and date.isdigit():
        return date
    stamp = entry.get("timestamp") or entry.get("release_timestamp")
    if isinstance(stamp, int | float):
        return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y%m%d")
    return None


def _entry_url(entry: Mapping[str, Any], source: str) -> str | None:
    for key in ("url", "webpage_url", "original_url"):
        value = entry.get(key)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            plain, _ = unsmuggle_url(value)
            if plain != source:
                return str(plain)
    formats = entry.get("formats") or []
    if len(formats) == 1 and isinstance(formats[0].get("url"), str):
        return str(formats[0]["url"])
    return None


def entry_of(raw: Mapping[str, Any], *, position: int, source: str) -> Entry | None:
    """The entry yt-dlp's flat extraction gave at ``position``; None without a URL."""
    url = _entry_url(raw, source)
    if url is None or len(url) > URL_MAX_LENGTH:
        return None
    _, smuggled = unsmuggle_url(str(raw.get("url") or ""))
    video_id = raw.get("id") or (smuggled or {}).get("force_videoid") or url
    title = raw.get("title")
    duration = raw.get("duration")
    return Entry(
        index=position,
        id=str(video_id)[:512],
        url=url,
        title=str(title)[: index.TITLE_MAX] if title else None,
        duration=float(duration) if isinstance(duration, int | float) and duration >= 0 else None,
        upload_date=_upload_date(raw),
    )


def _flat(info: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The videos of an extraction result: its entries, or the result itself."""
    if info.get("_type") in ("playlist", "multi_video"):
        for entry in info.get("entries") or ():
            if isinstance(entry, Mapping):
                yield from _flat(entry)
    else:
        yield info


def entries_of(
    infos: Iterable[tuple[str, Mapping[str, Any]]], *, limit: int
) -> tuple[list[Entry], int]:
    """The first ``limit`` entries of every source's result, and how many were found."""
    entries: list[Entry] = []
    found = 0
    for source, info in infos:
        for raw in _flat(info):
            found += 1
            if len(entries) < limit:
                entry = entry_of(raw, position=found, source=source)
                if entry is not None:
                    entries.append(entry)
    return entries, found


def _params(job: IndexJob) -> dict[str, Any]:
    params: dict[str, Any] = {
        "extract_flat": "in_playlist",
        "skip_download": True,
        "quiet": True,
        "no_warnings": False,
        "noprogress": True,
        "logger": _Logger(),
        "cachedir": False,
        "ignoreerrors": False,
        "lazy_playlist": False,
        # Nothing is written, but yt-dlp still names its playlist files: in the scratch dir.
        "paths": {"home": job.tmp_dir, "temp": job.tmp_dir},
    }
    if job.cookies_file is not None:
        params["cookiefile"] = job.cookies_file
    return params


def enumerate_sources(job: IndexJob) -> tuple[list[Entry], int, str | None]:
    """The recorded entries, how many were found and the first source's title (guarded)."""
    scratch = pathlib.Path(job.tmp_dir)
    scratch.mkdir(parents=True, exist_ok=True)
    attempt_guard = guard.Guard(output_dir=scratch, policy=egress.Policy.of(job.allowed_networks))
    infos: list[tuple[str, Mapping[str, Any]]] = []
    title: str | None = None
    with guard.active(attempt_guard), GuardedYoutubeDL(_params(job), guard=attempt_guard) as ydl:
        for position, source in enumerate(job.sources):
            ie_key = extractor_key(job.extractor(position), source)
            info = ydl.extract_info(source, download=False, process=True, ie_key=ie_key)
            if info is None:
                msg = f"yt-dlp returned no information for {source}"
                raise DownloadError(msg)
            infos.append((source, ydl.sanitize_info(info)))
            title = title or info.get("title")
        attempt_guard.raise_refusal()
    entries, found = entries_of(infos, limit=job.limit)
    return entries, found, title


def _write_chunks(job: IndexJob, entries: list[Entry], found: int, kube: Client) -> None:
    for name, chunk in zip(
        job.chunks, index.split(entries, found=found, chunks=len(job.chunks)), strict=True
    ):
        kube.request(
            "PATCH",
            core_path("configmaps", job.namespace, name),
            body={"binaryData": {index.CHUNK_KEY: index.encode_chunk(chunk)}},
            content_type=MERGE_PATCH,
        )


def run(job: IndexJob, *, kube: Client | None = None) -> Outcome:
    """Enumerate ``job``'s sources and record the entries; the outcome to end with."""
    try:
        entries, found, title = enumerate_sources(job)
        if kube is None:
            from videodl.worker.kube import connect  # noqa: PLC0415 - slow import

            kube = connect()
        _write_chunks(job, entries, found, kube)
    except (Exception, signals.Terminated, KeyboardInterrupt) as exc:  # noqa: BLE001
        verdict = classify.classify(exc)
        log = _log.exception if verdict.internal else _log.error
        log("indexing failed: %s %s: %s", verdict.failure_class, verdict.reason, verdict.message)
        return Outcome(
            verdict.exit_code,
            termination.FailureMessage.create(
                failure_class=verdict.failure_class,
                reason=verdict.reason,
                message=verdict.message,
                exit_code=int(verdict.exit_code),
                time=datetime.datetime.now(datetime.UTC).replace(microsecond=0),
            ),
        )
    _log.info("found %d entries, recorded %d", found, len(entries))
    return Outcome(
        ExitCode.SUCCEEDED,
        termination.SuccessMessage(title=str(title)[:256] if title else None, extractor=None),
    )


def run_main(environ: Mapping[str, str]) -> int:
    """Index as ``environ`` says; returns the process exit code."""
    try:
        outcome = run(index.load(environ))
    except Exception as exc:  # noqa: BLE001 - a bad environment still ends classified
        verdict = classify.classify(exc)
        _log.error("indexer failed: %s", exc)
        outcome = Outcome(
            verdict.exit_code,
            termination.FailureMessage.create(
                failure_class=verdict.failure_class,
                reason=verdict.reason,
                message=verdict.message,
                exit_code=int(verdict.exit_code),
            ),
        )
    return ending.end(outcome, environ)


def main() -> None:
    """Console entry point."""
    ending.run_program(run_main)


if __name__ == "__main__":
    main()
