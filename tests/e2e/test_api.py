"""The generated CRD on the real apiserver: examples accepted, defaults filled in, bad
manifests rejected with messages naming the field, columns and explain text shown."""

from __future__ import annotations

import datetime
import json
import pathlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from kubernetes import client
from tests.conftest import ClusterHandle
from tests.unit.api.strategies import specs

from videodl.api import generate, resource
from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.resource import VideoDownload
from videodl.api.spec import URL_IMMUTABLE, VideoDownloadSpec
from videodl.api.status import (
    Condition,
    ConditionStatus,
    DownloadResult,
    Phase,
    Progress,
    Stage,
    VideoDownloadStatus,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"
URL = "https://www.youtube.com/watch?v=aqz-KE-bpKQ"


@pytest.fixture(scope="session")
def videodownload_crd(cluster: ClusterHandle) -> dict[str, Any]:
    """The committed CRD, applied once per session and Established."""
    done = cluster.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", str(REPO / generate.CRD_PATH)
    )
    assert "Warning" not in done.stderr, done.stderr
    cluster.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", f"crd/{resource.CRD_NAME}"
    )
    return json.loads(cluster.kubectl("get", "crd", resource.CRD_NAME, "-o", "json").stdout)


def manifest(spec: dict[str, Any], name: str = "clip") -> dict[str, Any]:
    return {
        "apiVersion": resource.API_VERSION,
        "kind": resource.KIND,
        "metadata": {"name": name},
        "spec": spec,
    }


def create(
    cluster: ClusterHandle, namespace: str, obj: dict[str, Any], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Create with strict field validation, as `kubectl create --validate=strict`."""
    return cluster.kubectl(
        "create",
        "-n",
        namespace,
        "--validate=strict",
        "-f",
        "-",
        input=json.dumps(obj),
        check=check,
    )


def read(cluster: ClusterHandle, namespace: str, name: str) -> dict[str, Any]:
    done = cluster.kubectl("get", "-n", namespace, f"{resource.PLURAL}/{name}", "-o", "json")
    return dict(json.loads(done.stdout))


@pytest.mark.usefixtures("videodownload_crd")
class TestCrd:
    def test_crd_is_accepted_as_structural(self, videodownload_crd: dict[str, Any]) -> None:
        """The apiserver accepts the schema without a NonStructuralSchema condition."""
        conditions = {c["type"]: c["status"] for c in videodownload_crd["status"]["conditions"]}
        assert conditions["Established"] == "True"
        assert conditions["NamesAccepted"] == "True"
        assert "NonStructuralSchema" not in conditions
        assert videodownload_crd["status"]["acceptedNames"]["shortNames"] == ["vdl"]


@pytest.mark.usefixtures("videodownload_crd")
class TestExamples:
    @pytest.mark.parametrize(
        "example", sorted(p.name for p in EXAMPLES.glob("*.yaml")), ids=lambda n: n
    )
    def test_example_is_accepted(
        self, cluster: ClusterHandle, namespace: str, example: str
    ) -> None:
        """Each example applies under strict validation and reads back through the models."""
        cluster.kubectl(
            "apply", "-n", namespace, "--validate=strict", "-f", str(EXAMPLES / example)
        )
        for doc in yaml.safe_load_all((EXAMPLES / example).read_text()):
            if doc["kind"] != resource.KIND:
                continue
            stored = VideoDownload.from_object(read(cluster, namespace, doc["metadata"]["name"]))
            assert stored.spec == VideoDownloadSpec.model_validate(doc["spec"])

    def test_minimal_reads_back_with_every_default(
        self, cluster: ClusterHandle, namespace: str
    ) -> None:
        """The apiserver fills in exactly the models' defaults and leaves status empty."""
        (doc,) = yaml.safe_load_all((EXAMPLES / "minimal.yaml").read_text())
        cluster.kubectl("apply", "-n", namespace, "-f", str(EXAMPLES / "minimal.yaml"))
        stored = read(cluster, namespace, doc["metadata"]["name"])
        expected = VideoDownloadSpec.model_validate(doc["spec"]).model_dump(
            by_alias=True, exclude_none=True, mode="json"
        )
        assert stored["spec"] == expected
        assert stored["spec"]["retry"] == {
            "maxAttempts": 3,
            "backoff": {"initialSeconds": 10, "factor": 2, "maxSeconds": 600},
        }
        assert "status" not in stored


BIG = "https://example.com/" + "a" * 2980

# (case id, spec, field the message must name, words of the message)
BAD_SPECS: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing-url", {"priority": "High"}, "spec.url", "Required value"),
    ("ftp-url", {"url": "ftp://example.com/v.mp4"}, "spec.url", "must be an http:// or https://"),
    ("url-empty-user-no-host", {"url": "http://@/v.mp4"}, "spec.url", "must name a host"),
    ("url-port-no-host", {"url": "http://:80/x"}, "spec.url", "must name a host"),
    ("url-no-host", {"url": "http:///x"}, "spec.url", "must name a host"),
    (
        "url-port-99999",
        {"url": "http://127.0.0.1:99999/v.mp4"},
        "spec.url",
        "has a port that is not a number from 1 to 65535",
    ),
    (
        "url-port-0",
        {"url": "http://127.0.0.1:0/v.mp4"},
        "spec.url",
        "has a port that is not a number from 1 to 65535",
    ),
    (
        "url-credentials",
        {"url": "https://user:secret@example.com/v.mp4"},
        "spec.url",
        "may not contain a user name or password",
    ),
    ("3000-char-url", {"url": BIG}, "spec.url", "Too long"),
    ("unknown-priority", {"url": URL, "priority": "Urgent"}, "spec.priority", "Unsupported value"),
    (
        "max-attempts-0",
        {"url": URL, "retry": {"maxAttempts": 0}},
        "spec.retry.maxAttempts",
        "greater than or equal to 1",
    ),
    (
        "max-attempts-100",
        {"url": URL, "retry": {"maxAttempts": 100}},
        "spec.retry.maxAttempts",
        "less than or equal to 20",
    ),
    (
        "factor-below-1",
        {"url": URL, "retry": {"backoff": {"factor": 0.5}}},
        "spec.retry.backoff.factor",
        "greater than or equal to 1",
    ),
    (
        "max-below-initial",
        {"url": URL, "retry": {"backoff": {"initialSeconds": 120, "maxSeconds": 60}}},
        "spec.retry.backoff.maxSeconds",
        "must not be below spec.retry.backoff.initialSeconds",
    ),
    (
        "absolute-template",
        {"url": URL, "output": {"template": "/etc/cron.d/%(id)s"}},
        "spec.output.template",
        "must be a relative path",
    ),
    (
        "dotdot-template",
        {"url": URL, "output": {"template": "videos/../../%(id)s.%(ext)s"}},
        "spec.output.template",
        "may not contain a '..' path segment",
    ),
    (
        "dotdot-cookies-key",
        {"url": URL, "cookies": {"secretRef": {"name": "site", "key": "..cookies"}}},
        "spec.cookies.secretRef.key",
        "may not be '.' or start with '..'",
    ),
    (
        "preset-and-selector",
        {"url": URL, "format": {"preset": "720p", "selector": "bv*+ba/b"}},
        "spec.format",
        "mutually exclusive",
    ),
    ("unknown-field", {"url": URL, "maxAtempts": 3}, "spec.maxAtempts", "unknown field"),
]


# (case id, spec, field the apiserver names, words of its message); sent as JSON through
# the API, so control characters arrive exactly as written.
CONTROL_SPECS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "nul-in-template",
        {"url": URL, "output": {"template": "%(title)s\u0000.%(ext)s"}},
        "spec.output.template",
        "spec.output.template may not contain control characters",
    ),
    (
        "escape-in-subpath",
        {"url": URL, "output": {"subPath": "shows\u001b[0m"}},
        "spec.output.subPath",
        "spec.output.subPath may not contain control characters",
    ),
    (
        "newline-in-subpath",
        {"url": URL, "output": {"subPath": "shows\nmore"}},
        "spec.output.subPath",
        "spec.output.subPath may not contain control characters",
    ),
    (
        "tab-in-selector",
        {"url": URL, "format": {"selector": "bv*\tba"}},
        "spec.format.selector",
        "spec.format.selector may not contain control characters",
    ),
    (
        "c1-in-language",
        {"url": URL, "subtitles": {"languages": ["en", "de\u0085"]}},
        "spec.subtitles.languages[1]",
        "spec.subtitles.languages entries may not contain control characters",
    ),
    (
        "newline-after-cookies-key",
        {"url": URL, "cookies": {"secretRef": {"name": "site", "key": "cookies.txt\n"}}},
        "spec.cookies.secretRef.key",
        "should match",
    ),
    (
        "nul-in-url",
        {"url": "https://example.com/v\u0000.mp4"},
        "spec.url",
        "must be an http:// or https:// URL with no spaces or control characters",
    ),
]


@pytest.mark.usefixtures("videodownload_crd")
class TestRejections:
    @pytest.mark.parametrize(
        ("spec", "field", "words"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS]
    )
    def test_bad_manifest_is_rejected_naming_the_field(
        self, cluster: ClusterHandle, namespace: str, spec: dict[str, Any], field: str, words: str
    ) -> None:
        """The apiserver refuses the manifest, naming the field; the models refuse it too."""
        done = create(cluster, namespace, manifest(spec), check=False)
        assert done.returncode != 0
        assert field in done.stderr, done.stderr
        assert words in done.stderr, done.stderr
        missing = cluster.kubectl("get", "-n", namespace, "vdl/clip", check=False)
        assert "NotFound" in missing.stderr

        with pytest.raises(InvalidVideoDownloadError) as caught:
            VideoDownload.from_object(manifest(spec))
        assert any(p.startswith(field) for p in caught.value.problems), caught.value.problems

    @pytest.mark.parametrize(
        ("spec", "field", "words"),
        [c[1:] for c in CONTROL_SPECS],
        ids=[c[0] for c in CONTROL_SPECS],
    )
    def test_control_characters_are_rejected_naming_the_field(
        self,
        objects: client.CustomObjectsApi,
        scratch_namespace: str,
        spec: dict[str, Any],
        field: str,
        words: str,
    ) -> None:
        """A control character sent as JSON (e.g. "\\u0000") in a string that reaches a
        path or yt-dlp is refused by the apiserver, naming the field; the models agree."""
        message = apiserver_rejection(objects, scratch_namespace, spec)
        assert f"{field}: Invalid value" in message, message
        assert words in message, message

        with pytest.raises(InvalidVideoDownloadError) as caught:
            VideoDownload.from_object(manifest(spec))
        assert any(p.startswith(field) for p in caught.value.problems), caught.value.problems

    def test_url_cannot_change_but_priority_can(
        self, cluster: ClusterHandle, namespace: str
    ) -> None:
        """Changing spec.url is refused with the create-a-new-object message; priority changes."""
        create(cluster, namespace, manifest({"url": URL}))
        moved = cluster.kubectl(
            "patch", "-n", namespace, "vdl/clip", "--type=merge",
            "-p", json.dumps({"spec": {"url": "https://example.com/other"}}),
            check=False,
        )  # fmt: skip
        assert moved.returncode != 0
        assert URL_IMMUTABLE.message in moved.stderr, moved.stderr
        cluster.kubectl(
            "patch", "-n", namespace, "vdl/clip", "--type=merge",
            "-p", json.dumps({"spec": {"priority": "Critical"}}),
        )  # fmt: skip
        stored = read(cluster, namespace, "clip")
        assert (stored["spec"]["url"], stored["spec"]["priority"]) == (URL, "Critical")


@pytest.mark.usefixtures("videodownload_crd")
class TestKubectl:
    def test_get_shows_the_columns(self, cluster: ClusterHandle, namespace: str) -> None:
        """`kubectl get vdl` shows phase, progress, attempts, priority, Ready and age;
        `-o wide` adds title and URL; the values come from a status the models wrote."""
        create(cluster, namespace, manifest({"url": URL, "priority": "High"}))
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        status = VideoDownloadStatus(
            observed_generation=1,
            phase=Phase.RUNNING,
            attempts=2,
            start_time=now,
            progress=Progress(percent=42.5, stage=Stage.DOWNLOADING, update_time=now),
            result=DownloadResult(title="Big Buck Bunny"),
            conditions=[
                Condition(
                    type="Ready",
                    status=ConditionStatus.FALSE,
                    reason="Downloading",
                    message="attempt 2 is downloading",
                    last_transition_time=now,
                    observed_generation=1,
                )
            ],
        )
        body = {"status": status.model_dump(by_alias=True, exclude_none=True, mode="json")}
        cluster.kubectl(
            "patch", "-n", namespace, "vdl/clip", "--subresource=status", "--type=merge",
            "-p", json.dumps(body),
        )  # fmt: skip
        stored = VideoDownload.from_object(read(cluster, namespace, "clip"))
        assert stored.status == status

        table = cluster.kubectl("get", "-n", namespace, "vdl").stdout.splitlines()
        assert table[0].split() == [
            "NAME", "PHASE", "PROGRESS", "ATTEMPTS", "PRIORITY", "READY", "AGE",
        ]  # fmt: skip
        assert table[1].split()[:6] == ["clip", "Running", "42.5", "2", "High", "False"]

        wide = cluster.kubectl("get", "-n", namespace, "vdl", "-o", "wide").stdout.splitlines()
        assert wide[0].split()[-2:] == ["TITLE", "URL"]
        assert "Big Buck Bunny" in wide[1]
        assert wide[1].rstrip().endswith(URL)

    def test_category_lists_videodownloads(self, cluster: ClusterHandle, namespace: str) -> None:
        """`kubectl get videodl` lists VideoDownloads."""
        create(cluster, namespace, manifest({"url": URL}, name="in-category"))
        listed = cluster.kubectl("get", "-n", namespace, "videodl", "-o", "name").stdout
        assert "videodownload.videodl.dev/in-category" in listed

    def test_explain_shows_the_descriptions(self, cluster: ClusterHandle) -> None:
        """`kubectl explain videodownload.spec.retry` prints the models' descriptions."""
        retry = VideoDownloadSpec.model_fields["retry"].description
        assert retry is not None
        # The apiserver publishes a new CRD's OpenAPI a moment after it is Established.
        deadline = time.monotonic() + 60
        while True:
            done = cluster.kubectl("explain", "videodownload.spec.retry", check=False)
            if done.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert done.returncode == 0, done.stderr
        text = " ".join(done.stdout.split())
        assert "Retries of failed attempts and the wait between them." in text
        assert "maxAttempts <integer>" in text
        assert "Attempts in total, the first one included (1 means no retry)." in text
        assert "Allowed: 1 to 20. Default: 3." in text
        assert "backoff <Object>" in text


@pytest.fixture(scope="module")
def scratch_namespace(cluster: ClusterHandle, videodownload_crd: dict[str, Any]) -> Iterator[str]:
    """One namespace for the many short-lived objects of the agreement checks."""
    name = f"api-agreement-{uuid.uuid4().hex[:6]}"
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name, propagation_policy="Background")


@pytest.fixture(scope="module")
def objects(cluster: ClusterHandle) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(cluster.api_client())


def apiserver_verdict(
    objects: client.CustomObjectsApi, namespace: str, spec: dict[str, Any]
) -> dict[str, Any] | None:
    """The stored object when the apiserver accepts ``spec`` (then deleted), else None."""
    name = f"p-{uuid.uuid4().hex[:12]}"
    try:
        created = objects.create_namespaced_custom_object(
            resource.GROUP,
            resource.VERSION,
            namespace,
            resource.PLURAL,
            manifest(spec, name=name),
            field_validation="Strict",
        )
    except client.ApiException as exc:
        if exc.status != 422:  # only "Invalid" is a verdict; anything else is a failure
            raise
        return None
    objects.delete_namespaced_custom_object(
        resource.GROUP, resource.VERSION, namespace, resource.PLURAL, name
    )
    return dict(created)


def apiserver_rejection(
    objects: client.CustomObjectsApi, namespace: str, spec: dict[str, Any]
) -> str:
    """The apiserver's message refusing ``spec`` as Invalid (422)."""
    with pytest.raises(client.ApiException) as caught:
        objects.create_namespaced_custom_object(
            resource.GROUP,
            resource.VERSION,
            namespace,
            resource.PLURAL,
            manifest(spec, name=f"r-{uuid.uuid4().hex[:12]}"),
            field_validation="Strict",
        )
    assert caught.value.status == 422, caught.value.body
    return str(json.loads(caught.value.body)["message"])


def models_accept(spec: dict[str, Any]) -> bool:
    try:
        VideoDownloadSpec.model_validate(spec)
    except ValueError:
        return False
    return True


_AGREEMENT = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_TEXT = st.characters(exclude_categories=("Cs",))


class TestModelsAgreeWithApiserver:
    @_AGREEMENT
    @given(spec=specs)
    def test_valid_specs_are_accepted_and_read_back_equal(
        self, objects: client.CustomObjectsApi, scratch_namespace: str, spec: dict[str, Any]
    ) -> None:
        """Any spec the models accept, the apiserver accepts and stores as the same spec."""
        stored = apiserver_verdict(objects, scratch_namespace, spec)
        assert stored is not None
        assert VideoDownloadSpec.model_validate(stored["spec"]) == VideoDownloadSpec.model_validate(
            spec
        )

    @_AGREEMENT
    @given(
        url=st.one_of(
            st.text(_TEXT, max_size=40),
            st.builds(
                "".join,
                st.tuples(
                    st.sampled_from(["https://", "http://", "HTTP://", "ftp://", "https:/"]),
                    st.text(
                        st.sampled_from("ab.:@[]/?#% \t\n\v\x00\x85\u00a0é\\-01569"),
                        max_size=20,
                    ),
                ),
            ),
        )
    )
    @example(url="https://example.com\n")  # Python's `$` also matches before a final newline
    @example(url="https://example.com/\x0bx")
    @example(url="https://exa\u00a0mple.com/")
    @example(url="https://[::1]:8080/watch?v=1#t=3")
    @example(url="https://")
    @example(url="http://@/v.mp4")
    @example(url="http://:80/x")
    @example(url="http:///x")
    @example(url="http://127.0.0.1:99999/v.mp4")
    @example(url="http://127.0.0.1:0/v.mp4")
    @example(url="http://127.0.0.1:65535/v.mp4")
    @example(url="http://h:080/")
    @example(url="http://[::1]:80]/x")
    @example(url="http://[1.2.3.4]/x")
    @example(url="http://a\\b/x")
    @example(url="https://user:pw@example.com/")
    @example(url="https://www.tiktok.com/@user/video/1")
    @example(url="https://example.com/\x85")
    @example(url="https://example.com:8443\n")
    def test_url_rule_matches(
        self, objects: client.CustomObjectsApi, scratch_namespace: str, url: str
    ) -> None:
        """The models and the apiserver accept exactly the same URLs."""
        spec = {"url": url}
        accepted = apiserver_verdict(objects, scratch_namespace, spec) is not None
        assert accepted == models_accept(spec)

    @_AGREEMENT
    @given(path=st.text(st.sampled_from("./~$a% \n\t\x00\x1f\x7f\x85\xa0"), max_size=12))
    @example(path="a/..\n")
    @example(path="..")
    @example(path="a/...")
    @example(path="~")
    @example(path="a\x00")
    @example(path="a\x9f")
    def test_path_rules_match(
        self, objects: client.CustomObjectsApi, scratch_namespace: str, path: str
    ) -> None:
        """The models and the apiserver accept exactly the same templates and subPaths."""
        for output in ({"template": path}, {"subPath": path}):
            spec = {"url": URL, "output": output}
            accepted = apiserver_verdict(objects, scratch_namespace, spec) is not None
            assert accepted == models_accept(spec), output

    @_AGREEMENT
    @given(text=st.text(st.sampled_from("ab*+/[]<=.^ \n\t\x00\x1b\x7f\x85\x9f\xa0é"), max_size=12))
    @example(text="bv*+ba\x00")
    @example(text="en\x9f")
    def test_yt_dlp_string_rules_match(
        self, objects: client.CustomObjectsApi, scratch_namespace: str, text: str
    ) -> None:
        """The models and the apiserver accept exactly the same selectors and languages."""
        for spec in (
            {"url": URL, "format": {"selector": text}},
            {"url": URL, "subtitles": {"languages": [text]}},
        ):
            accepted = apiserver_verdict(objects, scratch_namespace, spec) is not None
            assert accepted == models_accept(spec), spec
