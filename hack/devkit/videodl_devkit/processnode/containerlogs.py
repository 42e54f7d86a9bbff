"""The kubelet's container-log request, as the apiserver proxies ``pods/log`` to it.

``GET /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=&previous=&limitBytes=``
arrives for ``kubectl logs``; this module reads the request and picks the run and the part
of its log to send. The node records no time per line, so ``timestamps``, ``sinceSeconds``
and ``sinceTime`` are accepted and have no effect. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["LogRequest", "RequestError", "choose_run", "parse", "tail"]

_TRUE = ("true", "1")


class RequestError(ValueError):
    """The request cannot be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class LogRequest:
    """One container-log request."""

    namespace: str
    pod: str
    container: str
    follow: bool = False
    previous: bool = False
    tail_lines: int | None = None
    limit_bytes: int | None = None


def _count(query: dict[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values or values[0] == "":
        return None
    try:
        value = int(values[0])
    except ValueError:
        raise RequestError(400, f"{name}={values[0]!r} is not a whole number") from None
    if value < 0:
        raise RequestError(400, f"{name} must be 0 or more, got {value}")
    return value


def parse(target: str) -> LogRequest:
    """Read a request target (path and query) of the container-log endpoint."""
    parts = urlsplit(target)
    segments = [unquote(s) for s in parts.path.strip("/").split("/")]
    if len(segments) != 4 or segments[0] != "containerLogs" or not all(segments[1:]):
        raise RequestError(404, f"no such endpoint {parts.path!r}; use /containerLogs/NS/POD/CTR")
    query = parse_qs(parts.query, keep_blank_values=True)

    def flag(name: str) -> bool:
        return (query.get(name) or ["false"])[0].lower() in _TRUE

    return LogRequest(
        namespace=segments[1],
        pod=segments[2],
        container=segments[3],
        follow=flag("follow"),
        previous=flag("previous"),
        tail_lines=_count(query, "tailLines"),
        limit_bytes=_count(query, "limitBytes"),
    )


def choose_run(runs: Sequence[int], *, previous: bool) -> int | None:
    """The restart number to serve: the latest run, or the one before it with ``previous``."""
    ordered = sorted(runs)
    if previous:
        return ordered[-2] if len(ordered) >= 2 else None
    return ordered[-1] if ordered else None


def tail(data: bytes, lines: int | None) -> bytes:
    """The last ``lines`` lines of ``data`` (all of it for None), a last partial line counting."""
    if lines is None:
        return data
    if lines == 0:
        return b""
    body = data[:-1] if data.endswith(b"\n") else data
    kept = body.split(b"\n")[-lines:]
    return b"\n".join(kept) + (b"\n" if data.endswith(b"\n") else b"")
