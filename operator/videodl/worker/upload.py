"""An attempt's files from the scratch volume into the bucket, and the result naming them.

With ``spec.output.s3`` the output directory is a scratch emptyDir: yt-dlp downloads into
it as onto a volume, then :func:`upload_result` uploads every file of the result (media
first) to ``<keyPrefix>/<path below the output directory>``, verifies each, and only then
records the videos in the bucket's archive markers. The result lists ``s3://`` URIs with
the size and SHA-256 of what was verified.
"""

from __future__ import annotations

import logging
import pathlib
from typing import TYPE_CHECKING

from videodl.worker import paths
from videodl.worker.s3 import S3Archive, upload_file
from videodl.workerapi.s3 import S3Target
from videodl.workerapi.termination import SuccessMessage

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["skipped_result", "upload_result"]

_log = logging.getLogger("videodl.worker.upload")


def upload_result(
    s3: S3Client,
    target: S3Target,
    local: SuccessMessage,
    *,
    output_dir: pathlib.Path,
    archive: S3Archive,
) -> SuccessMessage:
    """Upload the files ``local`` lists (paths relative to ``output_dir``) and record them."""
    uploaded = []
    for entry in local.files:
        relative = paths.confine(entry.path, output_dir)
        key = target.key(relative.as_posix())
        uploaded.append(upload_file(s3, target, output_dir / relative, key, entry))
    archive.commit(uploaded)
    _log.info("uploaded %d file(s) into s3://%s", len(uploaded), target.bucket)
    return local.model_copy(update={"files": uploaded})


def skipped_result(local: SuccessMessage, archive: S3Archive) -> SuccessMessage:
    """The result of a video the bucket's archive already records: its recorded objects."""
    return local.model_copy(update={"files": list(archive.hit_files), "skipped": True})
