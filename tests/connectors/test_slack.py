"""The Slack app and notifier, run for real: Bolt's request handling over HTTP on 127.0.0.1 with requests
signed by a real signing secret, and the Web API client pointed at the local stand-in."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from reviewbot.connectors.builtin import BuiltinTracker
from reviewbot.connectors.slack.app import build_app
from reviewbot.connectors.slack.config import slack_options, web_client
from reviewbot.connectors.slack.serve import http_server
from reviewbot.connectors.slack.views import Shown
from reviewbot.models import FeedbackItem, OutboxMessage, ReviewTicket, SignOff, TrackerComment
from reviewbot.protocols import TicketDraft
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.workflows.review import triage
from reviewbot.workflows.slack_actions import WorkspaceActions
from reviewbot.workflows.sync import run_sync
from tests.standins.slack_api import SlackApiStandIn, SlackFault
from tests.standins.slack_requests import SlackSender, new_trigger_id
from tests.workspaces import make_workspace, open_workspace

SECRET = "8f14e45fceea167a5a36dedd4bea2543"
BOT_TOKEN = "xoxb-reviewbot-test"
POLICY = """---
id: returns-policy
title: Returns Policy
owner: head-of-cx
approvers: [head-of-cx]
sections:
  refunds:
    approvers: [finance, head-of-cx]
---
# Returns Policy

## 1. Refunds
We refund returned items within 5 business days of receiving them, to the original payment method.

## 2. Delivery
Parcels arrive within 3 days. Lost parcels are investigated by the carrier within 48 hours.
"""


@dataclass
class SlackWorld:
    """A workspace with Slack as notifier, the app served over HTTP, and the Web API stand-in."""

    folder: Path
    settings: Settings
    store: Store
    api: SlackApiStandIn
    send: SlackSender

    def items(self) -> list[FeedbackItem]:
        with self.store.session() as session:
            return list(session.exec(select(FeedbackItem).where(FeedbackItem.source == "slack")))

    def sync(self):  # type: ignore[no-untyped-def]
        settings, store = open_workspace(self.folder)
        return run_sync(settings, store)

    def dms(self, user: str) -> list[str]:
        return [m["text"] for m in self.api.messages if m["channel"] == self.api.dm_channel(user)]


def eventually(check: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait for work the app does after acknowledging (Bolt runs it on after the HTTP answer)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def world(tmp_path: Path, use_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackWorld]:
    with SlackApiStandIn(bot_token=BOT_TOKEN) as api:
        monkeypatch.setenv("REVIEWBOT_SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("REVIEWBOT_SLACK_SIGNING_SECRET", SECRET)
        extra = f"""
[roles]
head-of-cx = ["dana"]
finance = ["lee"]
agents = ["priya"]

[notifier]
type = "slack"

[slack]
api_url = "{api.url}"
channel = "C0POLICY"
people = {{ dana = "U0DANA", lee = "U0LEE", priya = "U0PRIYA" }}
"""
        folder = make_workspace(tmp_path / "ws", extra_toml=extra, policy=POLICY)
        settings, store = open_workspace(folder)
        options = slack_options(settings)
        app = build_app(options, WorkspaceActions(settings, store), web_client(settings, options), SECRET)
        server = http_server(app, "127.0.0.1", 0, "/slack/events")
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.port}/slack/events"
        try:
            yield SlackWorld(folder, settings, store, api, SlackSender(url, SECRET, response_urls=api.response_url))
        finally:
            server.shutdown()
            thread.join(timeout=10)


def submit(
    world: SlackWorld, text: str, *, user: str = "U0PRIYA", view_id: str = "V0SUGGEST1", section: str = "not-sure"
):  # type: ignore[no-untyped-def]
    values = {
        "text": {"value": {"type": "plain_text_input", "value": text}},
        "section": {"value": {"type": "static_select", "selected_option": {"value": section}}},
        "link": {"value": {"type": "plain_text_input", "value": None}},
    }
    return world.send.view_submission(
        "policy_suggest", values, user=user, view_id=view_id, private_metadata='{"channel": "C0GENERAL"}'
    )


def test_slash_command_opens_the_modal_with_the_sections(world: SlackWorld) -> None:
    trigger = new_trigger_id()
    response = world.send.command("/policy-suggest", "refunds take too long", user="U0PRIYA", trigger_id=trigger)
    assert response.status == 200
    eventually(lambda: world.api.calls_to("views.open"))
    [call] = world.api.calls_to("views.open")
    assert call.args["trigger_id"] == trigger
    view = call.args["view"]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["text"]["element"]["initial_value"] == "refunds take too long"
    labels = [o["text"]["text"] for o in blocks["section"]["element"]["options"]]
    assert labels == ["Not sure", "1. Refunds", "2. Delivery"]


def test_submission_stores_a_redacted_suggestion_once_and_confirms(world: SlackWorld) -> None:
    response = submit(
        world, "Refunds take 3 weeks, not 5 business days. Call me on +44 7700 900123", section="returns-policy#refunds"
    )
    assert response.status == 200 and response.body == ""
    [item] = world.items()
    assert item.kind == "suggestion" and item.author == "priya" and "[PHONE]" in item.text
    assert item.meta["section_hint"] == "returns-policy#refunds" and item.meta["slack_user"] == "U0PRIYA"
    eventually(lambda: world.dms("U0PRIYA"))
    assert world.dms("U0PRIYA") == [
        f"Thank you! Your suggestion is recorded as S-{item.id}. You will hear back when the policy changes."
    ]
    assert submit(world, "Refunds take 3 weeks, not 5 business days.").status == 200  # Slack retried: same view
    assert len(world.items()) == 1


@pytest.mark.parametrize(
    ("text", "error"), [("   ", "Write what should change"), ("x" * 3001, "under 3000 characters")]
)
def test_empty_or_oversized_text_is_answered_in_the_modal(world: SlackWorld, text: str, error: str) -> None:
    response = submit(world, text)
    assert response.status == 200
    answer = response.json()
    assert answer["response_action"] == "errors" and error in answer["errors"]["text"]
    assert world.items() == []


def test_message_shortcut_prefills_the_message_and_its_link(world: SlackWorld) -> None:
    said = "Customer says our site promises 5-day refunds, finance says 14"
    ts = world.api.add_message("C0SUPPORT", said, user="U0PRIYA")
    trigger = new_trigger_id()
    response = world.send.message_shortcut(
        "suggest_policy_change",
        user="U0PRIYA",
        message_text=said,
        channel="C0SUPPORT",
        message_ts=ts,
        trigger_id=trigger,
    )
    assert response.status == 200
    eventually(lambda: world.api.calls_to("views.open"))
    blocks = {b["block_id"]: b for b in world.api.calls_to("views.open")[0].args["view"]["blocks"]}
    assert blocks["text"]["element"]["initial_value"].startswith("Customer says our site promises")
    assert (
        blocks["link"]["element"]["initial_value"]
        == f"https://example.slack.com/archives/C0SUPPORT/p{ts.replace('.', '')}"
    )


def test_forged_and_stale_requests_are_refused_and_store_nothing(world: SlackWorld) -> None:
    body = b"command=%2Fpolicy-suggest&text=hello&user_id=U0PRIYA&trigger_id=1.2.3"
    forged = world.send.post(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    stale = world.send.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 6 * 60)
    assert forged.status == 401 and stale.status == 401
    time.sleep(0.2)
    assert world.api.calls_to("views.open") == [] and world.items() == []


def in_review(world: SlackWorld) -> str:
    """The refunds ticket, triaged, its section edited, and sign-offs asked of lee and dana over Slack."""
    world.sync()
    with world.store.session() as session:
        ticket = session.exec(select(ReviewTicket).where(ReviewTicket.section_id == "refunds")).one()
    ref = ticket.tracker_ref or ""
    triage(world.store, world.settings, ref, "dana")
    policy = world.folder / "policies" / "returns.md"
    policy.write_text(policy.read_text().replace("within 5 business days", "within 10 business days"))
    world.sync()
    return ref


def requests_to(world: SlackWorld, user: str) -> list[dict[str, str]]:
    """The buttons of each sign-off request DM'd to a user, oldest first: {action_id: value}."""
    asked = [m for m in world.api.channel_messages(world.api.dm_channel(user)) if m["text"].startswith("Sign-off")]
    actions = [next(b for b in m["blocks"] if b["type"] == "actions") for m in asked]
    return [{e["action_id"]: e["value"] for e in a["elements"]} for a in actions]


def ephemerals(world: SlackWorld, user: str) -> list[str]:
    return [c.args["text"] for c in world.api.calls_to("chat.postEphemeral") if c.args["user"] == user]


def signoffs(world: SlackWorld) -> list[SignOff]:
    with world.store.session() as session:
        return list(session.exec(select(SignOff)))


def test_sign_off_requests_arrive_as_direct_messages_with_buttons(world: SlackWorld) -> None:
    ref = in_review(world)
    asked = [m for m in world.api.messages if m["channel"] == world.api.dm_channel("U0LEE")]
    [request] = [m for m in asked if m["text"].startswith("Sign-off requested")]
    actions = next(b for b in request["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == ["signoff_approve", "signoff_changes", "signoff_reject"]
    [value] = {e["value"] for e in actions["elements"]}
    shown = Shown.parse(value)  # the ticket, and the section and text it asks about
    assert (shown.ref, shown.place, len(shown.text_hash)) == (ref, "returns-policy#refunds", 64)
    assert request["metadata"]["event_payload"]["key"].startswith("signoff:")
    digest = [m for m in world.api.messages if m["channel"] == "C0POLICY"]
    assert digest and "review tickets" in digest[0]["text"]


def test_approve_button_only_for_the_approver_and_only_once(world: SlackWorld) -> None:
    ref = in_review(world)
    dm = world.api.dm_channel("U0LEE")
    [buttons] = requests_to(world, "U0LEE")
    approve = buttons["signoff_approve"]

    world.send.block_action("signoff_approve", ref, user="U0LEE", channel=dm)  # an older button naming only the ticket
    eventually(lambda: ephemerals(world, "U0LEE"))
    assert ephemerals(world, "U0LEE")[0].startswith(f"Not signed: this request for {ref} does not say which text")
    assert world.send.block_action("signoff_approve", approve, user="U0PRIYA", channel=dm).status == 200
    eventually(lambda: ephemerals(world, "U0PRIYA"))
    assert ephemerals(world, "U0PRIYA") == ["Not signed: priya is not an approver of section refunds"]
    assert signoffs(world) == []

    world.send.block_action("signoff_approve", approve, user="U0LEE", channel=dm)
    eventually(lambda: len(ephemerals(world, "U0LEE")) == 2)
    assert ephemerals(world, "U0LEE")[1] == f"{ref}: 1 of 2 approvals"
    world.send.block_action("signoff_approve", approve, user="U0LEE", channel=dm)  # a second click
    eventually(lambda: len(ephemerals(world, "U0LEE")) == 3)
    assert ephemerals(world, "U0LEE")[2].startswith(f"{ref}: your approval was recorded at ")
    assert len(signoffs(world)) == 1


def test_request_changes_asks_why_in_a_modal(world: SlackWorld) -> None:
    ref = in_review(world)
    trigger = new_trigger_id()
    [buttons] = requests_to(world, "U0DANA")
    world.send.block_action(
        "signoff_changes",
        buttons["signoff_changes"],
        user="U0DANA",
        channel=world.api.dm_channel("U0DANA"),
        trigger_id=trigger,
    )
    eventually(lambda: world.api.calls_to("views.open"))
    modal = world.api.calls_to("views.open")[0].args["view"]
    assert modal["callback_id"] == "signoff_comment"
    empty = {"comment": {"value": {"type": "plain_text_input", "value": ""}}}
    refused = world.send.view_submission(
        "signoff_comment", empty, user="U0DANA", private_metadata=modal["private_metadata"]
    )
    assert refused.json()["errors"]["comment"] == "say why in a comment"
    values = {"comment": {"value": {"type": "plain_text_input", "value": "10 days is still too slow"}}}
    answer = world.send.view_submission(
        "signoff_comment", values, user="U0DANA", private_metadata=modal["private_metadata"]
    )
    assert answer.status == 200 and answer.body == ""
    with world.store.session() as session:
        assert (
            session.exec(select(ReviewTicket).where(ReviewTicket.tracker_ref == ref)).one().state == "changes_requested"
        )


def test_app_home_shows_sign_offs_suggestions_and_versions_to_acknowledge(world: SlackWorld) -> None:
    ref = in_review(world)
    submit(world, "Please add a rule for price matching")
    response = world.send.event({"type": "app_home_opened", "user": "U0LEE", "tab": "home"}, event_id="Ev01")
    assert response.status == 200
    eventually(lambda: "U0LEE" in world.api.home)
    text = str(world.api.home["U0LEE"])
    assert ref in text and "signoff_approve" in text
    [buttons] = [b for b in world.api.home["U0LEE"]["blocks"] if b.get("block_id") == f"signoff:{ref}"]
    [asked] = requests_to(world, "U0LEE")  # Home's buttons are for the same section and text as the request
    assert Shown.parse(buttons["elements"][0]["value"]) == Shown.parse(asked["signoff_approve"])
    retried = world.send.event(
        {"type": "app_home_opened", "user": "U0PRIYA", "tab": "home"},
        event_id="Ev02",
        retry_num=1,
        retry_reason="http_timeout",
    )
    assert retried.status == 200
    eventually(lambda: "U0PRIYA" in world.api.home)
    home = str(world.api.home["U0PRIYA"])
    assert "Please add a rule for price matching" in home and "read at the next sync" in home
    assert "Nothing waits for your sign-off" in home


def test_suggestion_is_evidence_and_its_author_is_thanked_on_publish(world: SlackWorld) -> None:
    from reviewbot.workflows.publish import publish
    from reviewbot.workflows.review import sign

    submit(world, "Refund promise of 5 business days is wrong, refunds take three weeks; refund still missing for many")
    ref = in_review(world)
    [item] = world.items()
    with world.store.session() as session:
        ticket = session.exec(select(ReviewTicket).where(ReviewTicket.tracker_ref == ref)).one()
    assert item.theme_id == ticket.theme_id  # the suggestion joined the refund theme
    sign(world.store, world.settings, ref, "lee", "approve")
    sign(world.store, world.settings, ref, "dana", "approve")
    result = publish(world.settings, world.store, "returns-policy", "dana")
    assert result.errors == []
    thanks = [t for t in world.dms("U0PRIYA") if t.startswith("Thank you: your feedback shaped")]
    title, addressed = "Thank you: your feedback shaped Returns Policy version 2", "What you reported is addressed in"
    assert thanks == [f"{title}\n{addressed} Returns Policy version 2:\n- {result.changelog[0]}"]
    acks = [
        m
        for m in world.api.messages
        if m["channel"] == world.api.dm_channel("U0PRIYA") and m["text"].startswith("Please read")
    ]
    assert (
        acks
        and next(b for b in acks[0]["blocks"] if b["type"] == "actions")["elements"][0]["action_id"] == "policy_ack"
    )
    world.send.block_action(
        "policy_ack",
        '{"document": "returns-policy", "version": 2}',
        user="U0PRIYA",
        channel=world.api.dm_channel("U0PRIYA"),
    )
    eventually(
        lambda: any(
            "acknowledged returns-policy version 2" in c.args["text"] for c in world.api.calls_to("chat.postEphemeral")
        )
    )


def test_rate_limited_posts_wait_and_are_sent_once(world: SlackWorld) -> None:
    world.api.faults.append(SlackFault("chat.postMessage", "429", retry_after=1, times=1))
    report = world.sync()
    assert report.errors == [] and report.delivery == {"sent": 3, "failed": 0, "waiting": 0}  # 2 tickets, 1 digest
    assert len(world.api.calls_to("chat.postMessage")) == 2 and len(world.api.channel_messages("C0POLICY")) == 1


def test_post_with_a_lost_answer_is_not_posted_again(world: SlackWorld) -> None:
    world.api.faults.append(SlackFault("chat.postMessage", "drop_after_write"))
    first = world.sync()
    assert first.status == "partial" and any("may have been posted" in e for e in first.errors)
    assert len(world.api.channel_messages("C0POLICY")) == 1  # it did arrive
    second = world.sync()
    assert second.errors == [] and second.delivery["sent"] == 1
    assert world.api.calls_to("conversations.history")  # looked before posting again
    assert len(world.api.calls_to("chat.postMessage")) == 1
    assert len(world.api.channel_messages("C0POLICY")) == 1


def test_slack_outage_loses_no_notification(world: SlackWorld) -> None:
    world.api.faults.append(SlackFault("*", "error", error="service_unavailable", times=100))
    first = world.sync()
    assert first.status == "partial" and first.tickets["created"] == 2
    with world.store.session() as session:
        waiting = session.exec(
            select(OutboxMessage).where(OutboxMessage.target == "notifier", OutboxMessage.status != "sent")
        ).all()
    assert len(waiting) == 1
    world.api.faults.clear()
    second = world.sync()
    assert second.errors == [] and len(world.api.channel_messages("C0POLICY")) == 1


def test_slack_serve_command_answers_signed_requests(world: SlackWorld) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "REVIEWBOT_SLACK_BOT_TOKEN": BOT_TOKEN, "REVIEWBOT_SLACK_SIGNING_SECRET": SECRET}
    command = [
        sys.executable,
        "-m",
        "reviewbot",
        "-w",
        str(world.folder),
        "slack",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stdout.readline() if server.stdout else ""
        assert "Slack app listening on http://127.0.0.1:" in line, server.stderr.read() if server.stderr else ""
        url = line.split(" on ")[1].split(";")[0]
        sender = SlackSender(url, SECRET)
        assert sender.command("/policy-suggest", "hello", user="U0PRIYA", trigger_id=new_trigger_id()).status == 200
        assert SlackSender(url, "wrong-secret").command("/policy-suggest", "x", user="U0PRIYA").status == 401
        eventually(lambda: world.api.calls_to("views.open"))
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_ticket_is_moved_from_the_section_picker_under_it(world: SlackWorld) -> None:
    world.sync()
    [digest] = [m for m in world.api.messages if m["channel"] == "C0POLICY"]
    pickers = {b["block_id"]: b["elements"][0] for b in digest["blocks"] if b.get("block_id", "").startswith("move:")}
    with world.store.session() as session:
        refunds = session.exec(select(ReviewTicket).where(ReviewTicket.section_id == "refunds")).one()
    ref = refunds.tracker_ref or ""
    picker = pickers[f"move:{ref}"]
    assert picker["action_id"] == "ticket_move" and len(pickers) == 2
    choices = {o["text"]["text"]: o for o in picker["options"]}
    assert set(choices) == {"1. Refunds", "2. Delivery", "Not a policy matter"}

    def ephemerals(user: str) -> list[str]:
        return [c.args["text"] for c in world.api.calls_to("chat.postEphemeral") if c.args["user"] == user]

    delivery = choices["2. Delivery"]
    world.send.block_action(
        "ticket_move", "", user="U0PRIYA", channel="C0POLICY", block_id=f"move:{ref}", selected=delivery
    )
    eventually(lambda: ephemerals("U0PRIYA"))
    assert ephemerals("U0PRIYA") == [f"Not moved: priya may not move {ref}"]
    world.send.block_action(
        "ticket_move", "", user="U0DANA", channel="C0POLICY", block_id=f"move:{ref}", selected=delivery
    )
    eventually(lambda: ephemerals("U0DANA"))
    assert ephemerals("U0DANA") == [f"{ref} moved from refunds to delivery; themes like it will be filed there too"]
    with world.store.session() as session:
        moved = session.get(ReviewTicket, refunds.id)
        assert moved is not None and moved.section_id == "delivery"
        from reviewbot.models import AuditEvent

        assert session.exec(select(AuditEvent.actor).where(AuditEvent.action == "move")).all() == ["dana"]


def test_a_retried_submission_is_stored_and_thanked_once_on_any_replica(world: SlackWorld) -> None:
    # A second replica of the app, on its own server, sharing only the store: nothing kept in one process.
    settings, store = open_workspace(world.folder)
    options = slack_options(settings)
    replica = build_app(options, WorkspaceActions(settings, store), web_client(settings, options), SECRET)
    server = http_server(replica, "127.0.0.1", 0, "/slack/events")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    other = SlackSender(f"http://127.0.0.1:{server.port}/slack/events", SECRET)
    values = {
        "text": {"value": {"type": "plain_text_input", "value": "Refunds take 3 weeks & more"}},
        "section": {"value": {"type": "static_select", "selected_option": {"value": "not-sure"}}},
        "link": {"value": {"type": "plain_text_input", "value": None}},
    }
    try:
        for attempt in range(6):
            sender = world.send if attempt % 2 == 0 else other
            answer = sender.view_submission(
                "policy_suggest", values, user="U0PRIYA", view_id="V0RETRIED", retry_num=attempt or None
            )
            assert answer.status == 200 and answer.body == ""
    finally:
        server.shutdown()
        thread.join(timeout=10)
    eventually(lambda: world.dms("U0PRIYA"))
    time.sleep(0.3)  # a second thank-you would be posted right after its answer
    [item] = world.items()
    assert world.dms("U0PRIYA") == [
        f"Thank you! Your suggestion is recorded as S-{item.id}. You will hear back when the policy changes."
    ]


def test_a_malformed_request_timestamp_is_401(world: SlackWorld) -> None:
    body = b"command=%2Fpolicy-suggest&text=hello&user_id=U0PRIYA&trigger_id=1.2.3"
    stamp = {"X-Slack-Request-Timestamp": "x"}
    answer = world.send.post(body, "application/x-www-form-urlencoded", extra_headers=stamp)
    assert answer.status == 401 and world.items() == []


def test_people_unmapped_in_config_get_their_sign_off_requests_by_email(tmp_path: Path, use_database: str) -> None:
    users = {"U0DANA": "Dana", "U0LEE": "Lee"}  # the stand-in shows dana@example.com, lee@example.com
    with SlackApiStandIn(bot_token=BOT_TOKEN, users=users) as api:
        extra = f"""
[roles]
head-of-cx = ["dana"]
finance = ["lee", "mo"]

[notifier]
type = "slack"

[slack]
api_url = "{api.url}"
channel = "C0POLICY"
email_domain = "example.com"
"""
        folder = make_workspace(tmp_path / "ws", extra_toml=extra, policy=POLICY)
        world = SlackWorld(folder, *open_workspace(folder), api, SlackSender("http://127.0.0.1:9/", SECRET))
        with pytest.MonkeyPatch.context() as env:
            env.setenv("REVIEWBOT_SLACK_BOT_TOKEN", BOT_TOKEN)
            ref = in_review(world)
            asked = [m for m in api.messages if m["text"].startswith("Sign-off requested")]
            assert {m["channel"] for m in asked} == {api.dm_channel("U0LEE"), api.dm_channel("U0DANA")}
            assert all(ref in m["text"] for m in asked)
            report = world.sync()  # mo has no Slack user: reported each run, the others are not asked twice
        assert any("no Slack user for mo: Slack has no user with mo@example.com" in e for e in report.errors)
        assert len([m for m in api.messages if m["text"].startswith("Sign-off requested")]) == len(asked)


def test_an_old_request_does_not_sign_a_text_edited_since(world: SlackWorld) -> None:
    ref = in_review(world)
    [old] = requests_to(world, "U0LEE")
    policy = world.folder / "policies" / "returns.md"  # edited after the request, before any sync
    policy.write_text(policy.read_text().replace("within 10 business days", "within 30 business days"))
    dm = world.api.dm_channel("U0LEE")
    world.send.block_action("signoff_approve", old["signoff_approve"], user="U0LEE", channel=dm)
    eventually(lambda: ephemerals(world, "U0LEE"))
    assert ephemerals(world, "U0LEE") == [
        "Not signed: this request is for an earlier text of section refunds of returns-policy; "
        "the latest request has been sent to you"
    ]
    assert signoffs(world) == []
    [_, latest] = requests_to(world, "U0LEE")
    assert Shown.parse(latest["signoff_approve"]).text_hash != Shown.parse(old["signoff_approve"]).text_hash

    trigger = new_trigger_id()  # Reject on the old request: refused the same way, no modal, no third request
    world.send.block_action("signoff_reject", old["signoff_reject"], user="U0LEE", channel=dm, trigger_id=trigger)
    eventually(lambda: len(ephemerals(world, "U0LEE")) == 2)
    assert ephemerals(world, "U0LEE")[1].startswith("Not signed: this request is for an earlier text")
    assert world.api.calls_to("views.open") == [] and len(requests_to(world, "U0LEE")) == 2

    world.send.block_action("signoff_approve", latest["signoff_approve"], user="U0LEE", channel=dm)
    eventually(lambda: len(ephemerals(world, "U0LEE")) == 3)
    assert ephemerals(world, "U0LEE")[2] == f"{ref}: 1 of 2 approvals"
    [signed] = signoffs(world)
    assert signed.section_hash == Shown.parse(latest["signoff_approve"]).text_hash


def test_an_old_request_does_not_sign_a_ticket_moved_since(world: SlackWorld) -> None:
    from reviewbot.workflows.corrections import move_ticket

    ref = in_review(world)
    [old] = requests_to(world, "U0DANA")  # dana approves refunds and, as the document's approver, delivery
    move_ticket(world.store, world.settings, ref, "delivery", "dana")
    world.send.block_action("signoff_approve", old["signoff_approve"], user="U0DANA", channel="C0POLICY")
    eventually(lambda: ephemerals(world, "U0DANA"))
    assert ephemerals(world, "U0DANA") == [
        f"Not signed: this request was for returns-policy#refunds; {ref} has since moved to returns-policy#delivery; "
        f"no sign-off is asked of you for {ref} now"
    ]
    assert signoffs(world) == []
    with world.store.session() as session:
        assert session.exec(select(ReviewTicket).where(ReviewTicket.tracker_ref == ref)).one().state == "triaged"


def test_a_retried_request_for_changes_is_answered_as_the_first(world: SlackWorld) -> None:
    ref = in_review(world)
    [buttons] = requests_to(world, "U0DANA")
    dm = world.api.dm_channel("U0DANA")
    world.send.block_action(
        "signoff_changes", buttons["signoff_changes"], user="U0DANA", channel=dm, trigger_id=new_trigger_id()
    )
    eventually(lambda: world.api.calls_to("views.open"))
    metadata = world.api.calls_to("views.open")[0].args["view"]["private_metadata"]
    values = {"comment": {"value": {"type": "plain_text_input", "value": "30 days is too slow"}}}
    for retry in (None, 1, 2):  # Slack sends the same submission again when the first answer was slow
        answer = world.send.view_submission(
            "signoff_comment", values, user="U0DANA", view_id="V0CHANGES", private_metadata=metadata, retry_num=retry
        )
        assert answer.status == 200 and answer.body == ""
    eventually(lambda: world.dms("U0DANA")[-1] == f"{ref}: changes requested")
    time.sleep(0.3)  # a second answer would be posted right after
    assert [s.decision for s in signoffs(world)] == ["request_changes"]
    assert world.dms("U0DANA").count(f"{ref}: changes requested") == 1

    other = {"comment": {"value": {"type": "plain_text_input", "value": "and reject it"}}}  # not a retry: refused
    answer = world.send.view_submission("signoff_comment", other, user="U0DANA", private_metadata=metadata)
    assert "cannot be signed now" in answer.json()["errors"]["comment"]


def test_a_slack_user_reviewbot_cannot_place_is_told_what_an_admin_adds(world: SlackWorld) -> None:
    in_review(world)
    [buttons] = requests_to(world, "U0LEE")
    world.send.block_action("signoff_approve", buttons["signoff_approve"], user="U0GHOST", channel="C0POLICY")
    eventually(lambda: ephemerals(world, "U0GHOST"))
    [told] = ephemerals(world, "U0GHOST")
    assert told.startswith("Not signed: your Slack account U0GHOST is not mapped to a reviewbot person.")
    assert 'add "NAME" = "U0GHOST" to people = { ... } in [slack]' in told
    assert signoffs(world) == []


def test_a_sign_off_is_answered_within_slacks_three_seconds_while_the_tracker_is_slow(
    world: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request for changes waited for the tracker's comment before answering: with a tracker taking 3.5 s (a slow
    Jira), Slack had dropped the answer and shown the approver an error, though the sign-off was recorded."""
    ref = in_review(world)
    notes: list[str] = []
    update = BuiltinTracker.update

    def slow_update(self: BuiltinTracker, key: str, draft: TicketDraft, marker: str, note: str) -> None:
        time.sleep(3.5)
        update(self, key, draft, marker, note)
        notes.append(note)

    monkeypatch.setattr(BuiltinTracker, "update", slow_update)
    [buttons] = requests_to(world, "U0DANA")
    dm = world.api.dm_channel("U0DANA")
    world.send.block_action(
        "signoff_changes", buttons["signoff_changes"], user="U0DANA", channel=dm, trigger_id=new_trigger_id()
    )
    eventually(lambda: world.api.calls_to("views.open"))
    metadata = world.api.calls_to("views.open")[0].args["view"]["private_metadata"]
    values = {"comment": {"value": {"type": "plain_text_input", "value": "10 days is still too slow"}}}
    answer = world.send.view_submission("signoff_comment", values, user="U0DANA", private_metadata=metadata)
    assert answer.status == 200 and answer.body == ""  # in time (the stand-in raises AckTooLate past 3 s)
    eventually(lambda: f"{ref}: changes requested" in world.dms("U0DANA"))
    eventually(lambda: "Changes requested by dana: 10 days is still too slow" in notes, timeout=15)
    assert not any("could not be updated" in text for text in world.dms("U0DANA"))


def test_an_approver_is_told_when_the_tracker_misses_their_sign_off(
    world: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The approval is recorded; the tracker's comment, which failed, is said to wait for the next sync (it was
    logged only, and the approver believed Jira showed it)."""
    ref = in_review(world)
    update = BuiltinTracker.update

    def down(self: BuiltinTracker, key: str, draft: TicketDraft, marker: str, note: str) -> None:
        raise ConnectionError("Jira did not answer")

    monkeypatch.setattr(BuiltinTracker, "update", down)
    [buttons] = requests_to(world, "U0LEE")
    world.send.block_action("signoff_approve", buttons["signoff_approve"], user="U0LEE", channel="D0LEE")
    eventually(lambda: len(ephemerals(world, "U0LEE")) == 2)
    said, problem = ephemerals(world, "U0LEE")
    assert said == f"{ref}: 1 of 2 approvals" and len(signoffs(world)) == 1
    assert problem == (
        f"{ref}: recorded in reviewbot, but the tracker (builtin) could not be updated yet "
        "(ConnectionError: Jira did not answer); the next sync tries again"
    )
    monkeypatch.setattr(BuiltinTracker, "update", update)  # the tracker is back
    assert world.sync().delivery["failed"] == 0
    with world.store.session() as session:
        assert session.exec(select(TrackerComment).where(TrackerComment.body == "Approved by lee")).first()
