"""Tests for videodl.workerapi.exitcodes."""

from __future__ import annotations

import pytest

from videodl.api.status import FailureClass
from videodl.workerapi.exitcodes import ExitCode, failure_class_of, for_failure_class


class TestExitCodes:
    def test_codes_are_distinct_and_avoid_crash_codes(self) -> None:
        """Each outcome has its own code, none of them Python's 1 or 2 or a signal's."""
        codes = [int(code) for code in ExitCode]
        assert len(set(codes)) == len(codes)
        assert not {1, 2} & set(codes)
        assert all(code < 128 for code in codes)

    @pytest.mark.parametrize("failure_class", list(FailureClass))
    def test_round_trip(self, failure_class: FailureClass) -> None:
        """The operator reads back the class the worker exited with."""
        assert failure_class_of(for_failure_class(failure_class)) == failure_class

    def test_success(self) -> None:
        """Exit code 0 is no failure at all."""
        assert failure_class_of(0) is None

    @pytest.mark.parametrize("code", [1, 2, 13, 137, 143, 255])
    def test_anything_else_is_transient(self, code: int) -> None:
        """Crashes, OOM kills and internal errors are retried like transient failures."""
        assert failure_class_of(code) == FailureClass.TRANSIENT
