"""The spec models: defaults, rules with field-named messages, round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from pydantic import ValidationError

from videodl.api import crd, schema, structural
from videodl.api.errors import describe_errors
from videodl.api.media import AudioCodec, FormatPreset, FormatSpec
from videodl.api.output import DEFAULT_OUTPUT_TEMPLATE
from videodl.api.retry import BackoffSpec
from videodl.api.spec import DeletionPolicy, Priority, VideoDownloadSpec

from .strategies import specs

URL = "https://example.com/watch?v=abc"
SPEC_SCHEMA = schema.spec_schema()
CRD_SPEC_SCHEMA = crd.openapi_schema(explain=True)["properties"]["spec"]


def problems(raw: dict[str, Any]) -> list[str]:
    """The field-named problems pydantic reports for ``raw`` as a spec."""
    with pytest.raises(ValidationError) as caught:
        VideoDownloadSpec.model_validate(raw)
    return describe_errors(caught.value, prefix="spec")


def apply_defaults(value: Any, node: dict[str, Any]) -> Any:
    """Structural defaulting as the apiserver does it: missing fields get their
    schema default, then defaulting continues inside every object."""
    if isinstance(value, dict) and "properties" in node:
        out = dict(value)
        for name, sub in node["properties"].items():
            if name not in out and "default" in sub:
                out[name] = sub["default"]
            if name in out:
                out[name] = apply_defaults(out[name], sub)
        return out
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [apply_defaults(item, node["items"]) for item in value]
    return value


class TestDefaults:
    def test_minimal_spec_gets_every_documented_default(self) -> None:
        """A spec with only a URL gets the documented defaults."""
        parsed = VideoDownloadSpec.model_validate({"url": URL})
        assert parsed.priority is Priority.NORMAL
        assert parsed.format.preset is FormatPreset.BEST
        assert parsed.format.selector is None
        assert parsed.output.template == DEFAULT_OUTPUT_TEMPLATE
        assert parsed.output.restrict_filenames is False
        assert parsed.retry.max_attempts == 3
        assert parsed.retry.backoff == BackoffSpec(initial_seconds=10, factor=2, max_seconds=600)
        assert parsed.deletion_policy is DeletionPolicy.RETAIN
        assert parsed.suspend is False
        assert parsed.force is False
        assert parsed.audio is None
        assert parsed.cookies is None

    def test_minimal_dump_matches_apiserver_defaulting(self) -> None:
        """Dumping a minimal spec gives exactly what CRD defaulting produces."""
        dumped = VideoDownloadSpec.model_validate({"url": URL}).model_dump(
            by_alias=True, exclude_none=True, mode="json"
        )
        assert dumped == apply_defaults({"url": URL}, SPEC_SCHEMA)

    def test_cookies_key_defaults_to_cookies_txt(self) -> None:
        """A cookies Secret reference without a key uses cookies.txt."""
        parsed = VideoDownloadSpec.model_validate(
            {"url": URL, "cookies": {"secretRef": {"name": "site-cookies"}}}
        )
        assert parsed.cookies is not None
        assert parsed.cookies.secret_ref.key == "cookies.txt"

    def test_feature_blocks_fill_their_own_defaults(self) -> None:
        """A present audio or subtitles block gets its field defaults."""
        parsed = VideoDownloadSpec.model_validate({"url": URL, "audio": {}, "subtitles": {}})
        assert parsed.audio is not None
        assert parsed.audio.codec is AudioCodec.BEST
        assert parsed.audio.extract is False
        assert parsed.subtitles is not None
        assert parsed.subtitles.languages == ["en"]

    @given(specs)
    def test_model_defaults_equal_crd_defaults(self, raw: dict[str, Any]) -> None:
        """Parsing a spec before or after the CRD's defaulting gives the same model."""
        defaulted = apply_defaults(raw, SPEC_SCHEMA)
        assert VideoDownloadSpec.model_validate(defaulted) == VideoDownloadSpec.model_validate(raw)


class TestPriority:
    def test_rank_orders_lowest_to_critical(self) -> None:
        """rank runs 0..4 from Lowest to Critical."""
        ranks = [p.rank for p in (Priority.LOWEST, Priority.LOW, Priority.NORMAL)]
        ranks += [Priority.HIGH.rank, Priority.CRITICAL.rank]
        assert ranks == [0, 1, 2, 3, 4]

    def test_values_are_the_manifest_spelling(self) -> None:
        """Members compare equal to the strings users write."""
        assert Priority("Critical") is Priority.CRITICAL
        assert Priority.HIGH == "High"


class TestFormat:
    def test_preset_and_selector_together_are_rejected(self) -> None:
        """Setting both preset and selector names both fields and the fix."""
        found = problems({"url": URL, "format": {"preset": "720p", "selector": "bv+ba"}})
        assert found == [
            "spec.format.preset and spec.format.selector are mutually exclusive: remove one of them"
        ]

    def test_selector_alone_leaves_preset_unset(self) -> None:
        """A selector is used as is, without a preset."""
        parsed = FormatSpec.model_validate({"selector": "bv*+ba/b"})
        assert parsed.preset is None
        assert parsed.selector == "bv*+ba/b"

    def test_neither_means_best(self) -> None:
        """A format block with only a container still downloads the best formats."""
        parsed = FormatSpec.model_validate({"container": "mkv"})
        assert parsed.preset is FormatPreset.BEST

    def test_unknown_preset_lists_the_choices(self) -> None:
        """An unknown preset is reported at spec.format.preset with the allowed values."""
        (found,) = problems({"url": URL, "format": {"preset": "4k"}})
        assert found.startswith("spec.format.preset: ")
        assert "'720p'" in found


class TestUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "https://www.youtube.com/watch?v=aqz-KE-bpKQ",
            "http://127.0.0.1:8080/media/clip.mp4",
            "https://example.com",
            "https://example.com?list=1",
            "https://example.com:8443/a/b#t=10",
            "https://example.com:1/",
            "https://example.com:65535/",
            "https://www.tiktok.com/@user/video/1?lang=en&at=@x",
            "http://[::1]:8080/x",
            "http://[2001:db8::1]/v.mp4",
            "http://[::ffff:192.0.2.1]/",
        ],
    )
    def test_http_urls_are_accepted(self, url: str) -> None:
        """Absolute http(s) URLs with a host (IPv6 in brackets) and a valid port are accepted."""
        assert VideoDownloadSpec.model_validate({"url": url}).url == url

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://example.com/video.mp4",
            "example.com/watch",
            "https://exa mple.com/",
            "https://example.com/a b",
            "https://example.com/\x00",
            "https://example.com/\x85",
            "https://example.com\n",
            "HTTPS://example.com/",
            "file:///etc/passwd",
        ],
    )
    def test_other_urls_are_rejected_naming_the_field(self, url: str) -> None:
        """Anything but an http(s) URL free of spaces and control characters is rejected
        with spec.url's first rule."""
        (found,) = problems({"url": url})
        assert found.startswith("spec.url must be an http:// or https:// URL")

    @pytest.mark.parametrize(
        "url",
        [
            "https://",
            "https:///path",
            "http:///x",
            "http://:80/x",
            "http://?q",
            "http://[]/x",
            "http://[1.2.3.4]/x",
            "http://[::1/x",
            "http://a[b]/x",
            "http://a\\b/x",
        ],
    )
    def test_urls_without_a_host_are_rejected(self, url: str) -> None:
        """A URL with no host, or a malformed one, is rejected with the host rule."""
        (found,) = problems({"url": url})
        assert found.startswith("spec.url must name a host after the scheme")

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:99999/v.mp4",
            "http://example.com:0/",
            "http://example.com:65536/",
            "http://example.com:/",
            "http://example.com:080/",
            "http://example.com:8o/",
            "http://example.com:80:80/",
            "http://[::1]:99999/",
            "http://[::1]:80]/",
        ],
    )
    def test_ports_outside_1_to_65535_are_rejected(self, url: str) -> None:
        """A port that is not a number from 1 to 65535 is rejected with the port rule."""
        (found,) = problems({"url": url})
        assert found.startswith("spec.url has a port that is not a number from 1 to 65535")

    @pytest.mark.parametrize(
        "url",
        ["https://user:secret@example.com/v.mp4", "https://user@example.com:8443/a", "http://@h/"],
    )
    def test_credentials_in_the_url_are_rejected(self, url: str) -> None:
        """User names and passwords in the URL are rejected, pointing to spec.cookies."""
        (found,) = problems({"url": url})
        assert found.startswith("spec.url may not contain a user name or password")
        assert "spec.cookies" in found

    def test_url_is_required(self) -> None:
        """A spec without url reports spec.url as missing."""
        assert problems({"priority": "High"}) == ["spec.url: required field is missing"]

    def test_url_longer_than_2048_is_rejected(self) -> None:
        """A 3000-character URL is reported at spec.url as too long."""
        (found,) = problems({"url": "https://example.com/" + "a" * 2980})
        assert found.startswith("spec.url: ")
        assert "2048" in found

    def test_url_may_not_change(self) -> None:
        """check_update refuses a new URL with the apiserver's message."""
        old = VideoDownloadSpec.model_validate({"url": URL})
        bumped = VideoDownloadSpec.model_validate({"url": URL, "priority": "Critical"})
        bumped.check_update(old)
        moved = VideoDownloadSpec.model_validate({"url": URL + "x"})
        with pytest.raises(ValueError, match=r"^spec.url is immutable: create a new"):
            moved.check_update(old)


class TestOutputPaths:
    @pytest.mark.parametrize(
        ("output", "message"),
        [
            ({"template": "/etc/%(id)s"}, "spec.output.template must be a relative path"),
            ({"template": "~/%(id)s"}, "spec.output.template must be a relative path"),
            ({"template": "../%(id)s"}, "spec.output.template may not contain a '..'"),
            ({"template": "a/../../b"}, "spec.output.template may not contain a '..'"),
            ({"template": "a/.."}, "spec.output.template may not contain a '..'"),
            ({"template": "$HOME/x"}, "spec.output.template may not contain '$'"),
            ({"subPath": "/data"}, "spec.output.subPath must be a relative path"),
            ({"subPath": "shows/../.."}, "spec.output.subPath may not contain a '..'"),
            ({"template": "%(id)s\x00.%(ext)s"}, "spec.output.template may not contain control"),
            ({"template": "a\nb"}, "spec.output.template may not contain control"),
            ({"subPath": "shows\t2024"}, "spec.output.subPath may not contain control"),
            ({"subPath": "\x7f"}, "spec.output.subPath may not contain control"),
        ],
    )
    def test_escaping_paths_are_rejected(self, output: dict[str, str], message: str) -> None:
        """Paths that could leave the volume or hold control characters are rejected,
        naming the field."""
        (found,) = problems({"url": URL, "output": output})
        assert found.startswith(message)

    @pytest.mark.parametrize(
        "template",
        ["%(title)s.%(ext)s", "%(uploader)s/%(title)s [%(id)s].%(ext)s", "a..b/c...d", ".hidden"],
    )
    def test_relative_templates_are_accepted(self, template: str) -> None:
        """Relative templates, dots inside names included, are accepted."""
        parsed = VideoDownloadSpec.model_validate({"url": URL, "output": {"template": template}})
        assert parsed.output.template == template


class TestYtDlpStrings:
    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            (
                {"format": {"selector": "bv*+ba/b\x00"}},
                "spec.format.selector may not contain control characters",
            ),
            (
                {"subtitles": {"languages": ["en", "de\r"]}},
                "spec.subtitles.languages[1]: spec.subtitles.languages entries may not contain "
                "control characters",
            ),
            (
                {"cookies": {"secretRef": {"name": "site", "key": "cookies.txt\n"}}},
                "spec.cookies.secretRef.key: String should match pattern",
            ),
            (
                {"cookies": {"secretRef": {"name": "site", "key": "..cookies"}}},
                "spec.cookies.secretRef.key may not be '.' or start with '..'",
            ),
        ],
    )
    def test_bad_strings_for_yt_dlp_are_rejected(self, raw: dict[str, Any], message: str) -> None:
        """Control characters in selectors, languages and the cookies key are rejected,
        naming the field (and the entry, for a list)."""
        (found,) = problems({"url": URL, **raw})
        assert found.startswith(message)

    def test_ordinary_selectors_and_languages_are_accepted(self) -> None:
        """Selectors and language patterns with yt-dlp's punctuation are accepted."""
        parsed = VideoDownloadSpec.model_validate(
            {
                "url": URL,
                "format": {"selector": "bv*[height<=1080][vcodec^=avc1]+ba/b"},
                "subtitles": {"languages": ["en.*", "de", "all", "-live_chat"]},
            }
        )
        assert parsed.format.selector == "bv*[height<=1080][vcodec^=avc1]+ba/b"
        assert parsed.subtitles is not None
        assert parsed.subtitles.languages == ["en.*", "de", "all", "-live_chat"]


class TestRetry:
    @pytest.mark.parametrize(
        ("retry", "field"),
        [
            ({"maxAttempts": 0}, "spec.retry.maxAttempts: "),
            ({"maxAttempts": 100}, "spec.retry.maxAttempts: "),
            ({"backoff": {"factor": 0.5}}, "spec.retry.backoff.factor: "),
            ({"backoff": {"initialSeconds": 0}}, "spec.retry.backoff.initialSeconds: "),
        ],
    )
    def test_out_of_bounds_values_name_the_field(self, retry: dict[str, Any], field: str) -> None:
        """Bounds violations are reported at the field's path."""
        (found,) = problems({"url": URL, "retry": retry})
        assert found.startswith(field)

    def test_max_below_initial_is_rejected(self) -> None:
        """maxSeconds below initialSeconds names both fields and the fix."""
        (found,) = problems(
            {"url": URL, "retry": {"backoff": {"initialSeconds": 60, "maxSeconds": 30}}}
        )
        assert found == (
            "spec.retry.backoff.maxSeconds must not be below "
            "spec.retry.backoff.initialSeconds: raise maxSeconds or lower initialSeconds"
        )


class TestUnknownFields:
    @pytest.mark.parametrize(
        ("raw", "path"),
        [
            ({"url": URL, "maxAtempts": 3}, "spec.maxAtempts"),
            ({"url": URL, "retry": {"maxAtempts": 3}}, "spec.retry.maxAtempts"),
            ({"url": URL, "output": {"pvc": "x"}}, "spec.output.pvc"),
        ],
    )
    def test_unknown_fields_are_rejected_by_path(self, raw: dict[str, Any], path: str) -> None:
        """A misspelt field is an error naming its full path, not silently ignored."""
        (found,) = problems(raw)
        assert found.startswith(f"{path}: unknown field")


class TestRoundTrip:
    @given(specs)
    def test_dump_and_parse_round_trips(self, raw: dict[str, Any]) -> None:
        """Parsing the JSON dump of a parsed spec gives the same spec."""
        parsed = VideoDownloadSpec.model_validate(raw)
        dumped = parsed.model_dump(by_alias=True, exclude_none=True, mode="json")
        assert VideoDownloadSpec.model_validate(dumped) == parsed

    @given(specs)
    def test_python_names_round_trip(self, raw: dict[str, Any]) -> None:
        """Specs can be rebuilt from snake_case attribute names as well."""
        parsed = VideoDownloadSpec.model_validate(raw)
        assert VideoDownloadSpec.model_validate(parsed.model_dump()) == parsed

    @given(specs)
    def test_every_valid_spec_fits_the_crd_schema(self, raw: dict[str, Any]) -> None:
        """What the models accept and dump, the CRD schema accepts too."""
        dumped = VideoDownloadSpec.model_validate(raw).model_dump(
            by_alias=True, exclude_none=True, mode="json"
        )
        assert structural.value_violations(dumped, CRD_SPEC_SCHEMA, "spec") == []
