"""How the operator keeps a VideoSubscription in memory: compact JSON and a few fields. Pure.

The model is parsed again for each decision; a subscription the models refuse keeps the
problem, which the reconcile reports as ``Failed`` (``Stalled``) with reason ``InvalidSpec``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping
from typing import Any, Final

from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.subscription import VideoSubscription, VideoSubscriptionStatus
from videodl.core.times import parse_time

__all__ = ["SubscriptionRecord", "record_of"]

_KEPT_METADATA: Final = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
)


@dataclasses.dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    """One VideoSubscription as last seen."""

    document: bytes
    problem: str | None
    namespace: str
    name: str
    uid: str
    resource_version: str | None
    generation: int
    created: datetime.datetime
    deleting: bool

    @property
    def model(self) -> VideoSubscription | None:
        """The object parsed with the API models; None when it cannot be read."""
        if self.problem is not None:
            return None
        return VideoSubscription.from_object(json.loads(self.document))

    @property
    def stored_status(self) -> dict[str, Any]:
        """The status as the apiserver stores it."""
        raw = json.loads(self.document).get("status")
        return raw if isinstance(raw, dict) else {}

    @property
    def status(self) -> VideoSubscriptionStatus:
        """The status parsed, or an empty one when it cannot be read."""
        raw = json.loads(self.document).get("status") or {}
        try:
            return VideoSubscriptionStatus.model_validate(raw)
        except ValueError:
            return VideoSubscriptionStatus()


def _created(value: object) -> datetime.datetime:
    return parse_time(value) or datetime.datetime.now(datetime.UTC)


def record_of(body: Mapping[str, Any]) -> SubscriptionRecord:
    """The record of a VideoSubscription as the apiserver delivers it."""
    metadata = body.get("metadata") or {}
    kept = {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": {k: metadata[k] for k in _KEPT_METADATA if k in metadata},
        "spec": body.get("spec") or {},
        "status": body.get("status") or {},
    }
    document = json.dumps(kept, separators=(",", ":"), default=str).encode()
    problem = None
    try:
        VideoSubscription.from_object(kept)
    except InvalidVideoDownloadError as exc:
        problem = str(exc)
    generation = metadata.get("generation")
    return SubscriptionRecord(
        document=document,
        problem=problem,
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        uid=str(metadata.get("uid", "")),
        resource_version=metadata.get("resourceVersion"),
        generation=generation if isinstance(generation, int) else 0,
        created=_created(metadata.get("creationTimestamp")),
        deleting=metadata.get("deletionTimestamp") is not None,
    )
