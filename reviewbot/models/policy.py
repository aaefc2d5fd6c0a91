"""Policy documents, their versions, and the sections of each version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from reviewbot.models.base import utcnow


class PolicyDocument(SQLModel, table=True):
    """A policy document, e.g. the customer-service policy, and its current version."""

    __tablename__ = "policy_document"

    id: str = Field(primary_key=True, max_length=200)
    title: str = Field(max_length=500)
    path: str = Field(max_length=1000)
    owner: str | None = Field(default=None, max_length=200)
    current_version: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class PolicyVersion(SQLModel, table=True):
    """One version of a document: recorded when its content is first seen or changes."""

    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="policy_document.id", max_length=200)
    number: int
    content_hash: str = Field(max_length=64)
    source: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


class PolicySection(SQLModel, table=True):
    """A section of one version of a document, with the people who own and approve it."""

    __tablename__ = "policy_section"
    __table_args__ = (UniqueConstraint("document_id", "version", "section_id"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="policy_document.id", max_length=200)
    version: int
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
    sign_off: str = Field(default="all", max_length=20)
    review_interval_days: int | None = None
    keywords: list[str] = Field(default_factory=list, sa_type=JSON)
