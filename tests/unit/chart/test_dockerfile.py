"""The images fit the chart: non-root numeric user, pinned base, the commands the chart runs."""

from __future__ import annotations

import json
import pathlib
import re
import tomllib

import yaml

from . import rendering

DOCKERFILE = rendering.REPO / "operator" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _values() -> dict:
    return yaml.safe_load((rendering.CHART / "values.yaml").read_text())


def test_runs_as_the_chart_user() -> None:
    """The final USER is the numeric, non-root UID:GID the chart's Pod runs as."""
    users = [args for word, args in _instructions() if word == "USER"]
    context = _values()["operator"]["podSecurityContext"]
    assert users[-1] == f"{context['runAsUser']}:{context['runAsGroup']}"
    assert context["runAsUser"] != 0


def test_base_image_is_pinned() -> None:
    """Every stage starts from a tagged image, never latest or an untagged name."""
    args = dict(a.split("=", 1) for word, a in _instructions() if word == "ARG" and "=" in a)
    bases = [a.split()[0] for word, a in _instructions() if word == "FROM"]
    assert bases
    for base in bases:
        image = args.get(base.strip("${}"), base)
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        assert tag not in ("", "latest"), image


def test_entrypoint_is_the_operator_script() -> None:
    """The entrypoint is the console script pyproject.toml declares for the operator."""
    scripts = tomllib.loads((rendering.REPO / "pyproject.toml").read_text())["project"]["scripts"]
    entrypoints = [a for word, a in _instructions() if word == "ENTRYPOINT"]
    assert entrypoints == ['["videodl-operator"]']
    assert scripts["videodl-operator"] == "videodl.operator.__main__:main"


def test_read_only_root_friendly() -> None:
    """Nothing is written at run time outside /tmp: no byte code, HOME on the scratch dir."""
    env = " ".join(a for word, a in _instructions() if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "HOME=/tmp" in env
    assert _values()["operator"]["scratchDir"] == "/tmp"


def test_exposes_the_metrics_port() -> None:
    """The image exposes the port the chart's probes and Service use by default."""
    exposed = [a for word, a in _instructions() if word == "EXPOSE"]
    assert exposed == [str(_values()["metrics"]["port"])]


def test_worker_commands_run_in_the_worker_image() -> None:
    """The chart's worker command is the worker image's entrypoint, and its cleanup command
    runs a module of the package that image installs."""
    text = (rendering.REPO / "worker-image" / "Dockerfile").read_text()
    entrypoint = re.findall(r"^ENTRYPOINT (.+)$", text, re.MULTILINE)[-1]
    workers = _values()["workers"]
    assert json.loads(entrypoint) == workers["command"]
    assert "COPY operator/videodl" in text
    module = workers["cleanupCommand"][workers["cleanupCommand"].index("-m") + 1]
    where = rendering.REPO / "operator" / pathlib.Path(*module.split("."))
    # `python -m` runs a module file or a package's __main__.
    assert where.with_suffix(".py").is_file() or (where / "__main__.py").is_file()
