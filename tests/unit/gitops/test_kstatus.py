"""The real kstatus library (``hack/kstatus``) on stored objects: what docs/gitops.md promises.

No cluster: the objects are the Argo CD test objects (read from a real apiserver once, one
per phase, see ``health_test.yaml``) and small objects that pin the library's rules the docs
rely on. The end-to-end test ``tests/e2e/test_kstatus.py`` asks the same of live objects.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from . import argocd, documented, kstatus

STAMP = "2026-01-01T00:00:00Z"


def _conditions(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"conditions": [{"type": kind, "status": value} for kind, value in pairs]}


class TestStoredObjects:
    def test_every_stored_object_gets_the_documented_status(self) -> None:
        """Each test object in every phase gets the kstatus of its row in gitops.md."""
        objects = [argocd.load(argocd.VIDEODOWNLOAD / c.input_path) for c in argocd.cases()]
        promised = documented.kstatus_table()
        answers = kstatus.compute_all(objects)
        got = {documented.row_key(o): a.status for o, a in zip(objects, answers, strict=True)}
        assert got == {key: promised[key] for key in got}
        assert set(got) == set(promised), "a row of gitops.md has no stored object"

    def test_the_files_can_be_given_as_arguments(self) -> None:
        """Files named on the command line are read in order, one line per object."""
        paths = sorted((argocd.VIDEODOWNLOAD / "testdata").glob("*.yaml"))
        done = kstatus.run([str(p) for p in paths])
        assert done.returncode == 0, done.stderr
        results = kstatus.parse(done.stdout)
        assert len(results) == len(paths)
        assert {r.name for r in results} == {"keynote-2026"}


class TestLibraryRules:
    @pytest.mark.parametrize(
        ("obj", "expected"),
        [
            ({}, "Current"),
            ({"metadata": {"generation": 2}}, "Current"),
            ({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}}, "InProgress"),
            (
                {
                    "metadata": {"generation": 2, "deletionTimestamp": STAMP},
                    "status": {"observedGeneration": 1},
                },
                "Terminating",
            ),
            ({"metadata": {"deletionTimestamp": ""}}, "Current"),
            ({"status": _conditions(("Stalled", "True"))}, "Failed"),
            ({"status": _conditions(("Stalled", "False"))}, "Current"),
            ({"status": _conditions(("Reconciling", "True"), ("Stalled", "True"))}, "InProgress"),
            ({"status": _conditions(("Stalled", "True"), ("Reconciling", "True"))}, "Failed"),
            # The Ready fallback: decides only when neither Reconciling nor Stalled is True.
            ({"status": _conditions(("Ready", "False"))}, "InProgress"),
            ({"status": _conditions(("Ready", "Unknown"))}, "InProgress"),
            ({"status": _conditions(("Ready", "True"))}, "Current"),
            (
                {"status": _conditions(("Ready", "False"), ("Reconciling", "False"))},
                "InProgress",
            ),
            ({"status": _conditions(("Ready", "True"), ("Stalled", "True"))}, "Failed"),
            ({"status": _conditions(("Ready", "False"), ("Stalled", "True"))}, "Failed"),
        ],
    )
    def test_rules_the_docs_rely_on(self, obj: dict[str, Any], expected: str) -> None:
        """Terminating, then generation, then Reconciling/Stalled True, then Ready, else Current."""
        full = {"apiVersion": "videodl.dev/v1alpha1", "kind": "VideoDownload", **obj}
        full.setdefault("metadata", {})["name"] = "v"
        assert kstatus.compute(full) == expected

    def test_a_malformed_object_is_refused_with_the_library_error(self) -> None:
        """conditions that are no list: an "error" line, the others answered, exit 1."""
        bad = {"kind": "VideoDownload", "metadata": {"name": "bad"}, "status": {"conditions": {}}}
        good = {"kind": "VideoDownload", "metadata": {"name": "good"}}
        first, second = kstatus.compute_all([bad, good])
        assert (first.name, first.status) == ("bad", "")
        assert "slice" in first.error
        assert (second.name, second.status, second.error) == ("good", "Current", "")
        done = kstatus.run([], json.dumps(bad))
        assert done.returncode == 1
        assert "refused 1 object" in done.stderr


class TestCommand:
    def test_yaml_documents_and_json_on_stdin(self) -> None:
        """Several YAML documents, an empty one among them, then a JSON List, all in order."""
        listed = {"kind": "List", "apiVersion": "v1", "items": [{"metadata": {"name": "c"}}]}
        stream = (
            "kind: VideoDownload\nmetadata: {name: a, namespace: m}\n---\n---\n"
            "kind: VideoDownload\nmetadata: {name: b, generation: 2}\n"
            "status: {observedGeneration: 1}\n---\n" + json.dumps(listed)
        )
        done = kstatus.run([], stream)
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        assert [(x["name"], x["status"]) for x in lines] == [
            ("a", "Current"),
            ("b", "InProgress"),
            ("c", "Current"),
        ]
        assert lines[0] == {
            "kind": "VideoDownload",
            "namespace": "m",
            "name": "a",
            "status": "Current",
            "message": "Resource is current",
        }
        assert lines[1]["message"] == (
            "VideoDownload generation is 2, but latest observed generation is 1"
        )

    def test_unreadable_input_exits_2_naming_the_source(self, tmp_path: pathlib.Path) -> None:
        """Input that is not YAML or JSON, or a missing file, is a usage error (exit 2)."""
        done = kstatus.run([], "[1")
        assert done.returncode == 2
        assert "stdin: object 0 is not YAML or JSON" in done.stderr
        done = kstatus.run([str(tmp_path / "missing.yaml")])
        assert done.returncode == 2
        assert "missing.yaml" in done.stderr
