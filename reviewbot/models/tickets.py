"""Review tickets, and the built-in tracker's own issues and comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from reviewbot.models.base import utcnow

TICKET_STATES = (
    "open",
    "triaged",
    "in_review",
    "changes_requested",
    "approved",
    "published",
    "closed",
    "dismissed",
)
SETTLED_STATES = ("closed", "dismissed")  # a ticket rests in these; in any other state it still needs someone
FINISHED_STATES = ("published", *SETTLED_STATES)  # its review is over: no new assignee, no evidence refresh


class ReviewTicket(SQLModel, table=True):
    """A request to review one policy section (or a coverage gap) because of one theme, with its evidence.

    Periodic tickets ask for the review a section is due for, with no theme behind them.
    """

    __tablename__ = "review_ticket"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, unique=True)
    kind: str = Field(default="feedback", max_length=20)  # feedback | gap | periodic
    theme_id: int | None = Field(default=None, foreign_key="theme.id", index=True)
    document_id: str = Field(foreign_key="policy_document.id", max_length=200)
    section_id: str | None = Field(default=None, max_length=300)
    section_version: int | None = None  # the published version whose text the evidence cites
    title: str = Field(max_length=500)
    state: str = Field(default="open", max_length=20, index=True)
    assignee: str | None = Field(default=None, max_length=200)
    state_reason: str | None = Field(default=None, sa_type=Text)  # why it was dismissed or reopened
    settled_size: int | None = None  # theme size when dismissed or closed: it reopens only if the theme grows
    resolved_version: int | None = None  # the version that published the change
    confidence: float = 0.0
    impact: float = 0.0  # of its theme when the evidence was last refreshed: orders the ticket list
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    evidence_hash: str = Field(default="", max_length=64)
    # the evidence's headline figures when the tracker was last told (see reviewbot.evidence.headline)
    announced: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    tracker: str = Field(default="builtin", max_length=50)
    # which instance of that tracker holds its issue: the site and project ("https://acme.atlassian.net POL"), ""
    # for a tracker without (the built-in one); None: filed before reviewbot kept it, taken as the configured one
    tracker_site: str | None = Field(default=None, max_length=1100)
    tracker_ref: str | None = Field(default=None, max_length=100)
    tracker_status: str | None = Field(default=None, max_length=100)  # the status last seen in the tracker
    # the section last told to or seen in the tracker's section field: a different one there is a person's move
    tracker_section: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TrackerIssue(SQLModel, table=True):
    """An issue in the built-in tracker: what Jira would hold, kept in our own database."""

    __tablename__ = "tracker_issue"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=50, unique=True)
    fingerprint: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=500)
    body: str = Field(default="", sa_type=Text)
    status: str = Field(default="open", max_length=30)
    resolution: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TrackerComment(SQLModel, table=True):
    """A comment on a built-in tracker issue; the marker makes adding it idempotent."""

    __tablename__ = "tracker_comment"

    id: int | None = Field(default=None, primary_key=True)
    issue_key: str = Field(foreign_key="tracker_issue.key", max_length=50, index=True)
    marker: str = Field(max_length=200, unique=True)
    body: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
