"""Kubeconfig files for the local control plane's users."""

from __future__ import annotations

import pathlib

import yaml


def write(
    path: pathlib.Path,
    *,
    server: str,
    ca_file: pathlib.Path,
    user: str,
    cert_file: pathlib.Path | None = None,
    key_file: pathlib.Path | None = None,
    token: str | None = None,
    namespace: str = "default",
) -> pathlib.Path:
    """Write a single-context kubeconfig for ``user`` with a certificate or a bearer token."""
    credentials: dict[str, str] = {}
    if cert_file is not None and key_file is not None:
        credentials = {"client-certificate": str(cert_file), "client-key": str(key_file)}
    elif token is not None:
        credentials = {"token": token}
    else:
        msg = "a kubeconfig needs a client certificate and key, or a token"
        raise ValueError(msg)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "videodl-local",
                "cluster": {"server": server, "certificate-authority": str(ca_file)},
            }
        ],
        "users": [{"name": user, "user": credentials}],
        "contexts": [
            {
                "name": "videodl-local",
                "context": {"cluster": "videodl-local", "user": user, "namespace": namespace},
            }
        ],
        "current-context": "videodl-local",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
