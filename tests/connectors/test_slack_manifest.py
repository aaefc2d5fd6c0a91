"""`reviewbot slack manifest`: YAML on stdout as it is (never wrapped), with the URL given or configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.workspaces import make_workspace

LONG_URL = "https://reviewbot-production.customer-service.internal-tools.acme-corporation.example.com"


def manifest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command as a user would pipe it to a file, in an 80-column terminal setting."""
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm-256color"}
    env.pop("REVIEWBOT_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "reviewbot", "slack", "manifest", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def test_piped_manifest_is_valid_yaml_with_the_url_and_every_scope_needed(tmp_path: Path) -> None:
    done = manifest("--url", LONG_URL + "/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = yaml.safe_load(done.stdout)
    settings = data["settings"]
    events = f"{LONG_URL}/slack/events"
    assert settings["event_subscriptions"]["request_url"] == events
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": events,
        "message_menu_options_url": events,  # the searchable section pickers
    }
    assert data["features"]["slash_commands"][0]["url"] == events
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "im:history", "channels:history", "groups:history"} <= scopes
    assert {"users:read", "users:read.email"} <= scopes
    assert "reviewbot.example.com" not in done.stdout


def test_without_a_url_it_says_what_to_pass(tmp_path: Path) -> None:
    done = manifest(cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "no public URL for the Slack app" in done.stderr
    assert "--url https://HOST" in done.stderr and "public_url" in done.stderr


def test_the_configured_public_url_is_used(tmp_path: Path) -> None:
    folder = make_workspace(tmp_path / "ws", extra_toml='[slack]\npublic_url = "https://bot.acme.com"\n')
    done = manifest(cwd=folder)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["settings"]["event_subscriptions"]["request_url"] == (
        "https://bot.acme.com/slack/events"
    )


def test_a_url_slack_would_not_post_to_is_refused(tmp_path: Path) -> None:
    done = manifest("--url", "http://bot.acme.com", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "is not an https:// URL" in done.stderr
