"""The worker's S3 client: verified uploads, archive markers, and failures as verdicts.

Every file is uploaded to its final key either with one PutObject (a file no larger than
a part) or as a multipart upload; both become visible only when complete, so an upload
that fails or is killed leaves no object under the key (an abandoned multipart upload is
aborted on the way out, or, after SIGKILL, by the bucket's lifecycle rule). Each request
carries the MD5 of its body, which the server checks; afterwards the object's size, its
ETag (the MD5, or the MD5 of the parts' MD5s) and the SHA-256 recorded in its metadata
are compared with the local file before the upload counts.

Failures are translated into :class:`ObjectStoreError` with a class and a reason of their
own (``S3Unreachable``, ``S3InvalidCredentials``, ...): none of them is a reason the
circuit breaker counts as evidence about a video site.

boto3 is imported inside the functions that use it: it takes about 0.1 s to load, which
every worker would pay at start-up, and a worker writing to a claim never needs it.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import math
import pathlib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from videodl.api.status import FailureClass, ResultFile
from videodl.workerapi.s3 import MIN_PART_SIZE_BYTES, S3Target, marker_key

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = [
    "MAX_PARTS",
    "ObjectStoreError",
    "S3Archive",
    "S3Reason",
    "client",
    "part_size",
    "preflight",
    "translate",
    "upload_file",
]

_log = logging.getLogger("videodl.worker.s3")

#: S3's most parts in one multipart upload.
MAX_PARTS: Final = 10_000
_MIB: Final = 1024 * 1024
_MD5_ETAG: Final = re.compile(r'^"?([0-9a-f]{32})(-(\d+))?"?$')
_SHA256_METADATA: Final = "sha256"


class S3Reason:
    """Reasons of S3 failures: distinct from the site reasons the breaker counts."""

    UNREACHABLE = "S3Unreachable"
    TIMEOUT = "S3Timeout"
    SERVER_ERROR = "S3ServerError"
    VERIFICATION_FAILED = "S3VerificationFailed"
    INVALID_CREDENTIALS = "S3InvalidCredentials"
    NO_SUCH_BUCKET = "S3NoSuchBucket"
    ACCESS_DENIED = "S3AccessDenied"
    REQUEST_REFUSED = "S3RequestRefused"


class ObjectStoreError(Exception):
    """An S3 request failed; carries the verdict the worker reports."""

    def __init__(self, failure_class: FailureClass, reason: str, message: str) -> None:
        self.failure_class = failure_class
        self.reason = reason
        super().__init__(message)


_CREDENTIAL_CODES: Final = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
        "AuthorizationHeaderMalformed",
        "InvalidSecurity",
        "XAdminUserNotFound",
    }
)
_DENIED_CODES: Final = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem"})
_TRANSIENT_CODES: Final = frozenset(
    {
        "SlowDown",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "OperationAborted",
        "BadDigest",
        "RequestTimeTooSkewed",
    }
)


def _where(target: S3Target) -> str:
    return f"bucket {target.bucket!r} at {target.endpoint or 'AWS S3'}"


def _by_transport(exc: Exception, target: S3Target, doing: str) -> ObjectStoreError | None:
    import botocore.exceptions  # noqa: PLC0415 - only S3 outputs load boto3

    endpoint = target.endpoint or "AWS"
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return ObjectStoreError(
            FailureClass.PERMANENT,
            S3Reason.INVALID_CREDENTIALS,
            f"{doing}: no S3 credentials: set spec.output.s3.credentialsSecretRef or the "
            "operator's --s3-credentials-secret",
        )
    if isinstance(
        exc, botocore.exceptions.ConnectTimeoutError | botocore.exceptions.ReadTimeoutError
    ):
        return ObjectStoreError(
            FailureClass.TRANSIENT,
            S3Reason.TIMEOUT,
            f"{doing}: the S3 endpoint {endpoint} timed out",
        )
    if isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectionClosedError,
    ):
        return ObjectStoreError(
            FailureClass.TRANSIENT,
            S3Reason.UNREACHABLE,
            f"{doing}: cannot reach the S3 endpoint {endpoint} (check "
            "spec.output.s3.endpoint or the operator's --s3-endpoint, and that it is up)",
        )
    return None


def _by_code(code: str, status: int, target: S3Target, doing: str) -> ObjectStoreError:
    where = _where(target)
    if code in _CREDENTIAL_CODES:
        return ObjectStoreError(
            FailureClass.PERMANENT,
            S3Reason.INVALID_CREDENTIALS,
            f"{doing}: {where} refused the credentials ({code}): fix {target.credentials_setting}",
        )
    if code == "NoSuchBucket":
        return ObjectStoreError(
            FailureClass.PERMANENT,
            S3Reason.NO_SUCH_BUCKET,
            f"{doing}: {where} does not exist: create it, or fix spec.output.s3.bucket (or "
            "the operator's --s3-bucket)",
        )
    if code in _DENIED_CODES or status == 403:
        return ObjectStoreError(
            FailureClass.PERMANENT,
            S3Reason.ACCESS_DENIED,
            f"{doing}: access denied by {where} ({code or status}): grant the credentials "
            f"of {target.credentials_setting} the actions docs/storage.md lists",
        )
    if code in _TRANSIENT_CODES or status >= 500 or status in (408, 429):
        return ObjectStoreError(
            FailureClass.TRANSIENT,
            S3Reason.SERVER_ERROR,
            f"{doing}: {where} answered {code or 'an error'} (HTTP {status})",
        )
    return ObjectStoreError(
        FailureClass.PERMANENT,
        S3Reason.REQUEST_REFUSED,
        f"{doing}: {where} refused it ({code or status})",
    )


def translate(exc: Exception, target: S3Target, doing: str) -> ObjectStoreError | None:
    """The verdict on a failed request ``doing`` (e.g. "uploading x"), or None for a bug.

    Messages name what to fix (the Secret, the bucket, the endpoint) and never carry the
    server's error document, which may echo the access key and the string signed.
    """
    import botocore.exceptions  # noqa: PLC0415 - only S3 outputs load boto3

    if not isinstance(exc, botocore.exceptions.ClientError):
        return _by_transport(exc, target, doing)
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return _by_code(code, status, target, doing)


def client(target: S3Target) -> S3Client:
    """A client for ``target``; credentials from the ``AWS_*`` variables or the Pod's role.

    Checksums only where S3 requires them: the worker sends Content-MD5 itself, and many
    S3-compatible servers reject the newer trailing checksums.
    """
    import boto3  # noqa: PLC0415 - only S3 outputs load boto3
    import botocore.config  # noqa: PLC0415

    config = botocore.config.Config(
        region_name=target.region,
        s3={"addressing_style": "path" if target.path_style else "virtual"},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=10,
        read_timeout=60,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    keys = target.keys
    session = boto3.session.Session(
        aws_access_key_id=None if keys is None else keys.access_key_id,
        aws_secret_access_key=None if keys is None else keys.secret_access_key,
        aws_session_token=None if keys is None else keys.session_token,
    )
    return session.client("s3", endpoint_url=target.endpoint, config=config)


def part_size(size: int, minimum: int = MIN_PART_SIZE_BYTES) -> int:
    """The part size for a file of ``size`` bytes: ``minimum``, or larger to stay within
    :data:`MAX_PARTS`, in whole MiB."""
    least = max(minimum, MIN_PART_SIZE_BYTES, math.ceil(size / MAX_PARTS))
    return math.ceil(least / _MIB) * _MIB if least % _MIB else least


def _md5(data: bytes) -> tuple[bytes, str]:
    digest = hashlib.md5(data, usedforsecurity=False).digest()
    return digest, base64.b64encode(digest).decode()


def preflight(s3: S3Client, target: S3Target) -> None:
    """Check the bucket and the credentials before anything is downloaded."""
    prefix = marker_key(target.key_prefix, "")
    try:
        s3.list_objects_v2(Bucket=target.bucket, Prefix=prefix, MaxKeys=1)
    except Exception as exc:
        verdict = translate(exc, target, "checking the bucket")
        if verdict is None:
            raise
        raise verdict from None


@dataclasses.dataclass(frozen=True)
class _Sent:
    size: int
    sha256: str
    etag: str


def _put_whole(s3: S3Client, target: S3Target, path: pathlib.Path, key: str) -> _Sent:
    data = path.read_bytes()
    digest, header = _md5(data)
    sha256 = hashlib.sha256(data).hexdigest()
    s3.put_object(
        Bucket=target.bucket,
        Key=key,
        Body=data,
        ContentMD5=header,
        Metadata={_SHA256_METADATA: sha256},
    )
    return _Sent(len(data), sha256, digest.hex())


def _put_parts(s3: S3Client, target: S3Target, path: pathlib.Path, key: str, size: int) -> _Sent:
    chunk = part_size(size, target.part_size_bytes)
    # The SHA-256 goes into the metadata when the upload starts: hash the file first.
    sha256 = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_MIB * 8):
            sha256.update(block)
    upload_id = s3.create_multipart_upload(
        Bucket=target.bucket, Key=key, Metadata={_SHA256_METADATA: sha256.hexdigest()}
    )["UploadId"]
    try:
        parts: list[dict[str, Any]] = []
        digests: list[bytes] = []
        sent = 0
        # The bytes actually sent, hashed again: a file changing meanwhile shows up.
        sent_sha256 = hashlib.sha256()
        with path.open("rb") as handle:
            while data := handle.read(chunk):
                sent_sha256.update(data)
                digest, header = _md5(data)
                number = len(parts) + 1
                answer = s3.upload_part(
                    Bucket=target.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data,
                    ContentMD5=header,
                )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                digests.append(digest)
                sent += len(data)
        s3.complete_multipart_upload(
            Bucket=target.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
        )
    except BaseException:
        # Nothing becomes visible under the key; free the parts stored so far.
        try:
            s3.abort_multipart_upload(Bucket=target.bucket, Key=key, UploadId=upload_id)
        except Exception as exc:  # noqa: BLE001 - the upload's own failure is what counts
            _log.warning("could not abort the multipart upload of %s: %s", key, exc)
        raise
    etag = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest() + f"-{len(parts)}"
    return _Sent(sent, sent_sha256.hexdigest(), etag)


def _verify(s3: S3Client, target: S3Target, key: str, sent: _Sent, local: ResultFile) -> None:
    head = s3.head_object(Bucket=target.bucket, Key=key)
    problems = []
    if sent.size != local.size_bytes or sent.sha256 != local.sha256:
        problems.append("the local file changed while it was uploaded")
    if int(head["ContentLength"]) != local.size_bytes:
        problems.append(f"size {head['ContentLength']} instead of {local.size_bytes}")
    stored_sha = head.get("Metadata", {}).get(_SHA256_METADATA)
    if stored_sha is not None and stored_sha != local.sha256:
        problems.append("its recorded SHA-256 differs")
    etag = _MD5_ETAG.match(str(head.get("ETag", "")))
    # An ETag that is no MD5 (server-side encryption with KMS) proves nothing either way;
    # the server checked every part's Content-MD5 already.
    if etag is not None and etag.group(0).strip('"') != sent.etag:
        problems.append(f"ETag {head['ETag']} instead of {sent.etag}")
    if problems:
        raise ObjectStoreError(
            FailureClass.TRANSIENT,
            S3Reason.VERIFICATION_FAILED,
            f"uploaded {target.uri(key)} does not match the downloaded file: "
            + "; ".join(problems),
        )


def upload_file(
    s3: S3Client, target: S3Target, path: pathlib.Path, key: str, local: ResultFile
) -> ResultFile:
    """Upload ``path`` (described by ``local``) to ``key`` and verify it; the result's
    ``path`` is the object's ``s3://`` URI."""
    doing = f"uploading {target.uri(key)}"
    try:
        size = path.stat().st_size
        if size <= part_size(size, target.part_size_bytes):
            sent = _put_whole(s3, target, path, key)
        else:
            sent = _put_parts(s3, target, path, key, size)
        _verify(s3, target, key, sent, local)
    except ObjectStoreError:
        raise
    except Exception as exc:
        verdict = translate(exc, target, doing)
        if verdict is None:
            raise
        raise verdict from exc
    _log.info("uploaded %s (%d bytes, sha256 %s)", target.uri(key), local.size_bytes, local.sha256)
    return ResultFile(path=target.uri(key), size_bytes=local.size_bytes, sha256=local.sha256)


class S3Archive:
    """yt-dlp's ``download_archive`` over one marker object per video in the bucket.

    A lookup reads the video's marker and counts as a hit only while every object it lists
    is still there. yt-dlp records a video as soon as it is downloaded, before the upload:
    records wait in :attr:`pending` until :meth:`commit` writes them after the upload. A
    marker is created with ``If-None-Match: *``, so of two concurrent workers the first
    record stays; with ``check=False`` (``spec.force``) it is overwritten.
    """

    def __init__(self, s3: S3Client, target: S3Target, *, check: bool = True) -> None:
        self.s3 = s3
        self.target = target
        self.check = check
        self.hits: list[str] = []
        self.hit_files: list[ResultFile] = []
        self.pending: list[str] = []

    def _read(self, archive_id: str) -> list[ResultFile] | None:
        import botocore.exceptions  # noqa: PLC0415 - only S3 outputs load boto3

        key = marker_key(self.target.key_prefix, archive_id)
        try:
            body = self.s3.get_object(Bucket=self.target.bucket, Key=key)["Body"].read()
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        try:
            files = [ResultFile.model_validate(f) for f in json.loads(body)["files"]]
        except (ValueError, KeyError, TypeError):
            _log.warning("ignoring the unreadable archive marker %s", self.target.uri(key))
            return None
        for entry in files:
            try:
                self.s3.head_object(Bucket=self.target.bucket, Key=self._key_of(entry.path))
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    _log.info("%s is recorded but %s is gone: downloading again", key, entry.path)
                    return None
                raise
        return files

    def _key_of(self, uri: str) -> str:
        return uri.removeprefix(f"s3://{self.target.bucket}/")

    def __contains__(self, archive_id: object) -> bool:
        if not self.check:
            return False
        try:
            files = self._read(str(archive_id))
        except ObjectStoreError:
            raise
        except Exception as exc:
            verdict = translate(exc, self.target, f"looking up {archive_id} in the archive")
            if verdict is None:
                raise
            raise verdict from exc
        if files is None:
            return False
        self.hits.append(str(archive_id))
        self.hit_files.extend(f for f in files if f not in self.hit_files)
        return True

    def __bool__(self) -> bool:
        # yt-dlp skips the lookup entirely for an empty archive; always look.
        return True

    def __len__(self) -> int:
        return len(self.hits)

    def add(self, archive_id: str) -> None:
        """Remember a finished download (called by yt-dlp); written by :meth:`commit`."""
        if archive_id not in self.pending:
            self.pending.append(archive_id)

    def commit(self, files: Iterable[ResultFile]) -> None:
        """Write a marker listing ``files`` for every video downloaded in this attempt."""
        import botocore.exceptions  # noqa: PLC0415 - only S3 outputs load boto3

        body = json.dumps(
            {"files": [f.model_dump(by_alias=True) for f in files]}, separators=(",", ":")
        ).encode()
        for archive_id in self.pending:
            key = marker_key(self.target.key_prefix, archive_id)
            extra: dict[str, Any] = {} if not self.check else {"IfNoneMatch": "*"}
            try:
                self.s3.put_object(
                    Bucket=self.target.bucket,
                    Key=key,
                    Body=body,
                    ContentType="application/json",
                    **extra,
                )
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
                    _log.info("%s was recorded by another worker meanwhile", archive_id)
                    continue
                verdict = translate(exc, self.target, f"recording {self.target.uri(key)}")
                raise (verdict or exc) from None
            except Exception as exc:
                verdict = translate(exc, self.target, f"recording {self.target.uri(key)}")
                if verdict is None:
                    raise
                raise verdict from exc
