"""Holding the Lease: the renewal loop that makes one replica the active one.

:class:`Leadership` runs :func:`videodl.core.election.decide` every round and writes
the Lease with its ``resourceVersion`` (so two replicas never both win a round). ``leading``
is set while this replica holds the Lease; ``lost`` is set when it held it and then could
not renew it in time, after which the replica must stop writing at once (the runtime stops
the operator, and its Pod is restarted as a standby).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import pathlib
import socket
import uuid
from collections.abc import Callable
from typing import Any, Final

from videodl.core import election
from videodl.kube.client import ApiError, Kube

__all__ = ["Leadership", "own_identity", "own_namespace"]

logger = logging.getLogger(__name__)

_SERVICE_ACCOUNT_NAMESPACE: Final = pathlib.Path(
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
)


def own_identity() -> str:
    """A name for this replica that differs between restarts: host name plus a random part."""
    return f"{socket.gethostname()[:200]}-{uuid.uuid4().hex[:8]}"


def own_namespace(fallback: str) -> str:
    """The namespace the operator runs in (from its ServiceAccount), else ``fallback``."""
    try:
        return _SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or fallback
    except OSError:
        return os.environ.get("POD_NAMESPACE") or fallback


class Leadership:
    """Acquire and renew the Lease ``name`` in ``namespace``."""

    def __init__(
        self,
        kube: Kube,
        *,
        namespace: str,
        name: str,
        identity: str,
        duration_seconds: int = 15,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self._kube = kube
        self._path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"
        self._collection = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
        self._name = name
        self._namespace = namespace
        self.identity = identity
        self._duration = duration_seconds
        self._clock = clock
        self.leading = asyncio.Event()
        self.lost = asyncio.Event()
        self._renewed_at: datetime.datetime | None = None

    async def _round(self) -> None:
        try:
            lease: dict[str, Any] | None = await self._kube.request("GET", self._path)
        except ApiError as exc:
            if not exc.not_found:
                raise
            lease = None
        now = self._clock()
        decision = election.decide(
            lease.get("spec") if lease else None,
            identity=self.identity,
            now=now,
            duration_seconds=self._duration,
        )
        if decision.verdict == election.Verdict.STANDBY:
            if self.leading.is_set():
                self._lose("another replica holds the Lease now")
            return
        metadata: dict[str, Any] = {"name": self._name, "namespace": self._namespace}
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": dict(decision.spec or {}),
        }
        try:
            if lease is None:
                await self._kube.request("POST", self._collection, body=body)
            else:
                metadata["resourceVersion"] = lease["metadata"]["resourceVersion"]
                await self._kube.request("PUT", self._path, body=body)
        except ApiError as exc:
            if exc.conflict:
                return  # someone else wrote first; look again next round
            raise
        self._renewed_at = now
        if not self.leading.is_set():
            logger.info("now the active replica (Lease %s/%s)", self._namespace, self._name)
            self.leading.set()

    def _lose(self, why: str) -> None:
        logger.error("lost the Lease %s/%s: %s", self._namespace, self._name, why)
        self.leading.clear()
        self.lost.set()

    async def run(self) -> None:
        """Renew every third of the lease duration until cancelled or lost."""
        period = self._duration / 3
        while not self.lost.is_set():
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except ApiError as exc:
                logger.warning("Lease round failed: %s", exc)
            renewed = self._renewed_at
            if self.leading.is_set() and renewed is not None:
                late = (self._clock() - renewed).total_seconds()
                # Stop before the Lease can expire for the others.
                if late > self._duration - period:
                    self._lose(f"not renewed for {late:.0f}s")
            await asyncio.sleep(period)

    async def release(self) -> None:
        """Give the Lease up on a clean stop, so a standby takes over at once."""
        if not self.leading.is_set():
            return
        try:
            lease = await self._kube.request("GET", self._path)
            spec = dict(lease.get("spec") or {})
            if spec.get("holderIdentity") != self.identity:
                return
            spec["holderIdentity"] = None
            spec["renewTime"] = None
            lease["spec"] = spec
            await self._kube.request("PUT", self._path, body=lease)
        except ApiError as exc:
            logger.warning("could not release the Lease: %s", exc)
