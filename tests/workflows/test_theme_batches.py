"""A large import is placed a batch at a time (read, weighed, voted, written): the batches change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from reviewbot.models import FeedbackItem, Theme, ThemeMapping
from reviewbot.workflows.sync import run_sync
from tests.conftest import fresh_database
from tests.workspaces import DELIVERY_TEXTS, REFUND_TEXTS, make_workspace, open_workspace, rows, write_csv

LETTER = (
    "Dear Sir or Madam, I am writing pursuant to my rights under the Consumer Protection Act to formally request "
    "your immediate attention to the following matter. Please be advised that I expect a complete written response "
    "within thirty days of receipt of this correspondence, that all records concerning my account be preserved, and "
    "that you acknowledge this letter in writing without delay. The matter: {problem} Sincerely, a customer."
)
PROBLEMS = [
    "my refund for the returned sofa has still not arrived after four weeks.",
    "the refund you promised within five business days never reached my bank.",
    "the courier lost my parcel and nobody investigates the lost parcel claim.",
    "my parcel was marked delivered but never arrived, the courier claim is ignored.",
    "the lost parcel claim with your courier has been open for weeks.",
    "three weeks after the return you received, no refund has been paid.",
]


def outcome(folder: Path) -> dict[str, Any]:
    """Every item's theme and similarity, every theme's centroid, size and votes, and the mappings."""
    _, store = open_workspace(folder)
    try:
        with store.session() as session:
            items = session.exec(
                select(FeedbackItem.external_id, FeedbackItem.theme_id, FeedbackItem.theme_similarity).order_by(
                    col(FeedbackItem.external_id)
                )
            ).all()
            themes = [
                (t.id, t.label, t.size, t.centroid, t.section_votes, t.tally)
                for t in session.exec(select(Theme).order_by(col(Theme.id)))
            ]
            mappings = [
                (m.theme_id, m.document_id, m.section_id, m.confidence)
                for m in session.exec(select(ThemeMapping).order_by(col(ThemeMapping.theme_id)))
            ]
    finally:
        store.dispose()
    return {"items": items, "themes": themes, "mappings": mappings}


def two_syncs(folder: Path) -> dict[str, Any]:
    """A first import with letters among short complaints, then more items into the themes it found."""
    make_workspace(folder)
    inbox = folder / "inbox" / "complaints"
    letters = [LETTER.format(problem=p) for p in PROBLEMS]
    write_csv(inbox / "export-2.csv", rows(letters + REFUND_TEXTS[::-1], "L", day=3))
    settings, store = open_workspace(folder)
    first = run_sync(settings, store)
    write_csv(inbox / "export-3.csv", rows([t + " again" for t in DELIVERY_TEXTS + REFUND_TEXTS[:3]], "N", day=5))
    second = run_sync(settings, store)
    store.dispose()
    assert first.errors == [] and second.errors == []
    assert first.themes["items_placed"] > 20 and second.themes["items_placed"] > 5
    return outcome(folder)


@pytest.fixture
def other_database(tmp_path: Path) -> Iterator[str]:
    """A second empty database, beside the test's own (a new SQLite file, or a new PostgreSQL schema)."""
    with fresh_database(tmp_path, "other.db") as url:
        yield url


def test_placing_in_small_batches_gives_the_same_themes_as_one_batch(
    tmp_path: Path, use_database: str, other_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = two_syncs(tmp_path / "whole")
    monkeypatch.setenv("REVIEWBOT_DATABASE_URL", other_database)
    import reviewbot.analysis.themes
    import reviewbot.store.themes
    import reviewbot.workflows.mapping

    monkeypatch.setattr(reviewbot.store.themes, "READ_ROWS", 3)  # rows read at a time
    monkeypatch.setattr(reviewbot.store.themes, "IDS_PER_QUERY", 4)  # placements written at a time
    monkeypatch.setattr(reviewbot.analysis.themes, "WEIGH_ROWS", 5)  # documents weighed at a time
    monkeypatch.setattr(reviewbot.analysis.themes, "CHUNK_ROWS", 2)  # documents compared with centroids at a time
    monkeypatch.setattr(reviewbot.workflows.mapping, "VOTE_ROWS", 3)  # members voting at a time
    batched = two_syncs(tmp_path / "batched")
    assert batched == whole
    assert len(whole["themes"]) >= 2 and whole["mappings"]
