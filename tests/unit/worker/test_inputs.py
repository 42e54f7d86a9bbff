"""Tests for videodl.worker.inputs: spec values refused before anything runs."""

from __future__ import annotations

import pytest

from videodl.api.output import OutputSpec
from videodl.api.spec import VideoDownloadSpec
from videodl.worker import inputs
from videodl.workerapi import environment
from videodl.workerapi.environment import InvalidEnvironmentError


def refusal(check: object, value: object) -> InvalidEnvironmentError:
    with pytest.raises(InvalidEnvironmentError) as caught:
        check(value)  # type: ignore[operator]
    assert caught.value.variable == environment.SPEC
    assert caught.value.bad_spec
    return caught.value


class TestUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "https://example.com/watch?v=abc",
            "http://127.0.0.1:8080/media/video.mp4",
            "http://[::1]:8080/v.mp4",
            "https://bücher.example/v",
            "https://example.com./v",
            "http://a_b.example:1/v",
            "http://example.com:65535/",
        ],
    )
    def test_usable_urls_pass(self, url: str) -> None:
        """http(s) URLs with a real host (a name, IPv4, IPv6, IDN) and a valid port pass."""
        inputs.check_url(url)

    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            ("http://@/v.mp4", "no host name"),
            ("http:///v.mp4", "no host name"),
            ("http://:80/v.mp4", "no host name"),
            ("http://127.0.0.1:99999/v.mp4", "port outside 1-65535"),
            ("http://example.com:0/v.mp4", "port outside 1-65535"),
            ("http://example.com:http/v.mp4", "port outside 1-65535"),
            ("http://[::1/v.mp4", "not a valid URL"),
            ("http://a..b/v.mp4", "invalid host name"),
            ("http://" + "a" * 64 + ".example/", "invalid host name"),
            ("http://exa$mple.com/", "characters no host name has"),
            ("ftp://example.com/v.mp4", "http:// or https://"),
            ("file:///etc/passwd", "http:// or https://"),
            ("http://example.com/\x00", "control character (U+0000)"),
            ("http://example.com/a b", "space or control character"),
            ("", "empty"),
        ],
    )
    def test_unusable_urls_are_refused_naming_the_field(self, url: str, problem: str) -> None:
        """A URL without a real host, with a bad port or odd characters is refused as spec.url."""
        error = refusal(inputs.check_url, url)
        assert "spec.url" in str(error)
        assert problem in str(error)


class TestTemplate:
    @pytest.mark.parametrize(
        "template",
        ["%(title).200B [%(id)s].%(ext)s", "%(uploader)s/%(title)s.%(ext)s", "100%% %(id)s"],
    )
    def test_usable_templates_pass(self, template: str) -> None:
        """Ordinary templates, with directories and escaped percent signs, pass."""
        inputs.check_template(template)

    @pytest.mark.parametrize(
        ("template", "problem"),
        [
            ("a\x00b.%(ext)s", "control character (U+0000)"),
            ("a\nb.%(ext)s", "control character (U+000A)"),
            ("a\x7fb", "control character (U+007F)"),
            ("$HOME/%(id)s.%(ext)s", "'$'"),
            ("-", "standard output"),
            ("%(title.%(ext)s", "not a valid yt-dlp template"),
        ],
    )
    def test_unusable_templates_are_refused(self, template: str, problem: str) -> None:
        """NUL and control characters, '$', '-' and broken syntax are refused as the template."""
        error = refusal(inputs.check_template, template)
        assert "spec.output.template" in str(error)
        assert problem in str(error)


class TestLanguages:
    def test_regular_expressions_pass(self) -> None:
        """Languages are yt-dlp's regular expressions, exclusions included."""
        inputs.check_languages(["en", "de.*", "-live_chat", "all"])

    @pytest.mark.parametrize(
        ("languages", "field"),
        [(["en", "("], "languages[1]"), (["e\x00n"], "languages[0]")],
    )
    def test_broken_expressions_are_refused(self, languages: list[str], field: str) -> None:
        """An entry yt-dlp cannot compile is refused, naming its index."""
        error = refusal(inputs.check_languages, languages)
        assert f"spec.subtitles.{field}" in str(error)


class TestSelector:
    def test_valid_selectors_pass(self) -> None:
        """A selector yt-dlp parses passes without any network access."""
        inputs.check_format("bv*[height<=1080]+ba/b")

    @pytest.mark.parametrize("selector", ["[[[", "+", "best[height<=?720", "b\x00"])
    def test_broken_selectors_are_refused(self, selector: str) -> None:
        """A selector yt-dlp cannot parse is refused as spec.format.selector."""
        error = refusal(inputs.check_format, selector)
        assert "spec.format.selector" in str(error)


class TestWholeSpec:
    def test_check_sees_every_field(self) -> None:
        """check() refuses a spec that skipped the API's validation, naming the bad field."""
        spec = VideoDownloadSpec(url="https://example.com/v")
        inputs.check(spec)
        output = OutputSpec.model_construct(template="x\x00.%(ext)s", sub_path=None)
        error = refusal(inputs.check, spec.model_copy(update={"output": output}))
        assert "spec.output.template" in str(error)
        error = refusal(inputs.check, spec.model_copy(update={"url": "http://@/v.mp4"}))
        assert "spec.url" in str(error)
