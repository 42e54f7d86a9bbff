"""List, then watch, one collection: the view of a kind, complete and in order.

An :class:`Informer` does what client-go's reflector does, for one collection path (all
namespaces, or one): a LIST in pages of :data:`PAGE_SIZE` objects, so that neither the
apiserver nor this process ever holds ten thousand objects in one response; then a WATCH
from the list's ``resourceVersion``, resumed from the last version seen after every
server-side timeout or broken connection, with bookmarks keeping that version fresh. When
the version is too old to resume from (``410 Gone``) it lists again.

Each listing ends with the names it found, so the receiver can forget objects deleted
while nobody watched (a kind that is not installed lists as empty until it appears); the
first complete listing of every informer is what makes a view complete
(:attr:`Informer.synced`). The blocking calls run on a thread of the informer's own;
everything it hands over is delivered on the event loop, in order, through
:class:`Receiver`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, Protocol

from videodl.kube.cache import Key, key_of
from videodl.kube.client import ApiError, Client

__all__ = ["PAGE_SIZE", "Informer", "Receiver"]

logger = logging.getLogger(__name__)

#: Objects per page of a LIST.
PAGE_SIZE: Final = 500
_WATCH_SECONDS: Final = 240
_RETRY_SECONDS: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class Receiver(Protocol):
    """Where an informer's objects go; every call is made on the event loop."""

    def on_object(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        """An object as listed or watched (``deleted``: it is gone)."""

    def on_listed(self, namespace: str | None, keys: frozenset[Key]) -> None:
        """A listing of ``namespace`` (None: all) ended: every object that exists now."""


class _Expired(Exception):
    """The resourceVersion to continue from is gone: list again."""


class Informer:
    """Keeps a :class:`Receiver` up to date with one collection, from a thread."""

    def __init__(
        self,
        client: Client,
        path: str,
        *,
        receiver: Receiver,
        loop: asyncio.AbstractEventLoop,
        namespace: str | None = None,
        label_selector: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._client = client
        self._path = path
        self._receiver = receiver
        self._loop = loop
        self._namespace = namespace
        self._selector = label_selector
        self._page_size = page_size
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        #: Deliveries not yet made on the loop, in order, and the lock guarding them.
        self._pending: collections.deque[Callable[[], None]] = collections.deque()
        self._pending_lock = threading.Lock()
        #: Set (on the event loop) once the first listing has been delivered.
        self.synced = asyncio.Event()
        #: Listings and watch connections made so far.
        self.listings = 0
        self.connections = 0

    def start(self) -> None:
        """Start listing and watching on a daemon thread."""
        self._thread = threading.Thread(target=self._run, name=f"inform {self._path}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop at the next event or timeout; deliveries already queued may still arrive."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # --- the thread -----------------------------------------------------------------------

    def _query(self, **extra: str) -> dict[str, str]:
        query = dict(extra)
        if self._selector:
            query["labelSelector"] = self._selector
        return query

    def _hand_over(self, delivery: Callable[[], None]) -> None:
        """Queue ``delivery`` for the loop; the loop is woken once per batch, not per object
        (each wake-up is a write to its self-pipe and a switch of threads)."""
        with self._pending_lock:
            wake = not self._pending
            self._pending.append(delivery)
        if wake:
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        while True:
            with self._pending_lock:
                if not self._pending:
                    return
                batch = list(self._pending)
                self._pending.clear()
            for delivery in batch:
                try:
                    delivery()
                except Exception:  # one receiver's failure must not drop the rest
                    logger.exception("%s: delivering an object failed", self._path)

    def _deliver(self, body: Mapping[str, Any], *, deleted: bool) -> None:
        self._hand_over(lambda: self._receiver.on_object(body, deleted=deleted))

    def _delivered_listing(self, keys: frozenset[Key]) -> None:
        def listed() -> None:
            self._receiver.on_listed(self._namespace, keys)
            self.synced.set()

        self._hand_over(listed)

    def _run(self) -> None:
        failures = 0
        version: str | None = None
        while not self._stopped.is_set():
            try:
                if version is None:
                    version = self._list()
                version = self._watch(version)
                failures = 0
            except _Expired:
                version = None
            except ApiError as exc:
                if exc.status == 410:
                    version = None
                    continue
                if exc.status == 404 and version is None:
                    # The kind is not installed (yet): nothing of it exists, which is a
                    # complete listing; keep looking for it.
                    self._delivered_listing(frozenset())
                failures = self._pause(failures, exc)
            except (OSError, ValueError, RuntimeError) as exc:
                failures = self._pause(failures, exc)

    def _pause(self, failures: int, exc: Exception) -> int:
        """Wait before trying again after ``failures`` failures in a row; the new count."""
        delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
        logger.warning("%s: %s; again in %.1fs", self._path, exc, delay)
        self._stopped.wait(delay)
        return failures + 1

    def _pages(self) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            query = self._query(limit=str(self._page_size))
            if token:
                query["continue"] = token
            try:
                page = self._client.request("GET", self._path, query=query)
            except ApiError as exc:
                if exc.status == 410 and token:
                    raise _Expired from exc  # the continue token expired: start over
                raise
            yield page
            token = (page.get("metadata") or {}).get("continue") or None
            if not token:
                return

    def _list(self) -> str:
        """List every object, delivering each; the list's resourceVersion."""
        self.listings += 1
        keys: set[Key] = set()
        version = ""
        for page in self._pages():
            version = str((page.get("metadata") or {}).get("resourceVersion") or "")
            for item in page.get("items") or ():
                if isinstance(item, dict):
                    keys.add(key_of(item))
                    self._deliver(item, deleted=False)
        self._delivered_listing(frozenset(keys))
        return version

    def _watch(self, version: str) -> str:
        """Watch from ``version`` until the server ends the watch; the last version seen."""
        self.connections += 1
        query = self._query(resourceVersion=version, allowWatchBookmarks="true")
        for event in self._client.watch(self._path, query=query, timeout_seconds=_WATCH_SECONDS):
            if self._stopped.is_set():
                break
            kind = event.get("type")
            obj = event.get("object")
            if not isinstance(obj, dict):
                continue
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise _Expired
                msg = f"watch error {obj.get('code')}: {obj.get('message')}"
                raise RuntimeError(msg)
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                self._deliver(obj, deleted=kind == "DELETED")
        return version
