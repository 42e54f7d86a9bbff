"""The breaker key of the site a download goes to: a valid ConfigMap data key.

Pure: no I/O. The extractor key comes from :mod:`videodl.breaker.sites`, which matches the
URL against yt-dlp's extractors.
"""

from __future__ import annotations

import contextlib
import hashlib
from urllib.parse import urlsplit

from videodl.api._base import CONFIG_KEY_MAX

__all__ = ["site_key"]


# Ports that a URL may leave out; other ports are part of the site.
_DEFAULT_PORTS = {"http": 80, "https": 443}
_GENERIC_EXTRACTORS = {"generic"}
# Characters kept as they are: those of a ConfigMap data key but "_", which starts escapes
# (so two different sites never get the same key).
_KEY_CHARS = frozenset("-.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def site_key(extractor_key: str | None, url: str) -> str:
    """Return the breaker key of the site a download goes to.

    It is yt-dlp's extractor key (``Youtube``, ``Vimeo``) when a site-specific extractor
    handles the URL. For the generic extractor, or when the extractor is not known, it is the
    lowercased host with the port when it is not the scheme's default (``media.example.com``,
    ``127.0.0.1_8080``), so one failing host never blocks another.

    The key is a valid ConfigMap data key (only ``[-._a-zA-Z0-9]``, at most 253 characters,
    never ``.`` or ``..``-prefixed): ``:`` becomes ``_``, any other character ``c`` becomes
    ``_x<hex code of c>_``, and an overlong key is shortened with a hash of the whole.
    """
    name = (extractor_key or "").strip()
    if name and name.lower() not in _GENERIC_EXTRACTORS:
        return _to_configmap_key(name)
    return _to_configmap_key(_host_and_port(url))


def _host_and_port(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    if not host:
        msg = f"url {url!r} has no host; a download URL must look like https://host/path"
        raise ValueError(msg)
    # Not a valid IDN: the escaping in _to_configmap_key still gives a stable key.
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    try:
        port = parts.port
    except ValueError as error:
        msg = f"url {url!r} has an invalid port: {error}"
        raise ValueError(msg) from None
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


def _to_configmap_key(text: str) -> str:
    key = "".join(_escape(char) for char in text)
    if key.startswith("."):
        key = _escape_always(".") + key[1:]
    if len(key) > CONFIG_KEY_MAX:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        key = f"{key[: CONFIG_KEY_MAX - len(digest) - 1]}-{digest}"
    return key


def _escape(char: str) -> str:
    if char in _KEY_CHARS:
        return char
    if char == ":":
        return "_"
    return _escape_always(char)


def _escape_always(char: str) -> str:
    return f"_x{ord(char):x}_"
