"""A container's environment, resolved the way a kubelet resolves it.

Order: `envFrom` sources (later ones win), then `env` entries in order, each value expanded
with `$(VAR)` against what is defined so far and the service variables. Service variables for
the `kubernetes` Service are added for names the Pod did not set. The host's PATH, HOSTNAME and
HOME play the part of the image's environment: anything the Pod sets wins over them.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping
from typing import Any

from videodl_devkit.processnode import errors, expansion, fieldpaths

ObjectRef = tuple[str, str]
"""(kind, name) of a namespaced Secret or ConfigMap, kind being "Secret" or "ConfigMap"."""

Objects = Mapping[ObjectRef, Mapping[str, Any] | None]
"""Fetched objects by reference; None means the object does not exist."""


@dataclasses.dataclass(frozen=True)
class ApiEndpoint:
    """Where in-cluster clients find the apiserver (KUBERNETES_SERVICE_HOST/PORT)."""

    host: str
    port: int


def service_variables(endpoint: ApiEndpoint) -> dict[str, str]:
    """The variables a kubelet sets for the `kubernetes` Service, pointing at the apiserver."""
    host, port = endpoint.host, str(endpoint.port)
    url = f"tcp://{host}:{port}"
    prefix = f"KUBERNETES_PORT_{port}_TCP"
    return {
        "KUBERNETES_SERVICE_HOST": host,
        "KUBERNETES_SERVICE_PORT": port,
        "KUBERNETES_SERVICE_PORT_HTTPS": port,
        "KUBERNETES_PORT": url,
        prefix: url,
        f"{prefix}_PROTO": "tcp",
        f"{prefix}_PORT": port,
        f"{prefix}_ADDR": host,
    }


def referenced_objects(container: Mapping[str, Any]) -> set[ObjectRef]:
    """The Secrets and ConfigMaps a container's env and envFrom read."""
    refs: set[ObjectRef] = set()
    for source in container.get("envFrom") or []:
        if source.get("configMapRef"):
            refs.add(("ConfigMap", source["configMapRef"].get("name", "")))
        if source.get("secretRef"):
            refs.add(("Secret", source["secretRef"].get("name", "")))
    for variable in container.get("env") or []:
        value_from = variable.get("valueFrom") or {}
        if value_from.get("configMapKeyRef"):
            refs.add(("ConfigMap", value_from["configMapKeyRef"].get("name", "")))
        if value_from.get("secretKeyRef"):
            refs.add(("Secret", value_from["secretKeyRef"].get("name", "")))
    return refs


def object_data(kind: str, obj: Mapping[str, Any]) -> dict[str, bytes]:
    """The key/value content of a Secret (base64-decoded) or a ConfigMap (data + binaryData)."""
    out: dict[str, bytes] = {}
    try:
        if kind == "Secret":
            for key, value in (obj.get("data") or {}).items():
                out[key] = base64.b64decode(value, validate=True)
            for key, value in (obj.get("stringData") or {}).items():
                out[key] = str(value).encode()
        else:
            for key, value in (obj.get("binaryData") or {}).items():
                out[key] = base64.b64decode(value, validate=True)
            for key, value in (obj.get("data") or {}).items():
                out[key] = str(value).encode()
    except (binascii.Error, ValueError) as error:
        name = (obj.get("metadata") or {}).get("name", "")
        raise errors.SpecError(f"{kind} {name!r} holds data that is not base64: {error}") from error
    return out


def _lookup(objects: Objects, kind: str, name: str) -> Mapping[str, Any] | None:
    try:
        return objects[(kind, name)]
    except KeyError:
        raise LookupError(f"{kind} {name!r} was not fetched before resolving") from None


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")


def _valid_name(name: str) -> bool:
    return bool(name) and "=" not in name and all(" " <= ch <= "~" for ch in name)


@dataclasses.dataclass(frozen=True)
class Environment:
    """What the kubelet computes (`variables`) and what the process gets (`process`)."""

    variables: dict[str, str]
    process: dict[str, str]

    def expand(self, text: str) -> str:
        """Expand `$(VAR)` in command, args or subPathExpr with these variables."""
        return expansion.expand(text, expansion.lookup_in(self.variables))


def resolve(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    objects: Objects,
    *,
    base: Mapping[str, str],
    service: Mapping[str, str],
    node: fieldpaths.NodeResources,
) -> Environment:
    """Resolve the container's env; WaitingError for missing references, SpecError for bad ones."""
    cname = container.get("name", "")
    defined: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix") or ""
        if source.get("configMapRef"):
            kind, ref = "ConfigMap", source["configMapRef"]
        elif source.get("secretRef"):
            kind, ref = "Secret", source["secretRef"]
        else:
            raise errors.SpecError(
                f"container {cname!r}: envFrom entry needs configMapRef or secretRef"
            )
        obj = _lookup(objects, kind, ref.get("name", ""))
        if obj is None:
            if ref.get("optional"):
                continue
            raise errors.WaitingError(f'{kind.lower()} "{ref.get("name", "")}" not found')
        for key, value in sorted(object_data(kind, obj).items()):
            if _valid_name(prefix + key):
                defined[prefix + key] = _text(value)

    for variable in container.get("env") or []:
        name = variable.get("name", "")
        value_from = variable.get("valueFrom")
        if not value_from:
            lookup = expansion.lookup_in(defined, service)
            defined[name] = expansion.expand(str(variable.get("value", "")), lookup)
            continue
        resolved = _value_from(
            pod, cname=cname, name=name, value_from=value_from, objects=objects, node=node
        )
        if resolved is not None:
            defined[name] = resolved

    variables = {**service, **defined}
    return Environment(variables=variables, process={**base, **variables})


def _value_from(
    pod: Mapping[str, Any],
    *,
    cname: str,
    name: str,
    value_from: Mapping[str, Any],
    objects: Objects,
    node: fieldpaths.NodeResources,
) -> str | None:
    if value_from.get("fieldRef"):
        return fieldpaths.field_value(pod, str(value_from["fieldRef"].get("fieldPath", "")))
    if value_from.get("resourceFieldRef"):
        ref = value_from["resourceFieldRef"]
        return fieldpaths.resource_value(
            pod,
            str(ref.get("containerName") or cname),
            str(ref.get("resource", "")),
            ref.get("divisor"),
            node,
        )
    for kind, field in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
        ref = value_from.get(field)
        if not ref:
            continue
        obj_name, key, optional = ref.get("name", ""), ref.get("key", ""), bool(ref.get("optional"))
        obj = _lookup(objects, kind, obj_name)
        if obj is None:
            if optional:
                return None
            raise errors.WaitingError(f'{kind.lower()} "{obj_name}" not found')
        data = object_data(kind, obj)
        if key not in data:
            if optional:
                return None
            raise errors.WaitingError(
                f"couldn't find key {key} in {kind} {pod['metadata'].get('namespace', '')}"
                f"/{obj_name}"
            )
        return _text(data[key])
    raise errors.SpecError(
        f"container {cname!r}: env {name!r} uses a valueFrom source the process node does "
        "not support; use fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef"
    )
