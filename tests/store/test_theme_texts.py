"""Clustering reads its sample's texts from the store by id, a batch of queries at a time."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import insert
from sqlmodel import col, select

import reviewbot.store.themes as theme_store
from reviewbot.models import FeedbackItem
from reviewbot.store import Store


def test_texts_come_back_in_the_order_asked_and_a_deleted_item_reads_as_no_text(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(theme_store, "IDS_PER_QUERY", 2)  # three queries for five ids
    created = datetime(2026, 11, 2, 10, tzinfo=UTC)
    rows = [
        {"source": "s", "external_id": str(i), "kind": "complaint", "text": f"text {i}", "content_hash": str(i),
         "row_hash": str(i), "created_at": created, "week": "2026-11-02"}
        for i in range(4)
    ]  # fmt: skip
    with store.session() as session:
        session.connection().execute(insert(FeedbackItem), rows)
        ids = list(session.exec(select(FeedbackItem.id).order_by(col(FeedbackItem.id))))
        wanted = np.array([ids[2], ids[0], max(ids) + 100, ids[3], ids[2]], dtype=np.int64)
        assert theme_store.texts_by_id(session, wanted) == ["text 2", "text 0", "", "text 3", "text 2"]
