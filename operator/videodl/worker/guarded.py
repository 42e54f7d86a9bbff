"""yt-dlp's ``YoutubeDL`` with the worker's guard built in.

Three overrides of public ``YoutubeDL`` methods, no patching:

- :meth:`GuardedYoutubeDL.prepare_filename`: yt-dlp computes every output name from a
  template through it (the media and its temporary name, subtitles, thumbnails,
  descriptions, info.json files, and the playlist's own ``pl_infojson``,
  ``pl_description``, ``pl_thumbnail`` and ``pl_video``), right before it writes there.
  Each name is confined to the output directory as it is made, so a playlist titled
  ``..`` fails before anything is written. Names derived from these (``.part``,
  ``.ytdl``, fragments, ``.temp`` and format-suffixed files) are checked where they are
  opened, by the guard's audit hook (:mod:`videodl.worker.guard`).
- :meth:`GuardedYoutubeDL.build_request_director`: only the request handlers whose
  connections are Python sockets, which the guard sees; a handler that connects from
  native code (curl_cffi's libcurl) would go around it.
- :meth:`GuardedYoutubeDL.dl`: no download starts once something was refused, even if
  yt-dlp carried on (it only warns about a thumbnail it could not fetch).

A refusal is never swallowed for good by yt-dlp's own error handling: the worker sets no
``ignoreerrors``, so a refused name propagates out of ``extract_info`` as it is, a refused
connection ends the request like any failed connection (and stays in the exception
chain), and the guard raises the first refusal again when the attempt ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from yt_dlp import YoutubeDL

from videodl.worker.guard import Guard

__all__ = ["SOCKET_HANDLERS", "GuardedYoutubeDL"]

#: yt-dlp's request handlers (``RH_KEY``) that connect through Python sockets.
SOCKET_HANDLERS: Final = frozenset({"Urllib", "Requests", "Websockets"})


class GuardedYoutubeDL(YoutubeDL):  # type: ignore[misc]  # yt-dlp ships no types
    """A ``YoutubeDL`` whose names, connections and downloads pass ``guard``."""

    def __init__(self, params: Mapping[str, Any], *, guard: Guard, auto_init: bool = True) -> None:
        """yt-dlp's ``YoutubeDL(params, auto_init)``, checking with ``guard``."""
        self.videodl_guard = guard
        super().__init__(dict(params), auto_init=auto_init)

    def prepare_filename(
        self,
        info_dict: Mapping[str, Any],
        dir_type: str = "",
        *,
        outtmpl: str | None = None,
        warn: bool = False,
    ) -> str | None:
        """yt-dlp's name for ``dir_type``, refused unless it lies in the output directory."""
        filename: str | None = super().prepare_filename(
            info_dict, dir_type, outtmpl=outtmpl, warn=warn
        )
        if filename and filename != "-":
            self.videodl_guard.check_write("write", filename)
        return filename

    def build_request_director(
        self, handlers: Iterable[Any], preferences: Iterable[Any] | None = None
    ) -> Any:
        """yt-dlp's request director with the socket-based handlers only."""
        socket_based = [handler for handler in handlers if handler.RH_KEY in SOCKET_HANDLERS]
        return super().build_request_director(socket_based, preferences)

    def dl(
        self,
        name: str,
        info: Mapping[str, Any],
        subtitle: bool = False,
        test: bool = False,
    ) -> Any:
        """Download ``info`` to ``name``, unless something was refused already."""
        self.videodl_guard.raise_refusal()
        return super().dl(name, info, subtitle=subtitle, test=test)
