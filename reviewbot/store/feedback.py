"""Queries for the intake side: feedback items, quarantine, source cursors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from reviewbot.models import FeedbackItem, QuarantinedRow, SourceState, utcnow


@dataclass
class UpsertCounts:
    """What storing a batch did."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """INSERT rows, skipping any that collide on the unique `keys` (works on SQLite and PostgreSQL)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    session.execute(statement, list(rows))


NUL = "\x00"


def without_nul(value: Any) -> Any:
    """A value PostgreSQL can store: NUL characters (refused in text and JSON) become U+FFFD, also when nested."""
    if isinstance(value, str):
        return value.replace(NUL, "\ufffd") if NUL in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


def upsert_items(session: Session, source: str, rows: list[dict[str, Any]]) -> UpsertCounts:
    """Store enriched rows of one source: new ids are inserted, changed rows updated, repeats ignored."""
    counts = UpsertCounts()
    latest: dict[str, dict[str, Any]] = {}
    # The file source quarantines rows with NUL bytes; one from another source must not fail the whole batch.
    for row in map(without_nul, rows):  # the same id twice in one batch: the later row wins
        latest[row["external_id"]] = row
    existing = {
        ext: (item_id, digest)
        for ext, item_id, digest in session.exec(
            select(FeedbackItem.external_id, FeedbackItem.id, FeedbackItem.row_hash).where(
                FeedbackItem.source == source, col(FeedbackItem.external_id).in_(list(latest))
            )
        )
    }
    fresh = []
    now = utcnow()
    for ext, row in latest.items():
        if ext not in existing:
            fresh.append({**row, "ingested_at": now, "updated_at": now})
        elif existing[ext][1] == row["row_hash"]:
            counts.unchanged += 1
        else:
            # A changed row is scored again and goes back through the themes stage.
            values = {**row, "updated_at": now, "theme_id": None, "theme_similarity": None, "themed_at": None}
            session.execute(update(FeedbackItem).where(col(FeedbackItem.id) == existing[ext][0]).values(**values))
            counts.updated += 1
    insert_ignore(session, FeedbackItem.__table__, fresh, ["source", "external_id"])  # type: ignore[arg-type]
    counts.new = len(fresh)
    counts.unchanged += len(rows) - len(latest)
    return counts


def item_id_of(session: Session, source: str, external_id: str) -> int:
    """The id of a stored item."""
    query = select(FeedbackItem.id).where(FeedbackItem.source == source, FeedbackItem.external_id == external_id)
    return session.exec(query).one() or 0


def add_quarantined(session: Session, source: str, rejects: Sequence[dict[str, Any]]) -> int:
    """Record rejected rows (idempotent per source, file, line and reason); returns how many were new."""
    if not rejects:
        return 0
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
    return len({k for k in keys if k not in known})


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
