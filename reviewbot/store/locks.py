"""Lease locks in the database (SQLite and PostgreSQL), plus a PostgreSQL advisory lock for the same job.

A lease is one row per job name: taken with a conditional UPDATE that succeeds only when the lease is free,
expired, or already ours, so two processes can never both win. A process that dies leaves its lease behind
until it expires; on the same machine, a lease whose process no longer exists is taken over at once.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, text, update
from sqlmodel import Session, col, select

from reviewbot.models import JobLock, utcnow
from reviewbot.store.feedback import insert_ignore


def new_owner() -> str:
    """An owner id: this machine, this process, and a nonce (a pid can be reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def try_lease(session: Session, name: str, owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the lease on `name` until now + ttl; False when someone else holds it."""
    now = now or utcnow()
    row = {"name": name, "owner": owner, "acquired_at": now, "expires_at": now + ttl}
    insert_ignore(session, JobLock.__table__, [row], ["name"])  # type: ignore[arg-type]
    free = (col(JobLock.expires_at) < now) | (col(JobLock.owner) == owner)
    dead = holder_is_dead(session, name)
    condition = free if dead is None else (free | (col(JobLock.owner) == dead))
    result = session.execute(
        update(JobLock).where(col(JobLock.name) == name, condition).values(owner=owner, expires_at=now + ttl)
    )
    return result.rowcount == 1


def holder_is_dead(session: Session, name: str) -> str | None:
    """The owner of the lease if it is a process on this machine that no longer runs, else None."""
    lock = session.get(JobLock, name)
    if lock is None:
        return None
    host, _, rest = lock.owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return lock.owner
    except PermissionError:  # alive, owned by another user
        return None
    return None


def holder(session: Session, name: str) -> JobLock | None:
    """The current lease on `name`, if any (expired or not)."""
    return session.get(JobLock, name)


def release(session: Session, name: str, owner: str) -> None:
    """Give the lease back (only if it is still ours)."""
    session.execute(delete(JobLock).where(col(JobLock.name) == name, col(JobLock.owner) == owner))


def advisory_key(name: str) -> int:
    """A stable 63-bit key for pg_advisory locks."""
    return int.from_bytes(hashlib.sha256(f"reviewbot:{name}".encode()).digest()[:8], "big") >> 1


def try_advisory_xact_lock(connection: Connection, name: str) -> bool:
    """PostgreSQL: take the job's advisory lock for the current transaction of `connection`."""
    return bool(
        connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": advisory_key(name)}).scalar()
    )


def all_leases(session: Session) -> list[JobLock]:
    """Every lease row."""
    return list(session.exec(select(JobLock)))
