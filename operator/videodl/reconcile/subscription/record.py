"""How the operator keeps a VideoSubscription in memory (see :mod:`videodl.reconcile.kindrecord`).

A subscription the models refuse is reported ``Failed`` (``Stalled``), reason ``InvalidSpec``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from videodl.api.kind import KindObject
from videodl.api.subscription import VideoSubscription, VideoSubscriptionStatus
from videodl.reconcile.kindrecord import KindRecord

__all__ = ["SubscriptionRecord", "record_of"]


@dataclasses.dataclass(frozen=True, slots=True)
class SubscriptionRecord(KindRecord[VideoSubscription, VideoSubscriptionStatus]):
    """One VideoSubscription as last seen."""

    MODEL: ClassVar[type[KindObject]] = VideoSubscription
    STATUS: ClassVar[type[BaseModel]] = VideoSubscriptionStatus


def record_of(body: Mapping[str, Any]) -> SubscriptionRecord:
    """The record of a VideoSubscription as the apiserver delivers it."""
    return SubscriptionRecord.of(body)
