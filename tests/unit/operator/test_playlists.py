"""Tests for videodl.operator.playlists: the playlist controller's writes, in order, against
an in-memory apiserver stand-in (playlists, ConfigMaps, children, Pods)."""

from __future__ import annotations

import asyncio
import copy
import datetime
import itertools
from collections.abc import Mapping
from typing import Any

import pytest
from tests.unit.operator.fakes import FakeGate
from tests.unit.reconcile.download.test_patches import apply_merge_patch
from yt_dlp.version import __version__ as ytdlp_version

from videodl.api import playlist as playlist_api
from videodl.breaker import sites
from videodl.kube.client import ApiError
from videodl.operator.metrics import Metrics
from videodl.operator.playlists import PlaylistController
from videodl.operator.settings import Settings
from videodl.reconcile.playlist import naming
from videodl.reconcile.playlist.settings import IndexerSettings
from videodl.workerapi import environment, index
from videodl.workerapi.index import Chunk, Entry

NOW = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)
Json = dict[str, Any]


class FakeApi:
    """Objects by (plural, namespace, name); every write recorded as (verb, plural, name)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], Json] = {}
        self.writes: list[tuple[str, str, str]] = []
        self.events: list[Json] = []
        self._versions = itertools.count(100)
        #: Children created before the next create of one raises (a crash of the operator).
        self.creates_left: int | None = None

    def _stored(self, plural: str, body: Json) -> Json:
        body["metadata"]["resourceVersion"] = str(next(self._versions))
        body["metadata"].setdefault("uid", f"uid-{body['metadata']['name']}")
        self.objects[(plural, body["metadata"]["namespace"], body["metadata"]["name"])] = body
        return copy.deepcopy(body)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        content_type: str = "",
    ) -> Json:
        parts = path.strip("/").split("/")
        core = parts[0] == "api"
        namespace = parts[3] if core else parts[4]
        rest = parts[4:] if core else parts[5:]
        plural, name, sub = rest[0], (rest[1] if len(rest) > 1 else ""), "/".join(rest[2:])
        key = (plural, namespace, name)
        if method == "POST":
            name = body["metadata"]["name"]
            if plural == "videodownloads" and self.creates_left is not None:
                if self.creates_left == 0:
                    raise ConnectionError("the operator died here")
                self.creates_left -= 1
            self.writes.append(("create", plural, name))
            if (plural, namespace, name) in self.objects:
                raise ApiError(409, "AlreadyExists", name)
            return self._stored(
                plural,
                copy.deepcopy({**body, "metadata": {**body["metadata"], "namespace": namespace}}),
            )
        if key not in self.objects:
            raise ApiError(404, "NotFound", name)
        stored = self.objects[key]
        if method == "GET":
            return copy.deepcopy(stored)
        if method == "PATCH":
            self.writes.append(("patch", f"{plural}/{sub}" if sub else plural, name))
            merged = apply_merge_patch(stored, dict(body))
            return self._stored(plural, merged)
        raise AssertionError(f"unexpected {method} {path}")

    async def create_pod(self, namespace: str, manifest: Mapping[str, Any]) -> Json:
        return await self.request(
            "POST", f"/api/v1/namespaces/{namespace}/pods", body=dict(manifest)
        )

    async def create_event(self, namespace: str, event: Mapping[str, Any]) -> None:
        self.events.append(dict(event))


def entries(count: int) -> list[Entry]:
    return [
        Entry(index=n, id=f"v{n}", url=f"https://media.example/{n}.mp4")
        for n in range(1, count + 1)
    ]


class Bed:
    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.controller = self.new_controller()

    def new_controller(self) -> PlaylistController:
        """A controller as a restarted operator makes it: the view rebuilt from the 'cluster'."""
        controller = PlaylistController(
            settings=Settings(),
            kube=self.api,  # type: ignore[arg-type]
            events=self.api,  # type: ignore[arg-type]
            metrics=Metrics(),
            gate=FakeGate(),  # type: ignore[arg-type]
            indexer=IndexerSettings(batch_size=7, status_interval_seconds=0.0),
            clock=lambda: NOW,
        )
        for (plural, _, _), body in list(self.api.objects.items()):
            if plural == playlist_api.PLURAL:
                controller.observe_playlist(body, deleted=False)
            elif plural == "videodownloads":
                controller.observe_child(body, deleted=False)
            elif plural == "pods":
                controller.observe_pod(body, deleted=False)
        return controller

    def playlist(self) -> Json:
        return self.api.objects[(playlist_api.PLURAL, "n", "shows")]

    async def reconcile(self) -> None:
        for (plural, _, _), body in list(self.api.objects.items()):
            if plural == playlist_api.PLURAL:
                self.controller.observe_playlist(body, deleted=False)
            elif plural == "videodownloads":
                self.controller.observe_child(body, deleted=False)
        await self.controller.reconcile(("n", "shows"))

    def finish_indexer(self, recorded: list[Entry], found: int) -> None:
        """The indexer Pod wrote its chunks and exited 0."""
        pod = next(b for (p, _, _), b in self.api.objects.items() if p == "pods")
        chunks = index.split(recorded, found=found, chunks=10)
        for name, chunk in zip(naming.chunk_names("shows", "uid-shows", 10), chunks, strict=True):
            stored = self.api.objects[("configmaps", "n", name)]
            assert (
                stored["metadata"]["annotations"][index.ANNOTATION_WRITER]
                == pod["metadata"]["name"]
            )
            stored["binaryData"] = {
                index.CHUNK_KEY: index.encode_chunk(Chunk(found=found, entries=chunk.entries))
            }
        pod["status"] = {
            "phase": "Succeeded",
            "containerStatuses": [{"state": {"terminated": {"exitCode": 0, "message": "{}"}}}],
        }
        self.controller.observe_pod(pod, deleted=False)


@pytest.fixture
def bed() -> Bed:
    api = FakeApi()
    api._stored(
        playlist_api.PLURAL,
        {
            "apiVersion": "videodl.dev/v1alpha1",
            "kind": "VideoPlaylist",
            "metadata": {"name": "shows", "namespace": "n", "uid": "uid-shows", "generation": 1},
            "spec": {"url": "https://media.example/feed.rss", "maxItems": 20},
        },
    )
    return Bed(api)


class TestPlaylistController:
    def test_index_then_children_in_batches(self, bed: Bed) -> None:
        """Status first, then the ten chunks, then the Pod; after it, 20 of 25 children,
        then Succeeded once they all finished, with one Succeeded Event."""

        async def scenario() -> None:
            await bed.reconcile()
            assert bed.playlist()["status"]["phase"] == "Indexing"
            order = [w for w in bed.api.writes if w[1] != "videoplaylists/status"]
            assert [w[1] for w in order] == ["configmaps"] * 10 + ["pods"]
            first_status = bed.api.writes.index(("patch", "videoplaylists/status", "shows"))
            assert first_status < bed.api.writes.index(order[0])

            bed.finish_indexer(entries(25), found=25)
            await bed.reconcile()
            kids = [b for (p, _, _), b in bed.api.objects.items() if p == "videodownloads"]
            assert len(kids) == 20
            status = bed.playlist()["status"]
            assert (status["entries"], status["selected"], status["created"]) == (25, 20, 20)
            assert status["phase"] == "Running"
            assert kids[0]["metadata"]["ownerReferences"][0]["uid"] == "uid-shows"
            assert kids[0]["metadata"]["labels"][naming.LABEL_PLAYLIST] == "shows"

            for body in kids:
                body["status"] = {"phase": "Succeeded"}
                body["metadata"]["resourceVersion"] = "9999"
            await bed.reconcile()
            assert bed.playlist()["status"]["phase"] == "Succeeded"
            assert bed.playlist()["status"]["progressText"] == "20/20"
            await asyncio.sleep(0)
            reasons = [e["reason"] for e in bed.api.events]
            assert reasons.count("Succeeded") == 1

        asyncio.run(scenario())

    def test_the_indexer_is_told_its_sources_extractors(self, bed: Bed) -> None:
        """The indexer Pod carries the extractor found for each source, so it need not
        search every extractor for them."""
        sites.warm_up()
        asyncio.run(bed.reconcile())
        pod = next(b for (p, _, _), b in bed.api.objects.items() if p == "pods")
        values = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
        job = index.load({**values, environment.NAMESPACE: "n"})
        assert job.extractors == (environment.ExtractorHint(key="Generic", version=ytdlp_version),)

    def test_restart_creates_only_what_is_missing(self, bed: Bed) -> None:
        """The operator dies after 9 creates; a new one (view rebuilt, chunks read again)
        creates the other 11 and never any of the 9 again."""

        async def scenario() -> None:
            await bed.reconcile()
            bed.finish_indexer(entries(25), found=25)
            bed.api.creates_left = 9
            with pytest.raises(ConnectionError):
                await bed.reconcile()
            before = {n for (p, _, n) in bed.api.objects if p == "videodownloads"}
            assert len(before) == 9
            bed.api.creates_left = None
            bed.controller = bed.new_controller()
            await bed.reconcile()
            kids = {n for (p, _, n) in bed.api.objects if p == "videodownloads"}
            assert len(kids) == 20
            assert before <= kids
            creates = [w[2] for w in bed.api.writes if w[:2] == ("create", "videodownloads")]
            assert len(creates) == len(set(creates)) == 20

        asyncio.run(scenario())
