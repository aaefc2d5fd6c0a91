"""Queries for review tickets and theme-to-section mappings."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlmodel import Session, col, select

from reviewbot.errors import NotFoundError
from reviewbot.models import ReviewTicket, utcnow
from reviewbot.models.base import MAX_ROW_ID
from reviewbot.models.tickets import FINISHED_STATES

if TYPE_CHECKING:  # the mapper imports scikit-learn: commands that list tickets must not pay for it
    from reviewbot.analysis.mapping import SectionMatch
    from reviewbot.models import ThemeMapping  # imported where used: listing tickets builds no theme table

# Confidence is shown to two decimals; a theme's centroid moves a little with every sync, and rewriting its
# mappings (and the tickets citing them) for a move nobody can see costs time and churn.
CONFIDENCE_STEP = 0.005


def replace_mappings(
    session: Session, theme_id: int, matches: Sequence[SectionMatch], old: Sequence[ThemeMapping]
) -> bool:
    """Store a theme's section matches in place of its `old` ones; returns whether anything changed."""
    from reviewbot.models import ThemeMapping

    before = {(m.document_id, m.section_id): m.confidence for m in old}
    after = {(m.document_id, m.section_id): m.confidence for m in matches}
    if before.keys() == after.keys() and all(abs(after[k] - before[k]) < CONFIDENCE_STEP for k in after):
        return False
    session.execute(delete(ThemeMapping).where(col(ThemeMapping.theme_id) == theme_id))
    for rank, m in enumerate(matches):
        session.add(
            ThemeMapping(
                theme_id=theme_id,
                document_id=m.document_id,
                section_id=m.section_id,
                confidence=m.confidence,
                rank=rank,
            )
        )
    return True


def mappings(session: Session, theme_id: int | None = None) -> list[ThemeMapping]:
    """Theme-to-section mappings, best first per theme."""
    from reviewbot.models import ThemeMapping

    query = select(ThemeMapping).order_by(col(ThemeMapping.theme_id), col(ThemeMapping.rank))
    if theme_id is not None:
        query = query.where(ThemeMapping.theme_id == theme_id)
    return list(session.exec(query))


def by_fingerprint(session: Session, fingerprint: str) -> ReviewTicket | None:
    """The ticket with this fingerprint."""
    return session.exec(select(ReviewTicket).where(ReviewTicket.fingerprint == fingerprint)).first()


def by_fingerprints(session: Session, fingerprints: Collection[str]) -> dict[str, ReviewTicket]:
    """The tickets with these fingerprints, by fingerprint (one query)."""
    if not fingerprints:
        return {}
    query = select(ReviewTicket).where(col(ReviewTicket.fingerprint).in_(fingerprints))
    return {t.fingerprint: t for t in session.exec(query)}


def get_ticket(session: Session, ref: str) -> ReviewTicket | None:
    """A ticket by number ("12"), tracker reference ("RB-12") or fingerprint."""
    if ref.isdigit():
        number = int(ref)
        return session.get(ReviewTicket, number) if 0 < number <= MAX_ROW_ID else None
    query = select(ReviewTicket).where((ReviewTicket.tracker_ref == ref) | (ReviewTicket.fingerprint == ref))
    found = list(session.exec(query.order_by(col(ReviewTicket.id))))
    if len(found) < 2:
        return found[0] if found else None
    # One key in two trackers (the workspace moved to another site or project: the finished tickets kept their old
    # issues, whose keys the new tracker may give again). A ticket still under review is in the tracker used now.
    active = [t for t in found if t.state not in FINISHED_STATES]
    if len(active) == 1:
        return active[0]
    listed = ", ".join(f"#{t.id} ({t.tracker} {t.tracker_site or ''}".rstrip() + f", {t.state})" for t in found)
    raise NotFoundError(
        f"{ref} names {len(found)} tickets, filed in different trackers: {listed}",
        hint=f"name it by its number, e.g. `reviewbot tickets show {found[-1].id}`",
    )


def list_tickets(session: Session, state: str | None = None) -> list[ReviewTicket]:
    """Tickets, most impact first (then newest), optionally in one state."""
    query = select(ReviewTicket).order_by(col(ReviewTicket.impact).desc(), col(ReviewTicket.id).desc())
    if state:
        query = query.where(ReviewTicket.state == state)
    return list(session.exec(query))


def ref_of(ticket: ReviewTicket) -> str:
    """How people refer to a ticket: its tracker key, or #id before it reached the tracker."""
    return ticket.tracker_ref or f"#{ticket.id}"


def touch(ticket: ReviewTicket) -> None:
    """Mark a ticket as changed now."""
    ticket.updated_at = utcnow()
