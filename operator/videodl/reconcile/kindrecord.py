"""How the operator keeps an object of a kind beside VideoDownload: compact JSON, a few fields.

The model is parsed again for each decision; an object the models refuse keeps the
problem, which its reconcile reports as ``Failed`` with reason ``InvalidSpec``. Pure.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping
from typing import Any, ClassVar, Final, Generic, Self, TypeVar

from pydantic import BaseModel

from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.kind import KindObject
from videodl.core.times import parse_time

__all__ = ["KindRecord"]

M = TypeVar("M", bound=KindObject)
S = TypeVar("S", bound=BaseModel)

#: The creation time of an object that does not say (the apiserver always does).
_EPOCH: Final = datetime.datetime.fromtimestamp(0, datetime.UTC)
_KEPT_METADATA: Final = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "annotations",
)


@dataclasses.dataclass(frozen=True, slots=True)
class KindRecord(Generic[M, S]):
    """One object as last seen; a subclass names its model and status types."""

    MODEL: ClassVar[type[KindObject]]
    STATUS: ClassVar[type[BaseModel]]

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
    def model(self) -> M | None:
        """The object parsed with the API models; None when it cannot be read."""
        if self.problem is not None:
            return None
        return self.MODEL.from_object(json.loads(self.document))  # type: ignore[return-value]

    @property
    def annotations(self) -> Mapping[str, str]:
        raw = (json.loads(self.document).get("metadata") or {}).get("annotations") or {}
        return {str(k): str(v) for k, v in raw.items()}

    @property
    def stored_status(self) -> dict[str, Any]:
        """The status as the apiserver stores it."""
        raw = json.loads(self.document).get("status")
        return raw if isinstance(raw, dict) else {}

    @property
    def status(self) -> S:
        """The status parsed, or an empty one when it cannot be read."""
        try:
            return self.STATUS.model_validate(self.stored_status)  # type: ignore[return-value]
        except ValueError:
            return self.STATUS()  # type: ignore[return-value]

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Self:
        """The record of an object as the apiserver delivers it."""
        metadata = body.get("metadata") or {}
        kept = {
            "apiVersion": body.get("apiVersion"),
            "kind": body.get("kind"),
            "metadata": {k: metadata[k] for k in _KEPT_METADATA if k in metadata},
            "spec": body.get("spec") or {},
            "status": body.get("status") or {},
        }
        problem = None
        try:
            cls.MODEL.from_object(kept)
        except InvalidVideoDownloadError as exc:
            problem = str(exc)
        generation = metadata.get("generation")
        return cls(
            document=json.dumps(kept, separators=(",", ":"), default=str).encode(),
            problem=problem,
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=metadata.get("resourceVersion"),
            generation=generation if isinstance(generation, int) else 0,
            created=parse_time(metadata.get("creationTimestamp")) or _EPOCH,
            deleting=metadata.get("deletionTimestamp") is not None,
        )
