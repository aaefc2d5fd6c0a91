"""Fixtures of the Jira tests: the stand-in, a workspace filing into it, and Retry-After waits recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.jira_helpers import TOKEN, jira_workspace
from tests.standins.jira_server import JiraStandIn


@pytest.fixture
def jira() -> Iterator[JiraStandIn]:
    """A Jira Cloud stand-in with project POL, for bot@example.com and TOKEN."""
    with JiraStandIn(deployment="Cloud", project="POL", email="bot@example.com", token=TOKEN) as standin:
        yield standin


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry-After waits are recorded instead of slept, so fault tests stay fast."""
    waits: list[float] = []
    monkeypatch.setattr("reviewbot.connectors.jira.time.sleep", waits.append)
    return waits


@pytest.fixture
def ws(tmp_path: Path, use_database: str, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace whose tickets go to the `jira` stand-in (no settle wait, section in customfield_10042)."""
    return jira_workspace(tmp_path / "ws", jira, monkeypatch)
