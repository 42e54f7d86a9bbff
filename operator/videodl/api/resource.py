"""The whole VideoDownload object: its names, and parsing it as Kubernetes delivers it.

Pure: no I/O. Raw objects come from kopf (``kopf.Body``) or the Kubernetes client as
nested mappings; ``VideoDownload.from_object`` turns them into models or raises
``InvalidVideoDownloadError`` naming each bad field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from videodl.api._base import plain
from videodl.api.errors import InvalidVideoDownloadError, describe_errors
from videodl.api.spec import VideoDownloadSpec
from videodl.api.status import VideoDownloadStatus

__all__ = [
    "API_VERSION",
    "CATEGORIES",
    "CRD_NAME",
    "GROUP",
    "KIND",
    "LIST_KIND",
    "MANAGER",
    "PLURAL",
    "SHORT_NAME",
    "SINGULAR",
    "VERSION",
    "VideoDownload",
    "parse_spec",
    "parse_status",
]

GROUP: Final = "videodl.dev"
VERSION: Final = "v1alpha1"
KIND: Final = "VideoDownload"
LIST_KIND: Final = "VideoDownloadList"
PLURAL: Final = "videodownloads"
SINGULAR: Final = "videodownload"
SHORT_NAME: Final = "vdl"
CATEGORIES: Final = ("videodl",)
API_VERSION: Final = f"{GROUP}/{VERSION}"
#: The name the operator goes by: the managed-by label of what it creates, the field
#: manager of its writes and the source of its Events.
MANAGER: Final = "videodl-operator"
CRD_NAME: Final = f"{PLURAL}.{GROUP}"


class VideoDownload(BaseModel):
    """A VideoDownload object: metadata as Kubernetes gives it, typed spec and status."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    api_version: str = Field(default=API_VERSION, description="Always `videodl.dev/v1alpha1`.")
    kind: str = Field(default=KIND, description="Always `VideoDownload`.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Object metadata.")
    spec: VideoDownloadSpec = Field(description="What to download.")
    status: VideoDownloadStatus | None = Field(default=None, description="What happened.")

    @field_validator("api_version")
    @classmethod
    def _known_api_version(cls, value: str) -> str:
        if value != API_VERSION:
            msg = f"apiVersion must be {API_VERSION}, not {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value != KIND:
            msg = f"kind must be {KIND}, not {value!r}"
            raise ValueError(msg)
        return value

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> VideoDownload:
        """Parse a raw object (a ``kopf.Body`` or a dict from the Kubernetes API).

        Raises ``InvalidVideoDownloadError`` listing every problem by field path.
        """
        try:
            return cls.model_validate(plain(obj))
        except ValidationError as exc:
            raise InvalidVideoDownloadError(describe_errors(exc)) from None

    def to_object(self) -> dict[str, Any]:
        """The object as JSON-ready data, camelCase, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    @property
    def name(self) -> str:
        """``metadata.name``, or an empty string when not set yet."""
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str:
        """``metadata.namespace``, or an empty string when not set."""
        return str(self.metadata.get("namespace", ""))

    @property
    def generation(self) -> int | None:
        """``metadata.generation`` as the apiserver counts it."""
        value = self.metadata.get("generation")
        return value if isinstance(value, int) else None


def parse_spec(spec: Mapping[str, Any]) -> VideoDownloadSpec:
    """Parse a raw ``spec`` (e.g. kopf's ``spec`` kwarg); errors name ``spec.<field>``."""
    try:
        return VideoDownloadSpec.model_validate(plain(spec))
    except ValidationError as exc:
        raise InvalidVideoDownloadError(describe_errors(exc, prefix="spec")) from None


def parse_status(status: Mapping[str, Any]) -> VideoDownloadStatus:
    """Parse a raw ``status``; errors name ``status.<field>``."""
    try:
        return VideoDownloadStatus.model_validate(plain(status))
    except ValidationError as exc:
        raise InvalidVideoDownloadError(describe_errors(exc, prefix="status")) from None
