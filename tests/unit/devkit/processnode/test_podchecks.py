"""Tests for what the node accepts in a Pod spec and how containers become processes."""

from __future__ import annotations

from typing import Any

import pytest

from videodl_devkit.processnode import errors, mountscript, podchecks

from . import podfixtures


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "main", "image": "x", "command": ["run"], **fields}


class TestCheckPod:
    def test_sidecar_init_container_is_refused(self) -> None:
        """An init container with restartPolicy Always is refused with the way out."""
        pod = podfixtures.pod(initContainers=[container(name="side", restartPolicy="Always")])
        with pytest.raises(errors.SpecError, match=r"move it to spec\.containers"):
            podchecks.check_pod(pod)

    def test_unknown_restart_policy_is_refused(self) -> None:
        """An invalid restartPolicy is named."""
        with pytest.raises(errors.SpecError, match="Sometimes"):
            podchecks.check_pod(podfixtures.pod(restartPolicy="Sometimes"))

    def test_plain_pod_passes(self) -> None:
        """A plain Pod passes the checks."""
        podchecks.check_pod(podfixtures.pod())
        assert podchecks.restart_policy(podfixtures.pod()) == "Never"


class TestIdentity:
    def test_container_overrides_pod(self) -> None:
        """Container settings win over the Pod's; fsGroup and supplementalGroups become groups."""
        pod = podfixtures.pod(
            securityContext={
                "runAsUser": 1,
                "runAsGroup": 2,
                "fsGroup": 3,
                "supplementalGroups": [4, 3],
            }
        )
        c = container(
            securityContext={
                "runAsUser": 10,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["all"]},
            }
        )
        assert podchecks.identity(pod, c) == mountscript.Identity(
            uid=10, gid=2, groups=(3, 4), no_new_privs=True, drop_all_capabilities=True
        )

    def test_defaults_to_root(self) -> None:
        """Without securityContext the process runs as root, as an image without USER would."""
        assert podchecks.identity(podfixtures.pod(), container()) == mountscript.Identity()

    def test_run_as_non_root_needs_a_user(self) -> None:
        """runAsNonRoot without runAsUser is refused: there is no image user to fall back on."""
        pod = podfixtures.pod(securityContext={"runAsNonRoot": True})
        with pytest.raises(errors.SpecError, match=r"set securityContext\.runAsUser"):
            podchecks.identity(pod, container())

    def test_run_as_non_root_refuses_uid_zero(self) -> None:
        """runAsNonRoot with runAsUser 0 is refused."""
        c = container(securityContext={"runAsNonRoot": True, "runAsUser": 0})
        with pytest.raises(errors.SpecError, match="breaks runAsNonRoot"):
            podchecks.identity(podfixtures.pod(), c)


class TestCommand:
    def test_command_and_args_expand(self) -> None:
        """command and args join and expand."""
        c = container(command=["echo", "$(A)"], args=["x"])
        assert podchecks.command(c, lambda t: t.replace("$(A)", "a")) == ["echo", "a", "x"]

    def test_args_alone_are_refused(self) -> None:
        """A container without command is refused: images are ignored."""
        with pytest.raises(errors.SpecError, match="has no command"):
            podchecks.command({"name": "main", "args": ["x"]}, str)

    def test_working_dir_defaults_to_root(self) -> None:
        """Without workingDir the process starts in /."""
        assert podchecks.working_dir(container()) == "/"
        assert podchecks.working_dir(container(workingDir="/w")) == "/w"
