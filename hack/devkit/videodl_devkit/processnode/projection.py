"""Files of secret, configMap, downwardAPI and projected volumes, computed from their sources.

The I/O side fetches the referenced objects and service account tokens; this module decides
which files exist, with which content and mode, following the kubelet's rules: no `items`
means every key becomes a file; listed `items` pick keys and paths; a missing object or key
is an error unless the source is `optional`.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Mapping
from typing import Any

from videodl_devkit.processnode import environment, errors, fieldpaths

DEFAULT_MODE = 0o644
DEFAULT_TOKEN_EXPIRATION = 3600


@dataclasses.dataclass(frozen=True)
class ProjectedFile:
    """One file of a volume: path relative to the volume root, content and mode."""

    path: str
    data: bytes
    mode: int


@dataclasses.dataclass(frozen=True)
class TokenSpec:
    """A serviceAccountToken source: what to ask the TokenRequest API for, and where to put it."""

    audience: str
    expiration_seconds: int
    path: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.audience, self.expiration_seconds)


Tokens = Mapping[tuple[str, int], bytes]
"""Issued tokens by (audience, expirationSeconds)."""


def _sources(volume: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The volume's sources in projected form: a list of {secret|configMap|downwardAPI|...}."""
    if volume.get("projected") is not None:
        return list((volume["projected"] or {}).get("sources") or [])
    for field in ("secret", "configMap", "downwardAPI"):
        if volume.get(field) is not None:
            return [{field: volume[field]}]
    return []


def is_file_volume(volume: Mapping[str, Any]) -> bool:
    """Whether the volume is made of files computed from API objects."""
    kinds = ("secret", "configMap", "downwardAPI", "projected")
    return any(volume.get(kind) is not None for kind in kinds)


def references(volume: Mapping[str, Any]) -> set[environment.ObjectRef]:
    """The Secrets and ConfigMaps a file volume reads."""
    refs: set[environment.ObjectRef] = set()
    for source in _sources(volume):
        if source.get("secret") is not None:
            secret = source["secret"] or {}
            refs.add(("Secret", str(secret.get("secretName") or secret.get("name") or "")))
        if source.get("configMap") is not None:
            refs.add(("ConfigMap", str((source["configMap"] or {}).get("name") or "")))
    return refs


def token_specs(volume: Mapping[str, Any]) -> list[TokenSpec]:
    """The serviceAccountToken sources of a projected volume."""
    specs: list[TokenSpec] = []
    for source in _sources(volume) if volume.get("projected") is not None else []:
        token = source.get("serviceAccountToken")
        if token is not None:
            specs.append(
                TokenSpec(
                    audience=str(token.get("audience") or ""),
                    expiration_seconds=int(
                        token.get("expirationSeconds") or DEFAULT_TOKEN_EXPIRATION
                    ),
                    path=_checked_path(str(token.get("path") or ""), volume),
                )
            )
    return specs


def _checked_path(path: str, volume: Mapping[str, Any]) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or ".." in parts:
        raise errors.SpecError(
            f"volume {volume.get('name')!r}: file path {path!r} must be relative and must not "
            "contain '..'"
        )
    return posixpath.normpath(path)


def files(
    pod: Mapping[str, Any],
    volume: Mapping[str, Any],
    objects: environment.Objects,
    tokens: Tokens,
    node: fieldpaths.NodeResources,
) -> list[ProjectedFile]:
    """All files of a secret, configMap, downwardAPI or projected volume."""
    if volume.get("projected") is not None:
        default_mode = (volume["projected"] or {}).get("defaultMode")
    else:
        kind = next(f for f in ("secret", "configMap", "downwardAPI") if volume.get(f) is not None)
        default_mode = (volume[kind] or {}).get("defaultMode")
    mode = DEFAULT_MODE if default_mode is None else int(default_mode)
    out: dict[str, ProjectedFile] = {}
    for source in _sources(volume):
        for produced in _source_files(
            pod, volume, source=source, objects=objects, tokens=tokens, node=node, default_mode=mode
        ):
            out[produced.path] = produced
    return [out[path] for path in sorted(out)]


def _source_files(
    pod: Mapping[str, Any],
    volume: Mapping[str, Any],
    *,
    source: Mapping[str, Any],
    objects: environment.Objects,
    tokens: Tokens,
    node: fieldpaths.NodeResources,
    default_mode: int,
) -> list[ProjectedFile]:
    vname = volume.get("name", "")
    if source.get("secret") is not None or source.get("configMap") is not None:
        kind = "Secret" if source.get("secret") is not None else "ConfigMap"
        spec = source.get("secret") or source.get("configMap") or {}
        name = str(spec.get("secretName") or spec.get("name") or "")
        return _key_files(
            vname,
            kind=kind,
            name=name,
            spec=spec,
            objects=objects,
            default_mode=default_mode,
            volume=volume,
        )
    if source.get("downwardAPI") is not None:
        items = (source["downwardAPI"] or {}).get("items") or []
        return [_downward_file(pod, volume, item, node, default_mode) for item in items]
    if source.get("serviceAccountToken") is not None:
        spec_token = token_specs({"name": vname, "projected": {"sources": [source]}})[0]
        if spec_token.key not in tokens:
            raise LookupError(f"token for {spec_token.key} was not requested before projecting")
        return [ProjectedFile(spec_token.path, tokens[spec_token.key], default_mode)]
    unsupported = ", ".join(sorted(source)) or "an empty source"
    raise errors.SpecError(
        f"volume {vname!r}: projected source {unsupported} is not supported by the process "
        "node; use secret, configMap, downwardAPI or serviceAccountToken"
    )


def _key_files(
    vname: str,
    *,
    kind: str,
    name: str,
    spec: Mapping[str, Any],
    objects: environment.Objects,
    default_mode: int,
    volume: Mapping[str, Any],
) -> list[ProjectedFile]:
    optional = bool(spec.get("optional"))
    try:
        obj = objects[(kind, name)]
    except KeyError:
        raise LookupError(f"{kind} {name!r} was not fetched before projecting") from None
    if obj is None:
        if optional:
            return []
        raise errors.WaitingError(
            f'MountVolume.SetUp failed for volume "{vname}": {kind.lower()} "{name}" not found'
        )
    data = environment.object_data(kind, obj)
    items = spec.get("items") or []
    if not items:
        return [ProjectedFile(_checked_path(key, volume), data[key], default_mode) for key in data]
    out: list[ProjectedFile] = []
    for item in items:
        key = str(item.get("key", ""))
        if key not in data:
            if optional:
                continue
            raise errors.WaitingError(
                f'MountVolume.SetUp failed for volume "{vname}": {kind.lower()} "{name}" has '
                f"no key {key!r}"
            )
        mode = item.get("mode")
        out.append(
            ProjectedFile(
                _checked_path(str(item.get("path") or key), volume),
                data[key],
                default_mode if mode is None else int(mode),
            )
        )
    return out


def _downward_file(
    pod: Mapping[str, Any],
    volume: Mapping[str, Any],
    item: Mapping[str, Any],
    node: fieldpaths.NodeResources,
    default_mode: int,
) -> ProjectedFile:
    path = _checked_path(str(item.get("path", "")), volume)
    if item.get("fieldRef"):
        value = fieldpaths.field_value(pod, str(item["fieldRef"].get("fieldPath", "")))
    elif item.get("resourceFieldRef"):
        ref = item["resourceFieldRef"]
        value = fieldpaths.resource_value(
            pod,
            str(ref.get("containerName", "")),
            str(ref.get("resource", "")),
            ref.get("divisor"),
            node,
        )
    else:
        raise errors.SpecError(
            f"volume {volume.get('name')!r}: downwardAPI item {path!r} needs fieldRef or "
            "resourceFieldRef"
        )
    mode = item.get("mode")
    return ProjectedFile(path, value.encode(), default_mode if mode is None else int(mode))
