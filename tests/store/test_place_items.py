"""Placing a large import's items in themes records every item, written in bounded batches."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, insert
from sqlmodel import col, select

from reviewbot.models import FeedbackItem, Theme
from reviewbot.store import Store
from reviewbot.store.themes import IDS_PER_QUERY, place_items


def test_more_placements_than_one_batch_are_all_recorded(store: Store) -> None:
    n = IDS_PER_QUERY * 2 + 7  # three batches, the last one partial
    created = datetime(2026, 11, 2, 10, tzinfo=UTC)
    rows = [
        {"source": "s", "external_id": str(i), "kind": "complaint", "text": f"text {i}", "content_hash": str(i),
         "row_hash": str(i), "created_at": created, "week": "2026-11-02"}
        for i in range(n + 3)
    ]  # fmt: skip
    with store.session() as session:
        session.connection().execute(insert(FeedbackItem), rows)
        themes = [Theme(label="a", centroid={}), Theme(label="b", centroid={})]
        session.add_all(themes)
        session.flush()
        ids = list(session.exec(select(FeedbackItem.id).order_by(col(FeedbackItem.id))))
        placements = {item: (themes[i % 2].id or 0, round(i / n, 4)) for i, item in enumerate(ids[:n])}
        items = np.array(list(placements))  # arrays, as a sync passes them
        theme_ids = np.array([theme for theme, _ in placements.values()])
        similarities = np.array([similarity for _, similarity in placements.values()])
        place_items(session, items, theme_ids, similarities, ids)  # the last three are seen but fit no theme
    with store.session() as session:
        placed = session.exec(
            select(FeedbackItem.id, FeedbackItem.theme_id, FeedbackItem.theme_similarity).where(
                col(FeedbackItem.theme_id).is_not(None)
            )
        ).all()
        unseen = session.exec(select(func.count()).where(col(FeedbackItem.themed_at).is_(None))).one()
    assert {item: (theme, similarity) for item, theme, similarity in placed} == placements
    assert unseen == 0
