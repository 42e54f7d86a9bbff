"""Unit tests of the breaker's ConfigMap store against a fake apiserver."""

from __future__ import annotations

import random

import pytest

from videodl.breaker import store
from videodl.kube.client import ApiError

from .conftest import FakeConfigMapApi

NS, NAME = "videodl-system", "videodl-breaker"


def _store(api: FakeConfigMapApi, **kwargs: object) -> store.ConfigMapStore:
    return store.ConfigMapStore(
        client=api,  # type: ignore[arg-type]
        namespace=NS,
        name=NAME,
        rng=random.Random(0),
        **kwargs,  # type: ignore[arg-type]
    )


def _set(key: str, value: str) -> object:
    return lambda snap: store.Change(value, data={key: value})


class TestConfigMapStore:
    def test_read_creates_a_missing_configmap_with_labels(self, fake_api: FakeConfigMapApi) -> None:
        """The first read creates the ConfigMap, labelled as the breaker's."""
        snap = _store(fake_api).read()
        assert snap.data == {}
        assert snap.uid == f"uid-{NAME}"
        labels = fake_api.objects[(NS, NAME)]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == "circuit-breaker"

    def test_create_race_reads_the_winner(self, fake_api: FakeConfigMapApi) -> None:
        """When another process creates the ConfigMap first, its object is read instead."""
        s = _store(fake_api)
        other = _store(fake_api)
        original = fake_api.read_config_map
        calls = {"n": 0}

        def read_then_lose_the_race(name: str, namespace: str) -> dict[str, object]:
            calls["n"] += 1
            if calls["n"] == 1:
                other.read()  # creates it between our 404 and our create
                raise ApiError(404, "NotFound", "not found")
            return original(name, namespace)

        fake_api.read_config_map = read_then_lose_the_race  # type: ignore[method-assign,assignment]
        snap = s.read()
        assert snap.resource_version == fake_api.objects[(NS, NAME)]["metadata"]["resourceVersion"]

    def test_update_writes_the_change_with_a_precondition(self, fake_api: FakeConfigMapApi) -> None:
        """A change is written and the returned snapshot is the new object."""
        written = _store(fake_api).update(_set("site-a", "1"))  # type: ignore[arg-type]
        assert (written.result, written.wrote, written.conflicts) == ("1", True, 0)
        assert written.snapshot.data == {"site-a": "1"}
        assert fake_api.objects[(NS, NAME)]["data"] == {"site-a": "1"}

    def test_conflict_rereads_and_reapplies(self, fake_api: FakeConfigMapApi) -> None:
        """A write that loses a race is decided again on the fresh object, keeping both."""
        s = _store(fake_api)
        s.read()
        fake_api.before_patch = lambda: fake_api.edit(NS, NAME, {"data": {"site-b": "other"}})

        def add_one(snap: store.Snapshot) -> store.Change[int]:
            count = int(snap.data.get("n", "0")) + 1
            return store.Change(count, data={"n": str(count)})

        written = s.update(add_one)
        assert written.conflicts == 1
        assert s.conflicts_total == 1
        assert fake_api.objects[(NS, NAME)]["data"] == {"site-b": "other", "n": "1"}

    def test_no_change_costs_no_write(self, fake_api: FakeConfigMapApi) -> None:
        """Writing values that are already there sends nothing."""
        s = _store(fake_api)
        s.update(_set("site-a", "1"))  # type: ignore[arg-type]
        fake_api.calls.clear()
        written = s.update(_set("site-a", "1"), start=s.read())  # type: ignore[arg-type]
        assert not written.wrote
        assert "patch" not in fake_api.calls

    def test_annotations_are_removed_and_set(self, fake_api: FakeConfigMapApi) -> None:
        """Consumed annotations are dropped and acknowledgements written in the same patch."""
        s = _store(fake_api)
        s.read()
        fake_api.edit(NS, NAME, {"metadata": {"annotations": {"videodl.dev/reset": "all"}}})
        s.update(
            lambda snap: store.Change(
                None,
                remove_annotations=["videodl.dev/reset"],
                set_annotations={"videodl.dev/last-command": "done"},
            )
        )
        annotations = fake_api.objects[(NS, NAME)]["metadata"]["annotations"]
        assert annotations == {"videodl.dev/last-command": "done"}

    def test_a_deleted_configmap_is_recreated(self, fake_api: FakeConfigMapApi) -> None:
        """A write after the ConfigMap was deleted recreates it and applies the change."""
        s = _store(fake_api)
        stale = s.read()
        fake_api.delete(NS, NAME)
        s.update(_set("site-a", "1"), start=stale)  # type: ignore[arg-type]
        assert fake_api.objects[(NS, NAME)]["data"] == {"site-a": "1"}

    def test_gives_up_after_max_attempts(self, fake_api: FakeConfigMapApi) -> None:
        """Endless conflicts end in StoreConflictError rather than a silent loss."""
        s = _store(fake_api, max_attempts=3)
        s.read()
        original = fake_api.patch_config_map

        def always_conflict(*args: object, **kwargs: object) -> dict[str, object]:
            raise ApiError(409, "Conflict", "the object has been modified")

        fake_api.patch_config_map = always_conflict  # type: ignore[method-assign]
        with pytest.raises(store.StoreConflictError, match="3 conflicting writes"):
            s.update(_set("site-a", "1"))  # type: ignore[arg-type]
        fake_api.patch_config_map = original  # type: ignore[method-assign]

    def test_other_errors_propagate(self, fake_api: FakeConfigMapApi) -> None:
        """A refusal that is not a conflict (403) is raised, not retried."""
        s = _store(fake_api)
        s.read()

        def forbidden(*args: object, **kwargs: object) -> dict[str, object]:
            raise ApiError(403, "Forbidden", "configmaps is forbidden")

        fake_api.patch_config_map = forbidden  # type: ignore[method-assign]
        with pytest.raises(ApiError):
            s.update(_set("site-a", "1"))  # type: ignore[arg-type]
        assert s.conflicts_total == 0

    def test_invalid_keys_are_refused_with_the_rule(self, fake_api: FakeConfigMapApi) -> None:
        """A key the apiserver would reject is refused with the allowed characters."""
        with pytest.raises(ValueError, match="a-z A-Z 0-9"):
            _store(fake_api).update(_set("bad key:1", "1"))  # type: ignore[arg-type]
