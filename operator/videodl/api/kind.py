"""What every kind of the group shares as an object: metadata as Kubernetes gives it.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from videodl.api._base import plain
from videodl.api.errors import InvalidVideoDownloadError, describe_errors
from videodl.api.resource import API_VERSION

__all__ = ["KindObject"]


class KindObject(BaseModel):
    """An object of one of the group's kinds; subclasses add a typed spec and status."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    api_version: str = Field(default=API_VERSION)
    kind: str
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> Self:
        """Parse a raw object; raises ``InvalidVideoDownloadError`` naming every bad field."""
        try:
            return cls.model_validate(plain(obj))
        except ValidationError as exc:
            raise InvalidVideoDownloadError(describe_errors(exc)) from None

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace", ""))

    @property
    def uid(self) -> str:
        return str(self.metadata.get("uid", ""))
