"""`reviewbot export`: feedback items, themes or tickets as CSV or JSON Lines, streamed in batches so a workspace
of a million items is written with the memory of one batch."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import func
from sqlmodel import Session, col, select

from reviewbot.evidence import impact as priority_of
from reviewbot.models import FeedbackItem, ReviewTicket, Theme, ThemeMapping
from reviewbot.store import Store

BATCH = 1000
KINDS = ("items", "themes", "tickets")
FORMATS = ("csv", "jsonl")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such text gets a leading '
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Row = dict[str, Any]

ITEM_COLUMNS = [
    "id", "source", "external_id", "kind", "created_at", "text", "customer", "channel", "author", "nps", "csat",
    "nps_class", "csat_class", "polarity", "sentiment", "theme_id", "theme", "section", "origin",
]  # fmt: skip
THEME_COLUMNS = [
    "id", "label", "status", "size", "unique_size", "mean_polarity", "negative_share", "concern_share", "nps",
    "csat", "growth", "impact", "first_seen", "last_seen", "sections", "tickets", "terms", "merged_into",
]  # fmt: skip
TICKET_COLUMNS = [
    "ref", "id", "kind", "state", "state_reason", "priority", "impact", "theme_id", "document_id", "section_id",
    "assignee", "title", "items", "negative_share", "resolved_version", "created_at", "updated_at", "fingerprint",
]  # fmt: skip
EXTRA = "extra."  # CSV columns of an item's extra (source-specific) fields: extra.Issue, extra.Company...


def safe_cell(value: Any) -> Any:
    """A value for a CSV cell: text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO 8601 text, everything else as it is."""
    return value.isoformat() if isinstance(value, datetime) else value


def _sections(session: Session) -> dict[int, str]:
    """theme id -> the sections it maps to, best first ("doc/section", or "doc (gap)")."""
    found: dict[int, list[tuple[int, str]]] = {}
    for m in session.exec(select(ThemeMapping)):
        where = f"{m.document_id}/{m.section_id}" if m.section_id else f"{m.document_id} (gap)"
        found.setdefault(m.theme_id, []).append((m.rank, where))
    return {theme: "; ".join(w for _, w in sorted(rows)) for theme, rows in found.items()}


def _batches(store: Store, model: Any, build: Callable[[Session, list[Any]], list[Row]]) -> Iterator[Row]:
    """Rows of a table in id order, read BATCH at a time (keyset pagination: no OFFSET scans)."""
    last = 0
    while True:
        with store.session() as session:
            records = list(session.exec(select(model).where(col(model.id) > last).order_by(col(model.id)).limit(BATCH)))
            if not records:
                return
            last = records[-1].id
            rows = build(session, records)
        yield from rows


def _sentiment(item: FeedbackItem) -> str:
    return "negative" if item.is_negative else "positive" if item.polarity > 0.05 else "neutral"


def item_rows(store: Store) -> Iterator[Row]:
    """Feedback items with their theme, its section and sentiment; `extra` holds the source's extra fields."""
    with store.session() as session:
        labels = {t.id: t.label for t in session.exec(select(Theme))}
        sections = _sections(session)

    def build(_: Session, items: list[FeedbackItem]) -> list[Row]:
        return [
            {
                "id": i.id, "source": i.source, "external_id": i.external_id, "kind": i.kind,
                "created_at": _plain(i.created_at), "text": i.text, "customer": i.customer, "channel": i.channel,
                "author": i.author, "nps": i.nps, "csat": i.csat, "nps_class": i.nps_class,
                "csat_class": i.csat_class, "polarity": round(i.polarity, 4), "sentiment": _sentiment(i),
                "theme_id": i.theme_id, "theme": labels.get(i.theme_id) if i.theme_id else None,
                "section": sections.get(i.theme_id or 0), "origin": i.origin or None, "extra": dict(i.meta or {}),
            }
            for i in items
        ]  # fmt: skip

    return _batches(store, FeedbackItem, build)


def theme_rows(store: Store) -> Iterator[Row]:
    """Themes (active, merged and split) with their statistics, sections and tickets."""
    with store.session() as session:
        sections = _sections(session)
        tickets: dict[int, list[str]] = {}
        for theme_id, ref, number in session.exec(
            select(ReviewTicket.theme_id, ReviewTicket.tracker_ref, ReviewTicket.id).order_by(col(ReviewTicket.id))
        ):
            if theme_id is not None:
                tickets.setdefault(theme_id, []).append(ref or f"#{number}")

    def build(_: Session, themes: list[Theme]) -> list[Row]:
        return [
            {
                "id": t.id, "label": t.label, "status": t.status, "size": t.size, "unique_size": t.unique_size,
                "mean_polarity": round(t.mean_polarity, 4), "negative_share": round(t.negative_share, 4),
                "concern_share": round(t.concern_share, 4), "nps": t.nps, "csat": t.csat, "growth": t.growth,
                "impact": round(t.impact, 4), "first_seen": _plain(t.first_seen), "last_seen": _plain(t.last_seen),
                "sections": sections.get(t.id or 0), "tickets": "; ".join(tickets.get(t.id or 0, [])) or None,
                "terms": "; ".join(t.terms), "merged_into": t.merged_into,
            }
            for t in themes
        ]  # fmt: skip

    return _batches(store, Theme, build)


def ticket_rows(store: Store) -> Iterator[Row]:
    """Review tickets with their state, priority and the evidence's counts."""

    def build(_: Session, tickets: list[ReviewTicket]) -> list[Row]:
        rows = []
        for t in tickets:
            counts, tone = t.evidence.get("counts", {}), t.evidence.get("sentiment", {})
            rows.append(
                {
                    "ref": t.tracker_ref or f"#{t.id}", "id": t.id, "kind": t.kind, "state": t.state,
                    "state_reason": t.state_reason, "priority": priority_of(t.evidence), "impact": round(t.impact, 4),
                    "theme_id": t.theme_id, "document_id": t.document_id, "section_id": t.section_id,
                    "assignee": t.assignee, "title": t.title, "items": counts.get("total"),
                    "negative_share": tone.get("negative_share"), "resolved_version": t.resolved_version,
                    "created_at": _plain(t.created_at), "updated_at": _plain(t.updated_at),
                    "fingerprint": t.fingerprint,
                }
            )  # fmt: skip
        return rows

    return _batches(store, ReviewTicket, build)


def extra_keys(store: Store) -> list[str]:
    """The extra fields items carry (a CSV header is written before the first row, so they are read first)."""
    keys: set[str] = set()
    last = 0
    while True:
        with store.session() as session:
            batch = list(
                session.exec(
                    select(FeedbackItem.id, FeedbackItem.meta)
                    .where(col(FeedbackItem.id) > last)
                    .order_by(col(FeedbackItem.id))
                    .limit(BATCH * 10)
                )
            )
        if not batch:
            return sorted(keys)
        last = batch[-1][0]
        for _, meta in batch:
            keys.update(meta or {})


def count(store: Store, kind: str) -> int:
    """How many records an export of `kind` writes."""
    model = {"items": FeedbackItem, "themes": Theme, "tickets": ReviewTicket}[kind]
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def write_export(store: Store, kind: str, fmt: str, out: TextIO) -> int:
    """Write every record of `kind` to `out` as CSV or JSON Lines; returns how many were written."""
    rows = {"items": item_rows, "themes": theme_rows, "tickets": ticket_rows}[kind](store)
    if fmt == "jsonl":
        written = 0
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            written += 1
        return written
    columns = {"items": ITEM_COLUMNS, "themes": THEME_COLUMNS, "tickets": TICKET_COLUMNS}[kind]
    extras = extra_keys(store) if kind == "items" else []
    writer = csv.writer(out)
    writer.writerow(columns + [EXTRA + k for k in extras])
    written = 0
    for row in rows:
        extra = row.pop("extra", {})
        cells = [row[c] for c in columns] + [_cell_text(extra.get(k)) for k in extras]
        writer.writerow([safe_cell(c) for c in cells])
        written += 1
    return written


def _cell_text(value: Any) -> Any:
    """An extra field in one cell: lists and objects as JSON."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
