"""Tests for downward API field and resource values."""

from __future__ import annotations

import pytest

from videodl_devkit.processnode import errors, fieldpaths

from . import podfixtures

NODE = fieldpaths.NodeResources(cpu="8", memory="16Gi")


class TestFieldValue:
    @pytest.mark.parametrize(
        ("path", "value"),
        [
            ("metadata.name", "p"),
            ("metadata.namespace", "ns"),
            ("metadata.uid", "u-1"),
            ("spec.nodeName", "node-1"),
            ("spec.serviceAccountName", "worker"),
            ("status.podIP", "127.0.0.1"),
            ("status.hostIP", "127.0.0.1"),
            ("metadata.labels['app']", "dl"),
            ("metadata.annotations['missing']", ""),
        ],
    )
    def test_simple_fields(self, path: str, value: str) -> None:
        """Each supported field path selects the matching Pod value."""
        assert fieldpaths.field_value(podfixtures.pod(), path) == value

    def test_label_map_is_sorted_and_quoted(self) -> None:
        """Whole label and annotation maps render as sorted key="value" lines."""
        pod = podfixtures.pod()
        assert fieldpaths.field_value(pod, "metadata.labels") == 'app="dl"\ntier="b"'
        assert fieldpaths.field_value(pod, "metadata.annotations") == 'note="say \\"hi\\""'

    def test_unknown_field_names_the_supported_ones(self) -> None:
        """An unsupported field path is a spec error listing what works."""
        with pytest.raises(errors.SpecError, match=r"spec\.host.*metadata\.name"):
            fieldpaths.field_value(podfixtures.pod(), "spec.host")


class TestResourceValue:
    def test_declared_limit_with_divisor(self) -> None:
        """A declared limit is divided by the divisor and rounded up."""
        pod = podfixtures.pod(
            containers=[{"name": "main", "resources": {"limits": {"memory": "1Gi", "cpu": "250m"}}}]
        )
        assert fieldpaths.resource_value(pod, "main", "limits.memory", "1Mi", NODE) == "1024"
        assert fieldpaths.resource_value(pod, "main", "limits.cpu", None, NODE) == "1"
        assert fieldpaths.resource_value(pod, "main", "limits.cpu", "1m", NODE) == "250"

    def test_missing_limit_is_node_allocatable(self) -> None:
        """Without a limit the node's allocatable is the limit, as on a kubelet."""
        assert fieldpaths.resource_value(podfixtures.pod(), "main", "limits.cpu", None, NODE) == "8"

    def test_missing_request_is_zero(self) -> None:
        """Without a request the value is zero."""
        assert (
            fieldpaths.resource_value(podfixtures.pod(), "main", "requests.memory", None, NODE)
            == "0"
        )

    def test_unknown_container_is_a_spec_error(self) -> None:
        """Naming a container the Pod does not have is a spec error."""
        with pytest.raises(errors.SpecError, match="other"):
            fieldpaths.resource_value(podfixtures.pod(), "other", "limits.cpu", None, NODE)

    def test_unknown_resource_is_a_spec_error(self) -> None:
        """An unsupported resource name is refused with the supported ones."""
        with pytest.raises(errors.SpecError, match=r"limits\.gpu"):
            fieldpaths.resource_value(podfixtures.pod(), "main", "limits.gpu", None, NODE)
