"""Sign-offs, the requests for them, owners' mapping corrections, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from reviewbot.models.base import utcnow


class SignOff(SQLModel, table=True):
    """An approver's decision on a ticket, for the section text as it was when they signed."""

    __tablename__ = "sign_off"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="review_ticket.id", index=True)
    approver: str = Field(max_length=200)
    decision: str = Field(max_length=20)  # approve | request_changes | reject
    comment: str = Field(default="", sa_type=Text)
    section_hash: str = Field(default="", max_length=64)  # what was signed; a later edit makes it stale
    round: int = 1
    signed_at: datetime = Field(default_factory=utcnow)


class SignOffRequest(SQLModel, table=True):
    """A sign-off asked of one approver, with the reminders and escalation it has had."""

    __tablename__ = "sign_off_request"
    __table_args__ = (UniqueConstraint("ticket_id", "approver", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="review_ticket.id", index=True)
    approver: str = Field(max_length=200)
    round: int = 1  # a new round starts when the section is edited after sign-offs
    status: str = Field(default="pending", max_length=20, index=True)  # pending | answered | withdrawn
    requested_at: datetime = Field(default_factory=utcnow)
    reminders: int = 0
    last_reminded_at: datetime | None = None
    escalated_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """Something a person or reviewbot did to a ticket or a document; never changed afterwards."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=50)
    ticket_id: int | None = Field(default=None, foreign_key="review_ticket.id", index=True)
    document_id: str | None = Field(default=None, max_length=200)
    detail: str = Field(default="", sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class MappingCorrection(SQLModel, table=True):
    """A policy owner's answer to "which section does this theme concern?": a ticket moved to another section,
    or marked as no policy matter. It keeps its theme on that section (while `theme_id` is set) and teaches the
    mapper where themes like it go, through its centroid, whatever later happens to the theme."""

    __tablename__ = "mapping_correction"

    id: int | None = Field(default=None, primary_key=True)
    theme_id: int | None = Field(default=None, foreign_key="theme.id", index=True)  # the theme it holds in place
    ticket_id: int | None = Field(default=None, foreign_key="review_ticket.id")
    document_id: str = Field(max_length=200)
    section_id: str | None = Field(default=None, max_length=300)  # None: not a policy matter
    was_section: str | None = Field(default=None, max_length=300)  # where the theme had been mapped
    centroid: dict[str, float] = Field(default_factory=dict, sa_type=JSON)  # the theme's, when corrected
    theme_size: int = 0
    actor: str = Field(max_length=200)
    reason: str = Field(default="", sa_type=Text)
    superseded: bool = False  # a later correction of the same theme replaced it
    created_at: datetime = Field(default_factory=utcnow)
