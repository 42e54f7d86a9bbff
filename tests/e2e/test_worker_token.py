"""What a worker Pod's token may write, with the chart's worker-status policy on the apiserver.

RBAC lets the worker ServiceAccount patch ``videodownloads/status`` in its namespace; the
chart's ValidatingAdmissionPolicy narrows that to ``status.progress`` of the one download
whose ``status.workerPod`` is the Pod the token is bound to. The tokens here are issued the
way a kubelet issues them (a TokenRequest bound to a real worker Pod), or read by a Pod on
the process node from the volume the node mounted. The operator is not running (replicas 0),
so the statuses stay as the tests set them.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from tests.conftest import ClusterHandle
from tests.unit.chart import release

from videodl.api import resource
from videodl.kube.client import MERGE_PATCH, VIDEODOWNLOADS, ApiError, Client

Json = dict[str, Any]
WORKER = "videodl-worker"
POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name"
# Downloads and the worker Pod each one records, as the operator leaves them while Running.
DOWNLOADS = {"own": "own-1-1", "other": "other-1-1", "live": "live-1-1"}
FILES = [{"path": "media/evil.mp4", "sizeBytes": 1, "sha256": "0" * 64}]


def _status(worker_pod: str) -> Json:
    return {
        "phase": "Running",
        "attempts": 1,
        "workerPod": worker_pod,
        "startTime": "2025-01-01T00:00:00Z",
        "progress": {"percent": 10, "stage": "Downloading"},
        "conditions": [
            {
                "type": "Reconciling",
                "status": "True",
                "reason": "Running",
                "message": "attempt 1 is running",
                "lastTransitionTime": "2025-01-01T00:00:00Z",
            },
            {
                "type": "Ready",
                "status": "False",
                "reason": "Running",
                "message": "attempt 1 is running",
                "lastTransitionTime": "2025-01-01T00:00:00Z",
            },
        ],
    }


class Bed:
    """A release without a running operator, two Running downloads and their worker Pods."""

    def __init__(self, cluster: ClusterHandle) -> None:
        self.cluster = cluster
        self.namespace = f"wtoken-{uuid.uuid4().hex[:6]}"
        self.release = self.namespace
        self.policy = f"{self.release}-videodl-operator-worker-status"
        self.operator = f"{self.release}-videodl-operator"

    def apply(self, *objects: Json) -> None:
        self.cluster.kubectl(
            "apply",
            "--namespace",
            self.namespace,
            "-f",
            "-",
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}),
        )

    def set_status(self, name: str, status: Json) -> None:
        """Replace the download's status as the admin (the operator's part)."""
        self.cluster.kubectl(
            "patch", f"{resource.PLURAL}.{resource.GROUP}", name, "--namespace", self.namespace,
            "--subresource=status", "--type=merge", "--patch", json.dumps({"status": status}),
        )  # fmt: skip

    def status(self, name: str) -> Json:
        found = release.get_json(
            self.cluster, f"{resource.PLURAL}.{resource.GROUP}", name, "--namespace", self.namespace
        )
        return dict(found.get("status") or {})

    def pod_uid(self, name: str) -> str:
        found = release.get_json(self.cluster, "pod", name, "--namespace", self.namespace)
        return str(found["metadata"]["uid"])

    def token(self, account: str, *, pod: str | None = None) -> str:
        """A token of ``account``; with ``pod``, bound to that Pod as a kubelet asks for it."""
        bound = []
        if pod is not None:
            bound = [
                "--bound-object-kind=Pod",
                f"--bound-object-name={pod}",
                f"--bound-object-uid={self.pod_uid(pod)}",
            ]
        done = self.cluster.kubectl(
            "create", "token", account, "--namespace", self.namespace, "--duration=1h", *bound
        )
        return done.stdout.strip()

    def client(self, token: str) -> Client:
        """The product's API client (the one the worker uses), authenticated by ``token``."""
        kubeconfig = yaml.safe_load(self.cluster.kubeconfig.read_text())
        kubeconfig["users"][0]["user"] = {"token": token}
        configuration = client.Configuration()
        config.load_kube_config_from_dict(kubeconfig, client_configuration=configuration)
        return Client(client.ApiClient(configuration))

    def patch_status(self, token: str, name: str, status: Json) -> Json:
        """Merge-patch ``status`` of download ``name`` with ``token``, as the worker does."""
        return self.client(token).request(
            "PATCH",
            VIDEODOWNLOADS.path(self.namespace, name) + "/status",
            body={"status": status},
            content_type=MERGE_PATCH,
        )

    def refused(self, token: str, name: str, status: Json) -> ApiError:
        """The error of a status patch that must be refused; the status stays as it was."""
        before = self.status(name)
        with pytest.raises(ApiError) as raised:
            self.patch_status(token, name, status)
        assert self.status(name) == before
        return raised.value


def _download(name: str) -> Json:
    return {
        "apiVersion": resource.API_VERSION,
        "kind": resource.KIND,
        "metadata": {"name": name},
        "spec": {"url": f"https://example.com/{name}.mp4"},
    }


def _worker_pod(name: str, command: list[str], *, gated: bool) -> Json:
    """A Pod of the worker account; ``gated`` ones are never scheduled (the token is the point)."""
    container = {"name": "worker", "image": "ghcr.io/videodl/worker:0.1.0", "command": command}
    spec: Json = {"restartPolicy": "Never", "serviceAccountName": WORKER, "containers": [container]}
    if gated:
        spec["schedulingGates"] = [{"name": "videodl.dev/e2e-never"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


@pytest.fixture(scope="module")
def bed(cluster: ClusterHandle) -> Iterator[Bed]:
    """The chart installed with its defaults (policy on) and replicas 0; Running downloads."""
    setup = Bed(cluster)
    cluster.kubectl("create", "namespace", setup.namespace)
    values = release.deep_merge(
        release.process_node_values(setup.release, release.free_port()),
        {"operator": {"replicas": 0}},
    )
    try:
        with release.installed(cluster, setup.release, setup.namespace, values):
            for name, pod in DOWNLOADS.items():
                setup.apply(_download(name))
                setup.set_status(name, _status(pod))
            setup.apply(
                *(_worker_pod(DOWNLOADS[name], ["true"], gated=True) for name in ("own", "other"))
            )
            yield setup
    finally:
        cluster.kubectl("delete", "namespace", setup.namespace, "--wait=false", check=False)


@pytest.fixture
def own_token(bed: Bed) -> str:
    """A token bound to the worker Pod of download "own"."""
    return bed.token(WORKER, pod=DOWNLOADS["own"])


def test_pod_bound_token_names_its_pod(bed: Bed, own_token: str) -> None:
    """The apiserver puts the Pod's name into the user info of a token bound to the Pod."""
    review = bed.client(own_token).request(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    user = review["status"]["userInfo"]
    assert user["username"] == f"system:serviceaccount:{bed.namespace}:{WORKER}"
    assert user["extra"][POD_NAME_EXTRA] == [DOWNLOADS["own"]]


def test_policy_is_installed_and_type_checks(bed: Bed) -> None:
    """The chart's policy and binding deny on failure, and the apiserver finds no type warning."""
    policy = release.wait_for(
        "the policy's type check",
        lambda: (
            (found := release.get_json(bed.cluster, "validatingadmissionpolicy", bed.policy))
            and found.get("status", {}).get("observedGeneration") == found["metadata"]["generation"]
            and found
        ),
    )
    assert policy["spec"]["failurePolicy"] == "Fail"
    warnings = (policy.get("status") or {}).get("typeChecking", {}).get("expressionWarnings")
    assert not warnings
    binding = release.get_json(bed.cluster, "validatingadmissionpolicybinding", bed.policy)
    assert binding["spec"]["validationActions"] == ["Deny"]


def test_worker_may_patch_its_own_progress(bed: Bed, own_token: str) -> None:
    """The worker Pod's token sets status.progress of its own download; nothing else moves."""
    before = bed.status("own")
    progress = {"percent": 42.5, "downloadedBytes": 425, "totalBytes": 1000, "stage": "Downloading"}
    bed.patch_status(own_token, "own", {"progress": progress})
    after = bed.status("own")
    assert after["progress"] == progress
    assert {k: v for k, v in after.items() if k != "progress"} == {
        k: v for k, v in before.items() if k != "progress"
    }


@pytest.mark.parametrize(
    "status",
    [
        {"result": {"files": FILES}},
        {"phase": "Succeeded"},
        {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Succeeded",
                    "lastTransitionTime": "2025-01-01T00:01:00Z",
                }
            ]
        },
        {"progress": {"percent": 100}, "phase": "Succeeded"},  # progress does not carry it
        {"workerPod": "other-1-1"},
        {"attempts": 5},
    ],
    ids=["result", "phase", "conditions", "progress-and-phase", "workerPod", "attempts"],
)
def test_worker_may_not_change_the_rest_of_its_own_status(
    bed: Bed, own_token: str, status: Json
) -> None:
    """Any change to its own status but status.progress is refused, naming the policy."""
    error = bed.refused(own_token, "own", status)
    assert error.status == 403
    assert bed.policy in error.message
    assert "may change only status.progress" in error.message


@pytest.mark.parametrize(
    "status",
    [{"progress": {"percent": 99}}, {"result": {"files": FILES}}, {"phase": "Failed"}],
    ids=["progress", "result", "phase"],
)
def test_worker_may_not_patch_another_downloads_status(
    bed: Bed, own_token: str, status: Json
) -> None:
    """Its token is refused on a download that another Pod works for, naming the policy."""
    error = bed.refused(own_token, "other", status)
    assert error.status == 403
    assert bed.policy in error.message
    assert "only the status of the VideoDownload it runs for" in error.message


def test_worker_token_not_bound_to_a_pod_is_refused(bed: Bed) -> None:
    """A token of the worker account that names no Pod may not patch any status."""
    error = bed.refused(bed.token(WORKER), "own", {"progress": {"percent": 50}})
    assert error.status == 403
    assert bed.policy in error.message
    assert "this token names no Pod" in error.message


def test_operator_status_writes_are_not_affected(bed: Bed) -> None:
    """The operator's account still writes every status field; the policy is not for it."""
    bed.apply(_download("done"))
    bed.set_status("done", _status("done-1-1"))
    succeeded = {"phase": "Succeeded", "result": {"files": FILES}, "progress": None}
    bed.patch_status(bed.token(bed.operator), "done", succeeded)
    after = bed.status("done")
    assert (after["phase"], after["result"]["files"]) == ("Succeeded", FILES)
    assert "progress" not in after


def test_token_of_a_deleted_pod_stops_working(bed: Bed) -> None:
    """Once its Pod is gone, a Pod-bound token is no longer accepted at all."""
    name = "gone-1-1"
    bed.apply(_worker_pod(name, ["true"], gated=True))
    token = bed.token(WORKER, pod=name)
    bed.cluster.kubectl("delete", "pod", name, "--namespace", bed.namespace, "--wait=true")
    deadline = time.monotonic() + 30
    while True:
        with pytest.raises(ApiError) as raised:
            bed.patch_status(token, "own", {"progress": {"percent": 1}})
        if raised.value.status == 401 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert raised.value.status == 401


LIVE_SCRIPT = """
    import json, pathlib
    from videodl.api.status import Progress
    from videodl.kube.client import MERGE_PATCH, ApiError, VIDEODOWNLOADS
    from videodl.worker import kube

    namespace = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace").read_text()
    sink = kube.KubernetesProgressSink(name="live", namespace=namespace)
    sink.publish(Progress(percent=77.0))
    sink.close()
    patch = {"status": {"result": {"files": FILES}}}
    try:
        kube.connect().request(
            "PATCH", VIDEODOWNLOADS.path(namespace, "other") + "/status", body=patch,
            content_type=MERGE_PATCH,
        )
        other = [200, ""]
    except ApiError as error:
        other = [error.status, error.message]
    result = {"sent": sink.sent, "failures": sink.failures, "other": other}
    pathlib.Path("/dev/termination-log").write_text(json.dumps(result))
"""


def test_running_worker_pod_with_its_mounted_token(bed: Bed) -> None:
    """On the process node, a worker Pod's mounted token sets its own progress and nothing else."""
    pod = DOWNLOADS["live"]
    script = f"FILES = {FILES!r}\n" + textwrap.dedent(LIVE_SCRIPT)
    bed.apply(_worker_pod(pod, [sys.executable, "-c", script], gated=False))
    done = release.wait_for(
        f"Pod {pod} to finish",
        lambda: (
            (found := release.get_json(bed.cluster, "pod", pod, "--namespace", bed.namespace))
            and found.get("status", {}).get("phase") in ("Succeeded", "Failed")
            and found
        ),
        timeout=90,
    )
    state = done["status"]["containerStatuses"][0]["state"]["terminated"]
    assert done["status"]["phase"] == "Succeeded", state
    outcome = json.loads(state["message"])
    assert (outcome["sent"], outcome["failures"]) == (1, 0)
    assert bed.status("live")["progress"] == {"percent": 77.0}
    status, message = outcome["other"]
    assert status == 403
    assert bed.policy in message
    assert "result" not in bed.status("other")
