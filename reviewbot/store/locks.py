"""Lease locks in the database (SQLite and PostgreSQL), plus a PostgreSQL advisory lock for the same job.

A lease is one row per job name, owned by a random token. It is taken with a conditional UPDATE that succeeds
only when the lease is free, expired, or already ours, so two processes can never both win, and renewed by its
holder's heartbeat. Whether a holder is alive is judged only by the age of its last heartbeat: a process id says
nothing across machines or PID namespaces (containers sharing a hostname), so it is shown, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, text, update
from sqlmodel import Session, col, select

from reviewbot.models import JobLock, utcnow
from reviewbot.store.feedback import insert_ignore


def new_owner() -> str:
    """An owner id: this machine and process (shown to people) and a random token (what makes it ours)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(16)}"


def try_lease(session: Session, name: str, owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take the lease on `name` until now + ttl if it is free, expired or ours; False when a live holder has it."""
    now = now or utcnow()
    row = {"name": name, "owner": owner, "acquired_at": now, "expires_at": now + ttl}
    insert_ignore(session, JobLock.__table__, [row], ["name"])  # type: ignore[arg-type]
    free = (col(JobLock.expires_at) < now) | (col(JobLock.owner) == owner)
    result = session.execute(
        update(JobLock)
        .where(col(JobLock.name) == name, free)
        .values(owner=owner, acquired_at=now, expires_at=now + ttl)
    )
    return result.rowcount == 1


def renew_lease(session: Session, name: str, owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """A heartbeat: push the lease's expiry to now + ttl if `owner` still holds it; False once it was taken."""
    now = now or utcnow()
    result = session.execute(
        update(JobLock).where(col(JobLock.name) == name, col(JobLock.owner) == owner).values(expires_at=now + ttl)
    )
    return result.rowcount == 1


def holds_lease(session: Session, name: str, owner: str) -> bool:
    """Whether `owner` holds the lease on `name`, read inside the session's transaction so that it fences it.

    SQLite transactions hold the write lock from BEGIN (BEGIN IMMEDIATE), and on PostgreSQL the row is locked
    FOR SHARE until commit, so no one can take the lease between this check and the transaction's commit.
    """
    query = select(JobLock.owner).where(col(JobLock.name) == name)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    return session.exec(query).first() == owner


def holder(session: Session, name: str) -> JobLock | None:
    """The current lease on `name`, if any (expired or not)."""
    return session.get(JobLock, name)


def release(session: Session, name: str, owner: str) -> None:
    """Give the lease back (only if it is still ours)."""
    session.execute(delete(JobLock).where(col(JobLock.name) == name, col(JobLock.owner) == owner))


def advisory_key(scope: str, name: str) -> int:
    """A stable 63-bit key for pg_advisory locks: the job's name within the schema that holds the workspace."""
    return int.from_bytes(hashlib.sha256(f"reviewbot:{scope}:{name}".encode()).digest()[:8], "big") >> 1


def try_advisory_xact_lock(connection: Connection, name: str) -> bool:
    """PostgreSQL: take the job's advisory lock for the current transaction of `connection`.

    Advisory locks belong to the whole database, so the key includes the schema: workspaces kept in different
    schemas of one database each have their own sync.
    """
    schema = connection.execute(text("SELECT current_schema()")).scalar() or ""
    key = advisory_key(schema, name)
    return bool(connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar())


def all_leases(session: Session) -> list[JobLock]:
    """Every lease row."""
    return list(session.exec(select(JobLock)))
