"""Spec values the worker cannot use fail once, as Permanent, before any network access.

Each case runs twice: as ``python -m videodl.worker`` with the value in ``VIDEODL_SPEC``
(where the API's own rules may already refuse it), and in-process with a spec that skipped
the API's validation, so the worker's own check is what refuses it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from tests.integration.worker.workerharness import RunProcess, Workspace

from videodl.api.media import FormatSpec, SubtitlesSpec
from videodl.api.output import OutputSpec
from videodl.api.spec import VideoDownloadSpec
from videodl.api.status import FailureClass
from videodl.worker import download
from videodl.worker.progress import RecordingSink
from videodl.workerapi import environment, termination
from videodl.workerapi.exitcodes import ExitCode
from videodl_devkit.mediaserver import MediaServer


@dataclasses.dataclass(frozen=True)
class Case:
    field: str
    document: dict[str, Any]

    def unchecked(self, spec: VideoDownloadSpec) -> VideoDownloadSpec:
        """``spec`` with this case's bad value, as if the API had never looked at it."""
        update: dict[str, Any] = {}
        if "url" in self.document:
            update["url"] = self.document["url"]
        if "output" in self.document:
            template = self.document["output"]["template"]
            update["output"] = OutputSpec.model_construct(template=template, sub_path=None)
        if "format" in self.document:
            selector = self.document["format"]["selector"]
            update["format"] = FormatSpec.model_construct(
                selector=selector, preset=None, container=None
            )
        if "subtitles" in self.document:
            update["subtitles"] = SubtitlesSpec.model_construct(
                languages=self.document["subtitles"]["languages"],
                include_auto_generated=False,
                embed=False,
            )
        return spec.model_copy(update=update)


def cases(server: MediaServer) -> dict[str, Case]:
    media = server.url("/media/video.mp4")
    return {
        "nul-template": Case(
            "spec.output.template", {"url": media, "output": {"template": "a\0b.%(ext)s"}}
        ),
        "no-host": Case("spec.url", {"url": "http://@/v.mp4"}),
        "port-99999": Case("spec.url", {"url": "http://127.0.0.1:99999/v.mp4"}),
        "port-0": Case("spec.url", {"url": f"http://127.0.0.1:0/media/video.mp4?{server.port}"}),
        "selector": Case("spec.format.selector", {"url": media, "format": {"selector": "[[["}}),
        "language": Case(
            "spec.subtitles.languages", {"url": media, "subtitles": {"languages": ["("]}}
        ),
    }


NAMES = ["nul-template", "no-host", "port-99999", "port-0", "selector", "language"]


@pytest.mark.parametrize("name", NAMES)
def test_the_worker_process_fails_once_naming_the_field(
    name: str, media_server: MediaServer, run_worker_process: RunProcess, workspace: Workspace
) -> None:
    """In VIDEODL_SPEC the bad value fails as Permanent InvalidSpec, with no request made."""
    case = cases(media_server)[name]
    run = run_worker_process({}, raw_spec=json.dumps(case.document))
    assert run.returncode == ExitCode.PERMANENT, run.stderr
    message = run.message
    assert isinstance(message, termination.FailureMessage)
    assert message.failure_class == FailureClass.PERMANENT
    assert message.reason == "InvalidSpec"
    assert case.field.removeprefix("spec.") in message.message
    assert media_server.requests() == []
    assert workspace.files() == []


@pytest.mark.parametrize("name", NAMES)
def test_the_worker_refuses_on_its_own(
    name: str, media_server: MediaServer, workspace: Workspace
) -> None:
    """A spec that skipped the API's rules is refused by the worker itself, before yt-dlp runs."""
    case = cases(media_server)[name]
    job = environment.load(workspace.environ({"url": media_server.url("/media/video.mp4")}))
    job = dataclasses.replace(job, spec=case.unchecked(job.spec))
    outcome = download.run(job, sink=RecordingSink())
    assert outcome.exit_code == ExitCode.PERMANENT
    assert isinstance(outcome.message, termination.FailureMessage)
    assert outcome.message.reason == "InvalidSpec"
    assert case.field in outcome.message.message
    assert media_server.requests() == []
    assert workspace.files() == []
