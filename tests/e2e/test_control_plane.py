"""The local control plane enforces real Kubernetes semantics: CEL, defaults, RBAC, PodSecurity."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
import yaml
from kubernetes import client
from tests.conftest import ClusterHandle

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.cp-test.videodl.dev"},
    "spec": {
        "group": "cp-test.videodl.dev",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "x-kubernetes-validations": [
                                    {
                                        "rule": "self.min <= self.max",
                                        "message": "spec.min must not exceed spec.max",
                                    }
                                ],
                                "properties": {
                                    "min": {"type": "integer", "default": 1},
                                    "max": {"type": "integer", "default": 10},
                                    "color": {"type": "string", "default": "blue"},
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def widget_crd(cluster: ClusterHandle) -> str:
    cluster.kubectl("apply", "-f", "-", input=json.dumps(WIDGET_CRD))
    cluster.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "crd/widgets.cp-test.videodl.dev"
    )
    return "widgets.cp-test.videodl.dev"


def _widget(name: str, spec: dict[str, object]) -> str:
    return json.dumps(
        {
            "apiVersion": "cp-test.videodl.dev/v1",
            "kind": "Widget",
            "metadata": {"name": name},
            "spec": spec,
        }
    )


def test_version_reports_the_pinned_release(cluster: ClusterHandle) -> None:
    """/version reports the Kubernetes release the binaries were built from."""
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]
    if os.environ.get("VIDEODL_KUBECONFIG"):
        assert version["major"] == "1"
    else:
        assert version["gitVersion"] == os.environ.get("K8S_VERSION", "v1.34.4")
        assert (version["major"], version["minor"]) == ("1", version["gitVersion"].split(".")[1])


def test_cel_rule_rejects_with_its_message(
    cluster: ClusterHandle, namespace: str, widget_crd: str
) -> None:
    """An object that breaks a CRD's CEL rule is refused with the rule's message."""
    done = cluster.kubectl(
        "-n",
        namespace,
        "create",
        "-f",
        "-",
        input=_widget("bad", {"min": 5, "max": 2}),
        check=False,
    )
    assert done.returncode != 0
    assert "spec.min must not exceed spec.max" in done.stderr


def test_valid_object_reads_back_with_defaults(
    cluster: ClusterHandle, namespace: str, widget_crd: str
) -> None:
    """A valid object is accepted and the apiserver fills in the schema's defaults."""
    cluster.kubectl("-n", namespace, "create", "-f", "-", input=_widget("good", {"max": 4}))
    stored = json.loads(
        cluster.kubectl("-n", namespace, "get", "widget", "good", "-o", "json").stdout
    )
    assert stored["spec"] == {"min": 1, "max": 4, "color": "blue"}


def _pod(name: str, *, escalate: bool) -> dict[str, object]:
    security: dict[str, object] = {
        "allowPrivilegeEscalation": escalate,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {"name": "main", "image": "none", "command": ["true"], "securityContext": security}
            ],
        },
    }


def test_pod_security_restricted_is_enforced(cluster: ClusterHandle, namespace: str) -> None:
    """A restricted namespace refuses privilege escalation and admits a compliant Pod."""
    cluster.kubectl(
        "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    refused = cluster.kubectl(
        "-n",
        namespace,
        "create",
        "-f",
        "-",
        input=json.dumps(_pod("escalates", escalate=True)),
        check=False,
    )
    assert refused.returncode != 0
    assert "violates PodSecurity" in refused.stderr
    assert "allowPrivilegeEscalation" in refused.stderr
    cluster.kubectl(
        "-n", namespace, "create", "-f", "-", input=json.dumps(_pod("complies", escalate=False))
    )
    assert (
        cluster.kubectl("-n", namespace, "get", "pod", "complies", "-o", "name").stdout.strip()
        == "pod/complies"
    )


def test_service_account_token_is_bound_by_rbac(
    cluster: ClusterHandle, namespace: str, tmp_path: pathlib.Path
) -> None:
    """A ServiceAccount token may do what its Role grants and gets 403 for anything else."""
    cluster.kubectl("-n", namespace, "create", "serviceaccount", "reader")
    cluster.kubectl(
        "-n",
        namespace,
        "create",
        "role",
        "read-configmaps",
        "--verb=get,list",
        "--resource=configmaps",
    )
    cluster.kubectl(
        "-n",
        namespace,
        "create",
        "rolebinding",
        "reader",
        "--role=read-configmaps",
        f"--serviceaccount={namespace}:reader",
    )
    token = cluster.kubectl(
        "-n", namespace, "create", "token", "reader", "--duration=10m"
    ).stdout.strip()
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    admin["users"][0]["user"] = {"token": token}
    as_reader = tmp_path / "reader.kubeconfig"
    as_reader.write_text(yaml.safe_dump(admin))

    api = client.CoreV1Api(client.ApiClient(_configuration(as_reader)))
    assert api.list_namespaced_config_map(namespace).items is not None
    with pytest.raises(client.ApiException) as refused:
        api.list_namespaced_secret(namespace)
    assert refused.value.status == 403
    body = json.loads(refused.value.body)
    assert f"system:serviceaccount:{namespace}:reader" in body["message"]


def _configuration(kubeconfig: pathlib.Path) -> client.Configuration:
    from kubernetes import config

    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    return configuration
