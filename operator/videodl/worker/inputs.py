"""Spec values the worker cannot use, refused before anything connects or writes.

The apiserver checks a spec when it is written (:mod:`videodl.api.rules`), but the worker
does not rely on that: a spec that reaches it unchecked (an older CRD, a hand-made
environment) must still fail once, as ``Permanent``/``InvalidSpec`` with a message naming
the field, rather than crash inside yt-dlp as an internal error that is retried (a NUL
byte in the template) or look like a network failure (``http://@/v.mp4``).

:func:`check` runs before the attempt's ``YoutubeDL`` is created. No I/O; not pure, since
it asks yt-dlp's own parsers (of templates and format selectors).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from typing import Final

from yt_dlp import YoutubeDL

from videodl.api.spec import VideoDownloadSpec
from videodl.workerapi import environment
from videodl.workerapi.environment import InvalidEnvironmentError

__all__ = ["check", "check_format", "check_languages", "check_template", "check_url"]

_SCHEMES: Final = ("http", "https")
_MAX_HOST_LENGTH: Final = 253
_MAX_LABEL_LENGTH: Final = 63
_MAX_PORT: Final = 65535


def _refuse(problem: str) -> InvalidEnvironmentError:
    return InvalidEnvironmentError(environment.SPEC, problem, bad_spec=True)


def _control_character(text: str) -> str | None:
    """The first control character in ``text``, as ``U+0000``, or None."""
    bad = next((c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0), None)
    return None if bad is None else f"U+{ord(bad):04X}"


def _check_host(url: str, host: str) -> None:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        msg = f"spec.url {url!r} has an invalid host name {host!r} (empty or overlong labels)"
        raise _refuse(msg) from None
    labels = ascii_host.removesuffix(".").split(".")
    if len(ascii_host) > _MAX_HOST_LENGTH or any(
        not label or len(label) > _MAX_LABEL_LENGTH for label in labels
    ):
        msg = f"spec.url {url!r} has an invalid host name {host!r} (empty or overlong labels)"
        raise _refuse(msg)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", ascii_host):
        msg = f"spec.url {url!r} has a host name {host!r} with characters no host name has"
        raise _refuse(msg)


def check_url(url: str) -> None:
    """Refuse a URL that is not http(s) with a real host and a port in 1-65535."""
    if not url:
        raise _refuse("spec.url is empty: set the http:// or https:// URL to download")
    bad = _control_character(url) or next((f"U+{ord(c):04X}" for c in url if c.isspace()), None)
    if bad is not None:
        msg = f"spec.url {url!r} contains a space or control character ({bad}): percent-encode it"
        raise _refuse(msg)
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:
        raise _refuse(f"spec.url {url!r} is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in _SCHEMES:
        msg = f"spec.url {url!r} must start with http:// or https://"
        raise _refuse(msg)
    host = parts.hostname
    if not host:
        msg = f"spec.url {url!r} has no host name: write it as http(s)://host/path"
        raise _refuse(msg)
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        port = -1
    if port is not None and not 1 <= port <= _MAX_PORT:
        msg = f"spec.url {url!r} has a port outside 1-{_MAX_PORT}: remove it or fix it"
        raise _refuse(msg)
    _check_host(url, host)


def check_template(template: str) -> None:
    """Refuse a template with control characters, ``$``, ``-`` or yt-dlp syntax errors."""
    bad = _control_character(template)
    if bad is not None:
        msg = f"spec.output.template contains a control character ({bad}): remove it"
        raise _refuse(msg)
    if "$" in template:
        msg = (
            f"spec.output.template {template!r} contains '$': yt-dlp would expand it as an "
            "environment variable; remove it"
        )
        raise _refuse(msg)
    if template.strip() == "-":
        msg = "spec.output.template '-' would write to standard output: name a file instead"
        raise _refuse(msg)
    error = YoutubeDL.validate_outtmpl(template)
    if error is not None:
        msg = f"spec.output.template {template!r} is not a valid yt-dlp template ({error})"
        raise _refuse(msg)


def check_languages(languages: list[str]) -> None:
    """Refuse subtitle languages yt-dlp cannot match (they are regular expressions)."""
    for index, language in enumerate(languages):
        field = f"spec.subtitles.languages[{index}]"
        bad = _control_character(language)
        if bad is not None:
            raise _refuse(f"{field} contains a control character ({bad}): remove it")
        pattern = language.removeprefix("-")
        try:
            re.compile(pattern + "$")
        except re.error as exc:
            msg = f"{field} {language!r} is not a valid regular expression ({exc})"
            raise _refuse(msg) from None


def check(spec: VideoDownloadSpec) -> None:
    """Refuse ``spec`` if the worker cannot use it; raises InvalidEnvironmentError."""
    check_url(spec.url)
    check_template(spec.output.template)
    if spec.format.selector is not None:
        check_format(spec.format.selector)
    if spec.subtitles is not None:
        check_languages(list(spec.subtitles.languages))


def check_format(selector: str) -> None:
    """Refuse a format selector yt-dlp cannot parse (``YoutubeDL`` would raise a bare
    ``SyntaxError`` while it is created)."""
    bad = _control_character(selector)
    if bad is not None:
        raise _refuse(f"spec.format.selector contains a control character ({bad})")
    # A bare instance, without extractors: parsing a selector needs nothing else.
    parser = YoutubeDL({"quiet": True, "no_warnings": True}, auto_init=False)
    try:
        parser.build_format_selector(selector)
    except SyntaxError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = f"spec.format.selector {selector!r} is not a valid yt-dlp format selector ({detail})"
        raise _refuse(msg) from None
