"""Which addresses the worker may connect to: public ones, and the networks the operator allows.

Whoever may create a VideoDownload chooses the URL the worker fetches, and the site it
names chooses every redirect and every further URL (thumbnails, subtitles, fragments). So
by default the worker connects only to public unicast addresses: not to loopback,
link-local (the cloud metadata endpoint 169.254.169.254 among them), private, shared
(100.64.0.0/10, often the cluster's own ranges), multicast, reserved or unspecified ones,
and not to an IPv6 address that embeds one of those (IPv4-mapped, 6to4, NAT64). The
operator's ``--worker-allowed-networks`` lets listed networks through (the tests and the
demo allow loopback, where their media server runs).

:func:`refusal` decides for one address; the guard (:mod:`videodl.worker.guard`) asks it
for every address yt-dlp's connections go to, after DNS and after every redirect, before
the connection is attempted. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable
from typing import Final

from videodl.workerapi import environment

__all__ = ["SETTING", "EgressRefusedError", "Policy", "kind_of", "refusal"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: How refusals name the setting that allows a network, for whoever reads the message.
SETTING: Final = (
    f"the operator setting {environment.ALLOWED_NETWORKS_FLAG} "
    f"({environment.ALLOWED_NETWORKS_OPERATOR_ENV}, chart value workers.allowedNetworks)"
)

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64).
_NAT64: Final = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)
_SHARED: Final = ipaddress.IPv4Network("100.64.0.0/10")


class EgressRefusedError(PermissionError):
    """The worker refused a connection (or a program) its egress policy does not allow.

    An ``OSError``, so yt-dlp's networking treats it as the failed connection it is (and
    keeps it in the exception chain); the guard also records it, so the attempt fails
    even where yt-dlp only warns about a network error (a thumbnail, say).
    """


def kind_of(address: IPAddress) -> str | None:
    """Why ``address`` is not public (``"loopback"``, ``"link-local"``, ...); None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = kind_of(embedded)
            return None if inner is None else f"{inner} (embedded in {address})"
        if address.is_site_local:
            return "site-local"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (carrier-grade NAT, often the cluster's own)", address in _SHARED),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-global", not address.is_global),
    )
    return next((kind for kind, applies in checks if applies), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in prefix for prefix in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@dataclasses.dataclass(frozen=True)
class Policy:
    """Public addresses, plus the ``allowed`` networks whatever they are."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, networks: Iterable[str]) -> Policy:
        """The policy allowing ``networks`` (CIDRs as :mod:`ipaddress` reads them)."""
        return cls(tuple(ipaddress.ip_network(network) for network in networks))

    def allows(self, address: IPAddress) -> bool:
        """Whether ``address`` is in an allowed network."""
        return any(address.version == net.version and address in net for net in self.allowed)


def refusal(host: str, port: int, policy: Policy, *, name: str | None = None) -> str | None:
    """The message refusing a connection to ``host``:``port``, or None to allow it.

    ``host`` must be a numeric address (what a socket connects to, after DNS); anything
    else is refused, since the address it stands for is only known once resolved. ``name``
    is the host name it was resolved from, when known, for the message.
    """
    shown = f"{host} port {port}" + (f" ({name})" if name and name != host else "")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"refusing to connect to {shown}: not a numeric address"
    if policy.allows(address):
        return None
    kind = kind_of(address)
    if kind is None:
        return None
    return (
        f"refusing to connect to {shown}: a {kind} address; the worker only connects to "
        f"public addresses unless {SETTING} allows the network"
    )
