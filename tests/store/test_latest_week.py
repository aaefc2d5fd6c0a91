"""The latest week ("now" for trends) is the newest week of any item, read without scanning the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reviewbot.models import FeedbackItem
from reviewbot.store import Store
from reviewbot.store.themes import latest_week


def _item(n: int, created_at: datetime, week: str) -> FeedbackItem:
    return FeedbackItem(
        source="s",
        external_id=str(n),
        kind="complaint",
        content_hash=str(n),
        row_hash=str(n),
        created_at=created_at,
        week=week,
    )


def test_latest_week_is_the_newest_week_even_when_the_newest_item_sits_in_an_earlier_local_week(store: Store) -> None:
    with store.session() as session:
        assert latest_week(session) is None
        start = datetime(2025, 1, 6, 10, tzinfo=UTC)
        for n in range(200):  # nearly two years of history, a few items a week
            moment = start + timedelta(days=3 * n)
            session.add(_item(n, moment, (moment.date() - timedelta(days=moment.weekday())).isoformat()))
        # Sunday 23:30 UTC, written on Monday in UTC+2: its week is the week of 2026-11-23
        session.add(_item(1000, datetime(2026, 11, 22, 23, 30, tzinfo=UTC), "2026-11-23"))
        # newer in UTC, but Sunday evening in UTC-5: the week of 2026-11-16
        session.add(_item(1001, datetime(2026, 11, 23, 3, 0, tzinfo=UTC), "2026-11-16"))
    with store.session() as session:
        assert latest_week(session) == "2026-11-23"
