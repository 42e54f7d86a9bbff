"""Everything kopf-specific besides the handlers: its settings, credentials and state storages.

kopf runs the operator's lifecycle only (login, startup, cleanup; see
:mod:`videodl.operator.handlers`): it is set up here to post no Events, keep no state of
its own and scan nothing (:func:`configure`), and it authenticates with the same client
configuration as the operator's own calls (:func:`connection_info`). The no-op storages
guarantee that kopf never writes state of its own onto any object.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import kopf
from kubernetes import client

__all__ = ["NoDiffBase", "NoProgress", "configure", "connection_info"]


def configure(settings: kopf.OperatorSettings) -> None:
    """kopf settings: no Events, state or watches of its own.

    kopf registers no resource handlers (the operator's informers watch), so it needs
    neither to scan namespaces nor to store anything on objects.
    """
    settings.scanning.disabled = True
    settings.posting.enabled = False
    settings.persistence.diffbase_storage = NoDiffBase()
    settings.persistence.progress_storage = NoProgress()
    settings.networking.request_timeout = 60


def connection_info(configuration: client.Configuration) -> kopf.ConnectionInfo:
    """kopf's credentials, taken from a loaded client configuration."""
    header: str | None = configuration.get_api_key_with_prefix(
        "BearerToken"
    ) or configuration.get_api_key_with_prefix("authorization")
    parts = header.split(" ", 1) if header else []
    scheme, token = (
        (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    )
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
    )


class NoDiffBase(kopf.DiffBaseStorage):
    """No last-handled state: every object's essence is empty and never stored."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


class NoProgress(kopf.ProgressStorage):
    """No handler progress: nothing to fetch, store, purge or strip."""

    def fetch(self, *, key: Any, body: kopf.Body) -> kopf.ProgressRecord | None:
        return None

    def store(
        self, *, key: Any, record: kopf.ProgressRecord, body: kopf.Body, patch: kopf.Patch
    ) -> None:
        return None

    def purge(self, *, key: Any, body: kopf.Body, patch: kopf.Patch) -> None:
        return None

    def touch(self, *, body: kopf.Body, patch: kopf.Patch, value: str | None) -> None:
        return None

    def clear(self, *, essence: kopf.BodyEssence) -> kopf.BodyEssence:
        return essence
