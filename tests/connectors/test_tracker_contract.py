"""The contract every Tracker keeps (the built-in one now; Jira joins the parameter list): find by fingerprint,
create once, update idempotently per marker, pull the state, close once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from connectors.builtin import BuiltinTracker
from reviewbot.protocols import TicketDraft, Tracker
from reviewbot.store import Store

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


def builtin(store: Store) -> Tracker:
    return BuiltinTracker(store)


FACTORIES: dict[str, Callable[[Store], Tracker]] = {"builtin": builtin}


@pytest.fixture(params=sorted(FACTORIES))
def tracker(request: pytest.FixtureRequest, store: Store) -> Iterator[Tracker]:
    yield FACTORIES[request.param](store)


def test_find_before_create_is_empty_and_after_is_the_ticket(tracker: Tracker) -> None:
    assert tracker.find(DRAFT.fingerprint) is None
    ref = tracker.create(DRAFT)
    found = tracker.find(DRAFT.fingerprint)
    assert found is not None and found.ref == ref.ref and found.status == "open"


def test_create_twice_returns_the_same_ticket(tracker: Tracker) -> None:
    assert tracker.create(DRAFT).ref == tracker.create(DRAFT).ref
    other = tracker.create(TicketDraft(fingerprint="fedcba9876543210", title="Another", evidence=EVIDENCE))
    assert other.ref != tracker.find(DRAFT.fingerprint).ref  # type: ignore[union-attr]


def test_update_adds_each_marker_once(tracker: Tracker, store: Store) -> None:
    ref = tracker.create(DRAFT).ref
    tracker.update(ref, DRAFT, marker="m-1", note="+2 items (now 11)")
    tracker.update(ref, DRAFT, marker="m-1", note="+2 items (now 11)")
    tracker.update(ref, DRAFT, marker="m-2", note="+1 items (now 12)")
    assert comments(tracker, store, ref) == ["+2 items (now 11)", "+1 items (now 12)"]


def test_pull_and_close(tracker: Tracker) -> None:
    ref = tracker.create(DRAFT).ref
    assert tracker.pull(ref).status == "open"
    tracker.close(ref, "published in v2")
    tracker.close(ref, "published in v2")
    assert tracker.pull(ref).status == "closed"


def comments(tracker: Tracker, store: Store, ref: str) -> list[str]:
    """The comments on a ticket, oldest first, as the tracker stores them."""
    if isinstance(tracker, BuiltinTracker):
        from sqlmodel import col, select

        from reviewbot.models import TrackerComment

        with store.session() as session:
            rows = session.exec(
                select(TrackerComment).where(TrackerComment.issue_key == ref).order_by(col(TrackerComment.id))
            )
            return [c.body for c in rows]
    raise NotImplementedError(type(tracker).__name__)
