"""Tests for container environment resolution."""

from __future__ import annotations

from typing import Any

import pytest

from videodl_devkit.processnode import environment, errors, fieldpaths

from . import podfixtures

NODE = fieldpaths.NodeResources(cpu="8", memory="16Gi")
SERVICE = environment.service_variables(environment.ApiEndpoint("127.0.0.1", 6443))
BASE = {"PATH": "/usr/bin:/bin", "HOSTNAME": "p", "HOME": "/"}


def resolve(container: dict[str, Any], objects: environment.Objects) -> environment.Environment:
    return environment.resolve(
        podfixtures.pod(containers=[container]),
        container,
        objects,
        base=BASE,
        service=SERVICE,
        node=NODE,
    )


class TestServiceVariables:
    def test_points_at_the_apiserver(self) -> None:
        """The kubernetes Service variables name the local apiserver's host and port."""
        assert SERVICE["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"
        assert SERVICE["KUBERNETES_SERVICE_PORT"] == "6443"
        assert SERVICE["KUBERNETES_SERVICE_PORT_HTTPS"] == "6443"
        assert SERVICE["KUBERNETES_PORT_6443_TCP"] == "tcp://127.0.0.1:6443"


class TestReferencedObjects:
    def test_collects_env_and_env_from(self) -> None:
        """Every Secret and ConfigMap named by env or envFrom is listed once."""
        container = {
            "envFrom": [{"configMapRef": {"name": "cm"}}, {"secretRef": {"name": "s"}}],
            "env": [
                {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cm2", "key": "k"}}},
                {"name": "C", "value": "x"},
            ],
        }
        assert environment.referenced_objects(container) == {
            ("ConfigMap", "cm"),
            ("Secret", "s"),
            ("ConfigMap", "cm2"),
        }


class TestResolve:
    def test_sources_and_precedence(self) -> None:
        """Literal, fieldRef, secretKeyRef, configMapKeyRef and envFrom all resolve; env wins."""
        container = {
            "name": "main",
            "envFrom": [
                {"configMapRef": {"name": "cm"}, "prefix": "CM_"},
                {"secretRef": {"name": "s"}},
            ],
            "env": [
                {"name": "LITERAL", "value": "plain"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
                {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "pw"}}},
                {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "mode"}}},
                {"name": "token", "value": "overridden"},
            ],
        }
        objects = {
            ("ConfigMap", "cm"): podfixtures.config_map("cm", mode="fast"),
            ("Secret", "s"): podfixtures.secret("s", pw="hunter2", token="t0"),
        }
        env = resolve(container, objects)
        assert env.process["LITERAL"] == "plain"
        assert env.process["POD"] == "p"
        assert env.process["UID"] == "u-1"
        assert env.process["PASSWORD"] == "hunter2"
        assert env.process["MODE"] == "fast"
        assert env.process["CM_mode"] == "fast"
        assert env.process["pw"] == "hunter2"
        assert env.process["token"] == "overridden"
        assert env.process["PATH"] == "/usr/bin:/bin"
        assert env.process["KUBERNETES_SERVICE_PORT"] == "6443"

    def test_values_expand_earlier_variables(self) -> None:
        """`$(VAR)` in a value sees variables defined before it and the service variables."""
        container = {
            "name": "main",
            "env": [
                {"name": "A", "value": "a"},
                {"name": "B", "value": "$(A)-$(KUBERNETES_SERVICE_PORT)-$(LATER)"},
                {"name": "LATER", "value": "z"},
            ],
        }
        env = resolve(container, {})
        assert env.process["B"] == "a-6443-$(LATER)"
        assert env.expand("run --to=$(LATER)") == "run --to=z"

    def test_pod_variables_override_the_base(self) -> None:
        """A PATH set by the Pod replaces the host PATH."""
        env = resolve({"name": "main", "env": [{"name": "PATH", "value": "/opt"}]}, {})
        assert env.process["PATH"] == "/opt"

    def test_missing_secret_waits(self) -> None:
        """A missing Secret that is not optional makes the container wait."""
        container = {
            "name": "main",
            "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
        }
        with pytest.raises(errors.WaitingError, match='secret "s" not found'):
            resolve(container, {("Secret", "s"): None})

    def test_missing_key_waits(self) -> None:
        """A key missing from an existing ConfigMap makes the container wait, naming the key."""
        container = {
            "name": "main",
            "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}],
        }
        with pytest.raises(errors.WaitingError, match="couldn't find key k in ConfigMap ns/cm"):
            resolve(container, {("ConfigMap", "cm"): podfixtures.config_map("cm")})

    def test_optional_references_are_skipped(self) -> None:
        """Optional missing objects, keys and envFrom sources leave the variable unset."""
        container = {
            "name": "main",
            "envFrom": [{"secretRef": {"name": "gone", "optional": True}}],
            "env": [
                {
                    "name": "X",
                    "valueFrom": {"secretKeyRef": {"name": "gone", "key": "k", "optional": True}},
                },
                {
                    "name": "Y",
                    "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k", "optional": True}},
                },
            ],
        }
        env = resolve(
            container,
            {("Secret", "gone"): None, ("ConfigMap", "cm"): podfixtures.config_map("cm")},
        )
        assert "X" not in env.process
        assert "Y" not in env.process

    def test_env_from_skips_invalid_names(self) -> None:
        """Keys that cannot be variable names (with '=') are skipped, as a kubelet does."""
        container = {"name": "main", "envFrom": [{"configMapRef": {"name": "cm"}}]}
        objects = {("ConfigMap", "cm"): {"data": {"a=b": "x", "ok": "y"}}}
        env = resolve(container, objects)
        assert "ok" in env.process
        assert all("=" not in key for key in env.process)

    def test_resource_field_ref_defaults_to_the_container(self) -> None:
        """A resourceFieldRef without containerName reads the container's own resources."""
        container = {
            "name": "main",
            "resources": {"limits": {"memory": "64Mi"}},
            "env": [
                {
                    "name": "MEM",
                    "valueFrom": {
                        "resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}
                    },
                }
            ],
        }
        assert resolve(container, {}).process["MEM"] == "64"

    def test_unknown_value_from_is_a_spec_error(self) -> None:
        """A valueFrom source the node cannot resolve is a spec error naming the variable."""
        container = {"name": "main", "env": [{"name": "F", "valueFrom": {"fileKeyRef": {}}}]}
        with pytest.raises(errors.SpecError, match="'F'"):
            resolve(container, {})

    def test_unfetched_reference_is_a_programming_error(self) -> None:
        """Resolving before fetching a referenced object fails loudly."""
        container = {
            "name": "main",
            "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
        }
        with pytest.raises(LookupError, match="not fetched"):
            resolve(container, {})

    def test_secret_with_bad_base64_is_a_spec_error(self) -> None:
        """Secret data that is not base64 is reported, not crashed on."""
        container = {"name": "main", "envFrom": [{"secretRef": {"name": "s"}}]}
        with pytest.raises(errors.SpecError, match="not base64"):
            resolve(container, {("Secret", "s"): {"metadata": {"name": "s"}, "data": {"k": "%%"}}})
