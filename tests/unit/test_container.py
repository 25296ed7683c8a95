"""The container: the Dockerfile's instructions, its build context, and compose.yaml.

No container engine runs here, so the file is read as Docker reads it (instructions,
line continuations) and checked for what production needs: a slim base, a non-root
user, ``odoosync serve`` as the entrypoint, a health check on ``/api/health``, and every
file it copies present in the context that ``.dockerignore`` leaves. With a working
``docker`` (a daemon answering), the image is built too.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` in order, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            joined.append(current)
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in joined]


def of(kind: str) -> list[str]:
    return [arguments for instruction, arguments in instructions() if instruction == kind]


def in_context(path: str) -> bool:
    """Whether ``.dockerignore`` (last matching rule wins, ``!`` re-includes) keeps ``path``."""
    kept = True
    for rule in (ROOT / ".dockerignore").read_text().splitlines():
        rule = rule.strip()
        if rule and not rule.startswith("#") and _matches(path, rule.lstrip("!").rstrip("/")):
            kept = rule.startswith("!")
    return kept


def _matches(path: str, pattern: str) -> bool:
    """A pattern matches a path when it matches the path or a folder above it
    (``**/x`` anywhere below the root)."""
    parts = Path(path).parts
    if pattern.startswith("**/"):
        return any(fnmatch.fnmatch("/".join(parts[i:]), pattern[3:]) for i in range(len(parts)))
    return any(fnmatch.fnmatch("/".join(parts[: i + 1]), pattern) for i in range(len(parts)))


def test_a_slim_python_base() -> None:
    (base,) = of("FROM")
    assert base.startswith("python:3.") and "slim" in base


def test_runs_as_a_user_that_is_not_root() -> None:
    users = of("USER")
    assert users and users[-1] not in ("root", "0")
    order = [instruction for instruction, _ in instructions()]
    assert order.index("USER") < order.index("ENTRYPOINT")
    assert any("useradd" in run and users[-1] in run for run in of("RUN"))


def test_the_entrypoint_is_odoosync_serve_on_the_exposed_port() -> None:
    (entrypoint,) = of("ENTRYPOINT")
    assert json.loads(entrypoint) == ["odoosync", "serve"]
    (cmd,) = of("CMD")
    arguments = json.loads(cmd)
    port = arguments[arguments.index("--port") + 1]
    assert of("EXPOSE") == [port]
    assert arguments[arguments.index("--host") + 1] == "0.0.0.0"


def test_the_health_check_asks_the_api() -> None:
    (check,) = of("HEALTHCHECK")
    assert "/api/health" in check and "CMD" in check


def test_every_copied_file_is_in_the_build_context() -> None:
    copied = [source for copy in of("COPY") for source in copy.split()[:-1]]
    assert "odoosync" in [c.rstrip("/") for c in copied]
    for source in copied:
        assert (ROOT / source).exists(), source
        assert in_context(source), f"{source} is excluded by .dockerignore"
    assert not in_context("odoosync.toml") and not in_context(".venv/bin/python") and not in_context("odoosync.db")
    assert not in_context("odoosync/__pycache__/x.pyc")


def test_dependencies_come_at_the_locked_versions() -> None:
    assert any("--constraint requirements.lock" in run for run in of("RUN"))


def test_compose_runs_the_image_against_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    app = services["odoosync"]
    assert app["build"] == "."
    assert (
        app["environment"]["DATABASE_URL"].startswith("postgresql://")
        and "@db:5432/" in app["environment"]["DATABASE_URL"]
    )
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["entrypoint"] == ["odoosync", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    secrets = ("POSTGRES_PASSWORD", "ODOOSYNC_API_TOKEN", "ODOO_API_KEY")
    text = (ROOT / "compose.yaml").read_text()
    for name in secrets:  # secrets come from the environment, never written in the file
        assert f"${{{name}" in text


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


@pytest.mark.slow
def test_the_image_builds_where_docker_runs() -> None:
    if not _docker_works():
        pytest.skip("no container engine answers here (docker info fails)")
    subprocess.run(["docker", "build", "-t", "odoosync-test", str(ROOT)], check=True, timeout=900)
