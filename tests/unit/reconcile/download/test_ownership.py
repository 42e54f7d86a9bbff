"""Tests for which files deleting a download removes: only those it owns, inside its own
directory, and none another download on the claim keeps."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from tests.unit.reconcile.download.builders import (
    SETTINGS,
    download,
    observe,
    pod,
    reasons,
    status_in,
    success_message,
    worker_name,
)

from videodl.api.resource import VideoDownload
from videodl.reconcile.download import deletion, naming, outcome, transitions


def succeeded(*paths: str, skipped: bool = False) -> dict[str, Any]:
    files = [{"path": p, "sizeBytes": 1, "sha256": "0" * 64} for p in paths]
    result: dict[str, Any] = {"files": files, "extractor": "generic", "videoId": "v"}
    if skipped:
        result["skipped"] = True
    return status_in("Succeeded", result=result)


def model(name: str, uid: str, status: dict[str, Any], **kwargs: Any) -> VideoDownload:
    return VideoDownload.from_object(download(name, uid=uid, status=status, **kwargs))


class TestSkipped:
    def test_the_skipped_flag_reaches_status(self) -> None:
        """A worker that found the video in the archive leaves result.skipped in status."""
        body = download(status=status_in("Running", attempts=1, workerPod=worker_name(1)))
        message = success_message().replace('"videoId"', '"skipped": true, "videoId"')
        finished = pod(worker_name(1), phase="Succeeded", exit_code=0, termination_message=message)
        result = outcome.of_pod(finished)
        assert isinstance(result, outcome.Succeeded)
        assert result.skipped
        plan = transitions.decide(observe(body, [finished]))
        assert plan.status is not None
        assert plan.status.result is not None
        assert plan.status.result.skipped is True

    def test_a_skipped_download_deletes_nothing(self) -> None:
        """Deleting a download that was skipped through the archive releases the finalizer and
        deletes no file and no archive entry."""
        body = download(
            spec={"deletionPolicy": "Delete"},
            deleting=True,
            finalizers=[naming.FINALIZER],
            status=succeeded("video.mp4", skipped=True),
        )
        plan = transitions.decide(observe(body))
        assert plan.remove_finalizer
        assert plan.cleanup_round is None
        assert plan.cleanup_paths == ()
        assert reasons(plan) == ["FilesKept"]


class TestShared:
    def test_paths_another_download_keeps_are_shared(self) -> None:
        """A live download, or a Retain one being deleted, keeps its files; a skipped one,
        one on another claim or a Delete one being deleted keeps nothing."""
        this = model("b", "uid-b", succeeded("v.mp4", "v.info.json"))
        others = [
            model("a", "uid-a", succeeded("v.mp4")),
            model("c", "uid-c", succeeded("v.info.json"), deleting=True),
            model("d", "uid-d", succeeded("v.info.json", skipped=True)),
            model(
                "e",
                "uid-e",
                succeeded("v.info.json"),
                spec={"output": {"persistentVolumeClaim": {"claimName": "other"}}},
            ),
            model(
                "f",
                "uid-f",
                succeeded("v.info.json"),
                spec={"deletionPolicy": "Delete"},
                deleting=True,
            ),
        ]
        assert deletion.owned_elsewhere(this, others[:1], SETTINGS) == {"v.mp4"}
        assert deletion.owned_elsewhere(this, others, SETTINGS) == {"v.mp4", "v.info.json"}
        assert deletion.owned_elsewhere(this, others[2:], SETTINGS) == frozenset()

    def test_shared_files_and_their_archive_entry_stay(self) -> None:
        """Files another download owns are not deleted, and the archive keeps the video."""
        body = download(
            spec={"deletionPolicy": "Delete"},
            deleting=True,
            finalizers=[naming.FINALIZER],
            status=succeeded("v.mp4", "v.info.json"),
        )
        observation = observe(body)
        shared = dataclasses.replace(observation, shared_paths=frozenset({"v.mp4"}))
        plan = transitions.decide(shared)
        assert plan.cleanup_paths == ("v.info.json",)
        assert plan.cleanup_archive is None
        assert "FilesKept" in reasons(plan)
        alone = transitions.decide(observation)
        assert alone.cleanup_paths == ("v.mp4", "v.info.json")
        assert alone.cleanup_archive is not None


class TestConfinement:
    @given(st.lists(st.sampled_from(["shows/a.mp4", "other/b.mp4", "showsx/c.mp4", "d.mp4"])))
    def test_only_paths_inside_the_downloads_directory_are_deleted(self, paths: list[str]) -> None:
        """Forged result paths outside spec.output.subPath are refused, never deleted."""
        body = download(
            spec={
                "deletionPolicy": "Delete",
                "output": {"persistentVolumeClaim": {"claimName": "media"}, "subPath": "shows"},
            },
            deleting=True,
            finalizers=[naming.FINALIZER],
            status=succeeded(*paths),
        )
        plan = transitions.decide(observe(body))
        assert all(p.startswith("shows/") for p in plan.cleanup_paths)
        assert set(plan.cleanup_paths) == {p for p in paths if p.startswith("shows/")}
        outside = {p for p in paths if not p.startswith("shows/")}
        assert ("CleanupRefused" in reasons(plan)) == bool(outside)


class TestNamespaceTerminating:
    def test_the_finalizer_is_released_naming_the_files_left(self) -> None:
        """When no cleanup Pod can be created, the finalizer goes with an Event naming files."""
        body = download(deleting=True, finalizers=[naming.FINALIZER], status=succeeded("v.mp4"))
        plan = deletion.namespace_terminating(observe(body), ("v.mp4",))
        assert plan.remove_finalizer
        assert reasons(plan) == ["CleanupFailed"]
        assert "being deleted" in plan.events[0].message
        assert "v.mp4" in plan.events[0].message
