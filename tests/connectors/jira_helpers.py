"""What the Jira sync tests share: a workspace filing tickets in the stand-in, a sync, and what Jira then holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select

from reviewbot.connectors.jira_markup import unescape
from reviewbot.models import ReviewTicket
from reviewbot.workflows.sync import run_sync
from tests.standins.jira_server import JiraStandIn
from tests.workspaces import make_workspace, open_workspace

TOKEN = "jira-test-token-3f9a"
CREATE = r"/rest/api/2/issue$"


def jira_workspace(folder: Path, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch, settle: float = 0) -> Path:
    """A workspace whose tracker is the stand-in, with `settle` seconds of patience for its search."""
    monkeypatch.setenv("REVIEWBOT_JIRA_TOKEN", TOKEN)
    tracker = f"""
[tracker]
type = "jira"
server = "{jira.url}"
email = "bot@example.com"
project = "POL"
settle_seconds = {settle}
section_field = "customfield_10042"

[roles]
head-of-cx = ["dana"]
editors = ["mo", "zed"]  # people tickets are assigned to
"""
    return make_workspace(folder, extra_toml=tracker)


def sync(folder: Path):  # type: ignore[no-untyped-def]
    """One whole sync of the workspace: (store, report)."""
    settings, store = open_workspace(folder)
    return store, run_sync(settings, store)


def tickets(folder: Path) -> list[ReviewTicket]:
    """The workspace's tickets, oldest first."""
    _, store = open_workspace(folder)
    with store.session() as session:
        return list(session.exec(select(ReviewTicket).order_by(ReviewTicket.id)))


def said(body: str) -> str:
    """A comment as a person reads it in Jira: without reviewbot's marker, escapes rendered."""
    return unescape(re.sub(r"\s*\[reviewbot:[0-9a-f]+\]$", "", body))


def issues_per_fingerprint(jira: JiraStandIn) -> dict[str, int]:
    """How many Jira issues carry each fingerprint label."""
    counts: dict[str, int] = {}
    for issue in jira.issues.values():
        for label in issue["fields"]["labels"]:
            if label.startswith("reviewbot-"):
                counts[label] = counts.get(label, 0) + 1
    return counts
