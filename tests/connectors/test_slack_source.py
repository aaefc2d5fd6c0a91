"""The Slack channel source through the sync's collect stage, with the real slack_sdk WebClient talking to the local
Web API stand-in: messages and thread replies stored once, the bookmark, paging, 429s and dropped connections, and
the messages a user sees when the token or the channel is wrong."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import reviewbot.connectors.slack.source
from reviewbot.errors import ConfigError
from reviewbot.models import FeedbackItem, SourceState
from reviewbot.settings import load_settings
from reviewbot.workflows.doctor import run_checks
from tests.standins.slack_api import SlackApiStandIn, SlackFault
from tests.workspaces import make_workspace, open_workspace, run_collect, stored_items

SOURCE = "policy-feedback"
CHANNEL = "C0FEEDBACK"
TOKEN = "xoxb-source-test-5d1c"
DAY = 86400


class Clock:
    """The stand-in's clock: real time, minus however far back a test posts from."""

    def __init__(self) -> None:
        self.back = 0.0

    def __call__(self) -> float:
        return time.time() - self.back


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def slack(clock: Clock) -> Iterator[SlackApiStandIn]:
    with SlackApiStandIn(bot_token=TOKEN, clock=clock) as standin:
        yield standin


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry-After waits of slack_sdk's RateLimitErrorRetryHandler, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr("slack_sdk.http_retry.builtin_handlers.time", SimpleNamespace(sleep=recorded.append))
    return recorded


def workspace_toml(slack: SlackApiStandIn, **options: Any) -> str:
    settings = {"channel": CHANNEL, "api_url": slack.url, "retry_backoff": 0, **options}
    lines = "\n".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {str(v).lower()}" for k, v in settings.items())
    return f"""
[slack]
people = {{ "tom.b" = "U0TOM", "priya.n" = "U0PRIYA" }}

[[sources]]
name = "{SOURCE}"
type = "slack"
kind = "agent_note"
{lines}
""".replace("'", '"')


@pytest.fixture
def workspace_for(tmp_path: Path, use_database: str, slack: SlackApiStandIn, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REVIEWBOT_SLACK_BOT_TOKEN", TOKEN)

    def make(**options: Any) -> Path:
        return make_workspace(tmp_path / "ws", extra_toml=workspace_toml(slack, **options))

    return make


def notes(folder: Path) -> dict[str, FeedbackItem]:
    return {row.external_id.split("/")[1]: row for row in stored_items(folder, SOURCE)}


def post(slack: SlackApiStandIn, text: str, user: str = "U0TOM", **kwargs: Any) -> str:
    return slack.add_message(CHANNEL, text, user=user, **kwargs)


def test_messages_and_thread_replies_become_agent_notes(workspace_for, slack: SlackApiStandIn) -> None:  # type: ignore[no-untyped-def]
    question = post(
        slack, "Customers keep asking why refunds take 10 days when <@U0PRIYA> promised 5 &amp; the page says 5"
    )
    reply = post(
        slack, "Same here, see <https://help.example.com/refunds|the refunds page>", "U0PRIYA", thread_ts=question
    )
    post(slack, "joined #policy-feedback", subtype="channel_join")
    post(slack, "Build 41 deployed", "U0CI", bot_id="B0CI")
    broadcast = post(
        slack,
        "Also sent to the channel: chat wait is 20 min",
        "U0PRIYA",
        thread_ts=question,
        subtype="thread_broadcast",
    )
    other = post(slack, "Warranty claims: the form asks for a receipt we never email", "U0ANA")
    folder = workspace_for()

    report = run_collect(folder)

    assert report.errors == [] and report.sources[SOURCE]["new"] == 4
    stored = notes(folder)
    assert sorted(stored) == sorted([question, reply, broadcast, other])  # no join message, no bot post
    first = stored[question]
    assert first.kind == "agent_note" and first.author == "tom.b" and first.channel == "slack"
    assert first.text == "Customers keep asking why refunds take 10 days when @priya.n promised 5 & the page says 5"
    assert first.meta == {"channel": CHANNEL, "ts": question}
    assert stored[reply].text == "Same here, see the refunds page" and stored[reply].author == "priya.n"
    assert stored[reply].meta["thread_ts"] == question
    assert stored[other].author == "U0ANA"  # not in [slack] people: the Slack id


def test_a_second_sync_adds_nothing_and_the_next_message_and_reply_come_once(
    workspace_for, slack: SlackApiStandIn
) -> None:  # type: ignore[no-untyped-def]
    thread = post(slack, "Should agents offer vouchers for late parcels?")
    post(slack, "Yes, policy 4.2 allows it", "U0PRIYA", thread_ts=thread)
    folder = workspace_for()
    assert run_collect(folder).sources[SOURCE]["new"] == 2

    again = run_collect(folder)
    assert again.sources[SOURCE] == {"new": 0, "updated": 0, "unchanged": 0, "quarantined": 0}

    late_reply = post(slack, "Only over 30 pounds though", "U0TOM", thread_ts=thread)
    newest = post(slack, "The returns window confuses people at Christmas")
    third = run_collect(folder)
    assert third.sources[SOURCE] == {"new": 2, "updated": 0, "unchanged": 0, "quarantined": 0}
    assert {late_reply, newest} < set(notes(folder))
    _, store = open_workspace(folder)
    with store.session() as session:
        state = session.get(SourceState, SOURCE)
        assert (
            state is not None and state.cursor["oldest"] == newest and state.cursor["threads"] == {thread: late_reply}
        )
    store.dispose()


def test_history_and_threads_are_read_page_by_page(workspace_for, slack: SlackApiStandIn) -> None:  # type: ignore[no-untyped-def]
    thread = post(slack, "Thread about exchange rules")
    replies = [post(slack, f"reply {i} on exchanges", "U0PRIYA", thread_ts=thread) for i in range(5)]
    tops = [post(slack, f"top-level note {i} about loyalty points") for i in range(6)]
    folder = workspace_for(page_size=2)

    report = run_collect(folder)

    assert report.sources[SOURCE]["new"] == 12 and sorted(notes(folder)) == sorted([thread, *replies, *tops])
    history, thread_pages = slack.calls_to("conversations.history"), slack.calls_to("conversations.replies")
    assert len(history) == 4 and all(c.args.get("cursor") for c in history[1:])
    assert len(thread_pages) == 3 and all(c.args.get("cursor") for c in thread_pages[1:])


def test_threads_older_than_the_window_are_not_read_again(workspace_for, slack: SlackApiStandIn, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    clock.back = 20 * DAY
    old = post(slack, "An old thread about gift cards")
    clock.back = 3 * DAY
    recent = post(slack, "A recent thread about gift wrap")
    clock.back = 0
    folder = workspace_for(thread_days=14)
    run_collect(folder)

    post(slack, "a reply, weeks later, to the old thread", "U0PRIYA", thread_ts=old)
    fresh = post(slack, "a reply to the recent thread", "U0PRIYA", thread_ts=recent)
    report = run_collect(folder)

    assert report.sources[SOURCE]["new"] == 1 and fresh in notes(folder)
    assert all(c.args["oldest"] > old for c in slack.calls_to("conversations.history")[1:])  # not read back 20 days


def test_start_date_bounds_the_first_sync_replies_included(workspace_for, slack: SlackApiStandIn, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    clock.back = 3 * DAY
    thread = post(slack, "A thread from before we started")
    clock.back = 2 * DAY
    post(slack, "an old reply, before the start date", "U0PRIYA", thread_ts=thread)
    clock.back = 0
    fresh = post(slack, "a reply after the start date", "U0PRIYA", thread_ts=thread)
    today = datetime.now(UTC).date().isoformat()
    folder = workspace_for(start_date=today)

    report = run_collect(folder)

    assert report.sources[SOURCE]["new"] == 1 and sorted(notes(folder)) == [fresh]


def test_rate_limits_and_dropped_connections_are_retried(
    workspace_for, slack: SlackApiStandIn, waits: list[float]
) -> None:  # type: ignore[no-untyped-def]
    thread = post(slack, "Why do we charge for return labels?")
    replies = [post(slack, f"reply {i}: customers hate it", "U0PRIYA", thread_ts=thread) for i in range(3)]
    tops = [post(slack, f"note {i} on delivery windows") for i in range(3)]
    slack.faults += [
        SlackFault("conversations.history", "429", retry_after=4),
        SlackFault("conversations.history", "drop_after_write"),
        SlackFault("conversations.replies", "429", retry_after=2),
        SlackFault("conversations.replies", "drop_before"),
    ]
    folder = workspace_for(page_size=2)

    report = run_collect(folder)

    assert report.errors == [] and slack.faults == [] and slack.errors == []
    assert sorted(notes(folder)) == sorted([thread, *replies, *tops])
    assert [int(w) for w in waits] == [4, 2]  # Retry-After (plus slack_sdk's jitter of under a second)


def test_an_outage_mid_run_keeps_what_was_stored_and_the_next_sync_finishes(
    workspace_for, slack: SlackApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(reviewbot.connectors.slack.source, "BATCH_SIZE", 2)
    messages = [post(slack, f"note {i} about the price promise") for i in range(3)]
    thread = post(slack, "a thread about price matching")
    messages += [thread, post(slack, "reply on price matching", "U0PRIYA", thread_ts=thread)]
    messages.append(post(slack, "the last note about price matching"))
    slack.faults.append(SlackFault("conversations.replies", "error", error="service_unavailable"))
    folder = workspace_for()

    first = run_collect(folder)

    assert len(first.errors) == 1 and "service_unavailable" in first.errors[0]
    assert first.sources[SOURCE]["new"] == 2  # the first batch, stored with its bookmark
    second = run_collect(folder)
    assert second.errors == [] and second.sources[SOURCE]["new"] == 4
    assert sorted(notes(folder)) == sorted(messages)


# --- errors a user can cause -------------------------------------------------------------------------------------


def test_a_wrong_token_names_the_variable(workspace_for, slack: SlackApiStandIn, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    post(slack, "anything")
    folder = workspace_for()
    monkeypatch.setenv("REVIEWBOT_SLACK_BOT_TOKEN", "xoxb-wrong")

    result = cli(["-w", str(folder), "sync"])

    assert result.code == 2 and "Traceback" not in result.stderr
    assert "Slack refused the bot token (invalid_auth)" in result.stderr
    assert "REVIEWBOT_SLACK_BOT_TOKEN" in result.stderr and "xoxb-wrong" not in result.stderr


def test_a_missing_token_and_a_channel_name_instead_of_an_id(workspace_for, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = workspace_for()
    monkeypatch.delenv("REVIEWBOT_SLACK_BOT_TOKEN")
    missing = cli(["-w", str(folder), "sync"])
    assert missing.code == 2 and "no Slack bot token: set REVIEWBOT_SLACK_BOT_TOKEN" in missing.stderr

    monkeypatch.setenv("REVIEWBOT_SLACK_BOT_TOKEN", TOKEN)
    (folder / "reviewbot.toml").write_text(
        (folder / "reviewbot.toml").read_text().replace(f'"{CHANNEL}"', '"#policy-feedback"')
    )
    named = cli(["-w", str(folder), "sync"])
    assert named.code == 2 and "Traceback" not in named.stderr
    assert "'#policy-feedback' is not a channel id" in named.stderr and "sources[1].channel" in named.stderr


def test_an_app_outside_the_channel_is_told_to_invite_it(workspace_for, slack: SlackApiStandIn) -> None:  # type: ignore[no-untyped-def]
    folder = workspace_for()
    slack.faults.append(SlackFault("conversations.history", "error", error="not_in_channel", times=2))

    [check] = [c for c in run_checks(load_settings(folder)) if c.name == f"source {SOURCE}"]

    assert not check.ok and "not in channel C0FEEDBACK" in check.detail and "/invite" in (check.hint or "")
    with pytest.raises(ConfigError, match="not in channel"):
        run_collect(folder)


def test_doctor_reads_the_channel(workspace_for, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = workspace_for()
    [ok] = [c for c in run_checks(load_settings(folder)) if c.name == f"source {SOURCE}"]
    assert ok.ok and ok.detail == f"reading {CHANNEL} as reviewbot in Example"

    monkeypatch.setenv("REVIEWBOT_SLACK_BOT_TOKEN", "xoxb-wrong")
    [refused] = [c for c in run_checks(load_settings(folder)) if c.name == f"source {SOURCE}"]
    assert not refused.ok and "invalid_auth" in refused.detail and "REVIEWBOT_SLACK_BOT_TOKEN" in (refused.hint or "")
