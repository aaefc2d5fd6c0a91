"""Queries for the intake side: feedback items, quarantine, source cursors."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, String, Table, any_, bindparam, delete, func, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from reviewbot.models import FeedbackItem, QuarantinedRow, SourceState, utcnow


@dataclass
class UpsertCounts:
    """What storing a batch did."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0  # rows whose id came again later in the same batch: only the later one is stored


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """INSERT rows, skipping any that collide on the unique `keys` (works on SQLite and PostgreSQL)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    session.execute(statement, list(rows))


NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, a surrogate is always a lone one


def without_nul(value: Any) -> Any:
    """A value the database can store: NUL characters (refused by PostgreSQL in text and JSON) and lone UTF-16
    surrogates (no UTF-8 encoder writes them) become U+FFFD, also when nested."""
    if isinstance(value, str):
        value = value.replace(NUL, "\ufffd") if NUL in value else value
        # a JSON export's "\ud83d" (an emoji cut in half) failed the whole batch, and every later sync, on encoding
        return _SURROGATE.sub("\ufffd", value) if not value.isascii() else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


def upsert_items(session: Session, source: str, rows: list[dict[str, Any]]) -> UpsertCounts:
    """Store enriched rows of one source: new ids are inserted, changed rows updated, repeats ignored.

    An id twice in one batch (a record that changed while the source read it) is stored as its later row; the
    earlier one is counted as superseded, not as unchanged, so the sync can say so whatever the source.
    """
    counts = UpsertCounts()
    latest: dict[str, dict[str, Any]] = {}
    # The file source quarantines rows with NUL bytes; one from another source must not fail the whole batch.
    for row in map(without_nul, rows):  # the same id twice in one batch: the later row wins
        latest[row["external_id"]] = row
    now = utcnow()
    # Insert first and look up only the ids that were already there: a first import (every id new) then costs one
    # statement a batch, and never asks PostgreSQL for a plan on a table that grew since it was last analyzed.
    fresh = [{**row, "ingested_at": now, "updated_at": now} for row in latest.values()]
    inserted = _insert_new(session, fresh)
    counts.new = len(inserted)
    known = [ext for ext in latest if ext not in inserted]
    existing = _stored_versions(session, source, known) if known else {}
    for ext in known:
        row = latest[ext]
        if existing[ext][1] == row["row_hash"]:
            counts.unchanged += 1
        else:
            # A changed row is scored again and goes back through the themes stage.
            values = {**row, "updated_at": now, "theme_id": None, "theme_similarity": None, "themed_at": None}
            session.execute(update(FeedbackItem).where(col(FeedbackItem.id) == existing[ext][0]).values(**values))
            counts.updated += 1
    counts.superseded = len(rows) - len(latest)
    return counts


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT the rows whose (source, external id) is not stored yet; returns the external ids inserted."""
    if not rows:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        return _insert_new_postgresql(session, rows)
    table = FeedbackItem.__table__
    statement = (
        sqlite.insert(table)  # type: ignore[arg-type]
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(table.c.external_id)  # type: ignore[attr-defined]
    )
    return set(session.execute(statement, rows).scalars())


def _insert_new_postgresql(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """`_insert_new` as one statement whose every column is one array parameter.

    A row per statement (psycopg's executemany) costs the server a statement each, and SQLAlchemy's multi-row
    VALUES with RETURNING makes psycopg parse a query of 23,000 placeholders per batch (5x the client CPU);
    `INSERT ... SELECT FROM unnest(arrays)` is one short statement whatever the batch size.
    """
    table: Table = FeedbackItem.__table__  # type: ignore[assignment]
    names = list(rows[0])
    dialect = session.get_bind().dialect
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in names)
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    statement = text(
        f"INSERT INTO {table.name} ({quoted}) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT (source, external_id) DO NOTHING RETURNING external_id"
    )
    columns: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in names}
    for name in names:
        if isinstance(table.c[name].type, JSON):  # psycopg sends a list of strings, cast to json[] above
            columns[name] = [None if value is None else json.dumps(value) for value in columns[name]]
    return set(session.execute(statement, columns).scalars())


def _stored_versions(session: Session, source: str, external_ids: list[str]) -> dict[str, tuple[int, str]]:
    """(id, row hash) of the items of `source` already stored under these external ids."""
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter, not `IN` with a parameter per id, planned for its values every time: once psycopg
        # prepares a statement (its sixth run), PostgreSQL may keep a generic plan made while the table was
        # small and never analyzed, a scan of the whole table for every batch (2.6 s a batch at 100k rows).
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        wanted = col(FeedbackItem.external_id) == any_(bindparam("ids", external_ids, type_=postgresql.ARRAY(String)))
    else:
        wanted = col(FeedbackItem.external_id).in_(external_ids)
    query = select(FeedbackItem.external_id, FeedbackItem.id, FeedbackItem.row_hash).where(
        FeedbackItem.source == source, wanted
    )
    return {ext: (item_id, digest) for ext, item_id, digest in session.exec(query)}


def refresh_statistics(session: Session, added: int) -> bool:
    """ANALYZE the feedback table on PostgreSQL when `added` new rows are a tenth or more of it; True if it did.

    The planner's estimates come from ANALYZE, and autovacuum (which would run it) is often off on the servers
    that run syncs; without them the themes stage's queries over a first import of 100k rows plan as if the
    table were empty. A tenth is autovacuum's own default share; smaller syncs leave the estimates good enough.
    """
    if session.get_bind().dialect.name != "postgresql" or added < 1_000:
        return False
    total = session.exec(select(func.count()).select_from(FeedbackItem)).one()
    if added < total / 10:
        return False
    session.execute(text(f"ANALYZE {FeedbackItem.__tablename__}"))
    return True


def item_id_of(session: Session, source: str, external_id: str) -> int:
    """The id of a stored item."""
    query = select(FeedbackItem.id).where(FeedbackItem.source == source, FeedbackItem.external_id == external_id)
    return session.exec(query).one() or 0


def add_quarantined(session: Session, source: str, rejects: Sequence[dict[str, Any]]) -> set[tuple[str, int, str]]:
    """Record rejected rows (idempotent per source, file, line and reason); returns the (file, line, reason) of those
    that were not quarantined already."""
    if not rejects:
        return set()
    rejects = [without_nul(r) for r in rejects]  # a row quarantined for its NUL byte is stored without it
    keys = [(r["file"], r["line"], r["reason"]) for r in rejects]
    known = set(
        session.exec(
            select(QuarantinedRow.file, QuarantinedRow.line, QuarantinedRow.reason).where(
                QuarantinedRow.source == source,
                tuple_(QuarantinedRow.file, QuarantinedRow.line, QuarantinedRow.reason).in_(keys),
            )
        )
    )
    rows = [{**r, "source": source, "created_at": utcnow()} for r in rejects]
    insert_ignore(session, QuarantinedRow.__table__, rows, ["source", "file", "line", "reason"])  # type: ignore[arg-type]
    return {k for k in keys if k not in known}


def clear_file_rejects(session: Session, source: str, files: Sequence[str]) -> None:
    """Forget the whole-file quarantine entries (line 0) of files that have now been read."""
    session.execute(
        delete(QuarantinedRow).where(
            col(QuarantinedRow.source) == source, col(QuarantinedRow.file).in_(files), col(QuarantinedRow.line) == 0
        )
    )


def list_quarantined(session: Session, source: str | None = None, limit: int = 200) -> list[QuarantinedRow]:
    """Quarantined rows, newest first."""
    query = select(QuarantinedRow).order_by(col(QuarantinedRow.created_at).desc(), col(QuarantinedRow.id).desc())
    if source:
        query = query.where(QuarantinedRow.source == source)
    return list(session.exec(query.limit(limit)))


def get_cursor(session: Session, source: str) -> dict[str, Any]:
    """The saved cursor of a source ({} before its first run)."""
    state = session.get(SourceState, source)
    return dict(state.cursor) if state else {}


def save_cursor(session: Session, source: str, cursor: dict[str, Any], new_items: int) -> None:
    """Advance a source's cursor, in the same transaction as the records it covers."""
    state = session.get(SourceState, source) or SourceState(source=source)
    state.cursor = cursor
    state.items_total += new_items
    state.updated_at = utcnow()
    session.add(state)
