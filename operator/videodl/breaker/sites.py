"""The site a download URL belongs to, the same way at admission and when its outcome comes.

The breaker key is yt-dlp's extractor key for URLs a site-specific extractor handles (so
``youtu.be`` and ``www.youtube.com`` share one breaker) and the host for everything the
generic extractor would take (so one failing host never blocks another); see
:func:`videodl.core.site_keys.site_key`. The extractor is found by matching the URL against
yt-dlp's extractors, as yt-dlp itself does before it makes any request: no network, but the
first call loads the extractor table (about a second, some megabytes), so call
:func:`warm_up` in a thread at start.
"""

from __future__ import annotations

import functools
from typing import Any

from videodl.core import site_keys

__all__ = ["extractor_for", "site_of", "warm_up"]

_GENERIC = "Generic"


@functools.cache
def _extractors() -> tuple[Any, ...]:
    # The lazy extractor table holds only the URL patterns, not the extractors' code.
    from yt_dlp.extractor import gen_extractor_classes  # noqa: PLC0415 - loaded on first use

    return tuple(ie for ie in gen_extractor_classes() if ie.ie_key() != _GENERIC)


def extractor_for(url: str) -> str | None:
    """The key of the first site-specific yt-dlp extractor for ``url``, or ``None``."""
    for ie in _extractors():
        if ie.suitable(url):
            return str(ie.ie_key())
    return None


def site_of(url: str) -> str:
    """The breaker's site key for ``url``; raises ``ValueError`` for a URL without a host."""
    return site_keys.site_key(extractor_for(url), url)


def warm_up() -> None:
    """Load the extractor table and compile its patterns now rather than on first use."""
    extractor_for("https://videodl.invalid/warm-up")
