"""The contract every Tracker keeps (the built-in one now; Jira joins the parameter list): find by fingerprint,
create once, update idempotently per marker, pull the state, close once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from reviewbot.connectors.builtin import BuiltinTracker
from reviewbot.connectors.jira import JiraOptions, JiraTracker
from reviewbot.connectors.jira_markup import unescape
from reviewbot.protocols import TicketDraft, Tracker
from reviewbot.store import Store
from tests.standins.jira_server import JiraStandIn

EVIDENCE = {
    "reason": "9 items; 80% complaints or negative answers",
    "theme": {"id": 3, "label": "refund / business days", "terms": ["refund", "business days"]},
    "counts": {"total": 9, "unique": 9, "by_kind": {"complaint": 9}},
    "sentiment": {"mean_polarity": -0.2, "negative_share": 0.4, "concern_share": 0.8, "rules_share": 0.5},
    "nps": {"score": None, "responses": 0},
    "csat": {"score": None, "responses": 0},
    "trend": {"weekly": {"2026-09-07": 4, "2026-09-14": 5}, "growth": None, "window_weeks": 4},
    "first_seen": "2026-09-08",
    "last_seen": "2026-09-18",
    "quotes": [
        {
            "text": "Still no refund after [NUMBER] weeks",
            "source": "complaints",
            "id": "C-1",
            "kind": "complaint",
            "date": "2026-09-08",
        }
    ],
    "mapping": {"confidence": 0.3, "gap": False},
    "document": {"id": "policy", "title": "Policy", "version": 1},
    "section": {
        "id": "refunds",
        "heading": "Refunds",
        "version": 1,
        "owner": "cfo",
        "approvers": ["cfo"],
        "text": "Within 5 days.",
    },
}
DRAFT = TicketDraft(fingerprint="0123456789abcdef", title="Review Refunds: refund / business days", evidence=EVIDENCE)


Comments = Callable[[str], list[str]]


def builtin_comments(store: Store) -> Comments:
    def read(ref: str) -> list[str]:
        from sqlmodel import col, select

        from reviewbot.models import TrackerComment

        with store.session() as session:
            query = select(TrackerComment).where(TrackerComment.issue_key == ref).order_by(col(TrackerComment.id))
            return [c.body for c in session.exec(query)]

    return read


def jira_comments(standin: JiraStandIn) -> Comments:
    def read(ref: str) -> list[str]:
        # what a person reads: the text, without reviewbot's marker
        return [unescape(re.sub(r"\s*\[reviewbot:[0-9a-f]+\]$", "", c["body"])) for c in standin.comments.get(ref, [])]

    return read


@pytest.fixture(params=["builtin", "jira-cloud", "jira-datacenter"])
def tracker_and_comments(request: pytest.FixtureRequest, store: Store) -> Iterator[tuple[Tracker, Comments]]:
    if request.param == "builtin":
        yield BuiltinTracker(store), builtin_comments(store)
        return
    cloud = request.param == "jira-cloud"
    with JiraStandIn(deployment="Cloud" if cloud else "Server") as standin:
        options = JiraOptions(server=standin.url, deployment="cloud" if cloud else "datacenter", project="POL")
        yield JiraTracker(options, token="secret-token", email="bot@example.com"), jira_comments(standin)


@pytest.fixture
def tracker(tracker_and_comments: tuple[Tracker, Comments]) -> Tracker:
    return tracker_and_comments[0]


def test_find_before_create_is_empty_and_after_is_the_ticket(tracker: Tracker) -> None:
    assert tracker.find(DRAFT.fingerprint) is None
    ref = tracker.create(DRAFT)
    found = tracker.find(DRAFT.fingerprint)
    assert found is not None and found.ref == ref.ref and found.status in ("open", "To Do")


def test_find_before_create_files_a_ticket_once(tracker: Tracker) -> None:
    # the outbox's way of creating: search by fingerprint first
    first = tracker.find(DRAFT.fingerprint) or tracker.create(DRAFT)
    again = tracker.find(DRAFT.fingerprint) or tracker.create(DRAFT)
    assert first.ref == again.ref
    other = tracker.create(TicketDraft(fingerprint="fedcba9876543210", title="Another", evidence=EVIDENCE))
    assert other.ref != tracker.find(DRAFT.fingerprint).ref  # type: ignore[union-attr]


def test_update_adds_each_marker_once(tracker_and_comments: tuple[Tracker, Comments]) -> None:
    tracker, comments = tracker_and_comments
    ref = tracker.create(DRAFT).ref
    tracker.update(ref, DRAFT, marker="m-1", note="+2 items (now 11)")
    tracker.update(ref, DRAFT, marker="m-1", note="+2 items (now 11)")
    tracker.update(ref, DRAFT, marker="m-2", note="+1 items (now 12)")
    assert comments(ref) == ["+2 items (now 11)", "+1 items (now 12)"]


def test_pull_and_close(tracker: Tracker) -> None:
    ref = tracker.create(DRAFT).ref
    assert tracker.pull(ref).status in ("open", "To Do")
    tracker.close(ref, "published in v2")
    tracker.close(ref, "published in v2")
    closed = tracker.pull(ref)
    assert closed.status in ("closed", "Done") and closed.state in (None, "closed")


def test_pull_many_agrees_with_pull_and_skips_unknown_keys(tracker: Tracker) -> None:
    from dataclasses import replace

    first = tracker.create(DRAFT).ref
    second = tracker.create(replace(DRAFT, fingerprint="f" * 16)).ref
    tracker.close(second, "dismissed")
    pulled = tracker.pull_many([first, second, "NOPE-999"])  # type: ignore[attr-defined]
    assert pulled == {first: tracker.pull(first), second: tracker.pull(second)}
    assert pulled[first].status != pulled[second].status


def test_dismiss_closes_the_issue_even_for_a_long_reason_and_reopen_opens_it(tracker: Tracker) -> None:
    ref = tracker.create(DRAFT).ref
    tracker.dismiss(ref, "not a policy matter; " * 300)  # type: ignore[attr-defined]
    assert tracker.pull(ref).status not in ("open", "To Do")
    tracker.reopen(ref)  # type: ignore[attr-defined]
    assert tracker.pull(ref).status in ("open", "To Do")
