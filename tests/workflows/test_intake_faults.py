"""A sync never stops on one bad row: each is quarantined with its reason, every good row of the file and every
later file is stored, and the cursor moves on (run on SQLite, and on PostgreSQL with REVIEWBOT_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
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


def test_a_lone_surrogate_in_a_json_export_is_stored_as_a_replacement_character(
    tmp_path: Path, use_database: str
) -> None:
    # "\ud83d" is half an emoji, cut by the exporting system: it failed the whole file's batch, and every later sync
    folder = make_workspace(tmp_path / "ws")
    lines = [
        '{"id": "J-1", "text": "Refund still missing \\ud83d after three weeks", "created_at": "2026-09-03"}',
        '{"id": "J-2", "text": "Refund still missing after four weeks", "created_at": "2026-09-04"}',
    ]
    (folder / "inbox" / "complaints" / "export-2.jsonl").write_text("\n".join(lines) + "\n")
    report = run_collect(folder)
    assert report.errors == [] and report.sources["complaints"]["new"] >= 2
    texts = {item.external_id: item.text for item in stored_items(folder, "complaints")}
    assert texts["J-1"] == "Refund still missing \ufffd after three weeks"
    assert texts["J-2"] == "Refund still missing after four weeks"


def quarantined(folder: Path) -> list[tuple[str, int, str]]:
    """(file name, line, reason) of every quarantine entry, as `quarantine list` shows them."""
    _, store = open_workspace(folder)
    with store.session() as session:
        rows = sorted((r.file.rsplit("/", 1)[1], r.line, r.reason) for r in session.exec(select(QuarantinedRow)))
    store.dispose()
    return rows


def test_an_empty_file_fails_one_sync_not_every_later_one(tmp_path: Path, use_database: str) -> None:
    # cron runs the sync every 30 minutes: an empty export left in the inbox used to fail each of them
    folder = make_workspace(tmp_path / "ws")
    empty = folder / "inbox" / "complaints" / "empty.csv"
    empty.write_bytes(b"")
    first = run_collect(folder)
    assert first.errors == ["complaints: inbox/complaints/empty.csv: the file is empty"]
    assert first.sources["complaints"]["quarantined"] == 1
    for _ in range(2):
        later = run_collect(folder)
        assert later.errors == [] and later.sources["complaints"]["quarantined"] == 0
    assert quarantined(folder) == [("empty.csv", 0, "the file is empty")]

    empty.write_text("id,text,created_at\nN-1,Refund still missing,2026-09-20 10:00\n")
    filled = run_collect(folder)
    assert filled.errors == [] and filled.sources["complaints"]["new"] == 1
    assert quarantined(folder) == []  # read now: the entry saying it was empty is gone


def test_a_file_refused_for_a_missing_column_is_cleared_once_the_config_is_fixed(
    tmp_path: Path, use_database: str
) -> None:
    folder = make_workspace(tmp_path / "ws")
    toml = folder / "reviewbot.toml"
    plain = toml.read_text()
    toml.write_text(plain.replace('created_at = "created_at" }', 'created_at = "created_at", customer = "customer" }'))
    refused = run_collect(folder)
    assert refused.sources["complaints"]["new"] == 0 and len(refused.errors) == 1
    assert [(name, line) for name, line, _ in quarantined(folder)] == [("export-1.csv", 0)]
    assert "column 'customer'" in quarantined(folder)[0][2]

    toml.write_text(plain)
    fixed = run_collect(folder)
    assert fixed.errors == [] and fixed.sources["complaints"]["new"] == 16
    assert quarantined(folder) == []


def test_a_later_file_changing_a_known_id_is_counted_as_updated(tmp_path: Path, use_database: str) -> None:
    folder = make_workspace(tmp_path / "ws")
    run_collect(folder)
    (folder / "inbox" / "complaints" / "export-2.csv").write_text(
        "id,text,created_at\nR-0 ,Refund arrived at last after four weeks,2026-09-01 10:00\n"
        "R-1,Where is my refund? Returned the chair a month ago and the refund never came,2026-09-02 10:00\n"
    )
    report = run_collect(folder)
    assert report.sources["complaints"] == {"new": 0, "updated": 1, "unchanged": 1, "quarantined": 0}
    texts = {i.external_id: i.text for i in stored_items(folder, "complaints")}
    assert texts["R-0"] == "Refund arrived at last after four weeks"  # as README says: the later row replaces it


def test_an_admin_clears_a_files_quarantined_rows_and_only_an_admin(workspace: Path) -> None:
    # a fixed or deleted export's entries stayed in `quarantine list` for ever
    from reviewbot.store.review import audit_log
    from reviewbot.workflows.quarantine import clear_quarantine
    from reviewbot.workflows.review import RefusedError

    run_collect(workspace)
    settings, store = open_workspace(workspace)
    with pytest.raises(RefusedError, match="head-of-cx may not clear the quarantine"):
        clear_quarantine(settings, store, "complaints", "inbox/complaints/export-2.csv", "head-of-cx")
    assert clear_quarantine(settings, store, "complaints", "inbox/complaints/export-2.csv", "tester") == (
        "cleared 5 quarantined rows of complaints in inbox/complaints/export-2.csv"
    )
    with store.session() as session:
        assert session.exec(select(QuarantinedRow)).all() == []
        assert audit_log(session)[0].action == "quarantine_clear"
    with pytest.raises(RefusedError, match="no quarantined rows of nope"):
        clear_quarantine(settings, store, "nope", None, "tester")
    store.dispose()


def test_a_file_name_that_is_not_utf8_or_holds_a_newline_stops_nothing(workspace: Path) -> None:
    """A name with a byte that is not UTF-8 failed the whole source at every sync (the database refused the name);
    one with a newline broke the quarantine list's lines. Both are read, under a name shown with escapes."""
    inbox = workspace / "inbox" / "complaints"
    (inbox / "export-2.csv").unlink()
    odd = [b"caf\xe9 export.csv", b"two\nlines.csv"]
    for number, name in enumerate(odd):
        row = f"O-{number},Refund missing from the file with an odd name,2026-09-04 10:00,web\n"
        (inbox / os.fsdecode(name)).write_bytes((HEADER + row + "O-x,Late,notadate,web\n").encode())

    report = run_collect(workspace)
    assert report.errors == []
    ids = {item.external_id for item in stored_items(workspace, "complaints")}
    assert ids == {"L-1", "O-0", "O-1"}
    settings, store = open_workspace(workspace)
    with store.session() as session:
        files = {r.file for r in session.exec(select(QuarantinedRow))}
        origins = {i.external_id: i.origin for i in session.exec(select(FeedbackItem))}
    store.dispose()
    assert files == {"inbox/complaints/caf\\xe9 export.csv", "inbox/complaints/two\\nlines.csv"}
    assert origins["O-0"] == "inbox/complaints/caf\\xe9 export.csv:2"
    assert run_collect(workspace).sources["complaints"]["new"] == 0  # the cursor holds them: nothing read twice
