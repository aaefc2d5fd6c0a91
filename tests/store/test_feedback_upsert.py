"""Storing enriched rows in bulk: new, changed and repeated rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from reviewbot.analysis.enrich import content_hash, week_of
from reviewbot.models import FeedbackItem, Theme
from reviewbot.store import Store
from reviewbot.store.feedback import refresh_statistics, upsert_items


def _row(i: int, text_: str | None = None, **extra: Any) -> dict[str, Any]:
    body = text_ or f"refund {i} still not arrived"
    created = datetime(2026, 10, 1 + i % 28, 9, 30, tzinfo=UTC)
    row = {
        "source": "complaints",
        "external_id": f"C-{i}",
        "kind": "complaint",
        "text": body,
        "content_hash": content_hash(body),
        "row_hash": f"h-{body}",
        "created_at": created,
        "week": week_of(created),
        "customer": None,
        "channel": "email",
        "author": None,
        "nps": None,
        "csat": None,
        "nps_class": None,
        "csat_class": None,
        "polarity": -0.25,
        "subjectivity": 0.5,
        "is_negative": True,
        "cites_rules": False,
        "meta": {},
        "origin": f"export.csv:{i + 2}",
    }
    return {**row, **extra}


def _items(store: Store) -> dict[str, FeedbackItem]:
    with store.session() as session:
        return {item.external_id: item for item in session.exec(select(FeedbackItem))}


def test_a_first_import_in_many_batches_stores_every_row_with_its_values(store: Store) -> None:
    # more batches than psycopg runs before it prepares a statement (5): the prepared lookups must still be right
    for batch in range(8):
        rows = [_row(i) for i in range(batch * 50, batch * 50 + 50)]
        rows[0] = _row(batch * 50, meta={"order": "NW-1", "tags": ["late", "é"]}, nps=3, nps_class="detractor")
        with store.session() as session:
            counts = upsert_items(session, "complaints", rows)
        assert (counts.new, counts.updated, counts.unchanged) == (50, 0, 0)
    items = _items(store)
    assert len(items) == 400
    first = items["C-0"]
    assert first.meta == {"order": "NW-1", "tags": ["late", "é"]}
    assert (first.nps, first.nps_class, first.customer) == (3, "detractor", None)
    assert first.created_at.replace(tzinfo=UTC) == datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
    assert items["C-7"].text == "refund 7 still not arrived" and items["C-7"].is_negative is True


def test_repeats_are_unchanged_and_an_edited_row_is_updated_and_placed_again(store: Store) -> None:
    with store.session() as session:
        upsert_items(session, "complaints", [_row(i) for i in range(20)])
        theme = Theme(label="refunds", centroid={}, size=20)
        session.add(theme)
        session.flush()
        for item in session.exec(select(FeedbackItem)):
            item.theme_id = theme.id
            item.themed_at = datetime(2026, 11, 1, tzinfo=UTC)
            session.add(item)
    again = [_row(i) for i in range(20)]
    again[4] = _row(4, "refund 4 arrived broken")
    again.append(_row(99))
    again.append(_row(3, "refund 3 arrived at last"))  # the same id later in the batch: it changed meanwhile
    with store.session() as session:
        counts = upsert_items(session, "complaints", again)
    assert (counts.new, counts.updated, counts.unchanged, counts.superseded) == (1, 2, 18, 1)
    items = _items(store)
    assert items["C-4"].text == "refund 4 arrived broken"
    assert items["C-3"].text == "refund 3 arrived at last"  # the later copy
    assert items["C-4"].theme_id is None and items["C-4"].themed_at is None  # goes back through themes
    assert items["C-5"].theme_id is not None  # an unchanged row keeps its theme
    assert len(items) == 21


def test_the_same_external_id_in_two_sources_is_two_items(store: Store) -> None:
    with store.session() as session:
        upsert_items(session, "complaints", [_row(1)])
        counts = upsert_items(session, "surveys", [_row(1, source="surveys")])
    assert counts.new == 1
    with store.session() as session:
        sources = session.exec(select(FeedbackItem.source).where(col(FeedbackItem.external_id) == "C-1")).all()
    assert sorted(sources) == ["complaints", "surveys"]


def test_statistics_are_refreshed_after_a_large_import_on_postgresql_only(store: Store) -> None:
    rows = [_row(i) for i in range(1_200)]
    with store.session() as session:
        upsert_items(session, "complaints", rows)
    with store.session() as session:
        assert refresh_statistics(session, 50) is False  # too few new rows to matter
        analyzed = refresh_statistics(session, 1_200)
    assert analyzed is (store.dialect == "postgresql")
    if analyzed:
        with store.engine.connect() as conn:
            estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'feedback_item'::regclass"))
            assert estimate.scalar() == 1_200  # the planner now knows the table's size
