"""The worker NetworkPolicy never lets workers reach the cloud metadata address."""

from __future__ import annotations

from typing import Any

import pytest

from . import rendering

METADATA = "169.254.169.254/32"


def blocks(values: dict[str, Any]) -> dict[str, list[str]]:
    """Every ipBlock of the rendered worker policy: its CIDR and its exceptions."""
    (policy, *_) = rendering.by_kind(rendering.render(values), "NetworkPolicy")
    return {
        block["ipBlock"]["cidr"]: block["ipBlock"].get("except", [])
        for rule in policy["spec"]["egress"]
        for block in rule.get("to", [])
    }


def enabled(**policy: Any) -> dict[str, Any]:
    return {"workers": {"networkPolicy": {"enabled": True, **policy}}}


class TestMetadataAddress:
    def test_default_egress_excludes_it(self) -> None:
        """With the default 'anywhere', the IPv4 block excepts 169.254.169.254 alone."""
        found = blocks(enabled())
        assert found["0.0.0.0/0"] == [METADATA]
        assert found["::/0"] == []

    def test_every_block_containing_it_excepts_it(self) -> None:
        """Egress and apiserver blocks that contain the address except it; others do not."""
        found = blocks(
            enabled(
                egressCIDRs=["169.254.0.0/16", "128.0.0.0/1", "10.0.0.0/8"],
                egressExcept=["169.254.1.0/24"],
                apiServer={"cidrs": ["169.254.169.0/24", "192.0.2.10/32"], "port": 443},
            )
        )
        assert METADATA in found["169.254.0.0/16"]
        assert "169.254.1.0/24" in found["169.254.0.0/16"]
        assert METADATA in found["128.0.0.0/1"]
        assert METADATA not in found["10.0.0.0/8"]
        assert found["169.254.169.0/24"] == [METADATA]
        assert found["192.0.2.10/32"] == []

    def test_an_explicit_exception_is_not_repeated(self) -> None:
        """Listing the address in egressExcept yourself gives it once."""
        assert blocks(enabled(egressExcept=[METADATA]))["0.0.0.0/0"] == [METADATA]

    @pytest.mark.parametrize(
        ("policy", "name"),
        [
            ({"egressCIDRs": [METADATA]}, "workers.networkPolicy.egressCIDRs"),
            ({"apiServer": {"cidrs": [METADATA], "port": 80}}, "workers.networkPolicy.apiServer"),
        ],
    )
    def test_allowing_it_alone_is_refused(self, policy: dict[str, Any], name: str) -> None:
        """A block that is exactly the metadata address cannot be excepted, so it fails."""
        done = rendering.render_raw(enabled(**policy), check=False)
        assert done.returncode != 0
        assert name in done.stderr
        assert "cloud metadata address" in done.stderr
