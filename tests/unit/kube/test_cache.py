"""Tests for videodl.kube.cache: newest resourceVersion wins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from videodl.kube.cache import ObjectView, Store, newer_or_same


class TestStore:
    def test_older_version_is_ignored(self) -> None:
        """A late watch event does not replace the response of a newer write."""
        store: Store[str, str] = Store()
        assert store.put("a", "10", "written")
        assert not store.put("a", "9", "stale")
        assert store.get("a") == "written"
        assert store.put("a", "10", "same version again")
        assert store.put("a", "11", "newer")
        assert store.get("a") == "newer"

    def test_deleted_key_is_not_resurrected(self) -> None:
        """An event older than the deletion does not bring the object back."""
        store: Store[str, str] = Store()
        store.put("a", "5", "x")
        store.delete("a", "7")
        assert not store.put("a", "6", "late")
        assert not store.put("a", "7", "same as deletion")
        assert "a" not in store
        assert store.put("a", "8", "recreated")
        assert store.get("a") == "recreated"

    def test_items_and_len(self) -> None:
        """The store lists what it holds."""
        store: Store[str, int] = Store()
        store.put("a", "1", 1)
        store.put("b", "2", 2)
        assert dict(store.items()) == {"a": 1, "b": 2}
        assert len(store) == 2

    def test_opaque_versions(self) -> None:
        """Versions that are not integers are treated as newest."""
        assert newer_or_same("abc", "10")
        assert newer_or_same("10", None)
        assert not newer_or_same("9", "10")


def _read(body: Mapping[str, Any]) -> int:
    return int(body["value"])


def _body(name: str, version: int, value: int) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": name, "resourceVersion": str(version)},
        "value": value,
    }


_changes = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(min_value=1, max_value=12),
        st.integers(min_value=0, max_value=5),
        st.sampled_from(["watched", "written", "deleted"]),
    ),
    max_size=40,
)


class TestActiveIndex:
    @given(_changes)
    def test_active_items_are_the_active_records(
        self, changes: list[tuple[str, int, int, str]]
    ) -> None:
        """Through any order of events, late or not, the index holds exactly the active records."""
        view: ObjectView[int] = ObjectView(_read, active=lambda value: value % 2 == 0)
        for name, version, value, how in changes:
            body = _body(name, version, value)
            if how == "written":
                view.written(body)
            else:
                view.observe(body, deleted=how == "deleted")
            assert dict(view.active_items()) == {k: v for k, v in view.items() if v % 2 == 0}

    def test_without_a_predicate_every_record_is_active(self) -> None:
        view: ObjectView[int] = ObjectView(_read)
        view.observe(_body("a", 1, 1), deleted=False)
        view.observe(_body("b", 2, 2), deleted=False)
        assert dict(view.active_items()) == {("ns", "a"): 1, ("ns", "b"): 2}
