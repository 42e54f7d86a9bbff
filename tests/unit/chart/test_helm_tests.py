"""The `helm test` hooks: restricted Pods with an account that may only read VideoDownloads."""

from __future__ import annotations

from typing import Any

import yaml

from . import rendering

FULLNAME = "videodl-videodl-operator"
TEST = f"{FULLNAME}-test"
CRD = rendering.CHART / "crds" / "videodl.dev_videodownloads.yaml"


def _hooks(values: dict[str, Any] | None = None) -> list[rendering.Manifest]:
    return [
        m
        for m in rendering.render(values)
        if (m["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"
    ]


def _pods(values: dict[str, Any] | None = None) -> dict[str, rendering.Manifest]:
    return {m["metadata"]["name"]: m for m in rendering.by_kind(_hooks(values), "Pod")}


def _env(pod: rendering.Manifest) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in pod["spec"]["containers"][0]["env"]}


class TestHooks:
    def test_default_hooks(self) -> None:
        """By default the two test Pods render with their ServiceAccount, Role and binding."""
        kinds = sorted((m["kind"], m["metadata"]["name"]) for m in _hooks())
        assert kinds == [
            ("Pod", f"{TEST}-api"),
            ("Pod", f"{TEST}-healthz"),
            ("Role", TEST),
            ("RoleBinding", TEST),
            ("ServiceAccount", TEST),
        ]

    def test_hooks_are_deleted_when_they_pass(self) -> None:
        """Each hook replaces an earlier run's and is deleted once the tests pass."""
        for hook in _hooks():
            annotations = hook["metadata"]["annotations"]
            policy = annotations["helm.sh/hook-delete-policy"]
            assert policy == "before-hook-creation,hook-succeeded"
            rbac_first = -10 if hook["kind"] != "Pod" else 0
            assert int(annotations["helm.sh/hook-weight"]) == rbac_first

    def test_role_only_reads_videodownloads(self) -> None:
        """The test Role may get and list videodownloads, nothing else."""
        role = rendering.one(_hooks(), "Role")
        assert role["rules"] == [
            {
                "apiGroups": ["videodl.dev"],
                "resources": ["videodownloads"],
                "verbs": ["get", "list"],
            }
        ]
        binding = rendering.one(_hooks(), "RoleBinding")
        assert binding["subjects"][0]["name"] == TEST

    def test_pods_are_restricted(self) -> None:
        """Test Pods run non-root, read-only, without capabilities, seccomp on, with limits."""
        for pod in _pods().values():
            spec = pod["spec"]
            assert spec["restartPolicy"] == "Never"
            assert spec["serviceAccountName"] == TEST
            assert spec["containers"][0]["imagePullPolicy"] == "Always"
            assert spec["securityContext"]["runAsNonRoot"] is True
            assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
            [container] = spec["containers"]
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert set(container["resources"]) == {"requests", "limits"}

    def test_only_the_api_check_gets_a_token(self) -> None:
        """The health check needs no apiserver access, so only the API check mounts a token."""
        pods = _pods()
        assert pods[f"{TEST}-api"]["spec"]["automountServiceAccountToken"] is True
        assert pods[f"{TEST}-healthz"]["spec"]["automountServiceAccountToken"] is False

    def test_api_check_names_the_served_version(self) -> None:
        """The API check lists the group, version and plural the chart's CRD serves."""
        crd = yaml.safe_load(CRD.read_text())
        env = _env(_pods()[f"{TEST}-api"])
        served = {v["name"] for v in crd["spec"]["versions"] if v["served"]}
        assert env["GROUP"] == crd["spec"]["group"]
        assert env["VERSION"] in served
        assert env["PLURAL"] == crd["spec"]["names"]["plural"]

    def test_image_and_command(self) -> None:
        """Test Pods run the worker image's python, or the command tests.command names."""
        pod = _pods()[f"{TEST}-api"]
        container = pod["spec"]["containers"][0]
        assert container["image"] == "ghcr.io/videodl/worker:0.1.0"
        assert container["command"] == ["python"]
        assert container["args"][0] == "-c"
        custom = _pods({"tests": {"command": ["/venv/bin/python"]}})[f"{TEST}-api"]
        assert custom["spec"]["containers"][0]["command"] == ["/venv/bin/python"]

    def test_health_check_targets_the_metrics_service(self) -> None:
        """By default the health check GETs /healthz on the metrics Service; a URL overrides."""
        url = _env(_pods()[f"{TEST}-healthz"])["HEALTHZ_URL"]
        assert url == f"http://{FULLNAME}-metrics.{rendering.NAMESPACE}.svc:8080/healthz"
        custom = _pods({"tests": {"healthzUrl": "http://127.0.0.1:9/healthz"}})
        assert _env(custom[f"{TEST}-healthz"])["HEALTHZ_URL"] == "http://127.0.0.1:9/healthz"

    def test_no_health_check_without_an_operator_or_a_service(self) -> None:
        """With no operator replica, or no metrics Service and no URL, only the API check runs."""
        assert set(_pods({"operator": {"replicas": 0}})) == {f"{TEST}-api"}
        assert set(_pods({"metrics": {"service": {"enabled": False}}})) == {f"{TEST}-api"}

    def test_hooks_can_be_switched_off(self) -> None:
        """tests.enabled false renders no test hook at all."""
        assert _hooks({"tests": {"enabled": False}}) == []

    def test_rbac_create_false_leaves_the_grant_out(self) -> None:
        """rbac.create false keeps the test ServiceAccount but renders no Role or binding."""
        kinds = sorted(m["kind"] for m in _hooks({"rbac": {"create": False}}))
        assert kinds == ["Pod", "Pod", "ServiceAccount"]
