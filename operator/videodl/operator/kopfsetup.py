"""Everything kopf-specific besides the handlers: its settings, credentials and state storages.

The operator uses kopf only to watch (see :mod:`videodl.operator.handlers`), so kopf is set
up here to post no Events and keep no state of its own, with bounded watches and the Pods
selected by label (:func:`configure`). It authenticates with the same client configuration
as the operator's own calls (:func:`connection_info`).

kopf computes, on every watch event, a deep copy of the object (its "essence") to diff it
against the last handled state, and strips its own progress records from it. Both exist
for ``@kopf.on.create``/``update`` handlers, which this operator does not use: it only
indexes and watches. The storages here keep and compute nothing, which removes most of
kopf's cost per event (measured: about two thirds of the event loop's time with a
thousand downloads) and guarantees kopf never writes its own state onto VideoDownloads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import kopf
from kubernetes import client

from videodl.reconcile.download import naming

__all__ = ["LIST_CHUNK_SIZE", "NoDiffBase", "NoProgress", "configure", "connection_info"]

#: Objects per page of the initial lists of the watched kinds.
LIST_CHUNK_SIZE = 500


def configure(settings: kopf.OperatorSettings, *, instance: str, clusterwide: bool) -> None:
    """kopf settings: no Events or state of its own, bounded watches, Pods selected by label."""
    # Watching listed namespaces, kopf would stop a namespace's watch as soon as it looks
    # deleted, before the operator saw its downloads' deletion and released their
    # finalizers: the namespace would never finish deleting. The names are exact (no
    # patterns), so kopf need not observe namespaces at all.
    settings.scanning.disabled = not clusterwide
    settings.posting.enabled = False
    settings.persistence.diffbase_storage = NoDiffBase()
    settings.persistence.progress_storage = NoProgress()
    settings.watching.server_timeout = 270
    settings.watching.client_timeout = 300
    settings.watching.connect_timeout = 10
    # A restarted operator lists every object before it decides anything: in pages, so
    # neither the apiserver nor this process holds ten thousand objects in one response.
    settings.watching.chunk_size = LIST_CHUNK_SIZE
    settings.networking.request_timeout = 60
    settings.watching.label_selectors["pods"] = naming.pod_selector(instance)


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
