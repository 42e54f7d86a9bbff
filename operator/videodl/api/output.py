"""``spec.output``: where the files go (a volume or an S3 bucket) and the names they get.

``subPath``, ``template`` and ``s3.keyPrefix`` are relative paths inside the destination;
their rules keep every file inside it and every name free of control characters. A
destination is either a PersistentVolumeClaim or an S3-compatible bucket, never both.
Pure: no I/O.
"""

from __future__ import annotations

from typing import Final, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from videodl.api import rules
from videodl.api._base import CONFIG_KEY_MAX, CONFIG_KEY_PATTERN, DnsSubdomain, SpecModel
from videodl.api.quantity import Quantity
from videodl.api.rules import Rule

__all__ = [
    "DEFAULT_OUTPUT_TEMPLATE",
    "KEY_PREFIX_RULES",
    "OUTPUT_RULES",
    "S3_BUCKET_PATTERN",
    "S3_ENDPOINT_PATTERN",
    "SUB_PATH_RULES",
    "TEMPLATE_RULES",
    "OutputSpec",
    "PersistentVolumeClaimRef",
    "S3CredentialsRef",
    "S3Output",
    "relative_path_rules",
]

DEFAULT_OUTPUT_TEMPLATE = "%(title).200B [%(id)s].%(ext)s"
TEMPLATE_MAX_LENGTH = 512
SUB_PATH_MAX_LENGTH = 512


def relative_path_rules(field: str, *, forbid_dollar: bool) -> tuple[Rule[str], ...]:
    """The rules of a path inside the output volume; messages name ``field``."""
    table: list[Rule[str]] = [
        Rule(
            cel="!self.startsWith('/') && !self.startsWith('~')",
            message=(
                f"{field} must be a relative path: remove the leading '/' or '~' "
                "(files are always written inside the output volume)"
            ),
            error_type="absolute_path",
            holds=lambda value: not value.startswith(("/", "~")),
        ),
        # String tests rather than a regex: RE2 and Python disagree on `$` before "\n".
        Rule(
            cel=(
                "self != '..' && !self.startsWith('../') && !self.endsWith('/..') "
                "&& !self.contains('/../')"
            ),
            message=(
                f"{field} may not contain a '..' path segment: files must stay inside the "
                "output volume"
            ),
            error_type="parent_path_segment",
            holds=lambda value: (
                not (
                    value == ".."
                    or value.startswith("../")
                    or value.endswith("/..")
                    or "/../" in value
                )
            ),
        ),
        rules.no_control_characters(field),
    ]
    if forbid_dollar:
        table.append(
            Rule(
                cel="!self.contains('$')",
                message=(
                    f"{field} may not contain '$': yt-dlp would expand it as an environment "
                    "variable; use yt-dlp fields such as %(uploader)s instead"
                ),
                error_type="environment_variable",
                holds=lambda value: "$" not in value,
            )
        )
    return tuple(table)


#: The rules of ``spec.output.subPath``.
SUB_PATH_RULES: Final = relative_path_rules("spec.output.subPath", forbid_dollar=False)
#: The rules of ``spec.output.template``.
TEMPLATE_RULES: Final = relative_path_rules("spec.output.template", forbid_dollar=True)
#: The rules of ``spec.output.s3.keyPrefix``: a "directory" of the bucket, like a subPath.
KEY_PREFIX_RULES: Final = relative_path_rules("spec.output.s3.keyPrefix", forbid_dollar=True)

#: S3's bucket naming rules (3 to 63 lowercase letters, digits, '.' and '-').
S3_BUCKET_PATTERN: Final = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
#: An http(s) URL with a host, an optional port and an optional path, nothing else.
S3_ENDPOINT_PATTERN: Final = r"^https?://[A-Za-z0-9.\[\]:-]+(/[A-Za-z0-9._~/-]*)?$"
_REGION_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
KEY_PREFIX_MAX_LENGTH = 512

#: Rules across ``spec.output``'s fields: one destination, and a subPath only on a volume.
OUTPUT_RULES: Final[tuple[Rule[OutputSpec], ...]] = (
    Rule(
        cel="!(has(self.persistentVolumeClaim) && has(self.s3))",
        message=(
            "spec.output.persistentVolumeClaim and spec.output.s3 are mutually exclusive: "
            "files go to a volume or to a bucket, remove one of them"
        ),
        error_type="claim_and_s3",
        holds=lambda spec: spec.persistent_volume_claim is None or spec.s3 is None,
    ),
    Rule(
        cel="!(has(self.subPath) && has(self.s3))",
        message=(
            "spec.output.subPath applies to a volume only: with spec.output.s3 use "
            "spec.output.s3.keyPrefix instead"
        ),
        error_type="sub_path_and_s3",
        holds=lambda spec: spec.sub_path is None or spec.s3 is None,
    ),
)


class PersistentVolumeClaimRef(SpecModel):
    """A PersistentVolumeClaim in the VideoDownload's namespace."""

    claim_name: DnsSubdomain = Field(
        description="Name of the PersistentVolumeClaim, in the same namespace."
    )


class S3CredentialsRef(SpecModel):
    """A Secret in the VideoDownload's namespace holding S3 credentials.

    Its values reach the worker as environment variables from ``secretKeyRef``; they never
    appear in the Pod spec, status, Events or logs.
    """

    name: DnsSubdomain = Field(description="Name of the Secret, in the same namespace.")
    access_key_id_key: str = Field(
        default="accessKeyId",
        min_length=1,
        max_length=CONFIG_KEY_MAX,
        pattern=CONFIG_KEY_PATTERN,
        description="Key in the Secret whose value is the access key id.",
    )
    secret_access_key_key: str = Field(
        default="secretAccessKey",
        min_length=1,
        max_length=CONFIG_KEY_MAX,
        pattern=CONFIG_KEY_PATTERN,
        description="Key in the Secret whose value is the secret access key.",
    )
    session_token_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=CONFIG_KEY_MAX,
        pattern=CONFIG_KEY_PATTERN,
        description="Key in the Secret holding a session token, for temporary credentials.",
    )


class S3Output(SpecModel):
    """An S3-compatible bucket to upload the files into. Unset fields take the operator's
    defaults (`--s3-endpoint`, `--s3-bucket`, `--s3-region`, `--s3-credentials-secret`)."""

    bucket: str | None = Field(
        default=None,
        min_length=3,
        max_length=63,
        pattern=S3_BUCKET_PATTERN,
        description="Bucket to upload into. Required unless the operator has a default bucket.",
    )
    key_prefix: str | None = Field(
        default=None,
        min_length=1,
        max_length=KEY_PREFIX_MAX_LENGTH,
        description=(
            "Prefix of every object key, like a directory: an object's key is "
            "`<keyPrefix>/<name from spec.output.template>`. May not be absolute or "
            "contain a `..` segment, `$` or control characters."
        ),
        json_schema_extra=rules.schema_extra(*KEY_PREFIX_RULES),
    )
    endpoint: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        pattern=S3_ENDPOINT_PATTERN,
        description=(
            "URL of the S3 API, e.g. `https://s3.eu-west-1.amazonaws.com` or "
            "`http://versitygw.storage:7070`. Unset uses the operator's default, else AWS. "
            "The worker connects to it under the same egress rules as to sites."
        ),
    )
    region: str | None = Field(
        default=None,
        min_length=1,
        max_length=63,
        pattern=_REGION_PATTERN,
        description="Region to sign requests for, e.g. `us-east-1` (the default).",
    )
    force_path_style: bool | None = Field(
        default=None,
        description=(
            "Address the bucket in the URL's path (`https://host/bucket/key`) rather than "
            "its host name; most self-hosted servers need it. Unset uses the operator's "
            "default (path style when an endpoint is set)."
        ),
    )
    credentials_secret_ref: S3CredentialsRef | None = Field(
        default=None,
        description=(
            "Secret with the access key id and secret access key (and optionally a session "
            "token). Unset uses the operator's default Secret, else the Pod's ambient "
            "credentials (e.g. a web identity)."
        ),
    )
    scratch_size_limit: Quantity | None = Field(
        default=None,
        description=(
            "Size limit of the scratch volume (an emptyDir) the files are downloaded into "
            "before the upload, e.g. `20Gi`. Unset uses the operator's default."
        ),
    )

    @field_validator("key_prefix")
    @classmethod
    def _key_prefix_relative(cls, value: str | None) -> str | None:
        return None if value is None else rules.enforce(KEY_PREFIX_RULES, value)


class OutputSpec(SpecModel):
    """Where and under which names files are written: a volume or an S3 bucket."""

    model_config = ConfigDict(json_schema_extra=rules.schema_extra(*OUTPUT_RULES))

    persistent_volume_claim: PersistentVolumeClaimRef | None = Field(
        default=None,
        description=(
            "Volume to write into. Required unless the operator is configured with a default claim."
        ),
    )
    sub_path: str | None = Field(
        default=None,
        min_length=1,
        max_length=SUB_PATH_MAX_LENGTH,
        description=(
            "Directory inside the volume, relative to its root; created when missing. "
            "May not be absolute or contain a `..` segment or control characters."
        ),
        json_schema_extra=rules.schema_extra(*SUB_PATH_RULES),
    )
    template: str = Field(
        default=DEFAULT_OUTPUT_TEMPLATE,
        min_length=1,
        max_length=TEMPLATE_MAX_LENGTH,
        description=(
            "yt-dlp output template for file names, relative to `subPath`, e.g. "
            "`%(uploader)s/%(title)s.%(ext)s`. The default caps the title at 200 bytes "
            "so names stay within file system limits. May not be absolute or contain a "
            "`..` segment, `$` or control characters."
        ),
        json_schema_extra=rules.schema_extra(*TEMPLATE_RULES),
    )
    s3: S3Output | None = Field(
        default=None,
        description=(
            "Upload the files into an S3-compatible bucket instead of writing them to a "
            "volume. Mutually exclusive with `persistentVolumeClaim` and `subPath`."
        ),
    )
    restrict_filenames: bool = Field(
        default=False,
        description="Restrict file names to ASCII characters without spaces or `&`.",
    )

    @field_validator("sub_path")
    @classmethod
    def _sub_path_relative(cls, value: str | None) -> str | None:
        return None if value is None else rules.enforce(SUB_PATH_RULES, value)

    @field_validator("template")
    @classmethod
    def _template_relative(cls, value: str) -> str:
        return rules.enforce(TEMPLATE_RULES, value)

    @model_validator(mode="after")
    def _one_destination(self) -> Self:
        rules.enforce(OUTPUT_RULES, self)
        return self
