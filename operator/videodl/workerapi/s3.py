"""The S3 destination as worker and cleanup Pods see it: settings, names, variables.

A VideoDownload's ``spec.output.s3`` and the operator's defaults resolve to one
:class:`S3Target` (:func:`resolve`); the operator passes it to the Pod as ``VIDEODL_S3_*``
variables (:func:`environment_of`) and the Pod reads it back with :func:`load`. The
credentials travel separately, as ``AWS_*`` variables the kubelet fills from the Secret
(:func:`credential_variables`), so no key ever appears in the Pod spec. Object keys and
``s3://`` URIs are built here too, for the worker, the cleanup and the operator alike.
Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import posixpath
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final

from videodl.api.output import S3CredentialsRef, S3Output

__all__ = [
    "ACCESS_KEY_ID",
    "ARCHIVE_PREFIX",
    "BUCKET",
    "CREDENTIALS_SECRET",
    "DEFAULT_PART_SIZE_BYTES",
    "ENDPOINT",
    "KEY_PREFIX",
    "MIN_PART_SIZE_BYTES",
    "PART_SIZE",
    "PATH_STYLE",
    "REGION",
    "SECRET_ACCESS_KEY",
    "SESSION_TOKEN",
    "AccessKeys",
    "MissingBucketError",
    "S3Defaults",
    "S3Target",
    "credential_variables",
    "environment_of",
    "load",
    "marker_key",
    "parse_uri",
    "resolve",
    "uri",
]

BUCKET: Final = "VIDEODL_OUTPUT_S3_BUCKET"
KEY_PREFIX: Final = "VIDEODL_OUTPUT_S3_KEY_PREFIX"
ENDPOINT: Final = "VIDEODL_OUTPUT_S3_ENDPOINT"
REGION: Final = "VIDEODL_OUTPUT_S3_REGION"
PATH_STYLE: Final = "VIDEODL_OUTPUT_S3_PATH_STYLE"
#: Name (never the content) of the credentials Secret, so failures can name it.
CREDENTIALS_SECRET: Final = "VIDEODL_OUTPUT_S3_CREDENTIALS_SECRET"  # noqa: S105 - a name
#: Least part size of multipart uploads, in bytes (parts grow for files over 10 000 parts).
PART_SIZE: Final = "VIDEODL_OUTPUT_S3_PART_SIZE"
#: The variables boto3 reads credentials from; filled from the Secret by the kubelet.
ACCESS_KEY_ID: Final = "AWS_ACCESS_KEY_ID"
SECRET_ACCESS_KEY: Final = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a variable's name
SESSION_TOKEN: Final = "AWS_SESSION_TOKEN"  # noqa: S105 - a variable's name

#: S3's smallest part but the last.
MIN_PART_SIZE_BYTES: Final = 5 * 1024 * 1024
DEFAULT_PART_SIZE_BYTES: Final = 16 * 1024 * 1024
DEFAULT_REGION: Final = "us-east-1"
#: Key "directory" under the prefix holding one archive marker object per video.
ARCHIVE_PREFIX: Final = ".videodl-archive"


class MissingBucketError(ValueError):
    """``spec.output.s3`` names no bucket and the operator has no default bucket."""


@dataclasses.dataclass(frozen=True)
class S3Defaults:
    """The operator's defaults for ``spec.output.s3`` fields left unset."""

    endpoint: str | None = None
    bucket: str | None = None
    region: str | None = None
    #: Secret (in the download's namespace) with keys ``accessKeyId`` and ``secretAccessKey``.
    credentials_secret: str | None = None
    #: Path-style addressing; None means "when an endpoint is set".
    force_path_style: bool | None = None
    #: Size limit of the scratch emptyDir; None leaves it unlimited.
    scratch_size_limit: str | None = None
    part_size_bytes: int = DEFAULT_PART_SIZE_BYTES


@dataclasses.dataclass(frozen=True)
class AccessKeys:
    """Credentials as the Pod received them; never printed (no ``repr``)."""

    access_key_id: str = dataclasses.field(repr=False)
    secret_access_key: str = dataclasses.field(repr=False)
    session_token: str | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True)
class S3Target:
    """Where one download's objects go, every default applied."""

    bucket: str
    key_prefix: str = ""
    endpoint: str | None = None
    region: str = DEFAULT_REGION
    path_style: bool = False
    credentials: S3CredentialsRef | None = None
    scratch_size_limit: str | None = None
    part_size_bytes: int = DEFAULT_PART_SIZE_BYTES
    #: The keys themselves, in the Pod only (from the ``AWS_*`` variables); None lets
    #: boto3 find ambient credentials.
    keys: AccessKeys | None = dataclasses.field(default=None, repr=False, compare=False)

    def key(self, relative: str) -> str:
        """The object key of a file at ``relative`` (a path below the download's directory)."""
        return posixpath.join(self.key_prefix, relative) if self.key_prefix else relative

    def uri(self, key: str) -> str:
        """``s3://bucket/key``."""
        return uri(self.bucket, key)

    @property
    def credentials_setting(self) -> str:
        """What to fix when the credentials are refused, for failure messages."""
        if self.credentials is None:
            return (
                "the Pod's ambient credentials (set spec.output.s3.credentialsSecretRef or the "
                "operator's --s3-credentials-secret)"
            )
        return (
            f"Secret {self.credentials.name!r} (keys {self.credentials.access_key_id_key!r} "
            f"and {self.credentials.secret_access_key_key!r}) named by "
            "spec.output.s3.credentialsSecretRef or the operator's --s3-credentials-secret"
        )


def _prefix(raw: str | None) -> str:
    if not raw:
        return ""
    return "/".join(part for part in raw.split("/") if part not in ("", "."))


def resolve(spec: S3Output, defaults: S3Defaults) -> S3Target:
    """``spec`` with the operator's ``defaults`` filled in.

    Raises :class:`MissingBucketError` naming the fix when neither gives a bucket.
    """
    bucket = spec.bucket or defaults.bucket
    if bucket is None:
        msg = (
            "spec.output.s3.bucket is not set and the operator has no default bucket: set "
            "the bucket in the spec, or start the operator with --s3-bucket"
        )
        raise MissingBucketError(msg)
    endpoint = spec.endpoint or defaults.endpoint
    path_style = spec.force_path_style
    if path_style is None:
        path_style = (
            defaults.force_path_style
            if defaults.force_path_style is not None
            else endpoint is not None
        )
    credentials = spec.credentials_secret_ref
    if credentials is None and defaults.credentials_secret is not None:
        credentials = S3CredentialsRef(name=defaults.credentials_secret)
    return S3Target(
        bucket=bucket,
        key_prefix=_prefix(spec.key_prefix),
        endpoint=endpoint,
        region=spec.region or defaults.region or DEFAULT_REGION,
        path_style=path_style,
        credentials=credentials,
        scratch_size_limit=spec.scratch_size_limit or defaults.scratch_size_limit,
        part_size_bytes=max(defaults.part_size_bytes, MIN_PART_SIZE_BYTES),
    )


def environment_of(target: S3Target) -> list[dict[str, Any]]:
    """The Pod's ``env`` entries describing ``target``, credentials as Secret references."""
    env: list[dict[str, Any]] = [
        {"name": BUCKET, "value": target.bucket},
        {"name": REGION, "value": target.region},
        {"name": PATH_STYLE, "value": "true" if target.path_style else "false"},
        {"name": PART_SIZE, "value": str(target.part_size_bytes)},
    ]
    if target.key_prefix:
        env.append({"name": KEY_PREFIX, "value": target.key_prefix})
    if target.endpoint:
        env.append({"name": ENDPOINT, "value": target.endpoint})
    return env + credential_variables(target.credentials)


def credential_variables(ref: S3CredentialsRef | None) -> list[dict[str, Any]]:
    """``AWS_*`` variables from ``ref``'s Secret (``secretKeyRef``), and its name."""
    if ref is None:
        return []

    def from_secret(variable: str, key: str) -> dict[str, Any]:
        return {"name": variable, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": key}}}

    env = [
        {"name": CREDENTIALS_SECRET, "value": ref.name},
        from_secret(ACCESS_KEY_ID, ref.access_key_id_key),
        from_secret(SECRET_ACCESS_KEY, ref.secret_access_key_key),
    ]
    if ref.session_token_key:
        env.append(from_secret(SESSION_TOKEN, ref.session_token_key))
    return env


def load(environ: Mapping[str, str]) -> S3Target:
    """The target the Pod's environment describes; raises ValueError naming the variable."""
    bucket = environ.get(BUCKET, "").strip()
    if not bucket:
        msg = f"{BUCKET}: missing: spec.output.s3 is set, so the operator must name the bucket"
        raise ValueError(msg)
    raw_part = environ.get(PART_SIZE, "").strip() or str(DEFAULT_PART_SIZE_BYTES)
    if not raw_part.isdigit() or int(raw_part) < MIN_PART_SIZE_BYTES:
        msg = f"{PART_SIZE}: {raw_part!r} is not a whole number of bytes >= {MIN_PART_SIZE_BYTES}"
        raise ValueError(msg)
    path_style = environ.get(PATH_STYLE, "false").strip().lower()
    if path_style not in ("true", "false"):
        msg = f"{PATH_STYLE}: {path_style!r} must be 'true' or 'false'"
        raise ValueError(msg)
    secret = environ.get(CREDENTIALS_SECRET) or None
    access_key_id = environ.get(ACCESS_KEY_ID) or ""
    secret_access_key = environ.get(SECRET_ACCESS_KEY) or ""
    keys = None
    if access_key_id and secret_access_key:
        keys = AccessKeys(access_key_id, secret_access_key, environ.get(SESSION_TOKEN) or None)
    elif secret is not None:
        msg = (
            f"{ACCESS_KEY_ID}: missing: the Pod names Secret {secret!r} but received no "
            "access key id and secret access key from it"
        )
        raise ValueError(msg)
    return S3Target(
        bucket=bucket,
        key_prefix=_prefix(environ.get(KEY_PREFIX)),
        endpoint=environ.get(ENDPOINT) or None,
        region=environ.get(REGION) or DEFAULT_REGION,
        path_style=path_style == "true",
        credentials=None if secret is None else S3CredentialsRef(name=secret),
        part_size_bytes=int(raw_part),
        keys=keys,
    )


def uri(bucket: str, key: str) -> str:
    """``s3://bucket/key``."""
    return f"s3://{bucket}/{key}"


def parse_uri(text: str) -> tuple[str, str] | None:
    """(bucket, key) of an ``s3://bucket/key`` URI, or None when ``text`` is none."""
    if not text.startswith("s3://"):
        return None
    bucket, _, key = text.removeprefix("s3://").partition("/")
    if not bucket or not key or "\x00" in key:
        return None
    return bucket, key


def marker_key(key_prefix: str, archive_id: str) -> str:
    """The archive marker object recording ``archive_id`` (``<extractor> <id>``).

    One object per video, so concurrent workers never overwrite each other's records.
    """
    name = urllib.parse.quote(archive_id, safe="")
    return (
        posixpath.join(key_prefix, ARCHIVE_PREFIX, name)
        if key_prefix
        else (f"{ARCHIVE_PREFIX}/{name}")
    )
