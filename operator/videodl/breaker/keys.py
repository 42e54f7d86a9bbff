"""Which strings may name a site in the breaker's ConfigMap. Pure: no I/O."""

from __future__ import annotations

import re

from videodl.api._base import CONFIG_KEY_MAX, CONFIG_KEY_PATTERN

__all__ = ["validate_key"]

# What the apiserver accepts as a ConfigMap data key.
_KEY = re.compile(CONFIG_KEY_PATTERN)


def validate_key(key: str) -> str:
    """Return ``key`` when it is a valid ConfigMap data key, or raise ``ValueError``."""
    if not _KEY.fullmatch(key) or len(key) > CONFIG_KEY_MAX or key in {".", ".."}:
        msg = (
            f"site key {key!r} is not a valid ConfigMap key: use at most 253 of the "
            "characters a-z A-Z 0-9 '-' '_' '.', as the keys of the breaker ConfigMap are"
        )
        raise ValueError(msg)
    return key
