"""`config show` masks secrets wherever they were written: reviewbot.toml, a connector's options, the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SLACK_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"
JIRA_TOKEN = "ATATT3xFfGF0T1234567890abcdefGHIJKLmnopqrstuvwxyz"
TOML = f"""
[tracker]
type = "jira"
url = "https://example.atlassian.net"
email = "bot@example.com"
project_key = "CS"
token_env = "JIRA_API_TOKEN"
token = "{JIRA_TOKEN}"

[notifier]
type = "console"
webhook = "https://hooks.example.com/{SLACK_TOKEN}"

[slack]
bot_token = "plain-value-under-a-secret-name"
channel = "C0123"

[[sources]]
name = "helpdesk"
type = "files"
kind = "complaint"
path = "inbox"
records_key = "tickets"
api_key = "k-9f8e7d6c"
columns = {{ id = "id", text = "text", created_at = "created_at", author = "agent" }}
"""


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "reviewbot.toml").write_text(TOML, encoding="utf-8")
    monkeypatch.setenv("REVIEWBOT_DATABASE_URL", "postgresql+psycopg://reviewbot:s3cr3t-pw@db.internal:5432/rb")
    monkeypatch.setenv("REVIEWBOT_SLACK__APP_TOKEN", "xapp-1-A0123-456-abcdef")
    return tmp_path


@pytest.mark.parametrize("args", ["config show", "config show --json"])
def test_config_show_masks_every_secret(workspace: Path, cli, args: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(f"--workspace {workspace} {args}")
    assert result.code == 0, result.stderr
    for secret in (SLACK_TOKEN, JIRA_TOKEN, "plain-value-under-a-secret-name", "k-9f8e7d6c", "s3cr3t-pw", "xapp-1"):
        assert secret not in result.stdout
    if args.endswith("--json"):
        data = json.loads(result.stdout)
        assert data["tracker"]["token"] == "****"
        assert data["slack"]["bot_token"] == "****" and data["slack"]["app_token"] == "****"
        assert data["database_url"] == "postgresql+psycopg://reviewbot:****@db.internal:5432/rb"
        assert data["notifier"]["webhook"] == "https://hooks.example.com/****"
        # what is no secret is shown as written
        assert data["tracker"]["token_env"] == "JIRA_API_TOKEN" and data["tracker"]["project_key"] == "CS"
        assert data["sources"][0]["records_key"] == "tickets" and data["sources"][0]["columns"]["author"] == "agent"
