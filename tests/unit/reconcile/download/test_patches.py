"""Tests for videodl.reconcile.download.patches: merge patches between statuses."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from videodl.api.status import Phase, VideoDownloadStatus
from videodl.reconcile.download import patches

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)
OBJECTS = st.dictionaries(st.text(max_size=3), JSON.filter(lambda v: v is not None), max_size=4)


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 application, the apiserver's behaviour."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return all(v is not None and no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(no_nulls(v) for v in value)
    return True


class TestMergeDiff:
    @given(OBJECTS.filter(no_nulls), OBJECTS.filter(no_nulls))
    def test_patch_turns_old_into_new(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Applying the diff to the old object yields the new one."""
        assert apply_merge_patch(old, patches.merge_diff(old, new)) == new

    @given(OBJECTS)
    def test_equal_objects_give_no_patch(self, value: dict[str, Any]) -> None:
        """Nothing changed, nothing to write."""
        assert patches.merge_diff(value, copy.deepcopy(value)) == {}


class TestStatusPatch:
    def test_only_changes_are_sent(self) -> None:
        """Unchanged fields (such as the worker's progress) are not in the patch."""
        old = VideoDownloadStatus.model_validate(
            {"phase": "Running", "attempts": 1, "progress": {"percent": 40}}
        )
        new = old.model_copy(update={"phase": Phase.SUCCEEDED})
        assert patches.status_patch(old, new) == {"status": {"phase": "Succeeded"}}

    def test_cleared_fields_are_removed(self) -> None:
        """A field set back to None is removed with null."""
        old = VideoDownloadStatus.model_validate({"phase": "Running", "progress": {"percent": 40}})
        new = old.model_copy(update={"progress": None})
        assert patches.status_patch(old, new) == {"status": {"progress": None}}

    def test_no_change(self) -> None:
        """Identical statuses give an empty patch."""
        status = VideoDownloadStatus.model_validate({"phase": "Queued"})
        assert patches.status_patch(status, status) == {}
