"""Tests for videodl.worker.guard: writes, connections and programs at the point they happen."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable

import pytest
from tests.listeners import connected, listener

from videodl.worker import egress, guard
from videodl.worker.egress import EgressRefusedError
from videodl.worker.paths import OutputPathRefusedError

LOOPBACK = egress.Policy.of(["127.0.0.0/8", "::1/128"])


@pytest.fixture
def out(tmp_path: pathlib.Path) -> pathlib.Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


def make(out: pathlib.Path, policy: egress.Policy = LOOPBACK, **kwargs: object) -> guard.Guard:
    return guard.Guard(output_dir=out, policy=policy, **kwargs)  # type: ignore[arg-type]


def refused(attempt: guard.Guard, action: Callable[[], object]) -> BaseException | None:
    """Run ``action`` under ``attempt``; the refusal the guard ended with, or None."""
    try:
        with guard.active(attempt):
            action()
    except (OutputPathRefusedError, EgressRefusedError) as exc:
        return exc
    return None


class TestWrites:
    def test_writes_inside_pass(self, out: pathlib.Path) -> None:
        """Files, directories, renames, temporary files and removals inside are untouched."""
        with guard.active(make(out)):
            (out / "a").mkdir()
            (out / "a" / "v.mp4.part").write_bytes(b"x")
            (out / "a" / "v.mp4.part").rename(out / "a" / "v.mp4")
            with tempfile.NamedTemporaryFile(dir=out, delete=False) as handle:
                handle.write(b"{}")
            pathlib.Path(handle.name).unlink()
            os.makedirs(out, exist_ok=True)  # noqa: PTH103 - what yt-dlp calls
            os.utime(out / "a" / "v.mp4")
        assert (out / "a" / "v.mp4").read_bytes() == b"x"

    def test_a_write_outside_is_refused_before_it_happens(
        self, out: pathlib.Path, tmp_path: pathlib.Path
    ) -> None:
        """Opening a file outside for writing raises, and the file is never created."""
        error = refused(make(out), lambda: (out / ".." / "escape.json").write_text("{}"))
        assert isinstance(error, OutputPathRefusedError)
        assert "outside the output directory" in str(error)
        assert not (tmp_path / "escape.json").exists()

    @pytest.mark.parametrize(
        "operation",
        [
            lambda out: os.mkdir(out.parent / "d"),  # noqa: PTH102
            lambda out: os.rename(out / "f", out.parent / "f"),  # noqa: PTH104
            lambda out: os.replace(out / "f", out.parent / "f"),  # noqa: PTH105
            lambda out: os.link(out / "f", out.parent / "f"),
            lambda out: os.symlink(out.parent, out / "link"),  # noqa: PTH211
            lambda out: os.remove(out.parent / "victim"),  # noqa: PTH107
            lambda out: os.truncate(out.parent / "victim", 0),
            lambda out: os.utime(out.parent / "victim"),
            lambda out: os.chmod(out.parent / "victim", 0o600),  # noqa: PTH101
            lambda out: tempfile.NamedTemporaryFile(dir=out.parent),  # noqa: SIM115
            lambda out: os.open(out.parent / "victim", os.O_WRONLY | os.O_APPEND),
            lambda out: shutil.copyfile(out / "f", out.parent / "copy"),
        ],
        ids=[
            "mkdir", "rename", "replace", "link", "symlink-target", "remove", "truncate",
            "utime", "chmod", "tempfile", "os.open", "copyfile",
        ],
    )  # fmt: skip
    def test_every_kind_of_write_outside_is_refused(
        self, out: pathlib.Path, tmp_path: pathlib.Path, operation: object
    ) -> None:
        """Creating, moving, linking, removing or changing anything outside is refused."""
        (out / "f").write_text("inside")
        victim = tmp_path / "victim"
        victim.write_text("keep")
        before = sorted(p.name for p in tmp_path.iterdir())
        attempt = make(out)
        error = refused(attempt, lambda: operation(out))  # type: ignore[operator]
        assert isinstance(error, OutputPathRefusedError)
        assert sorted(p.name for p in tmp_path.iterdir()) == before
        assert victim.read_text() == "keep"
        assert (out / "f").read_text() == "inside"
        assert attempt.refusals

    def test_a_symlink_planted_at_a_derived_name_is_refused(
        self, out: pathlib.Path, tmp_path: pathlib.Path
    ) -> None:
        """A .part file linked to a file outside cannot be written through."""
        victim = tmp_path / "victim"
        (out / "v.mp4.part").symlink_to(victim)
        error = refused(make(out), lambda: (out / "v.mp4.part").open("ab").close())
        assert isinstance(error, OutputPathRefusedError)
        assert str(victim) in str(error)
        assert not victim.exists()

    def test_named_files_and_dev_null_are_writable(
        self, out: pathlib.Path, tmp_path: pathlib.Path
    ) -> None:
        """The cookie jar's copy and /dev/null may be written; their neighbours may not."""
        cookies = tmp_path / "cookies.txt"
        with guard.active(make(out, writable_files=[cookies])):
            cookies.write_text("# Netscape HTTP Cookie File\n")
            subprocess.run(
                ["ffmpeg", "-version"], stdin=subprocess.DEVNULL, capture_output=True, check=True
            )
        assert refused(make(out), lambda: cookies.write_text("")) is not None

    def test_reads_outside_pass(self, out: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """Reading is not writing: yt-dlp reads its own package, certificates and cookies."""
        (tmp_path / "data").write_text("read me")
        with guard.active(make(out)):
            assert (tmp_path / "data").read_text() == "read me"

    def test_a_nul_byte_is_refused_as_a_path(self, out: pathlib.Path) -> None:
        """A name with a NUL byte is an OutputPathRefusedError, not a ValueError crash."""
        attempt = make(out)
        with pytest.raises(OutputPathRefusedError, match="NUL"):
            attempt.check_write("write", str(out / "a\0b"))

    def test_operations_relative_to_a_directory_descriptor_are_refused(
        self, out: pathlib.Path
    ) -> None:
        """A path relative to a directory descriptor cannot be resolved, so it is refused."""
        fd = os.open(out.parent, os.O_RDONLY)
        try:
            error = refused(make(out), lambda: os.mkdir("d", dir_fd=fd))
        finally:
            os.close(fd)
        assert "directory descriptor" in str(error)
        assert not (out.parent / "d").exists()


class TestSticky:
    def test_a_swallowed_refusal_still_ends_the_block(
        self, out: pathlib.Path, tmp_path: pathlib.Path
    ) -> None:
        """Code that catches the refusal and carries on still fails when the guard ends."""

        def carry_on() -> None:
            with contextlib.suppress(Exception):
                (tmp_path / "x").write_text("")
            (out / "after").write_text("")

        assert isinstance(refused(make(out), carry_on), OutputPathRefusedError)
        assert not (tmp_path / "x").exists()
        assert (out / "after").exists()

    def test_the_refusal_replaces_what_it_caused(self, out: pathlib.Path) -> None:
        """An error raised because of a refusal gives way to the refusal itself."""

        def rewrap() -> None:
            try:
                socket.create_connection(("127.0.0.1", 9), timeout=1)
            except OSError:
                msg = "no supporting handler"
                raise RuntimeError(msg) from None

        error = refused(make(out, egress.Policy()), rewrap)
        assert isinstance(error, EgressRefusedError)
        assert isinstance(error.__cause__, RuntimeError)

    def test_the_hook_is_inert_outside_a_guard(self, out: pathlib.Path) -> None:
        """After the block, writes anywhere and connections to loopback work again."""
        with contextlib.suppress(OutputPathRefusedError), guard.active(make(out)):
            (out.parent / "refused").write_text("")
        (out.parent / "later").write_text("fine")
        with listener() as sock:
            socket.create_connection(sock.getsockname(), timeout=1).close()
            assert connected(sock)

    def test_guards_do_not_nest(self, out: pathlib.Path) -> None:
        """A second guard while one is active is a bug, reported as such."""
        with guard.active(make(out)), pytest.raises(RuntimeError), guard.active(make(out)):
            pass


class TestConnections:
    def test_a_refused_address_is_never_connected_to(self, out: pathlib.Path) -> None:
        """With loopback not allowed, a connection to it is refused before it is attempted."""
        with listener() as sock:
            port = sock.getsockname()[1]
            error = refused(
                make(out, egress.Policy()),
                lambda: socket.create_connection(("localhost", port), timeout=1),
            )
            assert not connected(sock)
        assert isinstance(error, EgressRefusedError)
        assert "loopback" in str(error)
        assert "(localhost)" in str(error)
        assert "--worker-allowed-networks" in str(error)

    def test_an_allowed_network_is_connected_to(self, out: pathlib.Path) -> None:
        """An address in an allowed network is reached as usual."""
        with listener() as sock, guard.active(make(out, LOOPBACK)):
            socket.create_connection(sock.getsockname(), timeout=1).close()
            assert connected(sock)

    def test_only_the_allowed_part_of_loopback_is_reachable(self, out: pathlib.Path) -> None:
        """Allowing 127.0.0.1/32 does not allow 127.0.0.2."""
        with listener("127.0.0.2") as sock:
            with (
                pytest.raises(EgressRefusedError),
                guard.active(make(out, egress.Policy.of(["127.0.0.1/32"]))),
            ):
                socket.create_connection(sock.getsockname(), timeout=1)
            assert not connected(sock)

    def test_datagrams_are_checked_too(self, out: pathlib.Path) -> None:
        """A UDP datagram to a refused address is not sent."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
            receiver.bind(("127.0.0.1", 0))
            receiver.setblocking(False)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                error = refused(
                    make(out, egress.Policy()), lambda: sender.sendto(b"x", receiver.getsockname())
                )
            assert isinstance(error, EgressRefusedError)
            with pytest.raises(BlockingIOError):
                receiver.recv(1)

    def test_an_exempt_thread_connects_anywhere(self, out: pathlib.Path) -> None:
        """The progress patcher's thread reaches the apiserver whatever the policy."""
        outcome: list[bool] = []

        def patcher(address: tuple[str, int]) -> None:
            guard.exempt_current_thread()
            socket.create_connection(address, timeout=1).close()
            outcome.append(True)

        with listener() as sock, guard.active(make(out, egress.Policy())):
            thread = threading.Thread(target=patcher, args=(sock.getsockname(),))
            thread.start()
            thread.join(5)
            assert outcome == [True]
            assert connected(sock)

    def test_other_threads_are_guarded(self, out: pathlib.Path) -> None:
        """A thread yt-dlp might start is not exempt: the guard covers the whole process."""
        errors: list[BaseException] = []

        def fetcher(address: tuple[str, int]) -> None:
            try:
                socket.create_connection(address, timeout=1).close()
            except EgressRefusedError as exc:
                errors.append(exc)

        with listener() as sock:
            thread = threading.Thread(target=fetcher, args=(sock.getsockname(),))
            error = refused(make(out, egress.Policy()), lambda: (thread.start(), thread.join(5)))
            assert isinstance(error, EgressRefusedError)
            assert len(errors) == 1
            assert not connected(sock)


class TestPrograms:
    def test_ffmpeg_on_files_inside_passes(self, out: pathlib.Path) -> None:
        """ffmpeg and ffprobe may read and write files in the output directory."""
        attempt = make(out)
        attempt.check_program(
            "ffmpeg", ["ffmpeg", "-y", "-i", f"file:{out}/a.mp4", f"file:{out}/b.mp4"]
        )
        attempt.check_program(None, ["/usr/bin/ffprobe", "-show_streams", f"file:{out}/a.mp4"])
        attempt.check_program("ffmpeg", ["ffmpeg", "-version"])
        assert attempt.refusals == []

    @pytest.mark.parametrize(
        "url", ["http://169.254.169.254/x.m3u8", "https://cdn.example/a.m3u8", "tcp://10.0.0.1:1"]
    )
    def test_ffmpeg_fetching_by_itself_is_refused(self, out: pathlib.Path, url: str) -> None:
        """A URL as ffmpeg's input would connect where the guard cannot see: refused."""
        with pytest.raises(EgressRefusedError, match="ffmpeg"):
            make(out).check_program("ffmpeg", ["ffmpeg", "-i", url, f"file:{out}/v.mp4"])

    def test_ffmpeg_writing_outside_is_refused(self, out: pathlib.Path) -> None:
        """ffmpeg's output file is checked like any write."""
        with pytest.raises(OutputPathRefusedError):
            make(out).check_program("ffmpeg", ["ffmpeg", "-i", f"file:{out}/a", "file:/etc/x"])

    def test_other_programs_are_refused(self, out: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """Any other installed program is refused, and it does not run."""
        marker = tmp_path / "ran"
        error = refused(make(out), lambda: subprocess.run(["touch", str(marker)], check=False))
        assert isinstance(error, EgressRefusedError)
        assert "runs no program but ffmpeg and ffprobe" in str(error)
        assert not marker.exists()

    def test_a_missing_program_may_be_probed(self, out: pathlib.Path) -> None:
        """yt-dlp probing for a tool that is not installed finds nothing, as without a guard."""
        with guard.active(make(out)), pytest.raises(FileNotFoundError):
            subprocess.run(["videodl-no-such-program", "-v"], check=False)
