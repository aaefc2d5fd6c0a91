"""Policy documents: every revision of the file, the sections of each revision, and published versions.

A revision is recorded whenever the file's content changes (drafts included). A version is a revision that
was published, numbered 1, 2, 3...; the first revision seen is version 1. Themes are matched against the
sections of the published revision, so edits in progress do not move tickets around.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from reviewbot.models.base import utcnow


class PolicyDocument(SQLModel, table=True):
    """A policy document, e.g. the customer-service policy."""

    __tablename__ = "policy_document"

    id: str = Field(primary_key=True, max_length=200)
    title: str = Field(max_length=500)
    path: str = Field(max_length=1000)
    owner: str | None = Field(default=None, max_length=200)
    approvers: list[str] = Field(default_factory=list, sa_type=JSON)  # of the whole document (coverage gaps)
    sign_off: str = Field(default="all", max_length=20)
    current_revision: int = 0  # the file as it is now
    published_version: int = 0
    published_revision: int = 0  # the revision of the published version
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def has_draft(self) -> bool:
        """True when the file differs from the published version."""
        return self.current_revision != self.published_revision


class PolicyRevision(SQLModel, table=True):
    """The full text of a document each time its content changed."""

    __tablename__ = "policy_revision"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="policy_document.id", max_length=200)
    number: int
    content_hash: str = Field(max_length=64)
    source: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


class PolicySection(SQLModel, table=True):
    """A section of one revision of a document, with the people who own and approve it."""

    __tablename__ = "policy_section"
    __table_args__ = (UniqueConstraint("document_id", "revision", "section_id"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="policy_document.id", max_length=200)
    revision: int
    section_id: str = Field(max_length=300)
    heading: str = Field(max_length=500)
    level: int = 2
    parent_id: str | None = Field(default=None, max_length=300)
    position: int = 0
    line: int = 0
    body: str = Field(default="", sa_type=Text)
    content_hash: str = Field(max_length=64)
    owner: str | None = Field(default=None, max_length=200)
    approvers: list[str] = Field(default_factory=list, sa_type=JSON)
    sign_off: str = Field(default="all", max_length=20)  # "all" or a number of approvers
    review_interval_days: int | None = None
    last_reviewed: date | None = None
    keywords: list[str] = Field(default_factory=list, sa_type=JSON)


class PolicyRelease(SQLModel, table=True):
    """A published version of a document: which revision, when, by whom, and what changed."""

    __tablename__ = "policy_release"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="policy_document.id", max_length=200)
    version: int
    revision: int
    published_at: datetime = Field(default_factory=utcnow)
    published_by: str = Field(max_length=200)
    changelog: list[str] = Field(default_factory=list, sa_type=JSON)
    forced_reason: str | None = Field(default=None, sa_type=Text)
    ack_expected: list[str] = Field(default_factory=list, sa_type=JSON)
    files: list[str] = Field(default_factory=list, sa_type=JSON)
    meta: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class SectionReview(SQLModel, table=True):
    """When a section was last reviewed (published changed, or approved unchanged): the cadence clock."""

    __tablename__ = "section_review"

    document_id: str = Field(foreign_key="policy_document.id", primary_key=True, max_length=200)
    section_id: str = Field(primary_key=True, max_length=300)
    reviewed_at: datetime
    how: str = Field(default="", max_length=200)


class PolicyAck(SQLModel, table=True):
    """A person's acknowledgement that they read a published version."""

    __tablename__ = "policy_ack"
    __table_args__ = (UniqueConstraint("document_id", "version", "person"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="policy_document.id", max_length=200)
    version: int
    person: str = Field(max_length=200)
    acked_at: datetime = Field(default_factory=utcnow)
