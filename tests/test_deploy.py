"""The container files agree with the code: compose runs commands that exist, the image installs from files the
build context keeps, and it runs as a non-root user. (CI builds the image itself where Docker is usable.)"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose_services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))["services"]


def test_compose_brings_up_postgres_the_migration_the_scheduler_and_the_slack_app() -> None:
    services = compose_services()
    assert services["db"]["image"].startswith("postgres:")
    commands = {name: s.get("command") for name, s in services.items()}
    assert commands["migrate"] == ["db", "upgrade"]
    assert commands["scheduler"] == ["schedule"]
    assert commands["slack"] == ["slack", "serve"]
    for name in ("scheduler", "slack"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert services[name]["volumes"] == ["${REVIEWBOT_WORKSPACE_DIR:-./workspace}:/srv/reviewbot"]
        env = services[name]["environment"]
        assert any(e.startswith("REVIEWBOT_DATABASE_URL=postgresql+psycopg://") and "@db:5432/" in e for e in env)
        # secrets come from the environment, never written into the file
        assert "REVIEWBOT_SLACK_SIGNING_SECRET" in env and "REVIEWBOT_JIRA_TOKEN" in env


@pytest.mark.parametrize("service", ["migrate", "scheduler", "slack"])
def test_each_service_runs_a_command_reviewbot_has(service: str, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli([*compose_services()[service]["command"], "--help"])
    assert result.code == 0, result.stderr


def test_the_image_is_slim_python_3_11_and_runs_as_a_non_root_user() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text("utf-8").splitlines()]
    assert "FROM python:3.11-slim" in lines
    assert any('pip install "/tmp/reviewbot-src[postgres]"' in line for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}


def test_the_build_context_keeps_what_the_wheel_is_built_from() -> None:
    ignored = [p.strip() for p in (ROOT / ".dockerignore").read_text("utf-8").splitlines() if p.strip() and p[0] != "#"]
    # the folders the wheel is built from (the repository's layout) and the files its metadata reads
    needed = ["pyproject.toml", "README.md", "reviewbot", "connectors", "workflows", "config"]
    for path in needed:
        assert not [p for p in ignored if fnmatch.fnmatch(path, p)], f"{path} is left out of the docker build"
    assert {".git", ".venv", ".env", "tests"} <= set(ignored)
