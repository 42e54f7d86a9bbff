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
import re
from collections.abc import Callable

from videodl.core import site_keys
from videodl.workerapi.environment import ExtractorHint

__all__ = ["extractor_for", "extractor_hint", "site_of", "warm_up"]

_GENERIC = "Generic"


#: A test of a URL: a compiled pattern's ``match``, or an extractor's own ``suitable``.
_Test = Callable[[str], object]


@functools.cache
def _extractors() -> tuple[tuple[str, _Test], ...]:
    """(extractor key, test) pairs in yt-dlp's order; a key has one pair per URL pattern."""
    # The lazy extractor table holds only the URL patterns, not the extractors' code.
    from yt_dlp.extractor import gen_extractor_classes  # noqa: PLC0415 - loaded on first use
    from yt_dlp.utils import variadic  # noqa: PLC0415

    try:
        from yt_dlp.extractor.lazy_extractors import LazyLoadExtractor  # noqa: PLC0415
    except ImportError:  # a yt-dlp built without its lazy table: every extractor's own test
        plain = None
    else:
        plain = LazyLoadExtractor.suitable.__func__
    table: list[tuple[str, _Test]] = []
    for ie in gen_extractor_classes():
        key = str(ie.ie_key())
        if key == _GENERIC:
            continue
        if ie.suitable.__func__ is not plain:
            table.append((key, ie.suitable))
        elif ie._VALID_URL is not False:
            # The plain ``suitable`` matches these patterns through three Python calls per
            # extractor; a URL no site claims is tested against all of them, so match the
            # compiled patterns directly (a third of the time).
            table.extend((key, re.compile(p).match) for p in variadic(ie._VALID_URL))
    return tuple(table)


# A download's URL is looked up when its Pod is built and again by the breaker, and once
# more on every retry.
@functools.lru_cache(maxsize=4096)
def extractor_for(url: str) -> str | None:
    """The key of the first site-specific yt-dlp extractor for ``url``, or ``None``."""
    for key, test in _extractors():
        if test(url):
            return key
    return None


def extractor_hint(url: str) -> str | None:
    """What a worker Pod is told of the extractor for ``url`` (``VIDEODL_EXTRACTOR``).

    None while the extractor table is still loading: a Pod is not held back for a shortcut.
    """
    if _extractors.cache_info().currsize == 0:
        return None
    from yt_dlp.version import __version__  # noqa: PLC0415 - loaded with the table already

    return ExtractorHint(key=extractor_for(url) or _GENERIC, version=__version__).encode()


def site_of(url: str) -> str:
    """The breaker's site key for ``url``; raises ``ValueError`` for a URL without a host."""
    return site_keys.site_key(extractor_for(url), url)


def warm_up() -> None:
    """Load the extractor table and compile its patterns now rather than on first use."""
    extractor_for("https://videodl.invalid/warm-up")
