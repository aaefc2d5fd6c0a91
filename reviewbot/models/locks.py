"""Leases that keep jobs (sync, reminders) from running twice at once, across processes and machines."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class JobLock(SQLModel, table=True):
    """Who holds a job's lease, and until when; an expired lease may be taken over."""

    __tablename__ = "job_lock"

    name: str = Field(primary_key=True, max_length=50)
    owner: str = Field(max_length=200)  # host:pid:nonce
    acquired_at: datetime
    expires_at: datetime
