"""Reopening a closed ticket from Slack: the message that reports a version's effect offers "Reopen" for each
ticket whose change did not help, with the same rule as `tickets reopen` (those who may triage it) and a reason
asked in a modal. The app runs for real (Bolt over HTTP, signed requests) against the Web API stand-in."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from reviewbot.connectors.slack.app import build_app
from reviewbot.connectors.slack.config import slack_options, web_client
from reviewbot.connectors.slack.serve import http_server
from reviewbot.models import TrackerIssue
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.workflows.slack_actions import WorkspaceActions
from tests.connectors.test_slack import BOT_TOKEN, SECRET, eventually
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.slack_requests import SlackSender, new_trigger_id
from tests.workflows.test_impact import (
    EXTRA,
    PUBLISHED,
    after_window,
    before_window,
    publish_version_2,
    sync,
    ticket_on,
    write_feedback,
)
from tests.workspaces import make_workspace, open_workspace

SLACK = """
[roles]
head-of-cx = ["dana"]
agents = ["priya"]

[notifier]
type = "slack"

[slack]
api_url = "{url}"
channel = "C0POLICY"
people = {{ dana = "U0DANA", priya = "U0PRIYA" }}
"""


@dataclass
class World:
    folder: Path
    settings: Settings
    store: Store
    api: SlackApiStandIn
    send: SlackSender
    refunds: str
    delivery: str

    def ephemerals(self, user: str) -> list[str]:
        return [c.args["text"] for c in self.api.calls_to("chat.postEphemeral") if c.args["user"] == user]


@pytest.fixture
def world(tmp_path: Path, use_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Version 2 resolved the refunds and delivery tickets; a month on, refund complaints fell and delivery ones
    did not, and the sync after the window closed posted the effect to the policy channel."""
    monkeypatch.setenv("REVIEWBOT_SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("REVIEWBOT_SLACK_SIGNING_SECRET", SECRET)
    with SlackApiStandIn(bot_token=BOT_TOKEN) as api:
        extra = EXTRA.replace('[roles]\nhead-of-cx = ["dana"]\n', "").replace(
            '[notifier]\ntype = "console"\nfile = "notifications.log"\n', ""
        )
        folder = make_workspace(tmp_path / "ws", extra_toml=extra + SLACK.format(url=api.url))
        (folder / "inbox" / "complaints" / "export-1.csv").unlink()
        write_feedback(folder, "september.csv", *before_window())
        with time_machine.travel(PUBLISHED, tick=False) as clock:
            refunds, delivery = publish_version_2(folder)
            clock.move_to(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
            write_feedback(folder, "october.csv", *after_window())
            sync(folder)
        settings, store = open_workspace(folder)
        options = slack_options(settings)
        app = build_app(options, WorkspaceActions(settings, store), web_client(settings, options), SECRET)
        server = http_server(app, "127.0.0.1", 0, "/slack/events")
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        send = SlackSender(f"http://127.0.0.1:{server.port}/slack/events", SECRET, response_urls=api.response_url)
        try:
            yield World(folder, settings, store, api, send, refunds, delivery)
        finally:
            server.shutdown()
            thread.join(timeout=10)


def reopen_buttons(world: World) -> dict[str, str]:
    """The Reopen buttons of the effect message in the policy channel: {button text: value}."""
    [effect] = [m for m in world.api.channel_messages("C0POLICY") if m["text"].startswith("Effect of ")]
    blocks = [b for b in effect["blocks"] if b.get("block_id", "").startswith("reopen:")]
    return {e["text"]["text"]: e["value"] for b in blocks for e in b["elements"] if e["action_id"] == "ticket_reopen"}


def reason(text: str) -> dict[str, object]:
    return {"reason": {"value": {"type": "plain_text_input", "value": text}}}


def test_the_effect_message_offers_to_reopen_what_did_not_help(world: World) -> None:
    # refunds improved: nothing to reopen; delivery had no change
    assert reopen_buttons(world) == {f"Reopen {world.delivery}": world.delivery}


def test_a_closed_ticket_is_reopened_from_slack_with_a_reason(world: World) -> None:
    value = reopen_buttons(world)[f"Reopen {world.delivery}"]
    world.send.block_action("ticket_reopen", value, user="U0PRIYA", channel="C0POLICY", block_id="reopen:0")
    eventually(lambda: world.ephemerals("U0PRIYA"))
    assert world.ephemerals("U0PRIYA") == [f"Not reopened: priya may not reopen {world.delivery}"]
    assert world.api.calls_to("views.open") == []  # refused before asking why

    trigger = new_trigger_id()
    world.send.block_action(
        "ticket_reopen", value, user="U0DANA", channel="C0POLICY", block_id="reopen:0", trigger_id=trigger
    )
    eventually(lambda: world.api.calls_to("views.open"))
    modal = world.api.calls_to("views.open")[0].args["view"]
    assert modal["callback_id"] == "ticket_reopen_reason"
    meta = modal["private_metadata"]
    empty = world.send.view_submission("ticket_reopen_reason", reason(" "), user="U0DANA", private_metadata=meta)
    assert empty.json()["errors"]["reason"] == "say why it is reopened"
    assert ticket_on(world.store, "delivery").state == "closed"

    why = "no change after version 2"
    answer = world.send.view_submission("ticket_reopen_reason", reason(why), user="U0DANA", private_metadata=meta)
    assert answer.status == 200 and answer.body == ""
    ticket = ticket_on(world.store, "delivery")
    assert ticket.state == "open" and ticket.state_reason == f"reopened by dana: {why}"

    def issue_status() -> str:
        with world.store.session() as session:
            return session.exec(select(TrackerIssue).where(TrackerIssue.key == world.delivery)).one().status

    # the tracker's issue leaves its done status right after Slack is answered (Jira may take seconds), not next sync
    eventually(lambda: issue_status() == "open")

    def told() -> list[str]:
        return [m["text"] for m in world.api.channel_messages(world.api.dm_channel("U0DANA"))]

    eventually(lambda: f"{world.delivery} is open again" in told())  # Bolt answers first, then tells

    again = world.send.view_submission(  # Slack sent the submission again: answered as the first, told once
        "ticket_reopen_reason", reason(why), user="U0DANA", private_metadata=meta, retry_num=1
    )
    assert again.status == 200 and again.body == ""
    world.send.block_action("ticket_reopen", value, user="U0DANA", channel="C0POLICY", block_id="reopen:0")
    eventually(lambda: world.ephemerals("U0DANA"))  # answered after the retry: the retry's work is done too
    assert told().count(f"{world.delivery} is open again") == 1
    assert world.ephemerals("U0DANA") == [
        f"Not reopened: ticket {world.delivery} is open; only a closed ticket is reopened"
    ]
    assert json.loads(meta) == {"ref": world.delivery}
