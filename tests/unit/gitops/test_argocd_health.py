"""The Argo CD health check in Argo CD's layout, run under Lua 5.1 as TestLuaHealthScript does.

Every case of ``health_test.yaml`` runs ``health.lua`` on its ``testdata`` object and must
return exactly the expected status and message; the test objects cover every phase and are
what the operator writes.
"""

from __future__ import annotations

import datetime
from typing import Any

import lupa
import lupa.lua51
import pytest

from videodl.api.status import Phase
from videodl.core import conditions

from . import argocd, documented

CASES = argocd.cases()
TESTDATA = argocd.VIDEODOWNLOAD / "testdata"


def case_object(case: argocd.Case) -> Any:
    return argocd.load(argocd.VIDEODOWNLOAD / case.input_path)


class TestHealthTestYaml:
    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.input_path)
    def test_case(self, case: argocd.Case) -> None:
        """health.lua returns the case's status and message for its object, under Lua 5.1."""
        assert argocd.health(case_object(case)) == case.expected

    def test_every_test_object_is_a_case(self) -> None:
        """Each file under testdata/ is the input of exactly one case, and each input exists."""
        inputs = [case.input_path for case in CASES]
        assert len(inputs) == len(set(inputs))
        stored = sorted(f"testdata/{p.name}" for p in TESTDATA.glob("*.yaml"))
        assert sorted(inputs) == stored

    def test_the_cases_cover_every_phase_and_the_objects_without_one(self) -> None:
        """There is a case for every phase, no status, deletion and an unobserved spec."""
        covered = {documented.row_key(case_object(case)) for case in CASES}
        assert covered == {p.value for p in Phase} | set(documented.SPECIAL)

    def test_the_layout_is_argo_cds(self) -> None:
        """resource_customizations/<group>/<Kind>/ holds health.lua and health_test.yaml."""
        (group_dir,) = argocd.CUSTOMIZATIONS.iterdir()
        kinds = sorted(kind_dir.name for kind_dir in group_dir.iterdir())
        assert (group_dir.name, kinds) == (
            "videodl.dev",
            ["VideoDownload", "VideoPlaylist", "VideoSubscription"],
        )
        for kind_dir in group_dir.iterdir():
            names = {p.name for p in kind_dir.iterdir()}
            assert names == {"health.lua", "health_test.yaml", "testdata"}


class TestTestObjects:
    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.input_path)
    def test_conditions_are_what_the_operator_writes(self, case: argocd.Case) -> None:
        """A test object's conditions are those :func:`conditions.compute` gives its phase."""
        obj = case_object(case)
        status = obj.get("status")
        if not status:
            return
        written = status["conditions"]
        (ready,) = [c for c in written if c["type"] == "Ready"]
        computed = conditions.compute(
            phase=status["phase"],
            reason=ready["reason"],
            message=ready["message"],
            generation=status["observedGeneration"],
            now=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
            previous=written,
        )
        assert computed == written

    def test_objects_are_videodownloads(self) -> None:
        """Each object is a namespaced videodl.dev/v1alpha1 VideoDownload with a spec."""
        for case in CASES:
            obj = case_object(case)
            assert (obj["apiVersion"], obj["kind"]) == ("videodl.dev/v1alpha1", "VideoDownload")
            assert obj["metadata"]["namespace"]
            assert obj["spec"]["url"].startswith("https://")


class TestLuaRuntime:
    def test_numbers_print_as_lua_51_prints_them(self) -> None:
        """A float percentage prints as 42 under Lua 5.1 (and gopher-lua), 42.0 under 5.3+.

        So running the check with lupa's default (newest) Lua would test another language.
        """
        (case,) = [c for c in CASES if c.input_path == "testdata/running-progress.yaml"]
        obj = case_object(case)
        assert isinstance(obj["status"]["progress"]["percent"], float)
        assert argocd.health(obj).message == "Running (42%)"
        newest = lupa.LuaRuntime()
        assert newest.lua_version >= (5, 3)
        assert newest.eval("tostring(42.0)") == "42.0"

    def test_libraries_argo_cd_does_not_open_are_absent(self) -> None:
        """A check calling os.time fails, as in Argo CD without useOpenLibs."""
        script = 'return {status = "Healthy", message = tostring(os.time())}'
        with pytest.raises(lupa.lua51.LuaError, match="os"):
            argocd.health({}, script)

    @pytest.mark.parametrize(
        ("script", "error", "match"),
        [
            ('return {status = "Fine"}', ValueError, "status 'Fine'"),
            ('return "Healthy"', TypeError, "not a table"),
            ('return {status = "Healthy", message = 3}', TypeError, "message 3"),
        ],
    )
    def test_an_answer_argo_cd_refuses_is_an_error(
        self, script: str, error: type[Exception], match: str
    ) -> None:
        """An unknown health code, no table, or a non-string message raise, as in Argo CD."""
        with pytest.raises(error, match=match):
            argocd.health({}, script)

    def test_a_broken_check_fails_its_cases(self) -> None:
        """A script that calls a blocked download Progressing fails the Blocked cases."""
        script = argocd.HEALTH_LUA.read_text(encoding="utf-8")
        blocked = 'phase == "Suspended" or phase == "Blocked"'
        broken = script.replace(blocked, 'phase == "Suspended"')
        assert broken != script
        failing = [
            case.input_path
            for case in CASES
            if argocd.health(case_object(case), broken) != case.expected
        ]
        assert failing == ["testdata/blocked.yaml", "testdata/blocked-circuit-open.yaml"]
