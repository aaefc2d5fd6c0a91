"""The Slack app served by waitress, with Bolt's real request handling, against the Web API stand-in that refuses
what Slack refuses: malformed timestamps, more sections than a picker holds, an App Home with too much in it."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from slack_sdk import WebClient

from reviewbot.connectors.slack.app import Suggestion, build_app
from reviewbot.connectors.slack.config import SlackOptions
from reviewbot.connectors.slack.serve import http_server
from reviewbot.connectors.slack.views import HomeData, Shown
from tests.connectors.test_slack import eventually
from tests.standins.slack_api import SlackApiStandIn, SlackFault, shown_text
from tests.standins.slack_requests import FORM, SlackSender, new_trigger_id

SECRET = "0cc175b9c0f1b6a831c399e269772661"
TOKEN = "xoxb-limits"


@dataclass
class FakeActions:
    """SlackActions with many sections and a lot waiting, recording what the app asked for."""

    choices: list[tuple[str, str, str]]
    home_data: HomeData = field(default_factory=HomeData)
    suggested: list[Suggestion] = field(default_factory=list)
    moved: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    signed: list[tuple[str, Shown, str]] = field(default_factory=list)

    def sections(self) -> list[tuple[str, str, str]]:
        return self.choices

    def suggest(self, suggestion: Suggestion) -> tuple[str, bool]:
        new = all(s.external_id != suggestion.external_id for s in self.suggested)
        if new:
            self.suggested.append(suggestion)
        return "S-1", new

    def can_sign(self, person: str, shown: Shown) -> None:
        return None

    def sign(self, person: str, shown: Shown, decision: str, comment: str) -> tuple[str, bool]:
        self.signed.append((person, shown, decision))
        return "signed", True

    def acknowledge(self, person: str, document_id: str, version: int) -> str:
        return "acknowledged"

    def move(self, person: str, ref: str, document_id: str | None, section_id: str | None) -> str:
        self.moved.append((person, ref, document_id, section_id))
        return f"{ref} moved"

    def can_reopen(self, person: str, ref: str) -> None:
        return None

    def reopen(self, person: str, ref: str, reason: str) -> tuple[str, bool]:
        return f"{ref} is open again", True

    def pass_on(self, ref: str) -> str | None:
        return None

    def home(self, person: str, user_id: str) -> HomeData:
        return self.home_data


@dataclass
class Rig:
    api: SlackApiStandIn
    actions: FakeActions
    send: SlackSender
    url: str


def many_sections() -> list[tuple[str, str, str]]:
    """150 sections in one long handbook and 30 in a second document: more than a static select holds."""
    handbook = [(f"handbook#s{i}", f"{i}. Rule {i}", "Agent Handbook") for i in range(150)]
    long_id = "returns#" + "r" * 160  # longer than an option value may be
    returns = [(f"returns#s{i}", f"{i}. Returns rule {i}", "Returns Policy") for i in range(29)]
    return handbook + [*returns, (long_id, "Refunds to gift cards", "Returns Policy")]


@contextmanager
def served(api: SlackApiStandIn, options: SlackOptions) -> Iterator[Rig]:
    """The app with FakeActions, served over HTTP against the stand-in."""
    actions = FakeActions(many_sections())
    client = WebClient(token=TOKEN, base_url=api.url, timeout=5)
    app = build_app(options, actions, client, SECRET)
    server = http_server(app, "127.0.0.1", 0, "/slack/events", threads=4)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}/slack/events"
    try:
        yield Rig(api, actions, SlackSender(url, SECRET, response_urls=api.response_url), url)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def rig() -> Iterator[Rig]:
    with SlackApiStandIn(bot_token=TOKEN) as api, served(api, SlackOptions()) as rig:
        yield rig
    assert api.errors == []


@pytest.mark.parametrize("stamp", ["abc", "", "1.5e9", "17²"])
def test_a_malformed_timestamp_is_refused_with_401_not_500(rig: Rig, stamp: str) -> None:
    body = b"command=%2Fpolicy-suggest&text=hello&user_id=U0PRIYA&trigger_id=1.2.3"
    answer = rig.send.post(body, FORM, extra_headers={"X-Slack-Request-Timestamp": stamp})
    assert answer.status == 401
    assert rig.send.command("/policy-suggest", "hello", user="U0PRIYA").status == 200  # the server is fine


def test_health_check_for_the_proxy(rig: Rig) -> None:
    with urllib.request.urlopen(rig.url.replace("/slack/events", "/healthz"), timeout=5) as answer:
        assert answer.status == 200 and answer.read() == b"ok"


def test_too_many_sections_for_a_list_become_a_search_that_finds_any_of_them(rig: Rig) -> None:
    rig.send.command("/policy-suggest", "gift card refunds", user="U0PRIYA", trigger_id=new_trigger_id())
    eventually(lambda: rig.api.views)
    [view] = rig.api.views.values()  # Slack (the stand-in) accepted the modal
    select = next(b for b in view["blocks"] if b["block_id"] == "section")["element"]
    assert select["type"] == "external_select"

    first = rig.send.options_request("section_pick", "", user="U0PRIYA", view=view).json()
    labels = [g["label"]["text"] for g in first["option_groups"]]
    assert labels == ["Not sure", "Agent Handbook (99 of 150: type to narrow)"]
    found = rig.send.options_request("section_pick", "gift", user="U0PRIYA", view=view).json()
    [group] = [g for g in found["option_groups"] if g["label"]["text"] == "Returns Policy"]
    [gift] = group["options"]
    assert gift["text"]["text"] == "Refunds to gift cards" and len(gift["value"]) <= 150

    values = {
        "text": {"value": {"type": "plain_text_input", "value": "Gift card refunds take weeks"}},
        "section": {"section_pick": {"type": "external_select", "selected_option": gift}},
        "link": {"value": {"type": "plain_text_input", "value": None}},
    }
    assert rig.send.view_submission("policy_suggest", values, user="U0PRIYA", view_id=view["id"]).status == 200
    [suggestion] = rig.actions.suggested
    assert suggestion.section == "returns#" + "r" * 160


def test_the_move_picker_searches_too_and_moves_to_the_section_found(rig: Rig) -> None:
    from reviewbot.connectors.slack.views import move_picker

    picker = move_picker("PRB-9", many_sections())
    assert picker["elements"][0]["type"] == "external_select"
    posted = WebClient(token=TOKEN, base_url=rig.api.url).chat_postMessage(
        channel="C0POLICY", text="digest", blocks=[picker]
    )
    answer = rig.send.options_request(
        "ticket_move", "rule 149", user="U0DANA", channel="C0POLICY", block_id="move:PRB-9", message_ts=posted["ts"]
    ).json()
    options = [o for g in answer["option_groups"] for o in g["options"]]
    assert [o["text"]["text"] for o in options] == ["149. Rule 149", "Not a policy matter"]
    rig.send.block_action(
        "ticket_move", "", user="U0DANA", channel="C0POLICY", block_id="move:PRB-9", selected=options[0]
    )
    eventually(lambda: rig.actions.moved)
    assert rig.actions.moved == [("U0DANA", "PRB-9", "handbook", "s149")]


def test_a_crowded_home_tab_is_accepted_and_keeps_the_versions_to_acknowledge(rig: Rig) -> None:
    rig.actions.home_data = HomeData(
        pending=[(Shown(f"PRB-{i}", "returns#s1", "ab" * 32), f"Refunds < {i} days") for i in range(60)],
        suggestions=[("2026-12-01", "Price matching & <b>bold</b> claims", "received")] * 10,
        to_acknowledge=[("returns", 3, "Returns Policy"), ("handbook", 7, "Agent Handbook")],
        more_suggestions=4,
    )
    rig.send.event({"type": "app_home_opened", "user": "U0LEE", "tab": "home"})
    eventually(lambda: "U0LEE" in rig.api.home)
    assert rig.api.calls_to("views.publish")  # accepted: the stand-in refuses a view over Slack's limits
    shown = json.dumps(rig.api.home["U0LEE"], ensure_ascii=False)
    assert shown.count('"policy_ack"') == 2 and shown.count('"signoff_approve"') == 20
    assert "…and 40 more waiting for you" in shown and "…and 4 older suggestions" in shown
    assert "Price matching &amp; &lt;b&gt;bold&lt;/b&gt; claims" in shown


def test_replies_to_the_person_are_escaped(rig: Rig) -> None:
    rig.actions.sign = lambda *args: ("PRB-1: approved; p < 0.001 & <!channel>", True)  # type: ignore[method-assign]
    rig.send.block_action("signoff_approve", "PRB-1", user="U0LEE", channel="D0LEE")
    eventually(lambda: rig.api.calls_to("chat.postEphemeral"))
    [call] = rig.api.calls_to("chat.postEphemeral")
    assert shown_text(call.args["text"]) == "PRB-1: approved; p < 0.001 & <!channel>"


def test_an_approver_slack_cannot_describe_for_a_moment_is_asked_to_try_again_not_locked_out() -> None:
    with (
        SlackApiStandIn(bot_token=TOKEN, users={"U0LEE": "Lee"}) as api,  # users.info shows lee@example.com
        served(api, SlackOptions(email_domain="example.com")) as rig,
    ):
        api.faults.append(SlackFault("users.info", "error", error="internal_error", times=3))
        value = Shown("PRB-1", "returns#s1", "ab" * 32).value()
        rig.send.block_action("signoff_approve", value, user="U0LEE", channel="D0LEE")
        eventually(lambda: rig.api.calls_to("chat.postEphemeral"))
        [told] = [c.args["text"] for c in rig.api.calls_to("chat.postEphemeral")]
        assert told == "Not signed: Slack could not say who you are; try again in a minute"
        assert rig.actions.signed == []
        api.faults.clear()  # Slack is back: the next click is lee's, not an hour later
        rig.send.block_action("signoff_approve", value, user="U0LEE", channel="D0LEE")
        eventually(lambda: rig.actions.signed)
        assert rig.actions.signed == [("lee", Shown("PRB-1", "returns#s1", "ab" * 32), "approve")]
