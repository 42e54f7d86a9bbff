"""What went wrong, said so that the user knows what to do next. Pure: no I/O.

Every failure of a command becomes a :class:`CliError` with one message and an exit code:
``1`` for a failed request or a failed download, ``2`` for bad usage (as Click uses it).
"""

from __future__ import annotations

from typing import Final, Protocol

__all__ = [
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "INSTALL_HINT",
    "CliError",
    "RequestFailure",
    "from_api_error",
]

EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2

INSTALL_HINT: Final = (
    "install videodl with `helm install videodl charts/videodl-operator --namespace "
    "videodl-system` (see docs/install.md), or only the CRD with `kubectl apply -f crds/`"
)


class RequestFailure(Protocol):
    """A failed apiserver request (:class:`videodl.kube.client.ApiError` is one)."""

    @property
    def status(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def message(self) -> str: ...


class CliError(Exception):
    """A command failed; ``message`` is what to print and ``code`` the exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def from_api_error(  # noqa: PLR0911 - one message per status
    error: RequestFailure,
    *,
    verb: str,
    resource: str,
    namespace: str | None,
    server: str = "",
    crd: str | None = None,
) -> CliError:
    """The error of a request to ``verb`` a ``resource`` (``videodownloads.videodl.dev``).

    ``crd`` names the CRD the resource comes from when a 404 on it means the CRD is missing
    (a list or a create; a 404 on one named object means the object is missing, which the
    caller says with close names instead).
    """
    where = f" in namespace {namespace}" if namespace else " in any namespace"
    if error.status == 0:
        target = f" at {server}" if server else ""
        return CliError(
            f"cannot reach the cluster{target}: {error.message or error.reason}; check "
            "--kubeconfig and --context, and that the apiserver is running"
        )
    if error.status == 401:
        return CliError(
            "the cluster does not accept your credentials (401 Unauthorized); log in again or "
            "check the user of your kubeconfig context"
        )
    if error.status == 403:
        return CliError(
            f"permission denied: you may not {verb} {resource}{where}; ask for a Role that "
            f"grants the verb {verb!r} on {resource} (the apiserver said: {error.message})"
        )
    if error.status == 404 and crd is not None:
        return CliError(f"the CustomResourceDefinition {crd} is not installed; {INSTALL_HINT}")
    if error.status in {400, 422}:
        return CliError(f"the apiserver refused to {verb} {resource}: {error.message}")
    if error.status == 409:
        return CliError(f"conflict while trying to {verb} {resource}: {error.message}")
    return CliError(
        f"cannot {verb} {resource}{where}: {error.status} {error.reason}: {error.message}"
    )
