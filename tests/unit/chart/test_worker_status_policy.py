"""The chart's ValidatingAdmissionPolicy that confines worker tokens to their own progress.

What the CEL says is checked on the real apiserver (tests/e2e/test_worker_token.py); these
tests check what is rendered: which requests the policy matches, how it fails, and the
values that change it.
"""

from __future__ import annotations

from typing import Any

from . import rendering

POLICY = "videodl-videodl-operator-worker-status"
KINDS = {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}


def _policy(values: dict[str, Any] | None = None) -> dict[str, Any]:
    return rendering.one(rendering.render(values), "ValidatingAdmissionPolicy", POLICY)


def test_policy_matches_status_updates_and_fails_closed() -> None:
    """By default it matches UPDATE (patches too) of videodownloads/status and fails closed."""
    spec = _policy()["spec"]
    assert spec["failurePolicy"] == "Fail"
    assert spec["matchConstraints"]["resourceRules"] == [
        {
            "apiGroups": ["videodl.dev"],
            "apiVersions": ["*"],
            "operations": ["UPDATE"],
            "resources": ["videodownloads/status"],
        }
    ]
    assert "paramKind" not in spec


def test_binding_denies_in_every_namespace() -> None:
    """The binding names the policy, denies, and restricts no namespace."""
    binding = rendering.one(rendering.render(), "ValidatingAdmissionPolicyBinding", POLICY)
    assert binding["spec"] == {"policyName": POLICY, "validationActions": ["Deny"]}


def test_only_the_configured_worker_account_is_matched() -> None:
    """The match condition names workers.serviceAccount.name, in any namespace."""
    values = {"workers": {"serviceAccount": {"name": "media-fetcher"}}}
    (condition,) = _policy(values)["spec"]["matchConditions"]
    assert "== 'media-fetcher'" in condition["expression"]
    assert "videodl-worker" not in condition["expression"]
    assert "system:serviceaccount:" in condition["expression"]


def test_checks_are_the_token_pod_the_recorded_worker_and_progress() -> None:
    """In order: a Pod-bound token, the download that records that Pod, progress only."""
    spec = _policy()["spec"]
    variables = {v["name"]: v["expression"] for v in spec["variables"]}
    assert "authentication.kubernetes.io/pod-name" in variables["podName"]
    token, own, progress = (v["expression"] for v in spec["validations"])
    assert "variables.podName" in token
    assert "oldObject.status.workerPod == variables.podName" in own
    assert "request.namespace == variables.accountNamespace" in own
    assert "k == 'progress'" in progress


def test_every_message_names_the_policy_and_refuses_as_forbidden() -> None:
    """Each validation answers 403 with a one-line message that starts with the policy's name."""
    for validation in _policy()["spec"]["validations"]:
        assert validation["reason"] == "Forbidden"
        assert validation["message"].startswith(f"{POLICY}: ")
        assert "\n" not in validation["message"]


def test_switched_off_renders_no_policy() -> None:
    """workers.statusPolicy.enabled false leaves the policy out and the RBAC as it is."""
    manifests = rendering.render({"workers": {"statusPolicy": {"enabled": False}}})
    assert not {m["kind"] for m in manifests} & KINDS
    assert rendering.one(manifests, "ClusterRole", "videodl-videodl-operator-worker")


def test_operator_and_workers_sharing_an_account_is_refused() -> None:
    """The operator may not run as the worker account: the policy would block its status writes."""
    done = rendering.render_raw({"serviceAccount": {"name": "videodl-worker"}}, check=False)
    assert done.returncode != 0
    assert "serviceAccount.name and workers.serviceAccount.name" in done.stderr


def test_switch_must_be_a_boolean() -> None:
    """The schema refuses a non-boolean switch."""
    done = rendering.render_raw({"workers": {"statusPolicy": {"enabled": "yes"}}}, check=False)
    assert done.returncode != 0
    assert "statusPolicy" in done.stderr
