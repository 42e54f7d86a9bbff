"""Close names for a name that does not exist, as a "did you mean" hint. Pure: no I/O."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_names", "hint"]


def close_names(name: str, known: Iterable[str], *, limit: int = 3) -> list[str]:
    """The known names most like ``name``, best first; prefixes and substrings count too."""
    candidates = sorted(set(known))
    close = difflib.get_close_matches(name, candidates, n=limit, cutoff=0.6)
    contained = [k for k in candidates if name and (name in k or k in name) and k not in close]
    return (close + contained)[:limit]


def hint(name: str, known: Iterable[str]) -> str:
    """``; did you mean a or b?``, or an empty string when nothing is close."""
    names = close_names(name, known)
    if not names:
        return ""
    return "; did you mean " + " or ".join(names) + "?"
