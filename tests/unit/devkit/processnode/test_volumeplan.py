"""Tests for planning volumes and container mounts."""

from __future__ import annotations

import pytest

from videodl_devkit.processnode import errors, volumeplan

from . import podfixtures

Kind = volumeplan.Kind


def identity(text: str) -> str:
    return text


class TestPlan:
    def test_each_supported_kind(self) -> None:
        """Every supported volume source maps to how it is backed on the host."""
        pod = podfixtures.pod(
            volumes=[
                {"name": "scratch", "emptyDir": {}},
                {"name": "data", "persistentVolumeClaim": {"claimName": "c", "readOnly": True}},
                {"name": "eph", "ephemeral": {"volumeClaimTemplate": {}}},
                {"name": "host", "hostPath": {"path": "/srv", "type": "Directory"}},
                {"name": "cfg", "configMap": {"name": "cm"}},
            ]
        )
        assert volumeplan.plan(pod) == [
            volumeplan.VolumePlan("scratch", Kind.EMPTY_DIR),
            volumeplan.VolumePlan("data", Kind.CLAIM, claim_name="c", read_only=True),
            volumeplan.VolumePlan("eph", Kind.CLAIM, claim_name="p-eph"),
            volumeplan.VolumePlan(
                "host", Kind.HOST_PATH, host_path="/srv", host_path_type="Directory"
            ),
            volumeplan.VolumePlan("cfg", Kind.FILES, read_only=True),
        ]

    def test_unsupported_kind_names_it_and_the_alternatives(self) -> None:
        """A volume type the node cannot back is a spec error naming it and what works."""
        pod = podfixtures.pod(volumes=[{"name": "n", "nfs": {"server": "x", "path": "/"}}])
        with pytest.raises(errors.SpecError, match=r"'n' uses nfs.*emptyDir"):
            volumeplan.plan(pod)


PLANS = {
    "scratch": volumeplan.VolumePlan("scratch", Kind.EMPTY_DIR),
    "data": volumeplan.VolumePlan("data", Kind.CLAIM, claim_name="c"),
    "ro-claim": volumeplan.VolumePlan("ro-claim", Kind.CLAIM, claim_name="c", read_only=True),
    "cfg": volumeplan.VolumePlan("cfg", Kind.FILES, read_only=True),
}
DIRS = {"scratch": "/s/scratch", "data": "/v/pvc-1", "ro-claim": "/v/pvc-1", "cfg": "/s/cfg"}


class TestContainerMounts:
    def test_mounts_subpaths_and_termination_file(self) -> None:
        """Mounts map volume dirs (or subPaths) to mountPaths, parents first, plus the message."""
        container = {
            "name": "main",
            "volumeMounts": [
                {"name": "data", "mountPath": "/data/sub", "subPath": "one/two"},
                {"name": "scratch", "mountPath": "/data"},
                {"name": "cfg", "mountPath": "/etc/app/app.conf", "subPath": "app.conf"},
                {"name": "ro-claim", "mountPath": "/ro"},
                {"name": "scratch", "mountPath": "/tmp/x", "readOnly": True},
            ],
        }
        mounts = volumeplan.container_mounts(
            container, PLANS, DIRS, expand=identity, termination_file="/s/term"
        )
        assert mounts == [
            volumeplan.Mount("/s/scratch", "/data", read_only=False),
            volumeplan.Mount("/v/pvc-1", "/ro", read_only=True),
            volumeplan.Mount("/v/pvc-1/one/two", "/data/sub", read_only=False, create_source=True),
            volumeplan.Mount("/s/term", "/dev/termination-log", read_only=False),
            volumeplan.Mount("/s/scratch", "/tmp/x", read_only=True),
            volumeplan.Mount("/s/cfg/app.conf", "/etc/app/app.conf", read_only=True),
        ]

    def test_custom_termination_path(self) -> None:
        """terminationMessagePath moves the message file."""
        container = {"name": "main", "terminationMessagePath": "/tmp/msg"}
        mounts = volumeplan.container_mounts(
            container, PLANS, DIRS, expand=identity, termination_file="/s/t"
        )
        assert mounts == [volumeplan.Mount("/s/t", "/tmp/msg", read_only=False)]

    def test_sub_path_expr_expands(self) -> None:
        """subPathExpr is expanded with the container's variables."""
        container = {
            "name": "main",
            "volumeMounts": [{"name": "data", "mountPath": "/out", "subPathExpr": "$(POD)"}],
        }
        mounts = volumeplan.container_mounts(
            container,
            PLANS,
            DIRS,
            expand=lambda t: t.replace("$(POD)", "p"),
            termination_file="/s/t",
        )
        assert mounts[0] == volumeplan.Mount(
            "/v/pvc-1/p", "/out", read_only=False, create_source=True
        )

    def test_unexpanded_sub_path_expr_is_a_spec_error(self) -> None:
        """A subPathExpr naming an undefined variable is refused."""
        container = {
            "name": "main",
            "volumeMounts": [{"name": "data", "mountPath": "/out", "subPathExpr": "$(NOPE)"}],
        }
        with pytest.raises(errors.SpecError, match="subPathExpr"):
            volumeplan.container_mounts(
                container, PLANS, DIRS, expand=identity, termination_file="/t"
            )

    @pytest.mark.parametrize("sub", ["../up", "/abs"])
    def test_escaping_sub_path_is_a_spec_error(self, sub: str) -> None:
        """A subPath that leaves the volume is refused."""
        container = {
            "name": "main",
            "volumeMounts": [{"name": "data", "mountPath": "/o", "subPath": sub}],
        }
        with pytest.raises(errors.SpecError, match="subPath"):
            volumeplan.container_mounts(
                container, PLANS, DIRS, expand=identity, termination_file="/t"
            )

    def test_unknown_volume_is_a_spec_error(self) -> None:
        """A mount of a volume the Pod does not have is refused by name."""
        container = {"name": "main", "volumeMounts": [{"name": "ghost", "mountPath": "/g"}]}
        with pytest.raises(errors.SpecError, match="ghost"):
            volumeplan.container_mounts(
                container, PLANS, DIRS, expand=identity, termination_file="/t"
            )
