"""One job at a time: a lease in the database (every backend) and, on PostgreSQL, an advisory lock too.

The lease belongs to a random token, not to a process id: a heartbeat renews it while the job runs, and it is
taken over only once it has gone a whole lease length without one (a killed job's lease lapses within
`LEASE`). A process id proves nothing in containers that share a hostname but not a PID namespace, so it is
shown in messages and never used to judge a holder dead.

A holder that loses its lease anyway (its heartbeat could not reach the database for a whole lease, and another
process took it) must stop writing: every commit of the thread that holds the lease first checks, inside the same
transaction, that the lease is still its own, and fails with LeaseLost otherwise; the sync also checks between
stages. The advisory lock is held in a transaction of its own connection, which does nothing else: PostgreSQL
drops it the moment that connection dies, whatever happened to the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, event
from sqlmodel import Session

from reviewbot.errors import ReviewbotError
from reviewbot.models import utcnow
from reviewbot.models.base import as_utc
from reviewbot.store import Store
from reviewbot.store.locks import (
    holder,
    holds_lease,
    new_owner,
    release,
    renew_lease,
    try_advisory_xact_lock,
    try_lease,
)

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)


class LockHeld(ReviewbotError):
    """Another process runs the job now."""

    exit_code = 3


class LeaseLost(ReviewbotError):
    """Another process took this job's lease: the job stops before it writes anything more."""

    exit_code = 3


class Lease:
    """A job's lease as held by this process: its owner token, and whether it has been lost."""

    def __init__(self, store: Store, name: str, owner: str, ttl: timedelta) -> None:
        self.store, self.name, self.owner, self.ttl = store, name, owner, ttl
        self.lost = threading.Event()

    def check(self) -> None:
        """Raise LeaseLost unless this process still holds the lease (a checkpoint between steps of a job)."""
        with self.store.session() as session:
            if not self.lost.is_set() and holds_lease(session, self.name, self.owner):
                return
            raise self.lost_error(session)

    def lost_error(self, session: Session) -> LeaseLost:
        """The error that stops a job whose lease was taken, naming who took it (read in `session`)."""
        self.lost.set()
        with session.no_autoflush:
            lease = holder(session, self.name)
        taker = f" by {_describe(lease.owner)}" if lease is not None and lease.owner != self.owner else ""
        return LeaseLost(
            f"this {self.name} lost its lease (taken over{taker}) and stopped before writing anything more",
            hint=f"the other {self.name} carries on, and what this one committed is kept; a lease is taken over "
            f"only after {self.ttl.total_seconds():.0f} s without a heartbeat, so check that nothing stalls this "
            "process or its database for that long",
        )


# The lease held by the job running in this thread: its commits are fenced by it.
_current = threading.local()


@event.listens_for(Session, "before_commit")
def _fence(session: Session) -> None:
    """Refuse the commit of a job's thread once its lease belongs to someone else (checked in the transaction)."""
    lease: Lease | None = getattr(_current, "lease", None)
    if lease is None:
        return
    bind = session.get_bind()
    if isinstance(bind, Connection) or bind.engine is not lease.store.engine:
        return  # a connection: a dry run's (store.rolled_back), where nothing is ever committed
    if lease.lost.is_set() or not holds_lease(session, lease.name, lease.owner):
        raise lease.lost_error(session)  # store.session() rolls the transaction back


@contextmanager
def job_lock(store: Store, name: str = "sync", *, wait: float | None = None, ttl: timedelta = LEASE) -> Iterator[Lease]:
    """Hold the job's lock for the block; refused at once (LockHeld), or after waiting up to `wait` seconds.

    While the block runs, its thread's commits fail with LeaseLost if the lease was taken by another process.
    """
    lease = Lease(store, name, new_owner(), ttl)
    deadline = time.monotonic() + (wait or 0)
    while True:
        advisory = _acquire(store, name, lease.owner, ttl)
        if advisory is not False:
            break
        if wait is None or time.monotonic() >= deadline:
            raise _held(store, name, ttl)
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
    heartbeat = _Heartbeat(lease)
    heartbeat.start()
    outer = getattr(_current, "lease", None)
    _current.lease = lease
    try:
        yield lease
    finally:
        _current.lease = outer
        heartbeat.stop()
        with store.session() as session:
            release(session, name, lease.owner)
        if advisory is not None:
            advisory.close()  # ends its transaction: PostgreSQL releases the advisory lock


def _acquire(store: Store, name: str, owner: str, ttl: timedelta) -> Any:
    """Take the lease (and on PostgreSQL the advisory lock): the advisory connection, None, or False if held."""
    with store.session() as session:
        before = holder(session, name)
        was = (before.owner, before.expires_at) if before is not None else None  # the UPDATE below changes `before`
        if not try_lease(session, name, owner, ttl):
            return False
    if was is not None and was[0] != owner:
        log.warning(
            "took over the %s lease of %s: no heartbeat since its lease ran out at %s UTC",
            name,
            _describe(was[0]),
            f"{was[1]:%Y-%m-%d %H:%M:%S}",
        )
    if store.dialect != "postgresql":
        return None
    connection = store.engine.connect()
    connection.begin()
    if try_advisory_xact_lock(connection, name):
        return connection
    connection.close()
    with store.session() as session:
        release(session, name, owner)
    return False


def _describe(owner: str) -> str:
    host, _, rest = owner.partition(":")
    return f"{host}, process {rest.partition(':')[0]}"


def _held(store: Store, name: str, ttl: timedelta) -> LockHeld:
    with store.session() as session:
        lease = holder(session, name)
    if lease is None:
        return LockHeld(f"another {name} is starting right now", hint="try again, or run with --wait")
    expires = as_utc(lease.expires_at)
    silent = (utcnow() - (expires - ttl)).total_seconds()  # a heartbeat sets the expiry to its time + ttl
    beat = (
        f"no heartbeat for {silent:.0f} s: it has probably stopped"
        if silent > 2 * ttl.total_seconds() / 3  # two beats missed
        else f"last heartbeat {max(silent, 0):.0f} s ago"
    )
    # A killed sync looks alive until its lease runs out; an admin rerunning it by hand needs to know when that is.
    return LockHeld(
        f"another {name} is running (on {_describe(lease.owner)}, since "
        f"{lease.acquired_at:%Y-%m-%d %H:%M} UTC; {beat})",
        hint=f"wait for it to finish, or run with --wait; if it was stopped (killed, its machine lost), its lease runs "
        f"out at {expires:%H:%M:%S} UTC and the next {name} takes over (`--wait --timeout "
        f"{ttl.total_seconds() + 60:.0f}` waits for that)",
    )


class _Heartbeat(threading.Thread):
    """Renews the lease every third of its length while the job runs; marks it lost once another owner has it."""

    def __init__(self, lease: Lease) -> None:
        super().__init__(name=f"lease-{lease.name}", daemon=True)
        self.lease = lease
        self.stopped = threading.Event()

    def run(self) -> None:
        lease = self.lease
        while not self.stopped.wait(lease.ttl.total_seconds() / 3):
            try:
                with lease.store.session() as session:
                    renewed = renew_lease(session, lease.name, lease.owner, lease.ttl)
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("could not renew the %s lease", lease.name, exc_info=True)
                continue
            if not renewed:
                log.error("lost the %s lease to another process: this %s stops at its next step", *(lease.name,) * 2)
                lease.lost.set()
                return

    def stop(self) -> None:
        """Stop renewing and wait for the thread."""
        self.stopped.set()
        self.join(timeout=10)


# People's actions (triage, sign-off, publish, acknowledge, moves, theme edits) from the CLI, Slack and every web
# replica take one lease in turn, so no two interleave a rule's check and its write (the same approver signing
# twice at once, a version published twice). They take well under a second; the next one waits for it.
ACTION = "people's action"
ACTION_WAIT = 30.0  # seconds an action waits for another one to finish before it is refused
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def one_action(store: Store) -> Iterator[None]:
    """Hold the people's-action lease for the block (at once if this thread already holds it)."""
    held: Lease | None = getattr(_current, "lease", None)
    if held is not None and held.name == ACTION:
        yield
        return
    with job_lock(store, ACTION, wait=ACTION_WAIT):
        yield


def one_at_a_time(action: Callable[P, R]) -> Callable[P, R]:
    """Run a workflow action (one of whose arguments is the Store) under the people's-action lease."""

    @wraps(action)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store = next(value for value in (*args, *kwargs.values()) if isinstance(value, Store))
        with one_action(store):
            return action(*args, **kwargs)

    return wrapper
