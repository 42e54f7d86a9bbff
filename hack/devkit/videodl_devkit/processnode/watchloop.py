"""List then watch one resource for as long as the node runs, relisting when told to.

Every (re)list hands the full set of objects to `on_list`, so the caller can notice objects
that went away while it was not watching; watch events go to `on_event`. A 410 Gone (the
resourceVersion expired) or any broken stream leads to a new list after a short backoff; an
exception from a handler is logged and does not stop the loop.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable

from videodl_devkit.processnode import kubeapi

OnList = Callable[[list[kubeapi.Json]], None]
OnEvent = Callable[[str, kubeapi.Json], None]


class Gone(Exception):
    """The watch's resourceVersion is too old; list again."""


def run(
    kube: kubeapi.Kube,
    api_path: str,
    *,
    query: kubeapi.Query,
    on_list: OnList,
    on_event: OnEvent,
    stop: threading.Event,
    logger: logging.Logger,
    timeout_seconds: int = 300,
) -> None:
    """Keep the handlers fed until stop is set."""
    backoff = 0.5
    while not stop.is_set():
        try:
            listing = kubeapi.retrying(lambda: kube.get(api_path, query=query), stop=stop)
            version = str((listing.get("metadata") or {}).get("resourceVersion", ""))
            _guard(logger, "list", functools.partial(on_list, list(listing.get("items") or [])))
            backoff = 0.5
            while not stop.is_set():
                version = _watch_once(
                    kube,
                    api_path,
                    query=query,
                    version=version,
                    on_event=on_event,
                    stop=stop,
                    logger=logger,
                    timeout_seconds=timeout_seconds,
                )
        except Gone:
            logger.info("watch of %s expired; listing again", api_path)
        except Exception as error:  # noqa: BLE001 - the loop must survive any failure
            if stop.is_set():
                return
            if kubeapi.status_of(error) == 410:
                logger.info("watch of %s expired; listing again", api_path)
                continue
            logger.warning("watching %s failed (%s); retrying in %.1fs", api_path, error, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)


def _watch_once(
    kube: kubeapi.Kube,
    api_path: str,
    *,
    query: kubeapi.Query,
    version: str,
    on_event: OnEvent,
    stop: threading.Event,
    logger: logging.Logger,
    timeout_seconds: int,
) -> str:
    """Follow one watch stream; return the last resourceVersion seen."""
    stream = kube.watch(
        api_path,
        query={**query, "resourceVersion": version, "allowWatchBookmarks": True},
        timeout_seconds=timeout_seconds,
    )
    for event in stream:
        if stop.is_set():
            break
        kind, obj = str(event.get("type", "")), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise Gone
            raise RuntimeError(f"watch error: {obj.get('message', obj)}")
        version = str((obj.get("metadata") or {}).get("resourceVersion", version))
        if kind != "BOOKMARK":
            _dispatch(logger, on_event, kind, obj)
    return version


def _dispatch(logger: logging.Logger, on_event: OnEvent, kind: str, obj: kubeapi.Json) -> None:
    _guard(logger, kind, lambda: on_event(kind, obj))


def _guard(logger: logging.Logger, what: str, handler: Callable[[], None]) -> None:
    try:
        handler()
    except Exception:
        logger.exception("handling %s failed", what)
