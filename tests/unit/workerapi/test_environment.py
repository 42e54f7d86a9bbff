"""Tests for videodl.workerapi.environment."""

from __future__ import annotations

import json

import pytest

from videodl.api.media import FormatPreset
from videodl.api.spec import VideoDownloadSpec
from videodl.workerapi import environment as env
from videodl.workerapi.environment import (
    ExtractorHint,
    InvalidEnvironmentError,
    encode_spec,
    load,
)

SPEC = json.dumps({"url": "https://example.com/v", "format": {"preset": "720p"}})


def base(**overrides: str) -> dict[str, str]:
    values = {env.SPEC: SPEC, env.NAME: "dl", env.NAMESPACE: "media"}
    values.update(overrides)
    return values


class TestLoad:
    def test_defaults(self) -> None:
        """Only the spec and the object's name are needed; the rest has defaults."""
        job = load(base())
        assert job.spec.url == "https://example.com/v"
        assert job.spec.format.preset == FormatPreset.P720
        assert (job.name, job.namespace, job.attempt) == ("dl", "media", 1)
        assert job.output_dir == "/data"
        assert job.tmp_dir == "/tmp"
        assert job.termination_message_path == "/dev/termination-log"
        assert job.progress_interval_seconds == 5.0
        assert job.progress_enabled
        assert job.cookies_file is None
        assert job.allowed_networks == ()
        assert job.extractor is None

    def test_everything_set(self) -> None:
        """Every variable is read."""
        spec = json.dumps({"url": "https://e.com/v", "cookies": {"secretRef": {"name": "c"}}})
        job = load(
            base(
                **{
                    env.SPEC: spec,
                    env.ATTEMPT: "3",
                    env.OUTPUT_DIR: "/out",
                    env.TMP_DIR: "/scratch",
                    env.TERMINATION_MESSAGE_PATH: "/msg",
                    env.PROGRESS_INTERVAL_SECONDS: "0.5",
                    env.COOKIES_FILE: "/cookies/cookies.txt",
                    env.ALLOWED_NETWORKS: "127.0.0.0/8, ::1/128",
                }
            )
        )
        assert job.allowed_networks == ("127.0.0.0/8", "::1/128")
        assert job.attempt == 3
        assert job.output_dir == "/out"
        assert job.tmp_dir == "/scratch"
        assert job.termination_message_path == "/msg"
        assert job.progress_interval_seconds == 0.5
        assert job.cookies_file == "/cookies/cookies.txt"

    def test_progress_off_needs_no_object(self) -> None:
        """Local runs without a cluster need neither name nor namespace."""
        job = load({env.SPEC: SPEC, env.PROGRESS: "off"})
        assert not job.progress_enabled
        assert job.name is None

    @pytest.mark.parametrize(
        ("overrides", "variable", "hint"),
        [
            ({env.SPEC: ""}, env.SPEC, "missing"),
            ({env.SPEC: "{"}, env.SPEC, "not valid JSON"),
            ({env.SPEC: "[1]"}, env.SPEC, "JSON object"),
            ({env.SPEC: '{"url": "ftp://x/y"}'}, env.SPEC, "spec.url"),
            ({env.SPEC: '{"url": "https://x/y", "colour": 1}'}, env.SPEC, "spec.colour"),
            ({env.NAME: ""}, env.NAME, f"{env.PROGRESS}=off"),
            ({env.NAMESPACE: ""}, env.NAMESPACE, "missing"),
            ({env.ATTEMPT: "0"}, env.ATTEMPT, ">= 1"),
            ({env.ATTEMPT: "two"}, env.ATTEMPT, ">= 1"),
            ({env.PROGRESS_INTERVAL_SECONDS: "-1"}, env.PROGRESS_INTERVAL_SECONDS, "seconds"),
            ({env.PROGRESS_INTERVAL_SECONDS: "nan"}, env.PROGRESS_INTERVAL_SECONDS, "seconds"),
            ({env.OUTPUT_DIR: "data"}, env.OUTPUT_DIR, "absolute"),
            ({env.PROGRESS: "maybe"}, env.PROGRESS, "'on' or 'off'"),
            ({env.ALLOWED_NETWORKS: "10.0.0.1/8"}, env.ALLOWED_NETWORKS, "write 10.0.0.0/8"),
            ({env.ALLOWED_NETWORKS: "loopback"}, env.ALLOWED_NETWORKS, "not a network"),
            (
                {env.SPEC: '{"url": "https://x/y", "cookies": {"secretRef": {"name": "c"}}}'},
                env.COOKIES_FILE,
                "mount the Secret",
            ),
        ],
    )
    def test_errors_name_the_variable(
        self, overrides: dict[str, str], variable: str, hint: str
    ) -> None:
        """A bad environment is refused with the variable's name and what to do."""
        with pytest.raises(InvalidEnvironmentError) as caught:
            load(base(**overrides))
        assert caught.value.variable == variable
        assert str(caught.value).startswith(variable + ": ")
        assert hint in str(caught.value)
        assert caught.value.bad_spec == (variable == env.SPEC)


class TestNetworks:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("", ()),
            (" , ", ()),
            ("127.0.0.1", ("127.0.0.1/32",)),
            ("10.0.0.0/8,fd00::/8", ("10.0.0.0/8", "fd00::/8")),
            ("::1/128, ::1/128 ,127.0.0.0/8", ("::1/128", "127.0.0.0/8")),
            ("2001:DB8::/32", ("2001:db8::/32",)),
        ],
    )
    def test_parse_normalises(self, raw: str, expected: tuple[str, ...]) -> None:
        """CIDRs are normalised, bare addresses become single-address networks, repeats go."""
        assert env.parse_networks(raw) == expected

    @pytest.mark.parametrize("raw", ["10.0.0.0/33", "300.0.0.0/8", "example.com", "10.0.0.0/8;x"])
    def test_parse_refuses_what_is_no_network(self, raw: str) -> None:
        """Anything that is not a CIDR is refused, saying how one looks."""
        with pytest.raises(ValueError, match="is not a network such as"):
            env.parse_networks(raw)

    def test_encoded_networks_parse_back(self) -> None:
        """What the operator writes on the Pod, the worker reads back unchanged."""
        networks = ("127.0.0.0/8", "::1/128", "192.168.10.0/24")
        assert env.parse_networks(env.encode_networks(networks)) == networks


class TestEncodeSpec:
    def test_round_trip(self) -> None:
        """What the operator puts in VIDEODL_SPEC, the worker reads back unchanged."""
        spec = VideoDownloadSpec.model_validate(
            {
                "url": "https://example.com/watch?v=1",
                "format": {"preset": "AudioOnly"},
                "audio": {"extract": True, "codec": "mp3"},
                "output": {"template": "%(title)s.%(ext)s", "subPath": "music"},
                "network": {"rateLimitBytesPerSecond": 100000},
                "force": True,
            }
        )
        encoded = encode_spec(spec)
        assert '"rateLimitBytesPerSecond":100000' in encoded
        assert load({env.SPEC: encoded, env.PROGRESS: "off"}).spec == spec


class TestExtractorHint:
    def test_round_trip(self) -> None:
        """What the operator writes is what the worker reads."""
        hint = ExtractorHint(key="Youtube", version="2026.10.26")
        assert hint.encode() == "Youtube@2026.10.26"
        job = load(base(**{env.EXTRACTOR: hint.encode()}))
        assert job.extractor == hint

    @pytest.mark.parametrize(
        "raw", ["", "Youtube", "Youtube@", "@2026.10.26", "You tube@1", "a.b@1", "  "]
    )
    def test_a_malformed_hint_is_no_hint(self, raw: str) -> None:
        """The hint is only a shortcut: one the worker cannot read leaves yt-dlp to search
        every extractor, as it does without one, rather than failing the attempt."""
        assert ExtractorHint.parse(raw) is None
        assert load(base(**{env.EXTRACTOR: raw})).extractor is None
