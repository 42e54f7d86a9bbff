"""How the operator authenticates: one client configuration for kopf and for its own calls.

In a Pod the ServiceAccount is used; elsewhere the kubeconfig given with ``--kubeconfig``,
or ``KUBECONFIG``, or ``~/.kube/config``. kopf's credentials are made from the same
configuration (:func:`videodl.operator.kopfsetup.connection_info`).
"""

from __future__ import annotations

from kubernetes import client, config

__all__ = ["client_configuration"]


def client_configuration(kubeconfig: str | None) -> client.Configuration:
    """Load the configuration: the given kubeconfig, else in-cluster, else the default one."""
    configuration = client.Configuration()
    if kubeconfig:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=configuration
        )
        return configuration
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return configuration
