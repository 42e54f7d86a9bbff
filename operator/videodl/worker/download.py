"""One download attempt: yt-dlp through its Python API, from a Job to an Outcome.

:func:`run` never raises for a failed download (only for SIGTERM's ``Terminated`` when
the caller wants it, see ``__main__``): every failure is classified into the outcome's
exit code and termination message. Progress goes to the sink passed in, which lets
tests and local runs replace the Kubernetes sink.

Before yt-dlp runs, the spec is checked (:mod:`.inputs`); while it runs, the attempt's
guard (:mod:`.guard`, :mod:`.guarded`) confines every write to the output directory and
every connection to the egress policy, and a refusal ends the attempt as ``Permanent``.

With ``spec.output.s3`` the output directory is scratch space: the bucket is checked before
yt-dlp starts, the archive is the bucket's marker objects, and the files are uploaded and
verified (:mod:`.upload`, :mod:`.s3`) under the same guard before the attempt succeeds.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import pathlib
import shutil
from collections.abc import Mapping
from typing import Any

from yt_dlp import YoutubeDL
from yt_dlp.utils import MEDIA_EXTENSIONS, DownloadError

from videodl.worker import (
    classify,
    egress,
    guard,
    inputs,
    options,
    paths,
    result,
    s3,
    upload,
)
from videodl.worker.archive import DownloadArchive
from videodl.worker.extractors import extractor_key
from videodl.worker.guarded import GuardedYoutubeDL
from videodl.worker.hashing import Hashes
from videodl.worker.progress import ProgressReporter, ProgressSink
from videodl.worker.s3 import S3Archive
from videodl.worker.signals import Terminated
from videodl.workerapi import environment
from videodl.workerapi.cleanup import ARCHIVE_FILE_NAME
from videodl.workerapi.environment import InvalidEnvironmentError, Job
from videodl.workerapi.exitcodes import ExitCode
from videodl.workerapi.termination import FailureMessage, SuccessMessage

__all__ = ["Outcome", "run"]

_log = logging.getLogger("videodl.worker")
_ytdlp_log = logging.getLogger("videodl.worker.ytdlp")
_PARTIAL_SUFFIXES = (".part", ".ytdl", ".temp")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How the attempt ended: the exit code and the termination message."""

    exit_code: ExitCode
    message: SuccessMessage | FailureMessage

    @property
    def succeeded(self) -> bool:
        """Whether the download succeeded (or was already done)."""
        return self.exit_code == ExitCode.SUCCEEDED


class _Logger:
    """yt-dlp's logger interface on top of the logging module."""

    def debug(self, message: str) -> None:
        # yt-dlp sends its screen output to debug(); only "[debug]" lines are debug.
        if message.startswith("[debug] "):
            _ytdlp_log.debug("%s", message[8:])
        else:
            _ytdlp_log.info("%s", classify.clean_message(message))

    def info(self, message: str) -> None:
        _ytdlp_log.info("%s", classify.clean_message(message))

    def warning(self, message: str) -> None:
        _ytdlp_log.warning("%s", classify.clean_message(message).removeprefix("WARNING: "))

    def error(self, message: str) -> None:
        _ytdlp_log.error("%s", classify.clean_message(message))


def _copy_cookies(job: Job) -> pathlib.Path | None:
    # yt-dlp writes the cookie jar back on exit and the Secret mount is read-only.
    if job.cookies_file is None:
        return None
    if not pathlib.Path(job.cookies_file).is_file():
        raise InvalidEnvironmentError(
            environment.COOKIES_FILE,
            f"{job.cookies_file!r} does not exist: check spec.cookies.secretRef "
            "(Secret name and key)",
        )
    tmp_dir = pathlib.Path(job.tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    copy = tmp_dir / f"videodl-cookies-{os.getpid()}.txt"
    shutil.copyfile(job.cookies_file, copy)
    copy.chmod(0o600)
    return copy


def _skipped_files(ydl: YoutubeDL, info: Mapping[str, Any]) -> list[str]:
    """Files of an archived video that are still there, under today's template.

    The archive is consulted before a format is chosen, so the extension is unknown:
    list every file named like the video with any extension, media files first.
    """
    planned = pathlib.Path(ydl.prepare_filename(dict(info)))
    stem = planned.name.removesuffix(planned.suffix) + "."
    if not planned.parent.is_dir():
        return []
    names = [
        entry.name
        for entry in planned.parent.iterdir()
        if entry.name.startswith(stem) and not entry.name.endswith(_PARTIAL_SUFFIXES)
    ]
    media = set(MEDIA_EXTENSIONS.video) | set(MEDIA_EXTENSIONS.audio)
    names.sort(key=lambda name: (name.rsplit(".", 1)[-1] not in media, name))
    return [str(planned.parent / name) for name in names]


def _download(job: Job, reporter: ProgressReporter) -> SuccessMessage:
    # Everything the spec gets wrong fails here, before a connection or a file.
    inputs.check(job.spec)
    paths.check_template(job.spec.output.template)
    output_dir = pathlib.Path(job.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    bucket = None if job.s3 is None else (job.s3, s3.client(job.s3))
    archive: DownloadArchive | S3Archive
    if bucket is None:
        archive_path = output_dir / ARCHIVE_FILE_NAME
        # The archive is the worker's own file, read before the guard starts: a link planted
        # in its place must not lead reads or appends elsewhere.
        paths.confine(archive_path, output_dir)
        archive = DownloadArchive(archive_path, check=not job.spec.force)
    else:
        archive = S3Archive(bucket[1], bucket[0], check=not job.spec.force)
    cookie_file = _copy_cookies(job)
    hashes = Hashes()
    runtime = options.Runtime(
        output_dir=job.output_dir,
        archive=archive,
        logger=_Logger(),
        progress_hooks=[reporter.on_download, hashes.on_download],
        postprocessor_hooks=[reporter.on_postprocess],
        cookie_file=None if cookie_file is None else str(cookie_file),
    )
    params = options.build_params(job.spec, runtime)
    attempt_guard = guard.Guard(
        output_dir=output_dir,
        policy=egress.Policy.of(job.allowed_networks),
        writable_files=[] if cookie_file is None else [cookie_file],
    )
    reporter.extracting()
    try:
        with guard.active(attempt_guard), GuardedYoutubeDL(params, guard=attempt_guard) as ydl:
            if bucket is not None:
                # A wrong bucket or key fails now, not after the whole download.
                s3.preflight(bucket[1], bucket[0])
            ie_key = extractor_key(job.extractor, job.spec.url)
            info = ydl.extract_info(job.spec.url, download=True, ie_key=ie_key)
            if info is None:
                msg = f"yt-dlp returned no information for {job.spec.url}"
                raise DownloadError(msg)
            skipped = bool(archive.hits) and not result.media_files(info)
            if skipped and bucket is None:
                candidates = [
                    name for video in result.videos(info) for name in _skipped_files(ydl, video)
                ]
            elif skipped:
                candidates = []
            else:
                candidates = result.media_files(info) + result.side_files(info)
    finally:
        hashes.close()
        if cookie_file is not None:
            cookie_file.unlink(missing_ok=True)
    local = result.build(
        info,
        candidates,
        output_dir=output_dir,
        sub_path=job.spec.output.sub_path,
        skipped=skipped,
        hashes=hashes,
    )
    _log.info("%d of %d files hashed while downloading", hashes.hits, len(local.files))
    if bucket is not None and isinstance(archive, S3Archive):
        # The upload connects under the same egress policy as the download.
        with guard.active(attempt_guard):
            if skipped:
                local = upload.skipped_result(local, archive)
            else:
                local = upload.upload_result(
                    bucket[1], bucket[0], local, output_dir=output_dir, archive=archive
                )
    reporter.finished()
    return local


def run(job: Job, *, sink: ProgressSink) -> Outcome:
    """Run one attempt of ``job``; progress goes to ``sink``.

    SIGTERM's ``Terminated`` is classified like any failure (Transient, ``Terminated``);
    the partial file stays for the next attempt.
    """
    reporter = ProgressReporter(sink, interval_seconds=job.progress_interval_seconds)
    _log.info("attempt %d: %s into %s", job.attempt, job.spec.url, job.output_dir)
    try:
        message = _download(job, reporter)
    # Every failure becomes an outcome; classify() tells a bug apart from a download error.
    except (Exception, Terminated, KeyboardInterrupt) as exc:  # noqa: BLE001
        verdict = classify.classify(exc)
        log = _log.exception if verdict.internal else _log.error
        log("download failed: %s %s: %s", verdict.failure_class, verdict.reason, verdict.message)
        reporter.flush()
        return Outcome(
            verdict.exit_code,
            FailureMessage.create(
                failure_class=verdict.failure_class,
                reason=verdict.reason,
                message=verdict.message,
                exit_code=int(verdict.exit_code),
                time=datetime.datetime.now(datetime.UTC).replace(microsecond=0),
            ),
        )
    _log.info(
        "download %s: %s (%d files)",
        "skipped, already in the archive" if message.skipped else "succeeded",
        message.title,
        len(message.files),
    )
    return Outcome(ExitCode.SUCCEEDED, message)
