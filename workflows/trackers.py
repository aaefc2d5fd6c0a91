"""Which tracker holds a ticket's issue: its type and its site (server and project). A key such as POL-5 names an
issue only there; after a switch of tracker, site or project, it must never be sent to the configured one."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col

from reviewbot.models import ReviewTicket
from reviewbot.settings import Settings


def describe(tracker: str, site: str | None) -> str:
    """A tracker as people read it: "builtin", or "jira (https://acme.atlassian.net POL)"."""
    return f"{tracker} ({site})" if site else tracker


def configured(settings: Settings) -> str:
    """The configured tracker, described."""
    return describe(settings.tracker.type, settings.tracker.site)


def held_here(settings: Settings) -> ColumnElement[bool]:
    """SQL: the ticket's issue is in the configured tracker (one filed before sites were kept counts as there)."""
    site = col(ReviewTicket.tracker_site)
    return and_(ReviewTicket.tracker == settings.tracker.type, or_(site == settings.tracker.site, site.is_(None)))


def is_held_here(ticket: ReviewTicket, settings: Settings) -> bool:
    """Whether a ticket's issue is in the configured tracker (see `held_here`)."""
    same_site = ticket.tracker_site is None or ticket.tracker_site == settings.tracker.site
    return ticket.tracker == settings.tracker.type and same_site


def where_held(ticket: ReviewTicket) -> str:
    """The tracker that holds a ticket's issue, described."""
    return describe(ticket.tracker, ticket.tracker_site)


def record_sites(session: Session, settings: Settings) -> None:
    """Give tickets filed before sites were kept the configured site of their tracker type: the tracker they were
    synced with until now (so a later switch of site refiles them like any other)."""
    session.execute(
        update(ReviewTicket)
        .where(col(ReviewTicket.tracker_site).is_(None), ReviewTicket.tracker == settings.tracker.type)
        .values(tracker_site=settings.tracker.site)
    )
