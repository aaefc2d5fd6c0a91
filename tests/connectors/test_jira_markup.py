"""Customer text reaches Jira as the words it was: every wiki markup construct in a quote, a theme label or a
policy text is escaped (no live construct left in what Jira stores) and reads back exactly. Created through the
real `jira` client against the stand-in, which keeps the description as sent."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewbot.connectors.jira import JiraOptions, JiraTracker
from reviewbot.connectors.jira_markup import escape, unescape
from reviewbot.protocols import TicketDraft
from tests.connectors.test_tracker_contract import EVIDENCE
from tests.standins.jira_server import JiraStandIn

CONSTRUCTS = [
    "[click here|https://evil.example/login]",
    "!https://evil.example/pixel.png!",
    "[~admin] please look",
    "[~accountid:557058:abc]",
    "{html}<script>alert(1)</script>{html}",
    "{Quote}fake quote{Quote}",
    "{quote:title=x}nested{quote}",
    "{noformat}raw{noformat}",
    "{code:java}System.exit(0);{code}",
    "{panel:title=Urgent}pay now{panel}",
    "{color:red}red{color}",
    "*bold* _italic_ -struck- +under+ ^sup^ ~sub~ ??cite?? {{mono}}",
    "|| head || head ||\n| cell | cell |",
    "h1. Shouting\nbq. quoted\n* item\n# numbered\n----",
    "a \\\\ line break and a \\ backslash",
    "entities &#123; &amp; &lt;",
    "smileys :) :( :P :D ;) (y) (n) (!) (on)",
    "[^attachment.pdf] and [#anchor]",
]
SPECIAL = set("{}[]|*_+^~!?#-")


def live_constructs(text: str) -> list[str]:
    """What in `text` Jira would render as markup rather than as the characters themselves."""
    plain = re.sub(r"\\.|&#92;|&amp;", "", text, flags=re.DOTALL)  # escaped characters are shown as themselves
    found = sorted({c for c in plain if c in SPECIAL})
    if "\\\\" in text or "\\" in plain:
        found.append("backslash")  # two make a line break; one escapes what follows
    if re.search(r"(?m)^\s*(?:h[1-6]|bq)\.", text):
        found.append("block")
    if re.search(r"[:;]-?[()PDpd]|\([^\s()\\]{1,3}\)", plain):
        found.append("emoticon")
    return found


@pytest.fixture
def tracker() -> Iterator[tuple[JiraTracker, JiraStandIn]]:
    with JiraStandIn() as standin:
        options = JiraOptions(server=standin.url, project="POL")
        yield JiraTracker(options, token="secret-token", email="bot@example.com"), standin


def quoted_blocks(description: str) -> list[str]:
    """The text between each {quote} pair, as Jira stored it."""
    return re.findall(r"\{quote\}\n(.*?)\n\{quote\}", description, flags=re.DOTALL)


def test_every_construct_in_customer_text_is_stored_escaped_and_reads_as_written(
    tracker: tuple[JiraTracker, JiraStandIn],
) -> None:
    jira, standin = tracker
    evidence = copy.deepcopy(EVIDENCE)
    evidence["quotes"] = [{**evidence["quotes"][0], "id": f"C-{i}", "text": t} for i, t in enumerate(CONSTRUCTS)]
    evidence["theme"]["label"] = "refund [~admin] / {html}"
    evidence["section"]["text"] = "Refunds *within* 5 days. {quote}Closed{quote}"
    ref = jira.create(TicketDraft(fingerprint="0123456789abcdef", title="Review Refunds", evidence=evidence))

    description = standin.issues[ref.ref]["fields"]["description"]
    *quotes, section = quoted_blocks(description)
    assert [unescape(q) for q in quotes] == CONSTRUCTS  # each quote is exactly the customer's words
    assert unescape(section) == evidence["section"]["text"]
    for stored in [*quotes, section]:
        assert live_constructs(stored) == [], stored
    assert "h2. Theme 3: refund \\[\\~admin\\] / \\{html\\}" in description
    assert description.count("{quote}") == 2 * (len(CONSTRUCTS) + 1)  # no quote closed or opened by a customer


def test_notes_in_comments_are_escaped_too(tracker: tuple[JiraTracker, JiraStandIn]) -> None:
    jira, standin = tracker
    draft = TicketDraft(fingerprint="0123456789abcdef", title="Review Refunds", evidence=EVIDENCE)
    ref = jira.create(draft).ref
    note = "Dismissed by dana: see [this|https://evil.example] {html}x{html}"
    jira.update(ref, draft, marker="m-1", note=note)
    [comment] = standin.comments[ref]
    body = re.sub(r"\s*\[reviewbot:[0-9a-f]+\]$", "", comment["body"])
    assert unescape(body) == note and live_constructs(body) == []


@pytest.mark.parametrize("text", CONSTRUCTS)
def test_escaping_leaves_no_live_construct(text: str) -> None:
    assert live_constructs(text) != []  # each sample is live markup as written
    assert live_constructs(escape(text)) == []


@given(st.text(alphabet=st.sampled_from(list("{}[]|*_+^~!?#-\\&;:()PDhbq1. \nx#")) | st.characters(), max_size=60))
def test_escape_is_reversible_and_never_live(text: str) -> None:
    escaped = escape(text)
    assert unescape(escaped) == text
    assert live_constructs(escaped) == []


def test_long_complaints_are_cut_to_fit_jiras_limit_and_the_issue_is_filed(
    tracker: tuple[JiraTracker, JiraStandIn],
) -> None:
    """Five complaints of 10,000 characters (enrich.max_text_chars lets them in) made a description Jira refuses
    (over 32,767 characters): the ticket failed at every sync. Escaping lengthens them further."""
    jira, standin = tracker
    evidence = copy.deepcopy(EVIDENCE)
    long_text = "Refund late {code}x{code} " * 400  # 10,000 characters, about 12,000 once escaped
    evidence["quotes"] = [{**evidence["quotes"][0], "id": f"C-{i}", "text": long_text} for i in range(5)]
    ref = jira.create(TicketDraft(fingerprint="0123456789abcdef", title="Review Refunds", evidence=evidence))

    description = standin.issues[ref.ref]["fields"]["description"]
    assert len(description) <= 32_767
    *quotes, section = quoted_blocks(description)
    assert len(quotes) == 5 and unescape(section) == evidence["section"]["text"]
    for quote in quotes:
        assert unescape(quote).startswith(long_text[:1_000])
        assert unescape(quote).endswith("more characters: see reviewbot]")
        assert live_constructs(quote) == []


def test_many_long_quotes_leave_the_last_out_and_say_so(tracker: tuple[JiraTracker, JiraStandIn]) -> None:
    jira, standin = tracker
    evidence = copy.deepcopy(EVIDENCE)
    evidence["quotes"] = [{**evidence["quotes"][0], "id": f"C-{i}", "text": "\\\\" * 9_000} for i in range(60)]
    ref = jira.create(TicketDraft(fingerprint="0123456789abcdef", title="Review Refunds", evidence=evidence))
    description = standin.issues[ref.ref]["fields"]["description"]
    assert len(description) <= 32_767
    kept = len(quoted_blocks(description)) - 1
    assert 0 < kept < 60 and f"_{60 - kept} more quotes left out to fit Jira's limit: see reviewbot._" in description


def test_a_long_note_is_cut_to_fit_a_comment(tracker: tuple[JiraTracker, JiraStandIn]) -> None:
    """A sign-off comment from the web console may be 256 KB; Jira refused it, failing that message at every sync."""
    jira, standin = tracker
    draft = TicketDraft(fingerprint="0123456789abcdef", title="Review Refunds", evidence=EVIDENCE)
    ref = jira.create(draft).ref
    note = "Approved by dana: [x|https://evil.example] " * 6_000
    jira.update(ref, draft, marker="m-1", note=note)
    [comment] = standin.comments[ref]
    assert len(comment["body"]) <= 32_767 and re.search(r"\[reviewbot:[0-9a-f]+\]$", comment["body"])
    body = unescape(re.sub(r"\s*\[reviewbot:[0-9a-f]+\]$", "", comment["body"]))
    assert body.startswith(note[:5_000]) and body.endswith("more characters: see reviewbot]")
