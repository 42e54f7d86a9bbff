"""Which strings may name a site in the breaker's ConfigMap. Pure: no I/O."""

from __future__ import annotations

import re

__all__ = ["validate_key"]

# What the apiserver accepts as a ConfigMap data key.
_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_MAX_KEY = 253


def validate_key(key: str) -> str:
    """Return ``key`` when it is a valid ConfigMap data key, or raise ``ValueError``."""
    if not _KEY.fullmatch(key) or len(key) > _MAX_KEY or key in {".", ".."}:
        msg = (
            f"site key {key!r} is not a valid ConfigMap key: use at most 253 of the "
            "characters a-z A-Z 0-9 '-' '_' '.', as the keys of the breaker ConfigMap are"
        )
        raise ValueError(msg)
    return key
