"""The kopf registrations: thin handlers that feed the controller and start the runtime.

Only watching handlers are used (``@kopf.index`` and ``@kopf.on.event``): kopf never
writes its own progress annotations or finalizers onto VideoDownloads, so every write to
them is the operator's own. Index handlers fill the view before any other handler runs
(kopf waits for all indexes after a start), which is what lets a restarted operator see
every existing worker Pod before it decides anything; they store nothing in kopf's index.
kopf's own setup (settings, credentials, no-op state storages) is
:mod:`videodl.operator.kopfsetup`.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from videodl.api.resource import GROUP, MANAGER, PLURAL, VERSION
from videodl.operator import kopfsetup, playlist_handlers
from videodl.operator.runtime import Runtime, StartupError
from videodl.reconcile.download import naming

__all__ = ["register"]


def register(registry: kopf.OperatorRegistry, runtime: Runtime) -> None:
    """Register every handler of the operator on ``registry``."""
    controller = runtime.controller
    pod_labels = {
        naming.LABEL_MANAGED_BY: MANAGER,
        naming.LABEL_INSTANCE: runtime.settings.instance,
    }

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopfsetup.connection_info(runtime.configuration)

    @kopf.on.startup(registry=registry)
    async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        kopfsetup.configure(
            settings,
            instance=runtime.settings.instance,
            clusterwide=not runtime.settings.watch.namespaces,
        )
        try:
            await runtime.start()
        except StartupError as exc:
            raise kopf.PermanentError(str(exc)) from exc

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        await runtime.stop()

    @kopf.index(GROUP, VERSION, PLURAL, registry=registry)
    async def videodownload_view(body: kopf.Body, **_: Any) -> None:
        controller.observe(body, deleted=False)

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
    async def videodownload_changed(type: str | None, body: kopf.Body, **_: Any) -> None:
        key = controller.observe(body, deleted=type == "DELETED")
        controller.ready.set()
        controller.queue.add(key)
        controller.changed.set()

    @kopf.index("", "v1", "pods", labels=pod_labels, registry=registry)
    async def pod_view(body: kopf.Body, **_: Any) -> None:
        controller.observe_pod(body, deleted=False)

    @kopf.on.event("", "v1", "pods", labels=pod_labels, registry=registry)
    async def pod_changed(type: str | None, body: kopf.Body, **_: Any) -> None:
        key = controller.observe_pod(body, deleted=type == "DELETED")
        controller.ready.set()
        if key is not None:
            controller.queue.add(key)
            controller.changed.set()

    playlist_handlers.register(registry, runtime.playlists, pod_labels)

    logging.getLogger(__name__).debug(
        "handlers registered for instance %s", runtime.settings.instance
    )
