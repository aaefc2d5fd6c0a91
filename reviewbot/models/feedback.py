"""Feedback as it arrives: items, rows that could not be read, and where each source left off."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from reviewbot.models.base import utcnow


class FeedbackItem(SQLModel, table=True):
    """One complaint, survey answer, agent note or suggestion, with redacted text and its scores."""

    __tablename__ = "feedback_item"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    external_id: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    text: str = Field(default="", sa_type=Text)
    content_hash: str = Field(max_length=64)  # of the normalised text: near-duplicates share it
    row_hash: str = Field(max_length=64)  # of every stored field: tells a changed row from a repeated one
    created_at: datetime
    week: str = Field(max_length=10, index=True)  # Monday of the ISO week, e.g. "2026-09-14"; indexed for "now"
    customer: str | None = Field(default=None, max_length=200)
    channel: str | None = Field(default=None, max_length=100)
    author: str | None = Field(default=None, max_length=200)
    nps: int | None = None
    csat: int | None = None
    nps_class: str | None = Field(default=None, max_length=20)
    csat_class: str | None = Field(default=None, max_length=20)
    polarity: float = 0.0
    subjectivity: float = 0.0
    is_negative: bool = False  # negative words, or a detractor / unsatisfied survey answer
    cites_rules: bool = False  # talks about rules, promises or what someone was told
    meta: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    origin: str = Field(default="", max_length=500)
    theme_id: int | None = Field(default=None, foreign_key="theme.id", index=True)
    theme_similarity: float | None = None
    themed_at: datetime | None = Field(default=None, index=True)  # NULL until the themes stage has seen it
    ingested_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class QuarantinedRow(SQLModel, table=True):
    """A row (or a whole file, line 0) that could not be ingested, with the reason and how to find it."""

    __tablename__ = "quarantined_row"
    __table_args__ = (UniqueConstraint("source", "file", "line", "reason"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    file: str = Field(max_length=500)
    line: int = 0
    reason: str = Field(max_length=500)
    raw: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class SourceState(SQLModel, table=True):
    """The cursor of one source: advanced only in the transaction that stores the records it covers."""

    __tablename__ = "source_state"

    source: str = Field(primary_key=True, max_length=100)
    cursor: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    items_total: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
