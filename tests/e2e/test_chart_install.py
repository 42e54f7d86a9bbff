"""The chart installs, upgrades and uninstalls cleanly on the real control plane."""

from __future__ import annotations

from typing import Any

from tests.conftest import ClusterHandle
from tests.unit.chart import release

CRDS = ("videodownloads.videodl.dev",)


def _deployment_env(cluster: ClusterHandle, name: str, namespace: str) -> dict[str, str]:
    deployment = release.get_json(cluster, "deployment", name, "--namespace", namespace)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def _rolled_out(cluster: ClusterHandle, name: str, namespace: str) -> bool:
    deployment = release.get_json(cluster, "deployment", name, "--namespace", namespace)
    status = deployment.get("status", {})
    wanted = deployment["spec"]["replicas"]
    return (
        status.get("observedGeneration") == deployment["metadata"]["generation"]
        and status.get("updatedReplicas", 0) == wanted
        and status.get("availableReplicas", 0) == wanted
        and status.get("replicas", 0) == wanted
    )


def test_install_upgrade_uninstall(cluster: ClusterHandle, namespace: str) -> None:
    """Install runs the operator, an upgrade with changed values rolls it, uninstall cleans up."""
    name = namespace
    deployment = f"{name}-videodl-operator"
    values: dict[str, Any] = release.process_node_values(name, release.free_port())
    seen: set[tuple[str, str, str, str]] = set()
    try:
        done = release.install(cluster, name, namespace, values)
        assert "STATUS: deployed" in done.stdout
        first = release.manifest_objects(cluster, name, namespace)
        seen |= {release.object_ref(o) for o in first}
        assert all(release.exists(cluster, ref) for ref in seen)
        assert _rolled_out(cluster, deployment, namespace)
        assert _deployment_env(cluster, deployment, namespace)["VIDEODL_MAX_RUNNING"] == "20"

        changed = release.deep_merge(
            values,
            {
                "admission": {"maxRunning": 3, "maxRunningPerNamespace": 2},
                "operator": {"logLevel": "DEBUG"},
                "workers": {"networkPolicy": {"enabled": True}},
                "metrics": {"dashboard": {"enabled": True}},
            },
        )
        done = release.install(cluster, name, namespace, changed, upgrade=True)
        assert "STATUS: deployed" in done.stdout
        assert "REVISION: 2" in done.stdout
        second = release.manifest_objects(cluster, name, namespace)
        seen |= {release.object_ref(o) for o in second}
        kinds = {o["kind"] for o in second}
        assert {"NetworkPolicy", "ConfigMap"} <= kinds
        assert all(release.exists(cluster, release.object_ref(o)) for o in second)
        env = _deployment_env(cluster, deployment, namespace)
        assert env["VIDEODL_MAX_RUNNING"] == "3"
        assert env["VIDEODL_MAX_RUNNING_PER_NAMESPACE"] == "2"
        release.wait_for(
            "the upgraded operator rollout", lambda: _rolled_out(cluster, deployment, namespace)
        )
    finally:
        release.uninstall(cluster, name, namespace)

    left = [ref for ref in sorted(seen) if release.exists(cluster, ref)]
    assert left == []
    assert release.labelled_objects(cluster, name) == []
    for crd in CRDS:
        assert release.exists(
            cluster, ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crd)
        )


def test_install_refuses_a_bad_value(cluster: ClusterHandle, namespace: str) -> None:
    """helm install stops on a wrong value before creating anything, naming the value."""
    values = release.deep_merge(
        release.process_node_values(namespace, release.free_port()),
        {"watch": {"namespaces": ["Not_A_Namespace"]}},
    )
    done = release.install(cluster, namespace, namespace, values, check=False)
    assert done.returncode != 0
    assert "at '/watch/namespaces/0'" in done.stderr
    status = release.helm(cluster, "status", namespace, "--namespace", namespace, check=False)
    assert status.returncode != 0
    assert release.labelled_objects(cluster, namespace) == []
