"""Operational tables: the outbox of side effects, and the history of sync runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from reviewbot.models.base import utcnow


class OutboxMessage(SQLModel, table=True):
    """A side effect on an outside system, decided in a transaction and delivered after it commits."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    # the idempotency marker: a second decision with the same key is the same message
    key: str = Field(max_length=300, unique=True)
    target: str = Field(max_length=20)  # tracker | notifier
    action: str = Field(max_length=30)  # create | update | close | send
    ticket_id: int | None = Field(default=None, foreign_key="review_ticket.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # pending | sent | failed (retried next run) | unknown (may have happened: look before retrying) | skipped
    # (never to be sent: about an issue in another tracker than the configured one)
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    last_attempt_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class SyncRun(SQLModel, table=True):
    """One run of `reviewbot sync`: when, what each stage did, and what failed."""

    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=20)  # running | ok | partial | failed | interrupted
    owner: str = Field(default="", max_length=200)
    dry_run: bool = False
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    errors: list[str] = Field(default_factory=list, sa_type=JSON)
