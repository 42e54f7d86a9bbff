"""VideoPlaylists end to end: the real control plane, the process node, a real indexer and
real workers (yt-dlp, ffmpeg) against the media server's playlist feeds, the operator as a
child process.

The media server's ``/playlist/<name>.rss`` is a podcast feed whose episode ``n`` is titled
``<name> episode <n>``, uploaded 2024-01-01 plus ``n - 1`` days and encloses its own file;
yt-dlp's generic extractor reads all of that from the feed in flat extraction.
"""

from __future__ import annotations

import json
import pathlib
import random
import time
import uuid
from typing import TYPE_CHECKING

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from tests.e2e.operatorbed import CLAIM, Bed, Json
from tests.e2e.test_operator import bed, installed, media
from tests.unit.chart import rendering
from tests.unit.gitops import kstatus

from videodl.api import playlist as playlist_api
from videodl.api import resource
from videodl.kube.client import MERGE_PATCH, ApiError, Client, core_path
from videodl.reconcile.playlist import naming
from videodl.workerapi import index
from videodl_devkit import testing
from videodl_devkit.mediaserver import MediaServer

if TYPE_CHECKING:
    from tests.conftest import ClusterHandle

__all__ = ["bed", "installed", "media"]

REPO = pathlib.Path(__file__).resolve().parents[2]
PLAYLIST_CRD = REPO / "crds" / f"{resource.GROUP}_{playlist_api.PLURAL}.yaml"


@pytest.fixture(scope="module")
def playlist_crd(cluster: ClusterHandle, installed: None) -> None:
    """The VideoPlaylist CRD from crds/."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(PLAYLIST_CRD))
    cluster.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        f"crd/{playlist_api.PLURAL}.{resource.GROUP}",
    )


@pytest.fixture
def pbed(bed: Bed, playlist_crd: None) -> Bed:
    """The operator test bed, with the worker account allowed to fill index chunks."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "videodl-indexer"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["patch"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "videodl-indexer"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "videodl-indexer",
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": "videodl-worker", "namespace": bed.namespace}
        ],
    }
    bed.apply(role, binding)
    return bed


def create_playlist(b: Bed, name: str, spec: Json) -> None:
    template = {
        "output": {"persistentVolumeClaim": {"claimName": CLAIM}},
        **spec.pop("template", {}),
    }
    b.apply(
        {
            "apiVersion": resource.API_VERSION,
            "kind": playlist_api.KIND,
            "metadata": {"name": name},
            "spec": {"template": template, **spec},
        }
    )


def get_playlist(b: Bed, name: str) -> Json:
    found: Json = b.objects.get_namespaced_custom_object(
        resource.GROUP, resource.VERSION, b.namespace, playlist_api.PLURAL, name
    )
    return found


def children(b: Bed, name: str) -> list[Json]:
    found = b.objects.list_namespaced_custom_object(
        resource.GROUP,
        resource.VERSION,
        b.namespace,
        resource.PLURAL,
        label_selector=f"{naming.LABEL_PLAYLIST}={name}",
    )
    items: list[Json] = found["items"]
    return items


def wait_playlist(b: Bed, name: str, phase: str, timeout: float = 240.0) -> Json:
    def reached() -> Json | None:
        obj = get_playlist(b, name)
        return obj if (obj.get("status") or {}).get("phase") == phase else None

    result: Json = b.wait(f"playlist {name} to be {phase}", reached, timeout)
    return result


def condition(obj: Json, kind: str) -> Json:
    return next(c for c in obj["status"]["conditions"] if c["type"] == kind)


def feed(media: MediaServer, name: str, count: int, **query: str) -> str:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    return media.url(f"/playlist/{name}.rss?count={count}{extra}")


class TestFanOut:
    def test_25_entries_with_max_items_20(self, pbed: Bed, media: MediaServer) -> None:
        """25 found, exactly 20 children, each downloaded where the template says; Ready."""
        pbed.start_operator()
        show = f"show{uuid.uuid4().hex[:6]}"
        create_playlist(
            pbed,
            "shows",
            {
                "url": feed(media, show, 25),
                "maxItems": 20,
                "template": {
                    "output": {
                        "persistentVolumeClaim": {"claimName": CLAIM},
                        "subPath": "shows",
                    }
                },
            },
        )
        done = wait_playlist(pbed, "shows", "Succeeded", timeout=400)
        status = done["status"]
        assert status["entries"] == 25
        assert status["selected"] == 20
        assert status["created"] == 20
        assert status["children"]["succeeded"] == 20
        assert status["progressText"] == "20/20"
        assert condition(done, "Ready")["status"] == "True"
        assert condition(done, "Stalled")["status"] == "False"
        assert kstatus.compute(done) == "Current"
        kids = children(pbed, "shows")
        assert len(kids) == 20
        ids = sorted(k["metadata"]["annotations"][naming.ANNOTATION_VIDEO_ID] for k in kids)
        assert ids == sorted(f"{show}-{n}" for n in range(1, 21))
        for kid in kids:
            owner = kid["metadata"]["ownerReferences"][0]
            assert owner["kind"] == playlist_api.KIND
            assert owner["controller"] is True
            assert owner["uid"] == done["metadata"]["uid"]
            vid = kid["metadata"]["annotations"][naming.ANNOTATION_VIDEO_ID]
            assert kid["metadata"]["name"] == naming.child_name("shows", vid)
            assert kid["metadata"]["labels"][naming.LABEL_VIDEO] == vid
            (entry,) = kid["status"]["result"]["files"]
            assert entry["path"].startswith("shows/")
            assert (pbed.claim_dir() / entry["path"]).is_file()
        assert status["bytes"] == sum(k["status"]["result"]["files"][0]["sizeBytes"] for k in kids)
        # One summary Event per phase change of the parent, none per child.
        events = pbed.event_reasons("shows")
        assert events.count("Succeeded") == 1, events
        assert len(events) <= 5, events


class TestFailures:
    @pytest.mark.parametrize(("max_failed", "phase"), [(1, "Succeeded"), (0, "Failed")])
    def test_one_missing_entry(
        self, pbed: Bed, media: MediaServer, max_failed: int, phase: str
    ) -> None:
        """The 404 child fails; the parent is Ready with maxFailed 1, Stalled with 0."""
        pbed.start_operator()
        show = f"gap{uuid.uuid4().hex[:6]}"
        create_playlist(
            pbed,
            "gappy",
            {"url": feed(media, show, 4, missing="2"), "maxFailed": max_failed},
        )

        def settled() -> Json | None:
            obj = get_playlist(pbed, "gappy")
            counts = (obj.get("status") or {}).get("children") or {}
            ok = counts.get("succeeded") == 3 and counts.get("failed") == 1
            return obj if ok and obj["status"]["phase"] == phase else None

        done = pbed.wait("the playlist to settle", settled, timeout=400)
        failed = [k for k in children(pbed, "gappy") if k["status"]["phase"] == "Failed"]
        assert [k["metadata"]["annotations"][naming.ANNOTATION_VIDEO_ID] for k in failed] == [
            f"{show}-2"
        ]
        if max_failed:
            assert condition(done, "Ready")["status"] == "True"
            assert kstatus.compute(done) == "Current"
        else:
            assert condition(done, "Stalled")["status"] == "True"
            assert condition(done, "Ready")["status"] == "False"
            assert kstatus.compute(done) == "Failed"


class TestSelection:
    def test_items_date_after_and_title_regex(self, pbed: Bed, media: MediaServer) -> None:
        """items 1-8, uploaded from 2024-01-03 on, titles ending in an even number: 4, 6, 8."""
        pbed.start_operator(f"--worker-command={testing.instant_worker_command()}")
        show = f"sel{uuid.uuid4().hex[:6]}"
        create_playlist(
            pbed,
            "picked",
            {
                "url": feed(media, show, 12),
                "items": "1-8",
                "dateAfter": "20240103",
                "titleRegex": "episode [0-9]*[02468]$",
            },
        )
        done = wait_playlist(pbed, "picked", "Succeeded")
        assert done["status"]["entries"] == 12
        assert done["status"]["selected"] == 3
        ids = sorted(
            k["metadata"]["annotations"][naming.ANNOTATION_VIDEO_ID]
            for k in children(pbed, "picked")
        )
        assert ids == [f"{show}-4", f"{show}-6", f"{show}-8"]


class TestLifecycle:
    def test_suspend_resume_delete(self, pbed: Bed, media: MediaServer) -> None:
        """Suspending the parent suspends every child, resuming resumes them, deleting it
        deletes them (garbage collection)."""
        pbed.start_operator(f"--worker-command={testing.instant_worker_command()}")
        create_playlist(
            pbed,
            "held",
            {"url": feed(media, f"hold{uuid.uuid4().hex[:6]}", 6), "suspend": True},
        )
        suspended = wait_playlist(pbed, "held", "Suspended")
        pbed.wait(
            "six suspended children",
            lambda: (
                (kids := children(pbed, "held"))
                and len(kids) == 6
                and all(k["spec"]["suspend"] for k in kids)
            ),
        )
        assert condition(suspended, "Ready")["status"] == "True"
        pbed.objects.patch_namespaced_custom_object(
            resource.GROUP, resource.VERSION, pbed.namespace, playlist_api.PLURAL, "held",
            {"spec": {"suspend": False}},
        )  # fmt: skip
        wait_playlist(pbed, "held", "Succeeded")
        assert all(not k["spec"]["suspend"] for k in children(pbed, "held"))
        pbed.objects.delete_namespaced_custom_object(
            resource.GROUP, resource.VERSION, pbed.namespace, playlist_api.PLURAL, "held"
        )
        pbed.wait("the children to be collected", lambda: not children(pbed, "held"), 120)

    def test_reindex_adds_new_entries_only(self, pbed: Bed, media: MediaServer) -> None:
        """A new reindex value enumerates again; entries that appeared get children, the
        existing children stay the same objects."""
        pbed.start_operator(f"--worker-command={testing.instant_worker_command()}")
        show = f"grow{uuid.uuid4().hex[:6]}"
        create_playlist(pbed, "growing", {"url": feed(media, show, 3)})
        wait_playlist(pbed, "growing", "Succeeded")
        before = {k["metadata"]["name"]: k["metadata"]["uid"] for k in children(pbed, "growing")}
        assert len(before) == 3
        # The same feed with more episodes: a new URL is a new spec, so change the count by
        # pointing the playlist at a feed that now has five (url is not immutable here).
        pbed.objects.patch_namespaced_custom_object(
            resource.GROUP, resource.VERSION, pbed.namespace, playlist_api.PLURAL, "growing",
            {
                "metadata": {"annotations": {naming.ANNOTATION_REINDEX: "1"}},
                "spec": {"url": feed(media, show, 5)},
            },
        )  # fmt: skip

        def grown() -> list[Json] | None:
            kids = children(pbed, "growing")
            obj = get_playlist(pbed, "growing")
            ok = len(kids) == 5 and obj["status"]["phase"] == "Succeeded"
            return kids if ok else None

        kids = pbed.wait("five children", grown, 240)
        after = {k["metadata"]["name"]: k["metadata"]["uid"] for k in kids}
        assert {n: after[n] for n in before} == before


class TestCrash:
    def test_sigkill_while_creating_children(self, pbed: Bed, media: MediaServer) -> None:
        """SIGKILL the operator repeatedly while it creates 300 children: never a duplicate
        (names are deterministic) and never a missing child."""
        rng = random.Random(20261202)
        operator = pbed.start_operator(f"--worker-command={testing.instant_worker_command()}")
        show = f"crash{uuid.uuid4().hex[:6]}"
        create_playlist(
            pbed, "crashy", {"url": feed(media, show, 300), "maxItems": 300, "suspend": True}
        )
        pbed.wait("the first children", lambda: children(pbed, "crashy"), 120)
        kills = 0
        while kills < 6 and len(children(pbed, "crashy")) < 300:
            time.sleep(rng.uniform(0.1, 1.0))
            operator.kill()
            kills += 1
            operator.start(wait=False)
        operator.wait_healthy()

        def all_counted() -> Json | None:
            obj = get_playlist(pbed, "crashy")
            return obj if (obj.get("status") or {}).get("created") == 300 else None

        done = pbed.wait("300 children counted", all_counted, timeout=300)
        assert done["status"]["phase"] == "Suspended"
        names = [k["metadata"]["name"] for k in children(pbed, "crashy")]
        assert len(names) == len(set(names)) == 300
        expected = {naming.child_name("crashy", f"{show}-{n}") for n in range(1, 301)}
        assert set(names) == expected
        assert done["status"]["created"] == 300
        assert kills >= 1
        # No child was ever deleted and made again: one uid per name in the whole history.
        uids: dict[str, set[str]] = {}
        for _, obj in ((t, o) for t, _, o in pbed.history.downloads):
            uids.setdefault(obj["metadata"]["name"], set()).add(obj["metadata"]["uid"])
        assert all(len(seen) == 1 for seen in uids.values())


class TestBadInput:
    @pytest.mark.parametrize(
        ("spec", "field"),
        [
            ({"url": "http://example.com/a", "urls": ["http://example.com/b"]}, "spec.url"),
            ({"url": "http://example.com/a", "maxItems": 6000}, "spec.maxItems"),
            ({"url": "http://example.com/a", "titleRegex": "(["}, "spec.titleRegex"),
        ],
    )
    def test_rejected_by_the_apiserver(
        self, cluster: ClusterHandle, namespace: str, playlist_crd: None, spec: Json, field: str
    ) -> None:
        """The apiserver refuses the manifest with a message naming the field."""
        document = {
            "apiVersion": resource.API_VERSION,
            "kind": playlist_api.KIND,
            "metadata": {"name": "bad", "namespace": namespace},
            "spec": spec,
        }
        done = cluster.kubectl("apply", "-f", "-", input=json.dumps(document), check=False)
        assert done.returncode != 0
        assert field in done.stderr, done.stderr


class TestIndexerPolicy:
    """The chart's indexer-chunks policy on the real apiserver, with tokens bound to Pods."""

    def test_only_the_named_indexer_may_fill_only_its_chunks(
        self, cluster: ClusterHandle, namespace: str
    ) -> None:
        """A token bound to the writer Pod may set binaryData of its chunk; another Pod's
        token, a ConfigMap without the annotation, and changing the annotation are refused."""
        policies = [
            m
            for m in rendering.render(extra=["--show-only", POLICY_TEMPLATE])
            if m["kind"].startswith("ValidatingAdmissionPolicy")
        ]
        for manifest in policies:
            manifest["metadata"]["name"] = f"{manifest['metadata']['name']}-{namespace}"
            if manifest["kind"] == "ValidatingAdmissionPolicyBinding":
                manifest["spec"]["policyName"] = f"{manifest['spec']['policyName']}-{namespace}"
                manifest["spec"]["matchResources"] = {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
                }
        document = {"apiVersion": "v1", "kind": "List", "items": policies}
        cluster.kubectl("apply", "-f", "-", input=json.dumps(document))
        try:
            self._check(cluster, namespace)
        finally:
            cluster.kubectl("delete", "-f", "-", input=json.dumps(document), check=False)

    def _check(self, cluster: ClusterHandle, namespace: str) -> None:
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "indexer"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["patch"]}],
        }
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "indexer"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "indexer"},
            "subjects": [{"kind": "ServiceAccount", "name": WORKER, "namespace": namespace}],
        }
        pods = [_gated_pod(name) for name in ("indexer-a", "indexer-b")]
        chunks = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "chunk",
                    "annotations": {index.ANNOTATION_WRITER: "indexer-a"},
                },
            },
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}},
        ]
        account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": WORKER}}
        items = [account, role, binding, *pods, *chunks]
        cluster.kubectl(
            "-n", namespace, "apply", "-f", "-",
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}),
        )  # fmt: skip
        # The policy's binding may take a moment to reach the admission plugin.
        time.sleep(2)
        own = _client(cluster, _token(cluster, namespace, "indexer-a"))
        other = _client(cluster, _token(cluster, namespace, "indexer-b"))
        data = {"binaryData": {index.CHUNK_KEY: "AA=="}}

        def patch(kube: Client, name: str, body: Json) -> Json:
            return kube.request(
                "PATCH", core_path("configmaps", namespace, name), body=body,
                content_type=MERGE_PATCH,
            )  # fmt: skip

        deadline = time.monotonic() + 30
        while True:
            try:
                written = patch(own, "chunk", data)
                break
            except ApiError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        assert written["binaryData"][index.CHUNK_KEY] == "AA=="
        for kube, name, body, words in (
            (other, "chunk", data, "index-writer"),
            (own, "other", data, "index-writer"),
            (
                own,
                "chunk",
                {"metadata": {"annotations": {index.ANNOTATION_WRITER: "x"}}},
                "only binaryData",
            ),
            (own, "chunk", {"data": {"a": "b"}}, "only binaryData"),
        ):
            with pytest.raises(ApiError) as refused:
                patch(kube, name, body)
            assert refused.value.status == 403
            assert words in refused.value.message, refused.value.message


WORKER = "videodl-worker"
POLICY_TEMPLATE = "templates/admissionpolicy-indexer-chunks.yaml"


def _gated_pod(name: str) -> Json:
    container = {"name": "indexer", "image": "ghcr.io/videodl/worker:0.1.0", "command": ["true"]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "serviceAccountName": WORKER,
            "containers": [container],
            "schedulingGates": [{"name": "videodl.dev/e2e-never"}],
        },
    }


def _token(cluster: ClusterHandle, namespace: str, pod: str) -> str:
    found = json.loads(cluster.kubectl("-n", namespace, "get", "pod", pod, "-o", "json").stdout)
    done = cluster.kubectl(
        "create", "token", WORKER, "--namespace", namespace, "--duration=1h",
        "--bound-object-kind=Pod", f"--bound-object-name={pod}",
        f"--bound-object-uid={found['metadata']['uid']}",
    )  # fmt: skip
    return done.stdout.strip()


def _client(cluster: ClusterHandle, token: str) -> Client:
    kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
    kubeconfig["users"][0]["user"] = {"token": token}
    configuration = k8s.Configuration()
    k8s_config.load_kube_config_from_dict(kubeconfig, client_configuration=configuration)
    return Client(k8s.ApiClient(configuration))


class TestInvalidForTheModels:
    @pytest.mark.parametrize(
        ("spec", "field"),
        [
            ({"url": "http://example.com/a", "titleRegex": "episode\\z"}, "spec.titleRegex"),
            ({"urls": ["http://example.com:99999/a"]}, "spec.urls[*]"),
        ],
    )
    def test_stalled_at_once_without_a_pod(self, pbed: Bed, spec: Json, field: str) -> None:
        """What the apiserver cannot check (RE2 reads \\z, Python's re does not; ports of
        1000 URLs exceed CEL's budget) is Failed and Stalled at once, naming the field, and
        no indexer Pod is ever made."""
        pbed.start_operator()
        pbed.apply(
            {
                "apiVersion": resource.API_VERSION,
                "kind": playlist_api.KIND,
                "metadata": {"name": "odd"},
                "spec": spec,
            }
        )
        failed = wait_playlist(pbed, "odd", "Failed", timeout=60)
        stalled = condition(failed, "Stalled")
        assert stalled["status"] == "True"
        assert stalled["reason"] == "InvalidSpec"
        assert field in stalled["message"]
        assert not pbed.history.pod_names("indexer")
