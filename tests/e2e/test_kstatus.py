"""What GitOps tools conclude from VideoDownloads read from the real apiserver, in every phase
the operator holds them in, against what docs/gitops.md promises.

kstatus is the library itself (``hack/kstatus``, sigs.k8s.io/cli-utils' ``status.Compute``,
which Flux's health checks run); the Argo CD health is the shipped ``health.lua`` under
Lua 5.1, as Argo CD's gopher-lua runs it. ``Pending`` is written only by earlier versions and
is left to the unit tests.
"""

# The fixtures imported from test_operator are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

from tests.conftest import ClusterHandle
from tests.e2e.operatorbed import Bed, Json
from tests.e2e.test_operator import bed, installed, media, slow_url  # noqa: F401 - fixtures
from tests.unit.docs import markdown
from tests.unit.gitops import argocd, documented, kstatus

from videodl.api import resource
from videodl_devkit.mediaserver import MediaServer

#: A finalizer of the test's own, so a deleted object stays readable while being deleted.
HOLD = "tests.videodl.dev/hold"


def read(bed: Bed, *names: str) -> list[Json]:
    """The downloads ``names``, read with ``kubectl get -o json`` as a user would."""
    done = bed.cluster.kubectl("-n", bed.namespace, "get", resource.PLURAL, *names, "-o", "json")
    listed = json.loads(done.stdout)
    items: list[Json] = listed["items"] if listed.get("kind") == "List" else [listed]
    return items


def test_kstatus_and_argo_health_of_real_objects_match_the_docs(
    bed: Bed, media: MediaServer
) -> None:
    """Objects read from the apiserver with no status, being deleted, Succeeded, Failed (404),
    BackingOff, Blocked, Running, Queued, Suspended and with an unobserved spec change get
    the kstatus status and the Argo CD health that gitops.md's tables give them."""
    seen: list[Json] = []

    bed.create("fresh", {"url": media.url("/media/video.mp4")})
    bed.create("leaving", {"url": media.url("/media/video.mp4")}, finalizers=[HOLD])
    bed.cluster.kubectl("-n", bed.namespace, "delete", "vdl/leaving", "--wait=false")
    try:
        seen.extend(read(bed, "fresh", "leaving"))
    finally:
        bed.cluster.kubectl(
            "-n", bed.namespace, "patch", "vdl/leaving", "--type=merge",
            "-p", '{"metadata":{"finalizers":null}}',
        )  # fmt: skip

    bed.start_operator("--max-running=1", "--worker-blocked-retry-seconds=3600")
    bed.create("done", {"url": media.url("/media/video.mp4")})
    seen.append(bed.wait_phase("done", "Succeeded", timeout=180))
    bed.create("gone", {"url": media.url("/status/404/gone.mp4")})
    seen.append(bed.wait_phase("gone", "Failed", timeout=120))
    bed.create(
        "flaky",
        {
            "url": media.url(f"/flaky/{uuid.uuid4().hex[:8]}/5/video.mp4"),
            "retry": {"maxAttempts": 3, "backoff": {"initialSeconds": 3600, "maxSeconds": 3600}},
        },
    )
    seen.append(bed.wait_phase("flaky", "BackingOff", timeout=120))
    bed.create(
        "nowhere",
        {
            "url": media.url("/media/video.mp4"),
            "output": {"persistentVolumeClaim": {"claimName": "no-such-claim"}},
        },
    )
    seen.append(bed.wait_phase("nowhere", "Blocked", timeout=120))
    url, _ = slow_url(media, seconds=120)
    bed.create("slow", {"url": url})
    seen.append(bed.wait_phase("slow", "Running", timeout=120))
    bed.create("waiting", {"url": media.url("/media/video.mp4")})
    seen.append(bed.wait_phase("waiting", "Queued", timeout=60))
    bed.create("held", {"url": media.url("/media/video.mp4"), "suspend": True})
    seen.append(bed.wait_phase("held", "Suspended", timeout=60))

    assert bed.operator is not None
    bed.operator.stop()  # nobody observes the next spec change
    bed.patch_spec("done", {"priority": "High"})
    seen.extend(read(bed, "done"))

    keys = [documented.row_key(obj) for obj in seen]
    assert sorted(keys) == sorted({*documented.PHASES, *documented.SPECIAL} - {"Pending"}), (
        "one object per row of gitops.md's tables"
    )

    answers = kstatus.compute_all(seen)
    promised = documented.kstatus_table()
    got = {key: answer.status for key, answer in zip(keys, answers, strict=True)}
    assert got == {key: promised[key] for key in keys}, answers

    promised_health = documented.health_table()
    health = {key: argocd.health(obj).status for key, obj in zip(keys, seen, strict=True)}
    assert health == {key: promised_health[key] for key in keys}


def test_the_documented_argocd_cm_install_puts_the_script_under_its_key(
    cluster: ClusterHandle, namespace: str
) -> None:
    """The install command of gitops.md, run as written (in a test namespace instead of
    argocd), leaves health.lua under resource.customizations.health.videodl.dev_VideoDownload
    of an existing argocd-cm and keeps its other keys."""
    section = markdown.section(documented.GITOPS.read_text(encoding="utf-8"), "Argo CD")
    (command,) = [b.body for b in markdown.blocks(section) if b.lang == "sh"]
    assert command.count("-n argocd") == 2
    existing = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": namespace},
        "data": {"url": "https://argocd.example.org"},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(existing))
    script = 'kubectl() { "$KUBECTL" --kubeconfig="$KUBECONFIG_FILE" "$@"; }\n' + re.sub(
        r"-n argocd\b", f"-n {namespace}", command
    )
    env = {
        **os.environ,
        "KUBECTL": cluster.kubectl_binary,
        "KUBECONFIG_FILE": str(cluster.kubeconfig),
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=markdown.REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    shown = cluster.kubectl("-n", namespace, "get", "configmap", "argocd-cm", "-o", "json")
    data = json.loads(shown.stdout)["data"]
    assert data["url"] == "https://argocd.example.org"
    key = "resource.customizations.health.videodl.dev_VideoDownload"
    assert data[key] == argocd.HEALTH_LUA.read_text(encoding="utf-8")
