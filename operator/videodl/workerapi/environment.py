"""The worker's contract with its Pod: environment variable names, defaults and parsing.

The operator imports the names when it builds the worker Pod; the worker parses them with
:func:`load`. Pure: no I/O (the caller passes ``os.environ``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
import posixpath
from collections.abc import Mapping
from typing import Final

from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.resource import parse_spec
from videodl.api.spec import VideoDownloadSpec
from videodl.workerapi import s3 as s3_contract

__all__ = [
    "ALLOWED_NETWORKS",
    "ALLOWED_NETWORKS_FLAG",
    "ALLOWED_NETWORKS_OPERATOR_ENV",
    "ATTEMPT",
    "COOKIES_FILE",
    "DEFAULT_OUTPUT_DIR",
    "DEFAULT_PROGRESS_INTERVAL_SECONDS",
    "DEFAULT_TERMINATION_MESSAGE_PATH",
    "DEFAULT_TMP_DIR",
    "NAME",
    "NAMESPACE",
    "OUTPUT_DIR",
    "PROGRESS",
    "PROGRESS_INTERVAL_SECONDS",
    "SPEC",
    "TERMINATION_MESSAGE_PATH",
    "TMP_DIR",
    "ExtractorHint",
    "InvalidEnvironmentError",
    "Job",
    "encode_networks",
    "encode_spec",
    "load",
    "parse_networks",
]

#: The VideoDownload's spec as JSON with the API's camelCase names (see encode_spec).
SPEC: Final = "VIDEODL_SPEC"
#: Name of the VideoDownload whose ``status.progress`` the worker patches.
NAME: Final = "VIDEODL_NAME"
#: Its namespace (the downward API's ``metadata.namespace``).
NAMESPACE: Final = "VIDEODL_NAMESPACE"
#: Number of this attempt, 1 for the first.
ATTEMPT: Final = "VIDEODL_ATTEMPT"
#: Where the claim is mounted, already at ``spec.output.subPath``.
OUTPUT_DIR: Final = "VIDEODL_OUTPUT_DIR"
#: Path of the mounted cookies Secret key, when ``spec.cookies`` is set.
COOKIES_FILE: Final = "VIDEODL_COOKIES_FILE"
#: Least seconds between two progress patches (stage changes are sent at once).
PROGRESS_INTERVAL_SECONDS: Final = "VIDEODL_PROGRESS_INTERVAL_SECONDS"
#: Where the JSON result or failure goes (the container's terminationMessagePath).
TERMINATION_MESSAGE_PATH: Final = "VIDEODL_TERMINATION_MESSAGE_PATH"
#: A writable scratch directory (an emptyDir; the root file system is read-only).
TMP_DIR: Final = "VIDEODL_TMP_DIR"
#: ``off`` disables status patches, for runs without a cluster.
PROGRESS: Final = "VIDEODL_PROGRESS"
#: Networks the worker may connect to besides public addresses: comma-separated CIDRs
#: (``127.0.0.0/8,::1/128``); unset or empty allows public addresses only.
ALLOWED_NETWORKS: Final = "VIDEODL_ALLOWED_NETWORKS"
#: The operator's flag and variable that fill ``ALLOWED_NETWORKS`` (refusals name them).
ALLOWED_NETWORKS_FLAG: Final = "--worker-allowed-networks"
ALLOWED_NETWORKS_OPERATOR_ENV: Final = "VIDEODL_WORKER_ALLOWED_NETWORKS"
#: The yt-dlp extractor the operator found for the URL, as ``<key>@<yt-dlp version>``
#: (:class:`ExtractorHint`); optional, and only ever a shortcut.
EXTRACTOR: Final = "VIDEODL_EXTRACTOR"

DEFAULT_OUTPUT_DIR: Final = "/data"
DEFAULT_PROGRESS_INTERVAL_SECONDS: Final = 5.0
DEFAULT_TERMINATION_MESSAGE_PATH: Final = "/dev/termination-log"
DEFAULT_TMP_DIR: Final = "/tmp"  # noqa: S108 - the Pod mounts an emptyDir here


class InvalidEnvironmentError(ValueError):
    """The worker's environment is incomplete or malformed.

    ``variable`` names the offending variable; ``bad_spec`` tells a broken spec apart
    from other problems.
    """

    def __init__(self, variable: str, problem: str, *, bad_spec: bool = False) -> None:
        self.variable = variable
        self.bad_spec = bad_spec
        super().__init__(f"{variable}: {problem}")


@dataclasses.dataclass(frozen=True)
class ExtractorHint:
    """Which yt-dlp extractor takes a URL, as found by the yt-dlp of version ``version``.

    Finding it means testing the URL against every extractor's pattern (about 0.4 s for a
    URL that only the generic extractor takes); the operator has its patterns compiled
    already, so it finds it in under a millisecond and passes it on. The worker trusts it
    only from the same yt-dlp version, whose extractors and their order are its own.
    """

    key: str
    version: str

    def encode(self) -> str:
        return f"{self.key}@{self.version}"

    @classmethod
    def parse(cls, raw: str | None) -> ExtractorHint | None:
        """The hint in ``raw``; None when it is unset or not ``<key>@<version>``."""
        key, at, version = (raw or "").strip().partition("@")
        if not (at and key.isidentifier() and version):
            return None
        return cls(key=key, version=version)


@dataclasses.dataclass(frozen=True)
class Job:
    """One attempt's work, as the Pod describes it."""

    spec: VideoDownloadSpec
    #: Absolute paths inside the Pod (plain strings: this module never touches files).
    output_dir: str
    tmp_dir: str
    termination_message_path: str
    name: str | None = None
    namespace: str | None = None
    attempt: int = 1
    cookies_file: str | None = None
    progress_interval_seconds: float = DEFAULT_PROGRESS_INTERVAL_SECONDS
    progress_enabled: bool = True
    #: Networks the worker may connect to besides public addresses (normalised CIDRs).
    allowed_networks: tuple[str, ...] = ()
    #: The bucket the files are uploaded into, when ``spec.output.s3`` is set; the output
    #: directory is then scratch space.
    s3: s3_contract.S3Target | None = None
    #: The operator's finding of the URL's extractor, when it passed one.
    extractor: ExtractorHint | None = None


def parse_networks(raw: str) -> tuple[str, ...]:
    """Comma-separated CIDRs as normalised strings, each once, in order.

    Raises ValueError saying which entry is wrong and how to write it. A bare address is a
    network of one (``/32``, ``/128``); host bits beside the prefix are refused rather than
    guessed at.
    """
    networks: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item)
        except ValueError:
            try:
                loose = ipaddress.ip_network(item, strict=False)
            except ValueError:
                msg = f"{item!r} is not a network such as 10.0.0.0/8, 127.0.0.1 or ::1/128"
                raise ValueError(msg) from None
            msg = f"{item!r} has host bits set beside its prefix: write {loose}"
            raise ValueError(msg) from None
        if str(network) not in networks:
            networks.append(str(network))
    return tuple(networks)


def encode_networks(networks: tuple[str, ...]) -> str:
    """``networks`` as the value of ``VIDEODL_ALLOWED_NETWORKS``."""
    return ",".join(networks)


def encode_spec(spec: VideoDownloadSpec) -> str:
    """``spec`` as the value of ``VIDEODL_SPEC``: compact JSON, camelCase, unset left out."""
    return spec.model_dump_json(by_alias=True, exclude_none=True)


def _decode_spec(raw: str | None) -> VideoDownloadSpec:
    if not raw:
        raise InvalidEnvironmentError(
            SPEC, "missing: set it to the VideoDownload's spec as JSON", bad_spec=True
        )
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidEnvironmentError(SPEC, f"not valid JSON ({exc})", bad_spec=True) from None
    if not isinstance(document, dict):
        raise InvalidEnvironmentError(SPEC, "must be a JSON object (the spec)", bad_spec=True)
    try:
        return parse_spec(document)
    except InvalidVideoDownloadError as exc:
        raise InvalidEnvironmentError(SPEC, str(exc), bad_spec=True) from None


def _positive_float(environ: Mapping[str, str], variable: str, default: float) -> float:
    raw = environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InvalidEnvironmentError(variable, f"{raw!r} is not a number of seconds >= 0, e.g. 5")
    return value


def _attempt(environ: Mapping[str, str]) -> int:
    raw = environ.get(ATTEMPT, "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidEnvironmentError(ATTEMPT, f"{raw!r} is not a whole number >= 1")
    return int(raw)


def _absolute(environ: Mapping[str, str], variable: str, default: str) -> str:
    path = environ.get(variable) or default
    if not posixpath.isabs(path):
        raise InvalidEnvironmentError(variable, f"{path!r} must be an absolute path")
    return path


def load(environ: Mapping[str, str]) -> Job:
    """Parse the worker's environment; raises InvalidEnvironmentError naming the variable."""
    spec = _decode_spec(environ.get(SPEC))
    progress_mode = environ.get(PROGRESS, "on").strip().lower()
    if progress_mode not in ("on", "off"):
        raise InvalidEnvironmentError(PROGRESS, f"{progress_mode!r} must be 'on' or 'off'")
    name = environ.get(NAME) or None
    namespace = environ.get(NAMESPACE) or None
    progress_enabled = progress_mode == "on"
    if progress_enabled and (name is None or namespace is None):
        missing = NAME if name is None else NAMESPACE
        raise InvalidEnvironmentError(
            missing,
            "missing: the worker patches status.progress of this VideoDownload; "
            f"set it, or set {PROGRESS}=off to run without a cluster",
        )
    try:
        allowed_networks = parse_networks(environ.get(ALLOWED_NETWORKS, ""))
    except ValueError as exc:
        raise InvalidEnvironmentError(ALLOWED_NETWORKS, str(exc)) from None
    cookies = environ.get(COOKIES_FILE) or None
    if spec.cookies is not None and cookies is None:
        raise InvalidEnvironmentError(
            COOKIES_FILE, "missing: spec.cookies is set, so mount the Secret key and name it"
        )
    target = None
    if spec.output.s3 is not None:
        try:
            target = s3_contract.load(environ)
        except ValueError as exc:
            variable, _, problem = str(exc).partition(": ")
            raise InvalidEnvironmentError(variable, problem) from None
    return Job(
        spec=spec,
        output_dir=_absolute(environ, OUTPUT_DIR, DEFAULT_OUTPUT_DIR),
        tmp_dir=_absolute(environ, TMP_DIR, DEFAULT_TMP_DIR),
        termination_message_path=_absolute(
            environ, TERMINATION_MESSAGE_PATH, DEFAULT_TERMINATION_MESSAGE_PATH
        ),
        name=name,
        namespace=namespace,
        attempt=_attempt(environ),
        cookies_file=cookies or None,
        progress_interval_seconds=_positive_float(
            environ, PROGRESS_INTERVAL_SECONDS, DEFAULT_PROGRESS_INTERVAL_SECONDS
        ),
        progress_enabled=progress_enabled,
        allowed_networks=allowed_networks,
        s3=target,
        extractor=ExtractorHint.parse(environ.get(EXTRACTOR)),
    )
