"""The chart grants the operator and the workers exactly the verbs the code uses, no more."""

from __future__ import annotations

from typing import Any

from . import rendering

FULLNAME = "videodl-videodl-operator"

# (apiGroup, resource, resourceName or "", verb) the operator's calls need where it serves
# VideoDownloads: kopf's list and watch of VideoDownloads and labelled Pods, and the calls
# in videodl.kube.client (patch, status patch, delete of downloads; create and delete of
# Pods; create of Events).
SERVING = {
    ("videodl.dev", "videodownloads", "", "list"),
    ("videodl.dev", "videodownloads", "", "watch"),
    ("videodl.dev", "videodownloads", "", "patch"),
    ("videodl.dev", "videodownloads", "", "delete"),
    ("videodl.dev", "videodownloads/status", "", "patch"),
    ("", "pods", "", "list"),
    ("", "pods", "", "watch"),
    ("", "pods", "", "create"),
    ("", "pods", "", "delete"),
    ("", "events", "", "create"),
    # VideoPlaylists (videodl.operator.playlists): kopf's list and watch, status patches,
    # children created, index chunks created, handed over, read.
    ("videodl.dev", "videoplaylists", "", "list"),
    ("videodl.dev", "videoplaylists", "", "watch"),
    ("videodl.dev", "videoplaylists/status", "", "patch"),
    ("videodl.dev", "videodownloads", "", "create"),
    ("", "configmaps", "", "get"),
    ("", "configmaps", "", "create"),
    ("", "configmaps", "", "patch"),
    # VideoSubscriptions (videodl.operator.subscriptions): listed and watched, status
    # patches, scans created and deleted; downloads and the ledger use the verbs above.
    ("videodl.dev", "videosubscriptions", "", "list"),
    ("videodl.dev", "videosubscriptions", "", "watch"),
    ("videodl.dev", "videosubscriptions/status", "", "patch"),
    ("videodl.dev", "videoplaylists", "", "create"),
    ("videodl.dev", "videoplaylists", "", "delete"),
}
# videodl.breaker: store (get, patch; create when missing), watch (list and watch by name),
# gate (Events about the ConfigMap).
BREAKER = {
    ("", "configmaps", "videodl-breaker", "get"),
    ("", "configmaps", "videodl-breaker", "list"),
    ("", "configmaps", "videodl-breaker", "watch"),
    ("", "configmaps", "videodl-breaker", "patch"),
    ("", "events", "", "create"),
}


def permissions(role: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """Every (apiGroup, resource, resourceName, verb) a Role or ClusterRole grants."""
    return {
        (group, resource, name, verb)
        for rule in role["rules"]
        for group in rule.get("apiGroups", [""])
        for resource in rule["resources"]
        for name in rule.get("resourceNames") or [""]
        for verb in rule["verbs"]
    }


LEADER = {
    ("coordination.k8s.io", "leases", "videodl", "get"),
    ("coordination.k8s.io", "leases", "videodl", "update"),
}


def _grants(manifests: list[dict[str, Any]], subject: str) -> dict[tuple[str, str], set[Any]]:
    """(binding namespace or "*" for cluster-wide, role name) -> permissions, for one subject."""
    roles = {
        (m["kind"], m["metadata"].get("namespace", "*"), m["metadata"]["name"]): m
        for m in manifests
        if m["kind"] in ("Role", "ClusterRole")
    }
    grants: dict[tuple[str, str], set[Any]] = {}
    for binding in manifests:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if not any(s["name"] == subject for s in binding["subjects"]):
            continue
        where = binding["metadata"].get("namespace", "*")
        ref = binding["roleRef"]
        role_namespace = "*" if ref["kind"] == "ClusterRole" else where
        role = roles[(ref["kind"], role_namespace, ref["name"])]
        grants.setdefault((where, ref["name"]), set()).update(permissions(role))
    return grants


def test_cluster_wide_operator_gets_only_what_it_uses() -> None:
    """Default (every namespace): one ClusterRole with the serving verbs, the breaker Role."""
    grants = _grants(rendering.render(), FULLNAME)
    assert grants == {
        ("*", FULLNAME): SERVING,
        (rendering.NAMESPACE, f"{FULLNAME}-breaker"): BREAKER,
    }


def test_namespaced_operator_gets_roles_in_its_namespaces_only() -> None:
    """A watch list: a Role per watched namespace and nothing cluster-wide."""
    values = {"watch": {"namespaces": ["media", "archive"]}}
    grants = _grants(rendering.render(values), FULLNAME)
    assert grants == {
        ("media", FULLNAME): SERVING,
        ("archive", FULLNAME): SERVING,
        (rendering.NAMESPACE, f"{FULLNAME}-breaker"): BREAKER,
    }


def test_replicas_add_the_lease_only() -> None:
    """Several replicas may read and renew their one Lease, in the release namespace only."""
    manifests = rendering.render({"operator": {"replicas": 2}})
    grants = _grants(manifests, FULLNAME)
    assert grants[(rendering.NAMESPACE, f"{FULLNAME}-leader")] == LEADER
    assert grants[("*", FULLNAME)] == SERVING
    lease = rendering.one(manifests, "Lease", "videodl")
    assert lease["metadata"]["namespace"] == rendering.NAMESPACE
    single = _grants(rendering.render(), FULLNAME)
    assert (rendering.NAMESPACE, f"{FULLNAME}-leader") not in single


def test_breaker_create_only_when_the_chart_does_not_create_the_configmap() -> None:
    """The operator may create ConfigMaps only when it has to make the breaker's itself."""
    values = {"breaker": {"configMap": {"create": False}}}
    grants = _grants(rendering.render(values), FULLNAME)
    assert grants[(rendering.NAMESPACE, f"{FULLNAME}-breaker")] == BREAKER | {
        ("", "configmaps", "", "create")
    }
    assert not rendering.by_kind(rendering.render(values), "ConfigMap")


def test_worker_may_only_patch_download_status() -> None:
    """Each worker namespace binds the worker account to patch on videodownloads/status
    (and on ConfigMaps, which the indexer-chunks policy narrows to its index chunks)."""
    values = {"workers": {"namespaces": ["media", "archive"]}}
    manifests = rendering.render(values)
    grants = _grants(manifests, "videodl-worker")
    status = {
        ("videodl.dev", "videodownloads/status", "", "patch"),
        ("", "configmaps", "", "patch"),
    }
    assert grants == {
        ("media", f"{FULLNAME}-worker"): status,
        ("archive", f"{FULLNAME}-worker"): status,
    }
    accounts = {
        (m["metadata"]["namespace"], m["metadata"]["name"])
        for m in rendering.by_kind(manifests, "ServiceAccount")
    }
    assert ("media", "videodl-worker") in accounts
    assert ("archive", "videodl-worker") in accounts


def test_rbac_create_false_renders_no_rbac() -> None:
    """rbac.create false leaves every Role and binding to the administrator."""
    kinds = {m["kind"] for m in rendering.render({"rbac": {"create": False}})}
    assert not kinds & {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
