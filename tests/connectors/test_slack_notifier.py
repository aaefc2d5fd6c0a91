"""The Slack notifier through the real WebClient against the stand-in: text escaped for mrkdwn, messages within
Slack's limits, people found by email when [slack] people does not map them, and a message to several people
reaching everyone who can be found."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from reviewbot.connectors.slack.config import Directory, DirectoryError, SlackOptions
from reviewbot.connectors.slack.notifier import NotifierError, SlackNotifier
from reviewbot.protocols import Message
from tests.standins.slack_api import SlackApiStandIn, SlackFault, shown_text

TOKEN = "xoxb-notifier"
USERS = {"U0LEE": "Lee", "U0SAM": "Sam Okafor", "U0DANA": "Dana"}  # emails: lee@, sam.okafor@, dana@example.com


@pytest.fixture
def api() -> Iterator[SlackApiStandIn]:
    with SlackApiStandIn(bot_token=TOKEN, users=USERS) as standin:
        yield standin
    assert standin.errors == []


def notifier(api: SlackApiStandIn, **options: object) -> SlackNotifier:
    client = WebClient(
        token=TOKEN, base_url=api.url, timeout=5, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)]
    )
    settings = {"channel": "C0POLICY", "email_domain": "example.com", **options}
    return SlackNotifier(SlackOptions.model_validate(settings), client)


def signoff(*people: str, retry: bool = False) -> Message:
    return Message(
        kind="signoff_request",
        title="Sign-off requested: PRB-3",
        body="Refunds within 10 business days",
        recipients=people,
        data={"ref": "PRB-3", "outbox_key": "signoff:3", "retry": retry},
    )


def dm_texts(api: SlackApiStandIn, user: str) -> list[str]:
    return [m["text"] for m in api.channel_messages(api.dm_channel(user))]


def test_impact_text_reads_as_written(api: SlackApiStandIn) -> None:
    body = "Refund complaints fell from 41 to 12 a week (p < 0.001) & <2% reopened; see <https://evil.example|here>"
    notifier(api).send(Message(kind="impact", title="Effect of Returns Policy v2 > expected", body=body))
    [posted] = api.channel_messages("C0POLICY")
    assert shown_text(posted["blocks"][0]["text"]["text"]) == f"*Effect of Returns Policy v2 > expected*\n{body}"
    assert shown_text(posted["text"]) == f"Effect of Returns Policy v2 > expected\n{body}"


def test_a_huge_digest_is_accepted_and_says_what_it_leaves_out(api: SlackApiStandIn) -> None:
    lines = [f"- new: PRB-{i} Refunds & returns take < {i} days " + "x" * 200 for i in range(700)]
    sections = [(f"handbook#s{i}", f"{i}. Rule {i}", "Agent Handbook") for i in range(250)]
    created = [{"ref": f"PRB-{i}", "section": "s1"} for i in range(70)]
    digest = Message(
        kind="digest",
        title="700 new and 0 updated review tickets",
        body="\n".join(lines),
        data={"outbox_key": "digest:1", "created": created, "sections": sections},
    )
    notifier(api).send(digest)  # the stand-in refuses what Slack would (invalid_blocks, msg_too_long)
    [posted] = api.channel_messages("C0POLICY")
    assert len(posted["blocks"]) == 50
    note = posted["blocks"][-1]["elements"][0]["text"]
    assert note.startswith("…and ") and "more lines" in note and "70 more pickers" in note
    assert "`reviewbot tickets list`" in note
    # the command as the CLI takes it: `tickets move REF SECTION` was refused ("Got unexpected extra argument")
    assert "`reviewbot tickets move REF --section SECTION`" in note


def test_people_not_mapped_are_found_by_email_once(api: SlackApiStandIn) -> None:
    slack = notifier(api, people={"lee": "U0LEE", "finance-lead": "dana@example.com"})
    slack.send(signoff("lee", "sam.okafor", "finance-lead"))
    slack.send(signoff("sam.okafor", "finance-lead"))
    assert len(dm_texts(api, "U0SAM")) == 2 and len(dm_texts(api, "U0DANA")) == 2 and len(dm_texts(api, "U0LEE")) == 1
    looked_up = sorted(c.args["email"] for c in api.calls_to("users.lookupByEmail"))
    assert looked_up == ["dana@example.com", "sam.okafor@example.com"]  # cached: asked once each, lee is mapped


def test_a_message_to_several_reaches_those_found_and_reports_the_others(api: SlackApiStandIn) -> None:
    slack = notifier(api, people={"lee": "U0LEE"})
    with pytest.raises(NotifierError) as failed:
        slack.send(signoff("lee", "sam.okafor", "mo.unknown"))
    assert str(failed.value) == (
        "reached 2 of 3: no Slack user for mo.unknown: Slack has no user with mo.unknown@example.com; "
        'add "mo.unknown" = "U..." to people = { ... } in [slack]'
    )
    assert len(dm_texts(api, "U0LEE")) == 1 and len(dm_texts(api, "U0SAM")) == 1

    # The outbox tries again: those reached before are found in their history and not sent a second copy.
    with pytest.raises(NotifierError, match="reached 2 of 3"):
        slack.send(signoff("lee", "sam.okafor", "mo.unknown", retry=True))
    assert len(dm_texts(api, "U0LEE")) == 1 and len(dm_texts(api, "U0SAM")) == 1


def test_without_a_mapping_or_email_domain_the_fix_is_named(api: SlackApiStandIn) -> None:
    slack = notifier(api, email_domain=None)
    with pytest.raises(NotifierError, match=r'reached 0 of 1: no Slack user for sam: add "sam" = "U\.\.\." to people'):
        slack.send(signoff("sam"))
    assert api.calls_to("users.lookupByEmail") == [] and api.messages == []


def test_a_rate_limited_lookup_is_waited_out(api: SlackApiStandIn) -> None:
    api.faults.append(SlackFault("users.lookupByEmail", "429", retry_after=0))
    notifier(api).send(signoff("sam.okafor"))
    assert len(api.calls_to("users.lookupByEmail")) == 2 and len(dm_texts(api, "U0SAM")) == 1


def test_a_lookup_slack_cannot_answer_is_not_no_such_user(api: SlackApiStandIn) -> None:
    api.faults.append(SlackFault("users.lookupByEmail", "error", error="missing_scope"))
    with pytest.raises(NotifierError, match="add the users:read.email scope"):
        notifier(api).send(signoff("sam.okafor"))
    notifier(api).send(signoff("sam.okafor"))  # not cached as "no such user": found once Slack answers
    assert len(dm_texts(api, "U0SAM")) == 1


def test_who_clicked_is_found_by_the_email_slack_shows(api: SlackApiStandIn) -> None:
    client = WebClient(token=TOKEN, base_url=api.url, timeout=5)
    directory = Directory({"finance-lead": "dana@example.com"}, email_domain="example.com", client=lambda: client)
    assert directory.person("U0SAM") == "sam.okafor"
    assert directory.person("U0DANA") == "finance-lead"
    assert directory.person("U0NOBODY") == "U0NOBODY"
    assert directory.person("U0SAM") == "sam.okafor"
    assert len(api.calls_to("users.info")) == 3  # the second U0SAM came from the cache
    assert Directory({}, email_domain="elsewhere.com", client=lambda: client).person("U0SAM") == "U0SAM"


def test_the_fix_named_for_an_unmapped_person_is_a_line_that_works_in_the_readme_form(api: SlackApiStandIn) -> None:
    with pytest.raises(NotifierError) as failed:
        notifier(api, people={"lee": "U0LEE"}).send(signoff("tom.b"))
    entry = str(failed.value).split("; add ")[1].split(" to people = {")[0]
    readme = f'[slack]\npeople = {{ "dana.ellis" = "U012ABCDEF", {entry.replace("U...", "U0TOMB")} }}\n'
    assert tomllib.loads(readme)["slack"]["people"] == {"dana.ellis": "U012ABCDEF", "tom.b": "U0TOMB"}


def test_a_user_slack_cannot_describe_now_is_not_kept_as_nobody(api: SlackApiStandIn) -> None:
    client = WebClient(token=TOKEN, base_url=api.url, timeout=5)
    directory = Directory({}, email_domain="example.com", client=lambda: client)
    api.faults.append(SlackFault("users.info", "error", error="internal_error", times=3))
    for _ in range(3):
        with pytest.raises(DirectoryError, match="Slack could not say who U0SAM is: internal_error"):
            directory.person("U0SAM")
    assert directory.person("U0SAM") == "sam.okafor"  # Slack answers again: found at once, not an hour later


def test_answers_are_cached_for_a_while_only(api: SlackApiStandIn) -> None:
    client = WebClient(token=TOKEN, base_url=api.url, timeout=5)
    now = [0.0]
    directory = Directory({}, email_domain="example.com", client=lambda: client, clock=lambda: now[0])
    assert directory.user("mo") is None
    api.users["U0MO"] = "Mo"  # Mo joins Slack
    assert directory.user("mo") is None  # still cached
    now[0] = 3601
    assert directory.user("mo") == "U0MO"
    assert len(api.calls_to("users.lookupByEmail")) == 2


def test_people_must_be_slack_ids_or_emails() -> None:
    with pytest.raises(ValueError, match="neither a Slack user id"):
        SlackOptions.model_validate({"people": {"dana": "dana"}})


def test_doctor_names_the_scopes_the_token_lacks(api: SlackApiStandIn) -> None:
    api.scopes = ["commands", "chat:write", "im:write", "im:history", "channels:history", "users:read"]
    [signed_in, scopes, _] = notifier(api).check()
    assert signed_in.ok and not scopes.ok and scopes.detail == "the bot token lacks users:read.email"
    api.scopes.append("users:read.email")
    assert [(c.name, c.ok) for c in notifier(api).check()] == [("Slack", True), ("Slack channel", True)]


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        ("ratelimited", "run doctor again in a minute"),
        ("internal_error", "run doctor again later"),
        ("token_revoked", "reinstall it and update REVIEWBOT_SLACK_BOT_TOKEN"),
        ("invalid_auth", "check the token in REVIEWBOT_SLACK_BOT_TOKEN"),
    ],
)
def test_doctor_blames_the_token_only_when_slack_does(api: SlackApiStandIn, error: str, hint: str) -> None:
    api.faults.append(SlackFault("auth.test", "error", error=error, times=5))
    [failed] = notifier(api).check()
    assert (failed.ok, failed.detail) == (False, f"auth.test failed: {error}") and hint in (failed.hint or "")


@pytest.mark.parametrize(
    ("channel", "detail", "hint"),
    [
        ("C0ELSEWHERE", "cannot use C0ELSEWHERE: not_in_channel", "/invite @reviewbot"),
        ("C0GONE", "cannot use C0GONE: channel_not_found", "check the id"),
        ("#policy-updates", "'#policy-updates' is not a channel id", "channel details > About"),
        (None, "no channel for digests and announcements", "set channel in [slack]"),
    ],
)
def test_doctor_checks_the_bot_can_use_the_channel(
    api: SlackApiStandIn, channel: str | None, detail: str, hint: str
) -> None:
    api.channels = {"C0POLICY": ["U0BOT", "U0LEE"], "C0ELSEWHERE": ["U0LEE"]}
    [_, checked] = notifier(api, channel=channel).check()
    assert (checked.name, checked.ok, checked.detail) == ("Slack channel", False, detail)
    assert hint in (checked.hint or "")
    [_, fine] = notifier(api).check()
    assert fine.ok and fine.detail == "posting to C0POLICY"


def test_posts_faster_than_slack_allows_are_waited_out_not_lost() -> None:
    with SlackApiStandIn(bot_token=TOKEN, users=USERS, rate_limits={"chat.postMessage": 1}) as limited:
        slack = notifier(limited)
        slack.send(Message(kind="announcement", title="Returns Policy v2", body="Published"))
        slack.send(Message(kind="announcement", title="Agent Handbook v5", body="Published"))
        calls = limited.calls_to("chat.postMessage")
        assert len(calls) == 3  # one 429, waited out for its Retry-After
        assert [m["text"].split("\n")[0] for m in limited.channel_messages("C0POLICY")] == [
            "Returns Policy v2",
            "Agent Handbook v5",
        ]
