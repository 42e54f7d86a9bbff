"""Tests for the container start script."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl_devkit.processnode import mountscript, volumeplan

TOOLS = mountscript.Tools()


def build(
    argv: list[str],
    identity: mountscript.Identity | None = None,
    mounts: list[volumeplan.Mount] | None = None,
) -> str:
    return mountscript.script(
        mounts=mounts or [],
        working_dir="/work dir",
        argv=argv,
        identity=identity or mountscript.Identity(),
        started_marker="/state/started",
        tools=TOOLS,
    )


class TestScript:
    def test_mounts_then_working_dir_then_exec(self) -> None:
        """Mount points are created and bound, read-only ones remounted, then the command runs."""
        text = build(
            ["python3", "-c", "print('hi')"],
            mounts=[
                volumeplan.Mount("/s/data", "/data", read_only=False),
                volumeplan.Mount("/s/cfg", "/etc/cfg", read_only=True),
            ],
        )
        lines = text.splitlines()
        assert lines[1] == "exec 10< /s/data || fail 'cannot open volume source /s/data'"
        assert lines[2] == "exec 11< /s/cfg || fail 'cannot open volume source /s/cfg'"
        assert lines[3].startswith("exec 12< /state ")
        assert lines[4].startswith("if [ -d /proc/self/fd/10 ]; then /bin/mkdir -p -- /data;")
        assert lines[5] == (
            "/bin/mount --no-canonicalize --bind /proc/self/fd/10 /data "
            "|| fail 'cannot bind-mount /s/data at /data'"
        )
        assert lines[8] == (
            "/bin/mount -o remount,bind,ro /etc/cfg || fail 'cannot make /etc/cfg read-only'"
        )
        assert "cd -- '/work dir'" in lines[9]
        assert lines[10].startswith("command -v -- python3 ")
        assert lines[11].startswith(": > /proc/self/fd/12/started")
        assert lines[12] == "exec 10<&- 11<&- 12<&-"
        assert lines[13].startswith("exec /usr/bin/setpriv --reuid=0 --regid=0 --clear-groups")

    def test_sources_are_opened_before_any_mount(self) -> None:
        """Every source is held open before the first mount, which may hide the agent's state."""
        text = build(
            ["true"],
            mounts=[
                volumeplan.Mount("/tmp/state/empty", "/tmp", read_only=False),
                volumeplan.Mount("/tmp/state/term", "/dev/termination-log", read_only=False),
            ],
        )
        lines = text.splitlines()
        first_mount = next(
            i for i, line in enumerate(lines) if "/bin/mount --no-canonicalize --bind" in line
        )
        opened = [line for line in lines[:first_mount] if line.startswith("exec 1")]
        assert len(opened) == 3, "two sources and the marker directory"
        commands = [line.split("|| fail")[0] for line in lines[first_mount:]]
        assert not any("/tmp/state" in command for command in commands)

    def test_file_targets_are_created_as_empty_files(self) -> None:
        """A file source gets an empty file as mount point, in a created parent directory."""
        text = build(
            ["true"], mounts=[volumeplan.Mount("/s/term", "/dev/termination-log", read_only=False)]
        )
        assert (
            "else /bin/mkdir -p -- /dev && "
            "{ [ -e /dev/termination-log ] || : > /dev/termination-log; }; fi" in text
        )

    def test_identity_flags(self) -> None:
        """uid, gid, groups, no_new_privs and dropped capabilities reach setpriv."""
        identity = mountscript.Identity(
            uid=1000, gid=2000, groups=(3000, 4000), no_new_privs=True, drop_all_capabilities=True
        )
        exec_line = build(["app"], identity).splitlines()[-1]
        assert shlex.split(exec_line) == [
            "exec",
            "/usr/bin/setpriv",
            "--reuid=1000",
            "--regid=2000",
            "--groups=3000,4000",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--pdeathsig=KILL",
            "--",
            "app",
        ]

    def test_setup_failures_exit_128(self) -> None:
        """The fail helper exits with the setup-failure code."""
        assert build(["true"]).splitlines()[0].endswith(f"exit {mountscript.SETUP_FAILED_EXIT}; }}")

    def test_missing_command_message(self) -> None:
        """The not-found message names the command like a container runtime does."""
        assert 'exec: "nope": executable file not found in $PATH' in build(["nope"])

    def test_empty_argv_is_refused(self) -> None:
        """There is no script without a command."""
        with pytest.raises(ValueError, match="command"):
            build([])

    @given(
        st.lists(
            st.text(
                alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                min_size=0,
            ),
            min_size=1,
            max_size=5,
        )
    )
    def test_argv_survives_quoting(self, argv: list[str]) -> None:
        """Whatever the arguments hold, the shell sees exactly the original argv."""
        marker = "|| fail 'cannot write the start marker'\n"
        exec_line = build(argv).split(marker, 1)[1]
        words = shlex.split(exec_line)
        assert words[words.index("--") + 1 :] == argv


class TestLaunchArgv:
    def test_private_mount_namespace(self) -> None:
        """The script runs under unshare with a private mount namespace."""
        argv = mountscript.launch_argv("echo", TOOLS)
        assert argv[:5] == ["/usr/bin/unshare", "--mount", "--propagation", "private", "--"]
        assert argv[5:] == ["/bin/bash", "-c", "echo"]


class TestImagePaths:
    def test_an_image_path_under_a_volume_is_bound_back_before_read_only(self) -> None:
        """A virtualenv under an emptyDir's mount point is bound back over it, then the
        volume is remounted read-only."""
        text = mountscript.script(
            mounts=[volumeplan.Mount("/s/tmp", "/tmp", read_only=True)],
            working_dir="/",
            argv=["python3"],
            identity=mountscript.Identity(),
            started_marker="/state/started",
            tools=TOOLS,
            image_paths=["/tmp/co/.venv", "/usr/lib/python3"],
        )
        lines = text.splitlines()
        opened = lines.index(
            "exec 12< /tmp/co/.venv || fail 'cannot open image path /tmp/co/.venv'"
        )
        bind = lines.index(
            "/bin/mount --no-canonicalize --bind /proc/self/fd/10 /tmp "
            "|| fail 'cannot bind-mount /s/tmp at /tmp'"
        )
        rebind = next(i for i, line in enumerate(lines) if "/proc/self/fd/12 /tmp/co/.venv" in line)
        readonly = next(i for i, line in enumerate(lines) if "remount,bind,ro /tmp" in line)
        assert opened < bind < rebind < readonly
        assert lines[rebind].startswith(
            "/bin/mkdir -p -- /tmp/co/.venv && /bin/mount --no-canonicalize --bind"
        )
        assert "/usr/lib/python3" not in text
        assert "exec 10<&- 11<&- 12<&-" in lines

    def test_only_the_last_covering_mount_rebinds(self) -> None:
        """With nested volumes over an image path, it is bound back after the deepest one."""
        mounts = [
            volumeplan.Mount("/s/a", "/tmp", read_only=False),
            volumeplan.Mount("/s/b", "/tmp/co", read_only=False),
        ]
        assert mountscript.hidden_image_paths(mounts, ["/tmp/co/src", "/tmp/x", "/tmp"]) == {
            "/tmp/co/src": 1,
            "/tmp/x": 0,
        }

    @given(st.lists(st.sampled_from(["/tmp", "/tmp/a", "/data", "/tmp/a/b", "/"]), max_size=4))
    def test_a_volume_exactly_at_an_image_path_replaces_it(self, targets: list[str]) -> None:
        """Only strict parents hide an image path; a volume mounted at the path itself wins."""
        mounts = [volumeplan.Mount(f"/s{i}", t, read_only=False) for i, t in enumerate(targets)]
        hidden = mountscript.hidden_image_paths(mounts, ["/tmp/a"])
        parents = [i for i, t in enumerate(targets) if t in ("/tmp", "/")]
        assert hidden == ({"/tmp/a": parents[-1]} if parents else {})
