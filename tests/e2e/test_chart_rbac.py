"""What the apiserver lets the chart's ServiceAccounts do: the intended verbs and nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from tests.conftest import ClusterHandle
from tests.unit.chart import release

Rows = set[tuple[str, str, str]]

SERVING: Rows = {
    ("videodownloads.videodl.dev", "[]", "list"),
    ("videodownloads.videodl.dev", "[]", "watch"),
    ("videodownloads.videodl.dev", "[]", "patch"),
    ("videodownloads.videodl.dev", "[]", "delete"),
    ("videodownloads.videodl.dev/status", "[]", "patch"),
    ("pods", "[]", "list"),
    ("pods", "[]", "watch"),
    ("pods", "[]", "create"),
    ("pods", "[]", "delete"),
    ("events", "[]", "create"),
    # VideoPlaylists: watched, status written, children created, index chunks handed over.
    ("videoplaylists.videodl.dev", "[]", "list"),
    ("videoplaylists.videodl.dev", "[]", "watch"),
    ("videoplaylists.videodl.dev/status", "[]", "patch"),
    ("videodownloads.videodl.dev", "[]", "create"),
    ("configmaps", "[]", "get"),
    ("configmaps", "[]", "create"),
    ("configmaps", "[]", "patch"),
    # VideoSubscriptions: watched, status written, scans created and deleted.
    ("videosubscriptions.videodl.dev", "[]", "list"),
    ("videosubscriptions.videodl.dev", "[]", "watch"),
    ("videosubscriptions.videodl.dev/status", "[]", "patch"),
    ("videoplaylists.videodl.dev", "[]", "create"),
    ("videoplaylists.videodl.dev", "[]", "delete"),
}
BREAKER: Rows = {
    ("configmaps", "[videodl-breaker]", "get"),
    ("configmaps", "[videodl-breaker]", "list"),
    ("configmaps", "[videodl-breaker]", "watch"),
    ("configmaps", "[videodl-breaker]", "patch"),
    ("events", "[]", "create"),
}
WORKER: Rows = {
    ("videodownloads.videodl.dev/status", "[]", "patch"),
    # An indexer fills its index chunks (confined by admissionpolicy-indexer-chunks).
    ("configmaps", "[]", "patch"),
}


class Install:
    """A release and the namespaces around it."""

    def __init__(self, cluster: ClusterHandle, *, namespaced: bool) -> None:
        suffix = uuid.uuid4().hex[:6]
        self.cluster = cluster
        self.name = f"rbac-{suffix}"
        self.home = f"rbac-{suffix}-system"
        self.watched = f"rbac-{suffix}-media"
        self.other = f"rbac-{suffix}-other"
        self.namespaced = namespaced
        self.operator = f"system:serviceaccount:{self.home}:{self.name}-videodl-operator"

    def worker(self, namespace: str) -> str:
        return f"system:serviceaccount:{namespace}:videodl-worker"

    def nobody(self, namespace: str) -> str:
        return f"system:serviceaccount:{namespace}:nobody"

    def granted(self, user: str, namespace: str) -> Rows:
        """What ``user`` may do in ``namespace`` beyond an account with no bindings."""
        return release.can_i_list(self.cluster, user, namespace) - release.can_i_list(
            self.cluster, self.nobody(namespace), namespace
        )

    def can(self, user: str, namespace: str, *what: str) -> bool:
        done = self.cluster.kubectl(
            "auth", "can-i", *what, f"--as={user}", "--namespace", namespace, check=False
        )
        return done.stdout.strip() == "yes"


def _install(cluster: ClusterHandle, *, namespaced: bool) -> Iterator[Install]:
    setup = Install(cluster, namespaced=namespaced)
    namespaces = (setup.home, setup.watched, setup.other)
    for namespace in namespaces:
        cluster.kubectl("create", "namespace", namespace)
        cluster.kubectl("create", "serviceaccount", "nobody", "--namespace", namespace)
    values = release.deep_merge(
        release.process_node_values(setup.name, release.free_port()),
        {
            # The grants are the subject here, not the running operator.
            "operator": {"replicas": 0},
            "watch": {"namespaces": [setup.watched] if namespaced else []},
            "workers": {"namespaces": [setup.home, setup.watched]},
        },
    )
    try:
        with release.installed(cluster, setup.name, setup.home, values):
            yield setup
    finally:
        for namespace in namespaces:
            cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture(scope="module")
def cluster_wide(cluster: ClusterHandle) -> Iterator[Install]:
    """The chart installed to serve every namespace."""
    yield from _install(cluster, namespaced=False)


@pytest.fixture(scope="module")
def namespaced(cluster: ClusterHandle) -> Iterator[Install]:
    """The chart installed to serve one namespace."""
    yield from _install(cluster, namespaced=True)


def test_cluster_wide_operator_can_do_exactly_what_it_uses(cluster_wide: Install) -> None:
    """Everywhere: the serving verbs; in its namespace also the breaker."""
    setup = cluster_wide
    assert setup.granted(setup.operator, setup.home) == SERVING | BREAKER
    assert setup.granted(setup.operator, setup.other) == SERVING


def test_namespaced_operator_is_confined_to_its_namespaces(namespaced: Install) -> None:
    """Serving verbs only in the watched namespace; elsewhere nothing but the breaker."""
    setup = namespaced
    assert setup.granted(setup.operator, setup.watched) == SERVING
    assert setup.granted(setup.operator, setup.home) == BREAKER
    assert setup.granted(setup.operator, setup.other) == set()


@pytest.mark.parametrize(
    "what",
    [
        ("get", "secrets"),
        ("list", "secrets"),
        ("create", "deployments.apps"),
        ("update", "pods"),
        ("create", "pods", "--subresource=exec"),
        ("delete", "configmaps"),
        ("update", "videodownloads.videodl.dev"),
        ("create", "rolebindings.rbac.authorization.k8s.io"),
        ("bind", "clusterroles.rbac.authorization.k8s.io"),
        ("escalate", "roles.rbac.authorization.k8s.io"),
        ("create", "serviceaccounts", "--subresource=token"),
        ("impersonate", "serviceaccounts"),
        ("delete", "customresourcedefinitions.apiextensions.k8s.io"),
        ("update", "videoplaylists.videodl.dev"),
        ("delete", "videosubscriptions.videodl.dev"),
    ],
    ids=" ".join,
)
def test_operator_cannot_do_what_it_never_does(
    cluster_wide: Install, what: tuple[str, ...]
) -> None:
    """Reading Secrets, running other workloads or widening its own rights is refused."""
    setup = cluster_wide
    assert not setup.can(setup.operator, setup.home, *what)


def test_worker_may_only_patch_download_status(cluster_wide: Install) -> None:
    """The worker account can patch videodownloads/status (and, for an indexer, ConfigMaps,
    which an admission policy confines to its own index chunks) and nothing else."""
    setup = cluster_wide
    for namespace in (setup.home, setup.watched):
        assert setup.granted(setup.worker(namespace), namespace) == WORKER
        assert setup.can(
            setup.worker(namespace), namespace, "patch", "videodownloads", "--subresource=status"
        )
        assert not setup.can(setup.worker(namespace), namespace, "get", "videodownloads")
        assert not setup.can(setup.worker(namespace), namespace, "patch", "videodownloads")
        assert not setup.can(setup.worker(namespace), namespace, "get", "secrets")
        assert not setup.can(setup.worker(namespace), namespace, "create", "pods")
    # A worker account reaches no other namespace's downloads.
    assert setup.granted(setup.worker(setup.home), setup.other) == set()
    assert not setup.can(
        setup.worker(setup.home), setup.other, "patch", "videodownloads", "--subresource=status"
    )
