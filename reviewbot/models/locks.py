"""Leases that keep jobs (sync, reminders) from running twice at once, across processes and machines."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class JobLock(SQLModel, table=True):
    """Who holds a job's lease, and until when; a lease its holder's heartbeat stopped renewing expires, and may
    then be taken over (the only sign of a dead holder: a process id proves nothing across PID namespaces)."""

    __tablename__ = "job_lock"

    name: str = Field(primary_key=True, max_length=50)
    owner: str = Field(max_length=200)  # host:pid:token; only the random token makes it the holder's, host:pid is shown
    acquired_at: datetime
    expires_at: datetime  # the last heartbeat plus the lease's length
