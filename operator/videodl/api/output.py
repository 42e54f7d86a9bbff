"""``spec.output``: the volume the files go to and the names they get there.

Both ``subPath`` and ``template`` are paths inside the output volume; their rules keep
every file inside it and every name free of control characters. Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field, field_validator

from videodl.api import rules
from videodl.api._base import DnsSubdomain, SpecModel
from videodl.api.rules import Rule

__all__ = [
    "DEFAULT_OUTPUT_TEMPLATE",
    "SUB_PATH_RULES",
    "TEMPLATE_RULES",
    "OutputSpec",
    "PersistentVolumeClaimRef",
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


class PersistentVolumeClaimRef(SpecModel):
    """A PersistentVolumeClaim in the VideoDownload's namespace."""

    claim_name: DnsSubdomain = Field(
        description="Name of the PersistentVolumeClaim, in the same namespace."
    )


class OutputSpec(SpecModel):
    """Where and under which names files are written."""

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
