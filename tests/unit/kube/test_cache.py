"""Tests for videodl.kube.cache: newest resourceVersion wins."""

from __future__ import annotations

from videodl.kube.cache import Store, newer_or_same


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
