"""The kopf registrations: the operator's login, startup and cleanup.

kopf runs the operator's lifecycle (credentials, signals, startup and cleanup handlers) and
never writes to VideoDownloads: it registers no resource handlers at all. The downloads and
their Pods are listed and watched by the operator's own informers
(:mod:`videodl.operator.watching`), which page through large collections and mark the view
complete once everything is listed; kopf's own indexing would wake every waiting object
whenever one finished indexing, a cost that grows with the square of the object count.
kopf's own setup (settings, credentials, no-op state storages) is
:mod:`videodl.operator.kopfsetup`.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from videodl.operator import kopfsetup
from videodl.operator.runtime import Runtime, StartupError

__all__ = ["register"]


def register(registry: kopf.OperatorRegistry, runtime: Runtime) -> None:
    """Register every handler of the operator on ``registry``."""

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopfsetup.connection_info(runtime.configuration)

    @kopf.on.startup(registry=registry)
    async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        kopfsetup.configure(settings)
        try:
            await runtime.start()
        except StartupError as exc:
            raise kopf.PermanentError(str(exc)) from exc

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        await runtime.stop()

    logging.getLogger(__name__).debug(
        "handlers registered for instance %s", runtime.settings.instance
    )
