"""Queries behind `reviewbot report`: feedback counted per theme and week over a period, sign-off turnaround,
and the tickets that were active in the period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from reviewbot.analysis.score import add_breakdowns
from reviewbot.models import FeedbackItem, PolicyRelease, ReviewTicket, SignOff, SignOffRequest
from reviewbot.models.tickets import SETTLED_STATES
from reviewbot.store.policies import resolved_by


@dataclass
class FeedbackCounts:
    """Feedback items of a period (one theme's, or all of them): how many, how negative, how they scored."""

    items: int = 0
    negative: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    weekly: dict[str, int] = field(default_factory=dict)  # Monday of the ISO week -> items
    nps: dict[str, int] = field(default_factory=dict)  # promoter / passive / detractor -> answers
    csat: dict[str, int] = field(default_factory=dict)  # satisfied / unsatisfied -> answers

    def add(self, other: FeedbackCounts) -> None:
        """Add another set of counts to this one (a section sums the themes mapped to it)."""
        self.items += other.items
        self.negative += other.negative
        add_breakdowns(self, other)


# columns counted value by value, and the FeedbackCounts field that holds each
BREAKDOWNS = ((FeedbackItem.week, "weekly"), (FeedbackItem.nps_class, "nps"), (FeedbackItem.csat_class, "csat"))


def _period(since: datetime | None) -> list[Any]:
    return [] if since is None else [col(FeedbackItem.created_at) >= since]


def theme_counts(session: Session, since: datetime | None) -> dict[int, FeedbackCounts]:
    """Per theme, its items created since `since` (all of them when None), in a few GROUP BY queries."""
    counts: dict[int, FeedbackCounts] = {}
    placed = [col(FeedbackItem.theme_id).is_not(None), *_period(since)]
    negative = func.sum(case((col(FeedbackItem.is_negative), 1), else_=0))
    rows = session.exec(
        select(FeedbackItem.theme_id, FeedbackItem.kind, func.count(), negative)
        .where(*placed)
        .group_by(FeedbackItem.theme_id, FeedbackItem.kind)
    )
    for theme_id, kind, n, neg in rows:
        entry = counts.setdefault(theme_id, FeedbackCounts())
        entry.items += n
        entry.negative += int(neg or 0)
        entry.by_kind[kind] = n
    for column, attr in BREAKDOWNS:
        query = (
            select(FeedbackItem.theme_id, column, func.count())
            .where(*placed, col(column).is_not(None))
            .group_by(FeedbackItem.theme_id, column)
        )
        for theme_id, value, n in session.exec(query):
            getattr(counts[theme_id], attr)[value] = n
    return counts


def feedback_totals(session: Session, since: datetime | None) -> FeedbackCounts:
    """All feedback items created since `since` (all of them when None), themed or not."""
    totals = FeedbackCounts()
    negative = func.sum(case((col(FeedbackItem.is_negative), 1), else_=0))
    rows = session.exec(
        select(FeedbackItem.kind, func.count(), negative).where(*_period(since)).group_by(FeedbackItem.kind)
    )
    for kind, n, neg in rows:
        totals.items += n
        totals.negative += int(neg or 0)
        totals.by_kind[kind] = n
    for column, attr in BREAKDOWNS:
        query = select(column, func.count()).where(*_period(since), col(column).is_not(None)).group_by(column)
        getattr(totals, attr).update({value: n for value, n in session.exec(query)})
    return totals


def active_tickets(session: Session, since: datetime | None) -> list[ReviewTicket]:
    """Tickets that mattered in the period: opened or changed since `since`, or not settled yet; oldest first."""
    query = select(ReviewTicket).order_by(col(ReviewTicket.created_at), col(ReviewTicket.id))
    if since is not None:
        query = query.where(
            or_(
                col(ReviewTicket.created_at) >= since,
                col(ReviewTicket.updated_at) >= since,
                col(ReviewTicket.state).not_in(SETTLED_STATES),
            )
        )
    return list(session.exec(query))


def signoff_turnaround(
    session: Session, since: datetime | None
) -> list[tuple[SignOffRequest, SignOff | None, str | None]]:
    """Sign-off requests of the period (asked since `since`, or still pending) with the sign-off that answered
    each (None while pending) and the ticket's tracker reference; withdrawn requests are left out, oldest first."""
    answer = and_(
        SignOff.ticket_id == SignOffRequest.ticket_id,
        SignOff.approver == SignOffRequest.approver,
        SignOff.round == SignOffRequest.round,
    )
    query = (
        select(SignOffRequest, SignOff, ReviewTicket.tracker_ref)
        .join(ReviewTicket, col(ReviewTicket.id) == SignOffRequest.ticket_id)
        .join(SignOff, answer, isouter=True)
        .where(SignOffRequest.status != "withdrawn")
        .order_by(col(SignOffRequest.requested_at), col(SignOffRequest.id), col(SignOff.id))
    )
    if since is not None:
        query = query.where(or_(col(SignOffRequest.requested_at) >= since, SignOffRequest.status == "pending"))
    found: dict[int, tuple[SignOffRequest, SignOff | None, str | None]] = {}
    for request, signed, ref in session.exec(query):
        found.setdefault(request.id or 0, (request, signed, ref))  # the first sign-off of a round answered it
    return list(found.values())


def resolved_tickets(session: Session) -> dict[tuple[str, int], list[ReviewTicket]]:
    """(document, version) -> the tickets that version resolved, oldest first (a ticket resolved again by a later
    version is listed under both)."""
    found: dict[tuple[str, int], list[ReviewTicket]] = {}
    for entry in session.exec(select(PolicyRelease).order_by(col(PolicyRelease.id))):
        tickets = resolved_by(session, entry)
        if tickets:
            found[(entry.document_id, entry.version)] = tickets
    return found


def latest_week(session: Session, since: datetime | None) -> str | None:
    """The newest week with feedback in the period."""
    return session.exec(select(func.max(FeedbackItem.week)).where(*_period(since))).one()


def earliest_week(session: Session, since: datetime | None) -> str | None:
    """The oldest week with feedback in the period."""
    return session.exec(select(func.min(FeedbackItem.week)).where(*_period(since))).one()
