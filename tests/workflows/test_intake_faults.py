"""A sync never stops on one bad row: each is quarantined with its reason, every good row of the file and every
later file is stored, and the cursor moves on (run on SQLite, and on PostgreSQL with REVIEWBOT_TEST_DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from reviewbot.models import FeedbackItem, QuarantinedRow
from tests.workspaces import make_workspace, open_workspace, run_collect, stored_items

HEADER = "id,text,created_at,channel\n"
BAD_ROWS = {
    3: "B-1,Late parcel,9999-12-31T23:59:59-05:00,web",  # OverflowError once in UTC
    4: "B-2,Late parcel,0001-01-01T00:00+05:00,web",
    5: "B-3,Late\x00parcel,2026-09-03 10:00,web",  # PostgreSQL refuses NUL in text
    6: "B-4,Late parcel,9999-12-31,web",  # far in the future
    7: f"B-5,{'x' * 5_000},2026-09-03 10:00,web",  # over intake.max_field_chars
}


@pytest.fixture
def workspace(tmp_path: Path, use_database: str) -> Path:
    folder = make_workspace(
        tmp_path / "ws", extra_toml="[intake]\nmax_field_chars = 4000\n[enrich]\nmax_text_chars = 100000"
    )
    toml = folder / "reviewbot.toml"
    toml.write_text(
        toml.read_text().replace('created_at = "created_at" }', 'created_at = "created_at", channel = "channel" }')
    )
    inbox = folder / "inbox" / "complaints"
    (inbox / "export-1.csv").unlink()  # its header has no channel column
    good = [f"G-{i},Refund still missing after {i} weeks,2026-09-0{i} 10:00,phone +44 7700 900123" for i in (1, 2)]
    rows = [good[0], *BAD_ROWS.values(), good[1], "E-1,,2026-09-04 10:00,web", "E-2,  ,2026-09-04 10:00,web"]
    (inbox / "export-2.csv").write_bytes((HEADER + "\n".join(rows) + "\n").encode())
    (inbox / "export-3.csv").write_text(HEADER + "L-1,Lost parcel in a later file,2026-09-05 10:00,email\n")
    return folder


def test_each_bad_row_is_quarantined_and_every_good_row_and_later_file_stored(workspace: Path) -> None:
    report = run_collect(workspace)
    assert report.errors == []
    counts = report.sources["complaints"]
    assert (counts["new"], counts["quarantined"], counts["skipped"]) == (3, 5, 2)
    ids = {item.external_id for item in stored_items(workspace, "complaints")}
    assert ids == {"G-1", "G-2", "L-1"}

    settings, store = open_workspace(workspace)
    with store.session() as session:
        rows = {r.line: r for r in session.exec(select(QuarantinedRow)) if r.file.endswith("export-2.csv")}
        channels = {i.external_id: i.channel for i in session.exec(select(FeedbackItem))}
    store.dispose()
    assert sorted(rows) == sorted(BAD_ROWS)
    assert "outside the range of dates" in rows[3].reason and "outside the range of dates" in rows[4].reason
    assert "NUL byte" in rows[5].reason and "\x00" not in rows[5].raw
    assert "in the future, beyond intake.future_tolerance" in rows[6].reason
    assert "over the limit of 4,000 (intake.max_field_chars)" in rows[7].reason
    assert channels["G-1"] == "phone [PHONE]"  # the channel is redacted like the text

    again = run_collect(workspace)  # the cursor moved past every row: nothing is read or quarantined again
    assert again.errors == []
    assert again.sources["complaints"] == {"new": 0, "updated": 0, "unchanged": 0, "quarantined": 0}


def test_a_nul_byte_from_a_source_other_than_files_does_not_fail_the_write(workspace: Path) -> None:
    # the file source quarantines such rows; a record from elsewhere (here a Slack suggestion) is stored without it
    from datetime import UTC, datetime

    from reviewbot.protocols import RawRecord
    from reviewbot.workflows.collect import store_feedback

    settings, store = open_workspace(workspace)
    record = RawRecord(
        external_id="S-1",
        text="Please\x00 extend the returns window",
        created_at=datetime(2026, 9, 3, tzinfo=UTC),
        kind="suggestion",
        origin="slack",
        meta={"thread": {"note": "nul\x00inside"}},
    )
    item_id, new = store_feedback(settings, store, "slack", record)
    with store.session() as session:
        item = session.get(FeedbackItem, item_id)
        assert item is not None
        stored = (item.text, item.meta)
    store.dispose()
    assert new and stored == ("Please\ufffd extend the returns window", {"thread": {"note": "nul\ufffdinside"}})
