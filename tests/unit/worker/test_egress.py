"""Tests for videodl.worker.egress: which addresses the worker may connect to."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.operator import options
from videodl.worker.egress import SETTING, Policy, kind_of, refusal
from videodl.workerapi import environment

NONE = Policy()


class TestKindOf:
    @pytest.mark.parametrize(
        ("address", "kind"),
        [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("::1", "loopback"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("fd00::5", "private"),
            ("100.64.0.10", "shared"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("ff02::1", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "reserved"),
            ("192.0.2.7", "private"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("2002:a9fe:a9fe::1", "link-local"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("64:ff9b::7f00:1", "loopback"),
            ("fec0::1", "site-local"),
        ],
    )
    def test_non_public_addresses_are_named(self, address: str, kind: str) -> None:
        """Every non-public range is recognised, IPv4 embedded in IPv6 included."""
        found = kind_of(ipaddress.ip_address(address))
        assert found is not None
        assert found.startswith(kind)

    @pytest.mark.parametrize(
        "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:93.184.216.34"]
    )
    def test_public_addresses_pass(self, address: str) -> None:
        """Global unicast addresses, also as IPv4-mapped IPv6, are public."""
        assert kind_of(ipaddress.ip_address(address)) is None

    @given(st.ip_addresses(v=4, network="10.0.0.0/8") | st.ip_addresses(v=6, network="fc00::/7"))
    def test_private_ranges_are_never_public(self, address: ipaddress._BaseAddress) -> None:
        """No address of the private ranges counts as public."""
        assert kind_of(address) is not None  # type: ignore[arg-type]

    @given(st.ip_addresses(v=4))
    def test_mapped_form_is_judged_like_the_address(self, address: ipaddress.IPv4Address) -> None:
        """An IPv4-mapped IPv6 address is refused exactly when its IPv4 address is."""
        mapped = ipaddress.IPv6Address(f"::ffff:{address}")
        assert (kind_of(mapped) is None) == (kind_of(address) is None)


class TestRefusal:
    def test_refusal_names_the_address_the_kind_and_the_setting(self) -> None:
        """The message says what was refused, why, and which operator setting allows it."""
        message = refusal("169.254.169.254", 80, NONE, name="metadata.internal")
        assert message is not None
        assert "169.254.169.254 port 80 (metadata.internal)" in message
        assert "link-local" in message
        assert SETTING in message
        assert "--worker-allowed-networks" in message

    def test_public_addresses_are_allowed(self) -> None:
        """A public address needs no setting."""
        assert refusal("93.184.216.34", 443, NONE) is None

    def test_allowed_networks_let_their_addresses_through(self) -> None:
        """An allowed network opens exactly its own addresses."""
        policy = Policy.of(["127.0.0.0/8", "::1/128"])
        assert refusal("127.0.0.1", 8080, policy) is None
        assert refusal("::1", 8080, policy) is None
        assert refusal("10.0.0.1", 8080, policy) is not None
        assert refusal("169.254.169.254", 80, policy) is not None

    def test_host_names_are_refused(self) -> None:
        """Only numeric addresses are judged: a name could resolve to anything."""
        message = refusal("localhost", 80, Policy.of(["127.0.0.0/8"]))
        assert message is not None
        assert "not a numeric address" in message

    @given(st.ip_addresses(v=4, network="192.168.0.0/16"))
    def test_a_network_allows_every_address_in_it(self, address: ipaddress.IPv4Address) -> None:
        """Allowing 192.168.0.0/16 allows any of its addresses, which are refused otherwise."""
        assert refusal(str(address), 80, NONE) is not None
        assert refusal(str(address), 80, Policy.of(["192.168.0.0/16"])) is None


class TestSetting:
    def test_the_named_setting_is_the_operators(self) -> None:
        """The flag and variable named in refusals are the operator option that sets them."""
        option = next(o for o in options.OPTIONS if o.path == "worker.allowed_networks")
        assert option.flag == environment.ALLOWED_NETWORKS_FLAG
        assert option.env == environment.ALLOWED_NETWORKS_OPERATOR_ENV
