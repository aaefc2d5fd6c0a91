"""One job at a time: a lease in the database (every backend) and, on PostgreSQL, an advisory lock too.

The lease is renewed by a heartbeat while the job runs, so a long sync keeps it and a killed one loses it
when it expires (at once, if the dead process was on this machine). The advisory lock is held in a
transaction of its own connection, which does nothing else: PostgreSQL drops it the moment that connection
dies, whatever happened to the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from reviewbot.errors import ReviewbotError
from reviewbot.store import Store
from reviewbot.store.locks import holder, new_owner, release, try_advisory_xact_lock, try_lease

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)


class LockHeld(ReviewbotError):
    """Another process runs the job now."""

    exit_code = 3


@contextmanager
def job_lock(store: Store, name: str = "sync", *, wait: float | None = None, ttl: timedelta = LEASE) -> Iterator[str]:
    """Hold the job's lock for the block; refused at once (LockHeld), or after waiting up to `wait` seconds."""
    owner = new_owner()
    deadline = time.monotonic() + (wait or 0)
    while True:
        advisory = _acquire(store, name, owner, ttl)
        if advisory is not False:
            break
        if wait is None or time.monotonic() >= deadline:
            raise _held(store, name)
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
    heartbeat = _Heartbeat(store, name, owner, ttl)
    heartbeat.start()
    try:
        yield owner
    finally:
        heartbeat.stop()
        with store.session() as session:
            release(session, name, owner)
        if advisory is not None:
            advisory.close()  # ends its transaction: PostgreSQL releases the advisory lock


def _acquire(store: Store, name: str, owner: str, ttl: timedelta) -> Any:
    """Take the lease (and on PostgreSQL the advisory lock): the advisory connection, None, or False if held."""
    with store.session() as session:
        if not try_lease(session, name, owner, ttl):
            return False
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


def _held(store: Store, name: str) -> LockHeld:
    with store.session() as session:
        lease = holder(session, name)
    if lease is None:
        return LockHeld(f"another {name} is starting right now", hint="try again, or run with --wait")
    host, _, rest = lease.owner.partition(":")
    return LockHeld(
        f"another {name} is running (on {host}, process {rest.partition(':')[0]}, since "
        f"{lease.acquired_at:%Y-%m-%d %H:%M} UTC; its lease runs to {lease.expires_at:%H:%M:%S} UTC)",
        hint="wait for it to finish, or run with --wait",
    )


class _Heartbeat(threading.Thread):
    """Renews the lease every third of its length while the job runs."""

    def __init__(self, store: Store, name: str, owner: str, ttl: timedelta) -> None:
        super().__init__(name=f"lease-{name}", daemon=True)
        self.store, self.lock_name, self.owner, self.ttl = store, name, owner, ttl
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.ttl.total_seconds() / 3):
            try:
                with self.store.session() as session:
                    if not try_lease(session, self.lock_name, self.owner, self.ttl):
                        log.error("lost the %s lease to another process", self.lock_name)
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("could not renew the %s lease", self.lock_name, exc_info=True)

    def stop(self) -> None:
        """Stop renewing and wait for the thread."""
        self.stopped.set()
        self.join(timeout=10)
