"""Deleting a download's objects from its bucket, for the cleanup Pod.

The bucket, endpoint and credentials come from the same ``VIDEODL_OUTPUT_S3_*`` and
``AWS_*`` variables as the worker's (the same Secret); only ``s3://`` URIs of that bucket
whose keys are plain relative paths are deleted. An object already gone counts as deleted
(S3's DeleteObject succeeds for a missing key).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import boto3
import botocore.config
import botocore.exceptions

from videodl.workerapi import cleanup as contract
from videodl.workerapi import s3

__all__ = ["remove"]


def remove(environ: Mapping[str, str], uris: Sequence[str]) -> tuple[list[str], list[str]]:
    """Delete ``uris``; returns (deleted or absent, refused or failed).

    Raises ValueError when the environment does not describe a bucket.
    """
    target = s3.load(environ)
    keys = target.keys
    session = boto3.session.Session(
        aws_access_key_id=None if keys is None else keys.access_key_id,
        aws_secret_access_key=None if keys is None else keys.secret_access_key,
        aws_session_token=None if keys is None else keys.session_token,
    )
    client = session.client(
        "s3",
        endpoint_url=target.endpoint,
        config=botocore.config.Config(
            region_name=target.region,
            s3={"addressing_style": "path" if target.path_style else "virtual"},
            retries={"mode": "standard", "max_attempts": 5},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    done: list[str] = []
    problems: list[str] = []
    for uri in dict.fromkeys(uris):
        parsed = s3.parse_uri(uri)
        if (
            parsed is None
            or parsed[0] != target.bucket
            or contract.normalise(parsed[1]) != parsed[1]
        ):
            problems.append(f"{uri}: not an object of bucket {target.bucket!r}")
            continue
        try:
            client.delete_object(Bucket=target.bucket, Key=parsed[1])
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            problems.append(f"{uri}: {code or type(exc).__name__}")
            continue
        done.append(uri)
    return done, problems
