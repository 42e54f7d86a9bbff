"""Certificates and keys for a loopback control plane.

One CA signs the apiserver's serving certificate and every client certificate; a separate
key pair signs ServiceAccount tokens. Everything is short-lived and written to one directory.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_VALIDITY = datetime.timedelta(days=7)
#: The common name of the certificate the apiserver presents to kubelets; a kubelet
#: endpoint serves only this client.
KUBELET_CLIENT_NAME = "kube-apiserver-kubelet-client"


@dataclasses.dataclass(frozen=True)
class ClientCert:
    """A client certificate and its key, as files."""

    cert: pathlib.Path
    key: pathlib.Path


@dataclasses.dataclass(frozen=True)
class Pki:
    """The files of a control plane's PKI."""

    ca_cert: pathlib.Path
    ca_key: pathlib.Path
    serving_cert: pathlib.Path
    serving_key: pathlib.Path
    sa_key: pathlib.Path
    sa_pub: pathlib.Path
    admin: ClientCert
    controller_manager: ClientCert
    scheduler: ClientCert
    node: ClientCert
    #: The process node's kubelet serving certificate (for the container-log endpoint).
    kubelet_serving: ClientCert
    #: What the apiserver presents to a kubelet (``--kubelet-client-certificate``).
    apiserver_kubelet_client: ClientCert


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: pathlib.Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(path: pathlib.Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _name(common_name: str, *orgs: str) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    return x509.Name(attrs)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
    )


def _issue(
    directory: pathlib.Path,
    stem: str,
    subject: x509.Name,
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    *,
    usage: x509.ObjectIdentifier,
    sans: list[x509.GeneralName] | None = None,
) -> ClientCert:
    ca_cert, ca_key = ca
    key = _key()
    builder = _builder(subject, ca_cert.subject, key.public_key()).add_extension(
        x509.ExtendedKeyUsage([usage]), critical=False
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    paths = ClientCert(directory / f"{stem}.crt", directory / f"{stem}.key")
    _write_cert(paths.cert, cert)
    _write_key(paths.key, key)
    return paths


def create(directory: pathlib.Path, *, service_ip: str) -> Pki:
    """Write a fresh CA, serving and client certificates and SA keys into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = _name("videodl-local-ca")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_cert(directory / "ca.crt", ca_cert)
    _write_key(directory / "ca.key", ca_key)
    ca = (ca_cert, ca_key)

    server_auth = x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
    client_auth = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH
    serving = _issue(
        directory,
        "apiserver",
        _name("kube-apiserver"),
        ca,
        usage=server_auth,
        sans=[
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default"),
            x509.DNSName("kubernetes.default.svc"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address(service_ip)),
        ],
    )

    sa_key = _key()
    _write_key(directory / "sa.key", sa_key)
    (directory / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return Pki(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        serving_cert=serving.cert,
        serving_key=serving.key,
        sa_key=directory / "sa.key",
        sa_pub=directory / "sa.pub",
        admin=_issue(directory, "admin", _name("admin", "system:masters"), ca, usage=client_auth),
        controller_manager=_issue(
            directory,
            "controller-manager",
            _name("system:kube-controller-manager"),
            ca,
            usage=client_auth,
        ),
        scheduler=_issue(
            directory, "scheduler", _name("system:kube-scheduler"), ca, usage=client_auth
        ),
        # The node agent acts as an admin: it provisions volumes and requests tokens.
        node=_issue(
            directory,
            "process-node",
            _name("videodl-process-node", "system:masters"),
            ca,
            usage=client_auth,
        ),
        kubelet_serving=_issue(
            directory,
            "kubelet",
            _name("system:node:videodl-process-node", "system:nodes"),
            ca,
            usage=server_auth,
            sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        ),
        apiserver_kubelet_client=_issue(
            directory,
            "apiserver-kubelet-client",
            _name(KUBELET_CLIENT_NAME, "system:masters"),
            ca,
            usage=client_auth,
        ),
    )
