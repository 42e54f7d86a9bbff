"""How the operator authenticates: one client configuration for kopf and for its own calls.

In a Pod the ServiceAccount is used; elsewhere the kubeconfig given with ``--kubeconfig``,
or ``KUBECONFIG``, or ``~/.kube/config``.
"""

from __future__ import annotations

import kopf
from kubernetes import client, config

__all__ = ["client_configuration", "connection_info"]


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
