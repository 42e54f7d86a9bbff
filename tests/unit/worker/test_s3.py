"""Tests for videodl.worker.s3's pure parts: part sizes and how failures are classified."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.api.output import S3CredentialsRef
from videodl.api.status import FailureClass
from videodl.breaker.evidence import _site_wide
from videodl.worker import classify
from videodl.worker.s3 import MAX_PARTS, S3Reason, part_size, translate
from videodl.workerapi.s3 import MIN_PART_SIZE_BYTES, S3Target

TARGET = S3Target(
    bucket="videos", endpoint="http://127.0.0.1:7070", credentials=S3CredentialsRef(name="keys")
)


@given(st.integers(min_value=0, max_value=5 * 1024**4), st.integers(5 * 1024**2, 64 * 1024**2))
def test_part_size_stays_within_the_part_limit(size: int, minimum: int) -> None:
    chunk = part_size(size, minimum)
    assert chunk >= MIN_PART_SIZE_BYTES
    assert chunk >= minimum
    assert -(-size // chunk) <= MAX_PARTS


def client_error(code: str, status: int) -> botocore.exceptions.ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "m", "StringToSign": "secret-ish"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return botocore.exceptions.ClientError(response, "PutObject")


@pytest.mark.parametrize(
    ("exc", "failure_class", "reason", "named"),
    [
        (client_error("SignatureDoesNotMatch", 403), "Permanent", S3Reason.INVALID_CREDENTIALS,
         "'keys'"),
        (client_error("InvalidAccessKeyId", 403), "Permanent", S3Reason.INVALID_CREDENTIALS,
         "'keys'"),
        (client_error("NoSuchBucket", 404), "Permanent", S3Reason.NO_SUCH_BUCKET, "'videos'"),
        (client_error("AccessDenied", 403), "Permanent", S3Reason.ACCESS_DENIED, "storage.md"),
        (client_error("SlowDown", 503), "Transient", S3Reason.SERVER_ERROR, "SlowDown"),
        (client_error("Whatever", 500), "Transient", S3Reason.SERVER_ERROR, "500"),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:7070"),
         "Transient", S3Reason.UNREACHABLE, "--s3-endpoint"),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="x"), "Transient", S3Reason.TIMEOUT,
         "timed out"),
        (botocore.exceptions.NoCredentialsError(), "Permanent", S3Reason.INVALID_CREDENTIALS,
         "credentialsSecretRef"),
    ],
)  # fmt: skip
def test_failures_are_classified_and_never_site_evidence(
    exc: Exception, failure_class: str, reason: str, named: str
) -> None:
    verdict = translate(exc, TARGET, "uploading s3://videos/x")
    assert verdict is not None
    assert verdict.failure_class is FailureClass(failure_class)
    assert verdict.reason == reason
    assert named in str(verdict)
    assert "secret-ish" not in str(verdict)
    classified = classify.classify(verdict)
    assert (classified.failure_class, classified.reason) == (verdict.failure_class, reason)
    assert not _site_wide(classified.reason)


def test_an_unknown_exception_is_not_translated() -> None:
    assert translate(ValueError("bug"), TARGET, "x") is None
