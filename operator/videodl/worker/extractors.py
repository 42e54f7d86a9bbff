"""Which yt-dlp extractor a worker or indexer hands a URL to without searching for one.

yt-dlp finds the extractor for a URL by testing it against every extractor's pattern in
turn, compiling each on the way: about 0.4 s for a URL that only the generic extractor
takes. The operator, which keeps those patterns compiled, passes on what it found
(:class:`~videodl.workerapi.environment.ExtractorHint`); this module decides whether the
Pod can trust it.
"""

from __future__ import annotations

import logging

from yt_dlp.extractor import get_info_extractor
from yt_dlp.version import __version__ as ytdlp_version

from videodl.workerapi.environment import ExtractorHint

__all__ = ["extractor_key"]

_log = logging.getLogger("videodl.worker")


def extractor_key(hint: ExtractorHint | None, url: str) -> str | None:
    """The extractor to hand ``url`` to straight away, from the operator's ``hint``.

    None (yt-dlp then tests every extractor, as always) unless the hint comes from this
    very yt-dlp version and names an extractor that takes ``url``. The operator names the
    first extractor in yt-dlp's order that takes the URL, so with the same version that is
    where yt-dlp's own search would end.
    """
    if hint is None or hint.version != ytdlp_version:
        return None
    try:
        extractor = get_info_extractor(hint.key)
    except KeyError:
        return None
    if not extractor.suitable(url):
        return None
    _log.info("extractor %s, as the operator found it", hint.key)
    return hint.key
