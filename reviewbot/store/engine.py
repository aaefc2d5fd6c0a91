"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from reviewbot.errors import ConfigError


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; busy_timeout waits for the writer instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # pysqlite starts transactions lazily; a read that later writes can then fail with SQLITE_BUSY.
    # Taking the write lock at BEGIN makes concurrent writers wait (busy_timeout) instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """Create an engine for a SQLAlchemy URL, configured for safe concurrent use."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"cannot parse database URL {url!r}",
            field="database_url",
            hint="use sqlite:///path/to/reviewbot.db or postgresql+psycopg://user@host:5432/db",
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Disable pysqlite's own transaction handling so BEGIN IMMEDIATE is ours to issue.
        event.listen(engine, "connect", lambda conn, _r: setattr(conn, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """The database of one workspace: an engine plus short transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # the rolled-back connection of a dry run belongs to its thread (a lease heartbeat must not use it)
        self._local = threading.local()

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        # Inside `rolled_back()`, sessions commit to savepoints of one outer transaction.
        bind = getattr(self._local, "connection", None) or self.engine
        with Session(bind, expire_on_commit=False, join_transaction_mode="create_savepoint") as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """Run the block against one transaction that is rolled back at the end (for --dry-run)."""
        with self.engine.connect() as connection:
            transaction = connection.begin()
            self._local.connection = connection
            try:
                yield
            finally:
                self._local.connection = None
                transaction.rollback()

    def check_connection(self) -> None:
        """Fail with a ConfigError saying how to fix it when the database cannot be reached."""
        try:
            with self.engine.connect():
                pass
        except OperationalError as exc:
            raise ConfigError(
                f"cannot open the database {self.engine.url.render_as_string(hide_password=True)}: {exc.orig}",
                field="database_url",
                hint="check REVIEWBOT_DATABASE_URL, or that the server is running and reachable",
            ) from exc

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()
