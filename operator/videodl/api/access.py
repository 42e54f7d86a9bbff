"""``spec.cookies`` and ``spec.network``: how the worker meets the site.

Cookies for a logged-in session, and the rate limit and pauses that keep the worker
polite. Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field, field_validator

from videodl.api import rules
from videodl.api._base import CONFIG_KEY_MAX, CONFIG_KEY_PATTERN, DnsSubdomain, SpecModel
from videodl.api.rules import Rule

__all__ = ["DEFAULT_COOKIES_KEY", "SECRET_KEY_RULES", "CookiesSpec", "NetworkSpec", "SecretKeyRef"]

DEFAULT_COOKIES_KEY = "cookies.txt"

#: The rules of ``spec.cookies.secretRef.key`` besides its pattern (which already keeps
#: out control characters and "/"): the names Kubernetes never gives a Secret key.
SECRET_KEY_RULES: Final[tuple[Rule[str], ...]] = (
    Rule(
        cel="self != '.' && !self.startsWith('..')",
        message=(
            "spec.cookies.secretRef.key may not be '.' or start with '..': no Secret has "
            "such a key; use the key the cookies file is stored under in the Secret"
        ),
        error_type="secret_key_dots",
        holds=lambda key: key != "." and not key.startswith(".."),
    ),
)


class SecretKeyRef(SpecModel):
    """A key of a Secret in the VideoDownload's namespace."""

    name: DnsSubdomain = Field(description="Name of the Secret, in the same namespace.")
    key: str = Field(
        default=DEFAULT_COOKIES_KEY,
        min_length=1,
        max_length=CONFIG_KEY_MAX,
        pattern=CONFIG_KEY_PATTERN,
        description="Key in the Secret whose value is the file.",
        json_schema_extra=rules.schema_extra(*SECRET_KEY_RULES),
    )

    @field_validator("key")
    @classmethod
    def _key_is_a_secret_key(cls, value: str) -> str:
        return rules.enforce(SECRET_KEY_RULES, value)


class CookiesSpec(SpecModel):
    """Cookies for sites that need a logged-in session."""

    secret_ref: SecretKeyRef = Field(
        description=(
            "Secret key holding a cookies file in Netscape format (as exported by "
            "browser extensions or `yt-dlp --cookies`). It is mounted read-only into "
            "the worker."
        ),
    )


class NetworkSpec(SpecModel):
    """Politeness towards the site."""

    rate_limit_bytes_per_second: int | None = Field(
        default=None,
        ge=1024,
        description="Maximum download rate in bytes per second. Unset means unlimited.",
    )
    sleep_interval_seconds: float | None = Field(
        default=None,
        ge=0,
        le=3600,
        description="Seconds to wait before each download, e.g. between playlist entries.",
    )
