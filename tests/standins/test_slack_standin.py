"""The Slack Web API stand-in driven by the real WebClient, and signed requests driving a real Bolt app over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.client import RemoteDisconnected
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.standins.slack_api import SlackApiStandIn, SlackFault
from tests.standins.slack_requests import FORM, AckTooLate, SlackSender, WsgiServer, new_trigger_id

TOKEN = "xoxb-test"
SECRET = "signing-secret-for-tests"
USERS = {"U0ALICE": "Alice Example", "U0BOB": "Bob"}

Client = Callable[..., WebClient]


def modal(title: str = "Suggest a change", **extra: Any) -> dict[str, Any]:
    """A minimal valid modal definition."""
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [], **extra}


def error_of(call: Callable[[], Any]) -> SlackApiError:
    """The SlackApiError a WebClient call raises."""
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


@pytest.fixture
def slack() -> Iterator[SlackApiStandIn]:
    """A stand-in with a user directory; fails the test if the stand-in itself raised."""
    with SlackApiStandIn(bot_token=TOKEN, users=USERS) as standin:
        yield standin
    assert standin.errors == []


@pytest.fixture
def client(slack: SlackApiStandIn) -> Client:
    """Real WebClients against the stand-in; by default without retry handlers, so faults surface."""

    def make(*, token: str | None = TOKEN, retry_handlers: list[Any] | None = None, **kwargs: Any) -> WebClient:
        handlers = [] if retry_handlers is None else retry_handlers
        return WebClient(token=token, base_url=slack.url, timeout=5, retry_handlers=handlers, **kwargs)

    return make


# --- Web API: identity and messages --------------------------------------------------------------------------------


def test_url_is_a_base_url_for_webclient(slack: SlackApiStandIn) -> None:
    assert slack.url.startswith("http://127.0.0.1:") and slack.url.endswith("/api/")


def test_auth_test_identifies_the_bot(slack: SlackApiStandIn, client: Client) -> None:
    answer = client().auth_test()

    assert answer["ok"] is True
    assert (answer["user_id"], answer["team_id"], answer["bot_id"]) == ("U0BOT", "T0TEST", "B0BOT")
    assert slack.calls_to("auth.test")[0].token == TOKEN


def test_post_to_a_channel_and_to_a_user_id_which_answers_with_a_dm_channel(
    slack: SlackApiStandIn, client: Client
) -> None:
    web = client()
    in_channel = web.chat_postMessage(channel="C0REVIEWS", text="New suggestion", blocks=[{"type": "divider"}])
    direct = web.chat_postMessage(channel="U0ALICE", text="Please review")

    assert in_channel["channel"] == "C0REVIEWS"
    assert in_channel["message"]["bot_id"] == "B0BOT" and in_channel["message"]["blocks"] == [{"type": "divider"}]
    assert direct["channel"] == "D0ALICE" == slack.dm_channel("U0ALICE")
    assert float(direct["ts"]) > float(in_channel["ts"])
    assert [(m["channel"], m["text"], m["ts"]) for m in slack.messages] == [
        ("C0REVIEWS", "New suggestion", in_channel["ts"]),
        ("D0ALICE", "Please review", direct["ts"]),
    ]
    # The client sends chat.postMessage as JSON; the token travels in the Authorization header, not in args.
    call = slack.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == [{"type": "divider"}] and call.token == TOKEN and "token" not in call.args


def test_with_channels_given_the_bot_posts_and_reads_only_where_it_is_a_member(
    slack: SlackApiStandIn, client: Client
) -> None:
    slack.channels = {"C0JOINED": ["U0BOT", "U0ALICE"], "C0OTHERS": ["U0ALICE"]}
    web = client()
    assert web.chat_postMessage(channel="C0JOINED", text="hello")["ok"]
    assert web.chat_postMessage(channel="U0ALICE", text="a direct message needs no channel")["ok"]
    for method in (web.chat_postMessage, web.conversations_history):
        for channel, error in (("C0OTHERS", "not_in_channel"), ("C0UNKNOWN", "channel_not_found")):
            assert error_of(partial(method, channel=channel, text="x")).response["error"] == error


def test_post_message_refuses_what_slack_refuses(slack: SlackApiStandIn, client: Client) -> None:
    web = client()

    with pytest.warns(UserWarning, match="`text` argument is missing"):  # slack_sdk warns before sending
        assert error_of(lambda: web.chat_postMessage(channel="C0REVIEWS", text="")).response["error"] == "no_text"
    assert error_of(lambda: web.chat_postMessage(channel="#general", text="x")).response["error"] == (
        "channel_not_found"
    )
    # A user id outside the directory is not a DM target.
    assert error_of(lambda: web.chat_postMessage(channel="U0NOBODY", text="x")).response["error"] == (
        "channel_not_found"
    )
    bad_metadata = error_of(lambda: web.chat_postMessage(channel="C0R", text="x", metadata={"event_type": "x"}))
    assert bad_metadata.response["error"] == "invalid_metadata_format"
    assert slack.messages == []


def test_ephemeral_is_stored_for_its_user_and_never_in_history(slack: SlackApiStandIn, client: Client) -> None:
    web = client()
    answer = web.chat_postEphemeral(channel="C0REVIEWS", user="U0BOB", text="Only you can see this")

    assert answer["message_ts"]
    assert slack.messages[0] | {"ts": "-"} == {
        "channel": "C0REVIEWS",
        "ts": "-",
        "text": "Only you can see this",
        "blocks": None,
        "metadata": None,
        "user": "U0BOB",
        "thread_ts": None,
        "ephemeral": True,
    }
    assert web.conversations_history(channel="C0REVIEWS")["messages"] == []


def test_update_and_permalink(slack: SlackApiStandIn, client: Client) -> None:
    web = client()
    posted = web.chat_postMessage(channel="C0REVIEWS", text="Pending")
    updated = web.chat_update(channel="C0REVIEWS", ts=posted["ts"], text="Approved")
    link = web.chat_getPermalink(channel="C0REVIEWS", message_ts=posted["ts"])

    assert updated["ts"] == posted["ts"] and updated["text"] == "Approved" and "edited" in updated["message"]
    assert slack.messages[0]["text"] == "Approved"
    assert link["permalink"] == f"https://example.slack.com/archives/C0REVIEWS/p{posted['ts'].replace('.', '')}"
    missing = error_of(lambda: web.chat_update(channel="C0REVIEWS", ts="1.000001", text="x"))
    assert missing.response["error"] == "message_not_found"
    human = slack.add_message("C0REVIEWS", "from a person", user="U0ALICE")
    refused = error_of(lambda: web.chat_update(channel="C0REVIEWS", ts=human, text="x"))
    assert refused.response["error"] == "cant_update_message"


def test_ts_is_strictly_increasing_even_with_a_frozen_clock(client: Client) -> None:
    with SlackApiStandIn(bot_token=TOKEN, clock=lambda: 1700000000.0) as frozen:
        web = WebClient(token=TOKEN, base_url=frozen.url, retry_handlers=[])
        stamps = [web.chat_postMessage(channel="C0X", text=str(n))["ts"] for n in range(3)]

    assert stamps == ["1700000000.000000", "1700000000.000001", "1700000000.000002"]


# --- Web API: conversations and users -------------------------------------------------------------------------------


def test_conversations_open_gives_the_dm_channel(client: Client) -> None:
    web = client()

    assert web.conversations_open(users="U0ALICE")["channel"]["id"] == "D0ALICE"
    assert error_of(lambda: web.conversations_open(users="U0NOBODY")).response["error"] == "user_not_found"


def test_history_is_newest_first_and_shows_metadata_only_when_asked(slack: SlackApiStandIn, client: Client) -> None:
    web = client()
    metadata = {"event_type": "suggestion_posted", "event_payload": {"suggestion_id": 42}}
    first = web.chat_postMessage(channel="C0REVIEWS", text="one", metadata=metadata)["ts"]
    second = web.chat_postMessage(channel="C0REVIEWS", text="two")["ts"]
    web.chat_postMessage(channel="C0OTHER", text="elsewhere")
    web.chat_postMessage(channel="C0REVIEWS", text="a reply", thread_ts=first)

    plain = web.conversations_history(channel="C0REVIEWS", limit=10)
    rich = web.conversations_history(channel="C0REVIEWS", include_all_metadata=True)

    assert [m["ts"] for m in plain["messages"]] == [second, first]  # thread replies stay out of history
    assert all("metadata" not in m for m in plain["messages"])
    assert rich["messages"][1]["metadata"] == metadata and "metadata" not in rich["messages"][0]
    assert rich["messages"][1]["reply_count"] == 1
    assert slack.calls_to("conversations.history")[1].args["include_all_metadata"] == "1"  # form-encoded bool
    assert [m["text"] for m in web.conversations_history(channel="C0REVIEWS", oldest=first)["messages"]] == ["two"]


def test_history_pages_with_a_cursor(client: Client) -> None:
    web = client()
    for n in range(5):
        web.chat_postMessage(channel="C0REVIEWS", text=str(n))

    texts: list[str] = []
    for page in web.conversations_history(channel="C0REVIEWS", limit=2):  # SlackResponse follows next_cursor
        texts += [m["text"] for m in page["messages"]]

    assert texts == ["4", "3", "2", "1", "0"]


def test_users_info_and_lookup_by_email(client: Client) -> None:
    web = client()
    alice = web.users_info(user="U0ALICE")["user"]

    assert alice["profile"]["display_name"] == "Alice Example" and alice["real_name"] == "Alice Example"
    assert web.users_info(user="U0BOT")["user"]["is_bot"] is True
    assert web.users_lookupByEmail(email=alice["profile"]["email"])["user"]["id"] == "U0ALICE"
    assert error_of(lambda: web.users_lookupByEmail(email="x@y.z")).response["error"] == "users_not_found"
    assert error_of(lambda: web.users_info(user="U0NOBODY")).response["error"] == "user_not_found"


def test_bad_and_missing_tokens_and_unknown_methods(slack: SlackApiStandIn, client: Client) -> None:
    wrong = error_of(lambda: client(token="xoxb-wrong").chat_postMessage(channel="C0R", text="x"))
    missing = error_of(lambda: client(token=None).auth_test())
    unknown = error_of(lambda: client().api_call("reviews.approve"))

    assert (wrong.response.status_code, wrong.response["error"]) == (200, "invalid_auth")  # HTTP 200, like Slack
    assert missing.response["error"] == "not_authed"
    assert unknown.response["error"] == "unknown_method"
    assert slack.messages == []


# --- Web API: views -----------------------------------------------------------------------------------------------


def test_a_trigger_id_opens_one_modal(slack: SlackApiStandIn, client: Client) -> None:
    web = client()
    trigger = new_trigger_id()
    opened = web.views_open(trigger_id=trigger, view=modal(callback_id="suggest", private_metadata="42"))
    again = error_of(lambda: web.views_open(trigger_id=trigger, view=modal()))

    view = opened["view"]
    assert view["id"].startswith("V") and view["hash"] and view["callback_id"] == "suggest"
    assert view["private_metadata"] == "42" and view["state"] == {"values": {}}
    assert slack.views[view["id"]] == view
    assert again.response["error"] == "exchanged_trigger_id"
    assert len(slack.views) == 1


def test_expired_triggers_and_invalid_views(slack: SlackApiStandIn, client: Client) -> None:
    web = client()
    stale = new_trigger_id()
    slack.expire_trigger(stale)

    assert error_of(lambda: web.views_open(trigger_id=stale, view=modal())).response["error"] == "expired_trigger_id"
    too_long = error_of(lambda: web.views_open(trigger_id=new_trigger_id(), view=modal(private_metadata="x" * 3001)))
    assert too_long.response["error"] == "invalid_arguments"
    assert "private_metadata" in too_long.response["response_metadata"]["messages"][0]
    long_title = error_of(lambda: web.views_open(trigger_id=new_trigger_id(), view=modal("t" * 25)))
    assert long_title.response["error"] == "invalid_arguments"


def test_views_update_detects_a_stale_hash_and_push_takes_a_trigger(slack: SlackApiStandIn, client: Client) -> None:
    web = client()
    view = web.views_open(trigger_id=new_trigger_id(), view=modal())["view"]
    updated = web.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 2"))["view"]
    stale = error_of(lambda: web.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 3")))
    pushed = web.views_push(trigger_id=new_trigger_id(), view=modal("Details"))["view"]

    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    assert slack.views[view["id"]]["title"]["text"] == "Step 2"
    assert stale.response["error"] == "hash_conflict"
    assert pushed["id"] != view["id"]
    assert error_of(lambda: web.views_update(view_id="V0NOPE", view=modal())).response["error"] == "not_found"


def test_views_publish_stores_the_app_home(slack: SlackApiStandIn, client: Client) -> None:
    web = client()
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "3 pending"}}]}
    first = web.views_publish(user_id="U0ALICE", view=home)["view"]
    second = web.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": []})["view"]

    assert slack.home["U0ALICE"] == second == slack.views[second["id"]]
    assert second["id"] == first["id"]  # one App Home view per user
    wrong_type = error_of(lambda: web.views_publish(user_id="U0ALICE", view=modal()))
    assert wrong_type.response["error"] == "invalid_arguments"


# --- Web API: faults ----------------------------------------------------------------------------------------------


def test_429_without_a_rate_limit_handler_raises_with_retry_after(slack: SlackApiStandIn, client: Client) -> None:
    slack.faults.append(SlackFault("chat.postMessage", "429", retry_after=7))

    error = error_of(lambda: client().chat_postMessage(channel="C0REVIEWS", text="x"))

    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "7"
    assert slack.messages == []


def test_default_retry_handlers_do_not_retry_a_429(slack: SlackApiStandIn) -> None:
    slack.faults.append(SlackFault("chat.postMessage", "429", retry_after=1))
    web = WebClient(token=TOKEN, base_url=slack.url)  # default_retry_handlers(): connection errors only

    assert error_of(lambda: web.chat_postMessage(channel="C0R", text="x")).response.status_code == 429
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_rate_limit_handler_waits_retry_after_and_succeeds(slack: SlackApiStandIn, client: Client) -> None:
    slack.faults.append(SlackFault("chat.postMessage", "429", retry_after=1))
    web = client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])

    started = time.monotonic()
    answer = web.chat_postMessage(channel="C0REVIEWS", text="x")
    waited = time.monotonic() - started

    assert answer["ok"] is True
    assert 1.0 <= waited < 2.5  # Retry-After plus up to 1 s of jitter
    assert len(slack.calls_to("chat.postMessage")) == 2 and len(slack.messages) == 1


def test_drop_after_write_stores_the_message_yet_the_client_sees_a_connection_error(
    slack: SlackApiStandIn, client: Client
) -> None:
    slack.faults.append(SlackFault("chat.postMessage", "drop_after_write"))

    with pytest.raises(ConnectionError) as info:
        client().chat_postMessage(channel="C0REVIEWS", text="posted once?")

    assert isinstance(info.value, RemoteDisconnected)
    assert [m["text"] for m in slack.messages] == ["posted once?"]


def test_default_client_retries_a_dropped_post_and_duplicates_it(slack: SlackApiStandIn) -> None:
    slack.faults.append(SlackFault("chat.postMessage", "drop_after_write"))
    web = WebClient(token=TOKEN, base_url=slack.url)  # ConnectionErrorRetryHandler(max_retry_count=1)

    web.chat_postMessage(channel="C0REVIEWS", text="posted once?")

    assert [m["text"] for m in slack.messages] == ["posted once?", "posted once?"]


def test_drop_before_and_error_faults(slack: SlackApiStandIn, client: Client) -> None:
    slack.faults.append(SlackFault("chat.postMessage", "drop_before"))
    slack.faults.append(SlackFault("*", "error", error="fatal_error"))
    web = client()

    with pytest.raises(ConnectionError):
        web.chat_postMessage(channel="C0REVIEWS", text="x")
    assert error_of(lambda: web.auth_test()).response["error"] == "fatal_error"
    assert web.auth_test()["ok"] is True  # each fault is used up
    assert slack.messages == [] and slack.faults == []


def test_fault_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        SlackFault("chat.postMessage", "503")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SlackFault("chat.postMessage", "429", times=0)


def test_response_urls_post_ephemeral_in_channel_and_replace(slack: SlackApiStandIn, client: Client) -> None:
    original = client().chat_postMessage(channel="C0REVIEWS", text="Approve?")["ts"]
    hook = WebhookClient(slack.response_url("C0REVIEWS", "U0ALICE", original))

    assert hook.send(text="Just for you").status_code == 200
    assert hook.send(text="For everyone", response_type="in_channel").body == "ok"
    assert hook.send(text="Approved by Alice", replace_original=True).status_code == 200
    for _ in range(2):
        hook.send(text="more")
    assert (hook.send(text="sixth").status_code, hook.send(text="x").body) == (404, "used_url")

    texts = [(m["text"], m["ephemeral"], m["user"]) for m in slack.messages]
    assert texts[:3] == [
        ("Approved by Alice", False, "U0BOT"),
        ("Just for you", True, "U0ALICE"),
        ("For everyone", False, "U0BOT"),
    ]
    assert len(slack.calls_to("response_url")) == 7


def test_stop_is_prompt_and_idempotent() -> None:
    standin = SlackApiStandIn().start()
    WebClient(token="xoxb-test", base_url=standin.url).auth_test()
    started = time.monotonic()
    standin.stop()
    standin.stop()

    assert time.monotonic() - started < 1
    assert standin.thread is not None and not standin.thread.is_alive()


# --- Bolt over HTTP ------------------------------------------------------------------------------------------------


@dataclass
class BoltRig:
    """A real Bolt app served over HTTP, its sender, the Slack stand-in it calls, and what its listeners saw."""

    app: App
    sender: SlackSender
    slack: SlackApiStandIn
    seen: dict[str, list[Any]] = field(default_factory=dict)
    done: dict[str, threading.Event] = field(default_factory=dict)

    def record(self, kind: str, value: Any) -> None:
        """Listeners append what they got, and signal any waiter."""
        self.seen.setdefault(kind, []).append(value)
        self.done.setdefault(kind, threading.Event()).set()

    def wait(self, kind: str) -> list[Any]:
        """What listeners of `kind` recorded, after the first one finished (listeners run in Bolt's thread pool)."""
        assert self.done.setdefault(kind, threading.Event()).wait(5), f"no {kind} listener finished"
        return self.seen[kind]


@pytest.fixture
def rig(slack: SlackApiStandIn) -> Iterator[BoltRig]:
    """A tiny reviewbot-like Bolt app: one command, shortcut, action, view and event listener."""
    app = App(
        signing_secret=SECRET,
        # The client's token is the one Bolt uses; App(token=...) next to client= is ignored with a warning.
        client=WebClient(token=TOKEN, base_url=slack.url, retry_handlers=[]),
        token_verification_enabled=False,
    )
    server = WsgiServer(SlackRequestHandler(app)).start()
    rig = BoltRig(app, SlackSender(f"{server.root}/slack/events", SECRET, response_urls=slack.response_url), slack)

    @app.command("/policy-suggest")
    def suggest(ack: Any, body: dict, respond: Any, request: Any) -> None:
        ack("Got it")
        # Code after ack() keeps running after the HTTP answer: prove it by finishing after the 200 is sent.
        time.sleep(0.3)
        respond(f"Thanks, <@{body['user_id']}>")
        rig.record("command", {"body": body, "thread": threading.current_thread().name, "at": time.monotonic()})

    @app.message_shortcut("suggest_from_message")
    def from_message(ack: Any, shortcut: dict, client: WebClient) -> None:
        ack()
        view = client.views_open(trigger_id=shortcut["trigger_id"], view=modal(callback_id="suggest"))["view"]
        rig.record("shortcut", {"shortcut": shortcut, "view": view})

    @app.action("approve")
    def approve(ack: Any, body: dict, action: dict, respond: Any) -> None:
        ack()
        respond(f"Approved {action['value']}", replace_original=True)
        rig.record("action", {"action": action, "body": body})

    @app.view("suggest")
    def submitted(ack: Any, view: dict, body: dict) -> None:
        text = view["state"]["values"]["summary"]["summary_input"]["value"]
        if not text.strip():
            ack(response_action="errors", errors={"summary": "Please describe the change"})
        else:
            ack()
        rig.record("view", {"view": view, "user": body["user"]["id"]})

    @app.event("app_home_opened")
    def home(event: dict, client: WebClient, request: Any, context: Any) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})
        rig.record("event", {"event": event, "headers": request.headers, "context": dict(context)})

    yield rig
    server.stop()


def test_slash_command_is_acked_and_keeps_running_after_the_response(rig: BoltRig) -> None:
    answered = rig.sender.command("/policy-suggest", "refunds after 30 days", user="U0ALICE")
    answered_at = time.monotonic()

    assert (answered.status, answered.body) == (200, "Got it")
    seen = rig.wait("command")[0]
    assert seen["body"]["text"] == "refunds after 30 days" and seen["body"]["command"] == "/policy-suggest"
    assert seen["at"] - answered_at >= 0.2  # the listener finished well after the 200 was sent
    assert seen["thread"].startswith("ThreadPoolExecutor")  # listeners run in Bolt's executor, not the HTTP thread
    # respond() went to the stand-in's response_url: an ephemeral reply for the user.
    assert [(m["text"], m["user"], m["ephemeral"]) for m in rig.slack.messages] == [
        ("Thanks, <@U0ALICE>", "U0ALICE", True)
    ]
    assert [c.method for c in rig.slack.calls][0] == "auth.test"  # Bolt's lazy auth.test on the first request


def test_message_shortcut_opens_a_modal_with_its_trigger(rig: BoltRig) -> None:
    answered = rig.sender.message_shortcut(
        "suggest_from_message",
        user="U0BOB",
        message_text="Customer asked for a refund",
        channel="C0SUPPORT",
        message_ts="1700000000.000100",
    )

    assert (answered.status, answered.body) == (200, "")
    seen = rig.wait("shortcut")[0]
    assert seen["shortcut"]["message"]["text"] == "Customer asked for a refund"
    assert rig.slack.calls_to("views.open")[0].args["trigger_id"] == answered.payload["trigger_id"]
    assert rig.slack.views[seen["view"]["id"]]["callback_id"] == "suggest"


def test_block_action_reaches_the_listener_and_replaces_the_message(rig: BoltRig) -> None:
    web = WebClient(token=TOKEN, base_url=rig.slack.url)
    posted = web.chat_postMessage(channel="C0REVIEWS", text="Approve suggestion 42?")

    answered = rig.sender.block_action("approve", "42", user="U0ALICE", channel="C0REVIEWS", message_ts=posted["ts"])

    assert answered.status == 200
    seen = rig.wait("action")[0]
    assert (seen["action"]["value"], seen["action"]["type"]) == ("42", "button")
    assert seen["body"]["container"]["message_ts"] == posted["ts"]
    assert [m["text"] for m in rig.slack.channel_messages("C0REVIEWS")] == ["Approved 42"]


def test_view_submission_values_and_validation_errors(rig: BoltRig) -> None:
    def values(text: str) -> dict[str, Any]:
        return {"summary": {"summary_input": {"type": "plain_text_input", "value": text}}}

    ok = rig.sender.view_submission("suggest", values("Extend to 60 days"), user="U0ALICE", private_metadata="42")
    refused = rig.sender.view_submission("suggest", values("  "), user="U0ALICE")

    assert (ok.status, ok.body) == (200, "")
    assert refused.status == 200
    assert refused.headers["content-type"].startswith("application/json")
    assert refused.json() == {"response_action": "errors", "errors": {"summary": "Please describe the change"}}
    seen = rig.wait("view")[0]
    assert seen["view"]["private_metadata"] == "42" and seen["user"] == "U0ALICE"
    with pytest.raises(ValueError):
        rig.sender.view_submission("suggest", {"summary": {"summary_input": "flat"}}, user="U0ALICE")


def test_app_home_opened_event_publishes_a_home(rig: BoltRig) -> None:
    answered = rig.sender.event({"type": "app_home_opened", "user": "U0ALICE", "channel": "D0ALICE", "tab": "home"})

    assert answered.status == 200
    rig.wait("event")
    assert rig.slack.home["U0ALICE"]["type"] == "home"


def test_forged_and_stale_requests_get_401_and_reach_no_listener(rig: BoltRig) -> None:
    body = urlencode({"command": "/policy-suggest", "text": "x", "user_id": "U0ALICE", "team_id": "T0TEST"}).encode()
    stale = int(time.time()) - 6 * 60

    forged = rig.sender.post(body, FORM, signature="v0=" + "0" * 64)
    old = rig.sender.post(body, FORM, timestamp=stale)  # correctly signed, but for a timestamp 6 minutes ago
    other_secret = SlackSender(rig.sender.app_url, "not-the-secret").command("/policy-suggest", "x", user="U0ALICE")

    assert [forged.status, old.status, other_secret.status] == [401, 401, 401]
    assert forged.json() == {"error": "invalid request"}
    time.sleep(0.1)
    assert "command" not in rig.seen


def test_a_retried_event_is_dispatched_again_with_the_retry_headers(rig: BoltRig) -> None:
    event = {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": "home"}
    first = rig.sender.event(event, event_id="Ev0RETRY")
    rig.wait("event")
    retried = rig.sender.event(event, event_id="Ev0RETRY", retry_num=1, retry_reason="http_timeout")

    assert first.status == retried.status == 200
    deadline = time.monotonic() + 5
    while len(rig.seen["event"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    original, again = rig.seen["event"]
    assert "x-slack-retry-num" not in original["headers"]
    # Bolt does not deduplicate: the retry is a normal dispatch; only the raw headers tell it apart.
    assert again["headers"]["x-slack-retry-num"] == ["1"]
    assert again["headers"]["x-slack-retry-reason"] == ["http_timeout"]
    assert not any("retry" in key for key in again["context"])
    assert len(rig.slack.calls_to("views.publish")) == 2


def test_url_verification_echoes_the_challenge(rig: BoltRig) -> None:
    answered = rig.sender.url_verification("abc123")

    assert answered.status == 200 and answered.json() == {"challenge": "abc123"}


def test_a_listener_that_never_acks_gets_404_after_three_seconds(rig: BoltRig) -> None:
    @rig.app.command("/forgetful")
    def forgetful(body: dict) -> None:
        rig.record("forgetful", body)

    started = time.monotonic()
    rig.sender.ack_seconds = 10  # Bolt's own answer at 3 s, which Slack would drop (the sender raises AckTooLate)
    answered = rig.sender.command("/forgetful", "", user="U0ALICE")

    assert answered.status == 404
    assert 3.0 <= time.monotonic() - started < 4.0
    assert json.loads(answered.body) == {"error": "unhandled request"}


def test_an_answer_after_three_seconds_is_dropped_as_slack_drops_it(rig: BoltRig) -> None:
    @rig.app.command("/slow")
    def slow(ack: Any) -> None:
        time.sleep(3.2)  # e.g. a tracker called before ack()
        ack()

    with pytest.raises(AckTooLate, match="Slack drops an answer after 3 s"):
        rig.sender.command("/slow", "", user="U0ALICE")


# --- Block Kit limits: what Slack would refuse, the stand-in refuses -----------------------------------------------


def _option(i: int, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or f"Option {i}"}, "value": f"v{i}"}


def _select(**menu: Any) -> dict[str, Any]:
    element = {"type": "static_select", "action_id": "pick", "placeholder": {"type": "plain_text", "text": "Pick"}}
    return {"type": "actions", "elements": [{**element, **menu}]}


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}, "/blocks/0/text/text"),
        ({"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}, "/blocks/0/text/text"),
        (_select(options=[_option(i) for i in range(101)]), "/blocks/0/elements/0/options"),
        (_select(options=[_option(1, "x" * 76)]), "/blocks/0/elements/0/options/0/text/text"),
        (_select(options=[{**_option(1), "value": "v" * 151}]), "/blocks/0/elements/0/options/0/value"),
        (
            _select(option_groups=[{"label": {"type": "plain_text", "text": "L" * 76}, "options": [_option(1)]}]),
            "/blocks/0/elements/0/option_groups/0/label/text",
        ),
        (_select(options=[_option(1)], initial_option=_option(2)), "/blocks/0/elements/0/initial_option"),
        (_select(options=[_option(1)], option_groups=[]), "/blocks/0/elements/0"),
    ],
)
def test_blocks_over_slacks_limits_are_refused(
    slack: SlackApiStandIn, client: Client, block: dict[str, Any], problem: str
) -> None:
    refused = error_of(lambda: client().chat_postMessage(channel="C0REVIEWS", text="x", blocks=[block]))
    assert refused.response["error"] == "invalid_blocks"
    assert any(problem + "]" in m for m in refused.response["response_metadata"]["messages"])
    home = error_of(lambda: client().views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [block]}))
    assert home.response["error"] == "invalid_arguments"
    assert slack.messages == [] and slack.home == {}


def test_blocks_at_slacks_limits_are_accepted(slack: SlackApiStandIn, client: Client) -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}},
        {"type": "header", "text": {"type": "plain_text", "text": "x" * 150}},
        _select(options=[_option(i, "x" * 75) for i in range(100)], initial_option=_option(0, "x" * 75)),
    ]
    assert client().chat_postMessage(channel="C0REVIEWS", text="x", blocks=blocks)["ok"]


def test_too_long_text_is_refused_as_slack_does(slack: SlackApiStandIn, client: Client) -> None:
    assert error_of(lambda: client().chat_postMessage(channel="C0R", text="x" * 40_001)).response["error"] == (
        "msg_too_long"
    )


def test_calls_over_the_rate_limit_get_429_with_retry_after() -> None:
    now = [1000.0]
    with SlackApiStandIn(bot_token=TOKEN, users=USERS, clock=lambda: now[0], rate_limits={"chat.postMessage": 1}) as s:
        web = WebClient(token=TOKEN, base_url=s.url, timeout=5, retry_handlers=[])
        web.chat_postMessage(channel="C0A", text="first")
        web.chat_postMessage(channel="C0B", text="another channel has its own budget")
        limited = error_of(lambda: web.chat_postMessage(channel="C0A", text="too soon"))
        assert limited.response.status_code == 429 and limited.response.headers["Retry-After"] == "1"
        now[0] += 1.0
        assert web.chat_postMessage(channel="C0A", text="a second later")["ok"]
        assert [m["text"] for m in s.channel_messages("C0A")] == ["first", "a second later"]
