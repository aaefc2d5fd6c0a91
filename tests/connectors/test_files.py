"""FileSource read directly: CSV/TSV/JSONL/JSON exports written to a temporary inbox, fetched like sync does.

Every test checks what a user would see: the records produced (ids, texts, parsed fields, origins), the rows
rejected (file, line, reason) and, across fetches, that each row is delivered exactly once.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reviewbot.connectors.files
from reviewbot.connectors.files import FileSource, FileSourceOptions
from reviewbot.protocols import Kind, RawRecord, Reject

COLUMNS = {"id": "id", "text": "text", "created_at": "created_at"}
SURVEY_COLUMNS = {**COLUMNS, "nps": "nps", "csat": "csat"}
NULL_VALUES = ["", "None", "NULL", "null", "N/A", "n/a", "NA"]  # the defaults of FileSourceOptions


# --- helpers ---------------------------------------------------------------------------------------------


def make_source(workspace: Path, *, kind: Kind = "complaint", max_text_chars: int = 1000, **options: Any) -> FileSource:
    """A file source reading `workspace/inbox`; options override the defaults (columns id, text, created_at)."""
    settings_ = {"path": "inbox", "columns": COLUMNS, **options}
    return FileSource(
        "feedback", kind, FileSourceOptions(**settings_), workspace=workspace, max_text_chars=max_text_chars
    )


def drop(workspace: Path, name: str, content: str | bytes) -> Path:
    """Write an export into the inbox exactly as given (str is UTF-8, no newline translation)."""
    path = workspace / "inbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def append(path: Path, content: str) -> None:
    """Append to an export, as an exporter adding rows would."""
    with path.open("ab") as fh:
        fh.write(content.encode())


@dataclass
class Fetched:
    """Everything one fetch yielded, and the cursor the caller would save after the last batch."""

    records: list[RawRecord] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)
    batches: list[int] = field(default_factory=list)  # rows (records + rejects) per batch
    skipped: int = 0  # rows with no text, counted and not quarantined

    @property
    def ids(self) -> list[str]:
        return [r.external_id for r in self.records]

    @property
    def only_reject(self) -> Reject:
        assert len(self.rejects) == 1, self.rejects
        return self.rejects[0]


def fetch(source: FileSource, cursor: dict[str, Any] | None = None) -> Fetched:
    """Iterate `source.fetch(cursor)` to the end, keeping each batch's cursor as the caller does."""
    result = Fetched(cursor=dict(cursor or {}))
    for batch in source.fetch(result.cursor):
        result.records += batch.records
        result.rejects += batch.rejects
        result.batches.append(len(batch.records) + len(batch.rejects))
        result.skipped += batch.skipped
        result.cursor = batch.cursor
    return result


def by_id(fetched: Fetched) -> dict[str, RawRecord]:
    return {r.external_id: r for r in fetched.records}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- CSV: fields ----------------------------------------------------------------------------------------


def test_csv_header_names_map_to_record_fields_and_extra_columns_to_meta(tmp_path: Path) -> None:
    columns = {
        "id": "Ticket ID",
        "text": "Comment",
        "created_at": "Created",
        "customer": "Customer",
        "channel": "Channel",
        "author": "Agent",
    }
    drop(
        tmp_path,
        "export.csv",
        "Ticket ID,Comment,Created,Customer,Channel,Agent,Plan,Region,Ignored\n"
        "T-1,  Refund never arrived  ,2026-03-02 09:30,ACME Ltd,email,Sam,gold,EU,x\n",
    )
    fetched = fetch(make_source(tmp_path, columns=columns, extra_columns=["Plan", "Region"]))
    assert fetched.rejects == []
    (record,) = fetched.records
    assert record.external_id == "T-1"
    assert record.text == "Refund never arrived"
    assert record.created_at == utc(2026, 3, 2, 9, 30)
    assert (record.customer, record.channel, record.author) == ("ACME Ltd", "email", "Sam")
    assert record.kind == "complaint"
    assert record.origin == "inbox/export.csv:2"
    assert record.meta == {"Plan": "gold", "Region": "EU"}


def test_default_null_values_become_none(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.csv",
        "id,text,created_at,customer,channel,author,plan\n"
        "1,Late parcel,2026-01-05,None,N/A,NULL,null\n"
        "2,Rude agent,2026-01-05,,n/a,NA,gold\n",
    )
    columns = {**COLUMNS, "customer": "customer", "channel": "channel", "author": "author"}
    records = by_id(fetch(make_source(tmp_path, columns=columns, extra_columns=["plan"])))
    for record in records.values():
        assert (record.customer, record.channel, record.author) == (None, None, None)
    assert records["1"].meta == {}
    assert records["2"].meta == {"plan": "gold"}


def test_null_values_setting_replaces_the_defaults(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at,customer\n1,Late parcel,2026-01-05,-\n2,Lost,2026-01-05,None\n")
    source = make_source(tmp_path, columns={**COLUMNS, "customer": "customer"}, null_values=["", "-"])
    records = by_id(fetch(source))
    assert records["1"].customer is None
    assert records["2"].customer == "None"


def test_iso_timestamps_become_aware_utc(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.csv",
        "id,text,created_at\n"
        "z,a,2026-03-02T09:30:00Z\n"
        "offset,b,2026-03-02 10:30:00+01:00\n"
        "naive,c,2026-03-02 09:30\n"
        "date,d,2026-03-02\n"
        "unix,e,1772443800\n",
    )
    records = by_id(fetch(make_source(tmp_path)))
    assert {k: r.created_at for k, r in records.items()} == {
        "z": utc(2026, 3, 2, 9, 30),
        "offset": utc(2026, 3, 2, 9, 30),
        "naive": utc(2026, 3, 2, 9, 30),
        "date": utc(2026, 3, 2),
        "unix": utc(2026, 3, 2, 9, 30),
    }
    assert all(r.created_at.utcoffset() is not None for r in records.values())


def test_date_format_reads_non_iso_timestamps(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at\n1,Late,02/03/2026 09:30\n2,Lost,31/12/2025 23:59\n")
    records = by_id(fetch(make_source(tmp_path, date_format="%d/%m/%Y %H:%M")))
    assert records["1"].created_at == utc(2026, 3, 2, 9, 30)
    assert records["2"].created_at == utc(2025, 12, 31, 23, 59)


def test_timezone_applies_to_naive_timestamps_only(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.csv",
        "id,text,created_at\n"
        "winter,a,2026-01-15 09:00\n"
        "summer,b,2026-07-15 09:00\n"
        "explicit,c,2026-07-15T09:00:00+00:00\n",
    )
    records = by_id(fetch(make_source(tmp_path, timezone="America/New_York")))
    assert records["winter"].created_at == utc(2026, 1, 15, 14)  # EST, UTC-5
    assert records["summer"].created_at == utc(2026, 7, 15, 13)  # EDT, UTC-4
    assert records["explicit"].created_at == utc(2026, 7, 15, 9)
    assert all(r.created_at.tzinfo is UTC for r in records.values())


def test_timezone_applies_with_date_format(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at\n1,Late,15.07.2026 09:00\n")
    (record,) = fetch(make_source(tmp_path, date_format="%d.%m.%Y %H:%M", timezone="Europe/Berlin")).records
    assert record.created_at == utc(2026, 7, 15, 7)


def test_nps_and_csat_scores_are_parsed_as_integers(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.csv",
        "id,text,created_at,nps,csat\n1,Great,2026-01-01,9,4\n2,Meh,2026-01-01, 0 ,5.0\n3,No scores,2026-01-01,,N/A\n",
    )
    records = by_id(fetch(make_source(tmp_path, kind="survey", columns=SURVEY_COLUMNS)))
    assert {k: (r.nps, r.csat) for k, r in records.items()} == {"1": (9, 4), "2": (0, 5), "3": (None, None)}
    assert records["1"].kind == "survey"


def test_survey_row_with_a_score_and_empty_text_is_kept(tmp_path: Path) -> None:
    drop(tmp_path, "surveys.csv", "id,text,created_at,nps,csat\n1,,2026-01-01,3,\n2,  ,2026-01-01,,2\n")
    records = by_id(fetch(make_source(tmp_path, kind="survey", columns=SURVEY_COLUMNS)))
    assert (records["1"].text, records["1"].nps) == ("", 3)
    assert (records["2"].text, records["2"].csat) == ("", 2)


def test_complaint_rows_with_no_text_are_skipped_and_counted_not_quarantined(tmp_path: Path) -> None:
    # a real CFPB export leaves the narrative empty in most rows: they are not errors to fix
    export = "id,text,created_at\n1,Late parcel,2026-01-01\n2,   ,2026-01-01\n3,Lost,2026-01-01\n4,,2026-01-01\n"
    drop(tmp_path, "export.csv", export)
    fetched = fetch(make_source(tmp_path, kind="complaint"))
    assert fetched.ids == ["1", "3"]
    assert (fetched.rejects, fetched.skipped) == ([], 2)
    assert fetch(make_source(tmp_path), fetched.cursor).skipped == 0  # the cursor moved past them


# --- line numbers ---------------------------------------------------------------------------------------


def test_quoted_field_spanning_lines_keeps_physical_line_numbers(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.csv",
        "id,text,created_at\n"  # line 1
        '1,"The courier left it outside,\n'  # 2
        "in the rain.\n"  # 3
        'It was ""ruined"".",2026-01-01\n'  # 4
        "2,Fine otherwise,2026-01-02\n"  # 5
        "3,Late,yesterday\n",  # 6: bad
    )
    fetched = fetch(make_source(tmp_path))
    records = by_id(fetched)
    assert records["1"].text == 'The courier left it outside,\nin the rain.\nIt was "ruined".'
    assert records["1"].origin == "inbox/export.csv:2"
    assert records["2"].origin == "inbox/export.csv:5"
    assert (fetched.only_reject.file, fetched.only_reject.line) == ("inbox/export.csv", 6)


def test_stray_quote_inside_an_unquoted_field_does_not_swallow_later_rows(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.csv",
        "id,text,created_at\n"
        '1,My 5" screen cracked,2026-01-01\n'
        "2,Late parcel,2026-01-02\n"
        "3,Late,yesterday\n"
        "4,Lost parcel,2026-01-04\n",
    )
    fetched = fetch(make_source(tmp_path))
    assert by_id(fetched)["1"].text == 'My 5" screen cracked'
    assert fetched.ids == ["1", "2", "4"]
    assert fetched.only_reject.line == 4


def test_a_quote_that_never_closes_loses_only_its_own_row(tmp_path: Path) -> None:
    # an opening quote never closed ran to the end of the file: every later row was quarantined with it, as one
    rows = "".join(f"{i},Late parcel {i},2026-01-02\n" for i in range(2, 202))
    drop(tmp_path, "export.csv", 'id,text,created_at\n1,"Broken quote,2026-01-01\n' + rows)
    fetched = fetch(make_source(tmp_path))
    assert fetched.ids == [str(i) for i in range(2, 202)]
    reject = fetched.only_reject
    assert reject.line == 2 and "quote" in reject.reason and "never closes" in reject.reason


def test_a_quoted_field_too_long_to_be_one_loses_only_its_own_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a record is read whole before it is split: a stray quote early in a large export held all the rest in memory
    monkeypatch.setattr(reviewbot.connectors.files, "RECORD_SLACK_BYTES", 0)  # a record: at most 4,000 bytes
    rows = "".join(f"{i},Late parcel {i},2026-01-02,x\n" for i in range(2, 2002))
    last = '2002,My 5" screen,2026-01-02,x\n'  # its quote would have closed the stray one: all in one record
    drop(tmp_path, "export.csv", 'id,text,created_at,note\n1,"Broken quote,2026-01-01,x\n' + rows + last)
    fetched = fetch(make_capped_source(tmp_path, max_field_chars=1_000))
    assert fetched.ids == [str(i) for i in range(2, 2003)]
    assert fetched.rejects[0].line == 2 and "never closes" in fetched.rejects[0].reason


@pytest.mark.parametrize("name", ["export.csv", "export.jsonl"])
def test_a_line_far_over_the_limit_is_quarantined_without_being_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # a 50 MB line took a sync to about 1 GB of memory: a line longer than any row may be is read past, not held
    held: list[int] = []
    real = reviewbot.connectors.files._lines

    def watched(fh, limit):  # type: ignore[no-untyped-def]
        for data, length in real(fh, limit):
            held.append(len(data))
            yield data, length

    monkeypatch.setattr(reviewbot.connectors.files, "_lines", watched)
    monkeypatch.setattr(reviewbot.connectors.files, "RECORD_SLACK_BYTES", 0)  # a row: at most 4,000 bytes
    huge = "x" * 200_000
    if name.endswith(".csv"):
        content = f"id,text,created_at,note\n1,{huge},2026-01-01,x\n2,Lost parcel,2026-01-02,x\n"
    else:
        rows = [
            {"id": "1", "text": huge, "created_at": "2026-01-01"},
            {"id": "2", "text": "Lost", "created_at": "2026-01-02"},
        ]
        content = "".join(json.dumps(row) + "\n" for row in rows)
    drop(tmp_path, name, content)
    fetched = fetch(make_capped_source(tmp_path, max_field_chars=1_000))
    assert fetched.ids == ["2"]
    reject = fetched.rejects[0]
    assert reject.line == (2 if name.endswith(".csv") else 1) and "over" in reject.reason and "bytes" in reject.reason
    assert max(held) <= 4_001


def test_jsonl_records_and_rejects_carry_their_line_numbers(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.jsonl",
        '{"id": "1", "text": "Late", "created_at": "2026-01-01"}\n'  # line 1
        "\n"  # 2: blank lines are skipped but counted
        '{"id": "", "text": "No id", "created_at": "2026-01-01"}\n'  # 3: bad
        '{"id": 4, "text": "Lost", "created_at": "2026-01-01"}\n',  # 4: numeric ids are fine
    )
    fetched = fetch(make_source(tmp_path))
    assert [r.origin for r in fetched.records] == ["inbox/export.jsonl:1", "inbox/export.jsonl:4"]
    assert fetched.ids == ["1", "4"]
    assert fetched.only_reject.line == 3


def test_json_array_elements_carry_the_line_they_start_on(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.json",
        "[\n"  # line 1
        '  {"id": "1", "text": "Late", "created_at": "2026-01-01"},\n'  # 2
        '  {"id": "2",\n'  # 3: bad (no date), spans three lines
        '   "text": "Late",\n'
        '   "created_at": ""},\n'
        '  {"id": "3", "text": "Lost", "created_at": "2026-01-03"}\n'  # 6
        "]\n",
    )
    fetched = fetch(make_source(tmp_path))
    assert [r.origin for r in fetched.records] == ["inbox/export.json:2 (record 1)", "inbox/export.json:6 (record 3)"]
    assert (fetched.only_reject.line, fetched.only_reject.reason) == (3, "record 2: created_at (created_at) is empty")


def test_json_records_key_reads_the_nested_array(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.json",
        "{\n"  # line 1
        '  "exported_at": "2026-01-31",\n'  # 2
        '  "tickets": [\n'  # 3
        '    {"id": "1", "text": "Late", "created_at": "2026-01-01", "user": {"name": "Ann"}},\n'  # 4
        '    {"id": "2", "text": "Lost", "created_at": "someday"}\n'  # 5: bad
        "  ]\n"
        "}\n",
    )
    source = make_source(tmp_path, records_key="tickets", columns={**COLUMNS, "customer": "user.name"})
    fetched = fetch(source)
    (record,) = fetched.records
    assert (record.external_id, record.customer, record.origin) == ("1", "Ann", "inbox/export.json:4 (record 1)")
    assert fetched.only_reject.line == 5


def test_json_records_key_is_found_when_its_name_also_appears_as_a_value(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.json",
        "{\n"
        '  "type": "tickets",\n'
        '  "filters": ["open", "closed"],\n'
        '  "tickets": [\n'
        '    {"id": "1", "text": "Late", "created_at": "2026-01-01"},\n'  # line 5
        '    {"id": "2", "text": "Lost", "created_at": "someday"}\n'  # 6: bad
        "  ]\n"
        "}\n",
    )
    fetched = fetch(make_source(tmp_path, records_key="tickets"))
    assert [r.origin for r in fetched.records] == ["inbox/export.json:5 (record 1)"]
    assert fetched.only_reject.line == 6


# --- bad rows: rejected with a reason, the rest of the file still read ------------------------------------

BAD_CSV_ROWS = {
    "missing id": (",Late,2026-01-03,,", ["id (id)", "empty"]),
    "unparseable date": ("3,Late,yesterday,,", ["created_at (created_at)", "'yesterday'", "not a date"]),
    "nps out of range": ("3,Late,2026-01-03,11,", ["nps (nps)", "11", "out of range 0-10"]),
    "csat out of range": ("3,Late,2026-01-03,,0", ["csat (csat)", "0", "out of range 1-5"]),
    "non-numeric score": ("3,Late,2026-01-03,nine,", ["nps (nps)", "'nine'", "not a number"]),
    "fractional score": ("3,Late,2026-01-03,,4.5", ["csat (csat)", "'4.5'", "not a whole number"]),
    "huge number as date": ("3,Late,99999999999999999999,,", ["created_at (created_at)", "not a date"]),
    "text over the limit": (f"3,{'x' * 61},2026-01-03,,", ["text is 61 characters", "limit of 60"]),
    "too few fields": ("3,Late,2026-01-03", ["ragged row", "expected 5 fields, found 3"]),
    "too many fields": ("3,Late,2026-01-03,,,extra", ["ragged row", "expected 5 fields, found 6"]),
    # past the end of the calendar once converted to UTC (OverflowError in datetime)
    "last date of the calendar west of UTC": (
        "3,Late,9999-12-31T23:59:59-05:00,,",
        ["created_at (created_at)", "'9999-12-31T23:59:59-05:00'", "outside the range of dates"],
    ),
    "first date of the calendar east of UTC": (
        "3,Late,0001-01-01T00:00+05:00,,",
        ["created_at (created_at)", "'0001-01-01T00:00+05:00'", "outside the range of dates"],
    ),
    "far future date": (
        "3,Late,9999-12-31,,",
        ["created_at (created_at) 9999-12-31 00:00 UTC is", "days in the future", "intake.future_tolerance (2 days)"],
    ),
    "placeholder date": ("3,Late,0001-01-01,,", ["created_at (created_at) 0001-01-01 is before intake.earliest_date"]),
    "NUL byte": ("3,Late\x00parcel,2026-01-03,,", ["text (text) holds a NUL byte", "at character 5"]),
    "NUL byte in a score": ("3,Late,2026-01-03,\x009,", ["nps (nps) holds a NUL byte"]),
}


@pytest.mark.parametrize(("row", "fragments"), BAD_CSV_ROWS.values(), ids=BAD_CSV_ROWS.keys())
def test_bad_csv_row_is_rejected_with_a_reason_and_good_rows_are_kept(
    tmp_path: Path, row: str, fragments: list[str]
) -> None:
    drop(
        tmp_path,
        "export.csv",
        f"id,text,created_at,nps,csat\n1,Late parcel,2026-01-01,7,\n{row}\n2,Lost parcel,2026-01-02,,3\n",
    )
    fetched = fetch(make_source(tmp_path, kind="survey", columns=SURVEY_COLUMNS, max_text_chars=60))
    assert fetched.ids == ["1", "2"]
    reject = fetched.only_reject
    assert (reject.file, reject.line, reject.raw) == ("inbox/export.csv", 3, row)
    for fragment in fragments:
        assert fragment in reject.reason


BAD_JSONL_LINES = {
    "invalid JSON": ('{"id": "3", "text": }', ["invalid JSON"]),
    "array instead of object": ('["3", "Late", "2026-01-03"]', ["expected a JSON object, found list"]),
    "missing id": ('{"text": "Late", "created_at": "2026-01-03"}', ["id (id)", "empty"]),
    "nps out of range": ('{"id": "3", "text": "Late", "created_at": "2026-01-03", "nps": 11}', ["nps (nps) 11"]),
    "huge number as score": (
        '{"id": "3", "text": "Late", "created_at": "2026-01-03", "csat": ' + "9" * 400 + "}",
        ["csat (csat)"],
    ),
    "object as text": ('{"id": "3", "text": {"body": "Late"}, "created_at": "2026-01-03"}', ["text (text)", "object"]),
    # Python's parser recurses per level: one such line must not stop the whole source at every sync
    "nested 100,000 levels deep": ('{"id": "3", "text": ' + "[" * 100_000 + "]" * 100_000 + "}", ["nested"]),
}


@pytest.mark.parametrize(("line", "fragments"), BAD_JSONL_LINES.values(), ids=BAD_JSONL_LINES.keys())
def test_bad_jsonl_line_is_rejected_with_a_reason_and_good_lines_are_kept(
    tmp_path: Path, line: str, fragments: list[str]
) -> None:
    good = '{{"id": "{}", "text": "Late parcel", "created_at": "2026-01-01"}}'
    drop(tmp_path, "export.jsonl", "\n".join([good.format(1), line, good.format(2)]) + "\n")
    fetched = fetch(make_source(tmp_path, kind="survey", columns=SURVEY_COLUMNS))
    assert fetched.ids == ["1", "2"]
    reject = fetched.only_reject
    assert (reject.file, reject.line) == ("inbox/export.jsonl", 2)
    for fragment in fragments:
        assert fragment in reject.reason


def test_a_jsonl_line_holding_an_array_of_records_is_quarantined_not_skipped(tmp_path: Path) -> None:
    wrapped = {"records": [{"id": str(i), "text": "Late parcel", "created_at": "2026-01-01"} for i in (1, 2)]}
    good = '{"id": "3", "text": "Refund late", "created_at": "2026-01-02"}'
    drop(tmp_path, "export.jsonl", json.dumps(wrapped) + "\n" + good + "\n")
    fetched = fetch(make_source(tmp_path))
    assert fetched.ids == ["3"] and fetched.skipped == 0
    reject = fetched.only_reject
    assert (reject.file, reject.line) == ("inbox/export.jsonl", 1)
    assert reject.reason == (
        "this line is one object holding 2 records under 'records', not a record: a JSON Lines file has one "
        "record per line (records_key applies to .json files: save the export as .json and set "
        'records_key = "records", or write one record per line)'
    )


def test_undecodable_bytes_reject_the_row_and_name_the_encoding(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.csv",
        b"id,text,created_at\n1,Late,2026-01-01\n2,Caf\xe9 was shut,2026-01-02\n3,Lost,2026-01-03\n",
    )
    fetched = fetch(make_source(tmp_path))
    assert fetched.ids == ["1", "3"]
    reject = fetched.only_reject
    assert reject.line == 3
    assert "not valid utf-8" in reject.reason and "set encoding" in reject.reason


def test_encoding_setting_reads_cp1252_exports(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", b"id,text,created_at\n2,Caf\xe9 was shut \x96 again,2026-01-02\n")
    fetched = fetch(make_source(tmp_path, encoding="cp1252"))
    assert fetched.rejects == []
    assert fetched.records[0].text == "Café was shut – again"


# --- whole-file problems: one reject on line 0, never an exception -----------------------------------------


def test_binary_file_is_refused_as_a_whole(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", b"PK\x03\x04\x00\x00binary junk\n" * 10)
    reject = fetch(make_source(tmp_path)).only_reject
    assert (reject.file, reject.line, reject.whole_file) == ("inbox/export.csv", 0, True)
    assert reject.reason.startswith("binary file (a ZIP archive: an Excel .xlsx workbook?), not CSV or JSON")


def test_unsupported_extension_is_refused_as_a_whole(tmp_path: Path) -> None:
    drop(tmp_path, "export.xlsx", "id,text,created_at\n1,Late,2026-01-01\n")
    fetched = fetch(make_source(tmp_path))
    assert fetched.records == []
    assert fetched.only_reject.line == 0
    assert "unsupported file type '.xlsx'" in fetched.only_reject.reason


def test_header_without_a_mapped_column_names_it_and_suggests_the_closest(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,Comments,created_at\n1,Late,2026-01-01\n")
    fetched = fetch(make_source(tmp_path, columns={**COLUMNS, "text": "Comment"}))
    assert fetched.records == []
    reject = fetched.only_reject
    assert reject.line == 0
    assert "'Comment'" in reject.reason and "columns.text" in reject.reason
    assert "did you mean 'Comments'?" in reject.reason


def test_a_mapped_column_twice_in_the_header_refuses_the_file(tmp_path: Path) -> None:
    # a survey tool's export with two "Comment" columns: the last was read as the text, silently
    drop(tmp_path, "export.csv", "id,Comment,Comment,created_at\n1,Late parcel,n/a,2026-01-01\n")
    fetched = fetch(make_source(tmp_path, columns={**COLUMNS, "text": "Comment"}))
    assert fetched.records == []
    reject = fetched.only_reject
    assert reject.line == 0 and "'Comment' (columns.text in reviewbot.toml)" in reject.reason
    assert "is in the header 2 times (columns 2, 3)" in reject.reason


def test_header_without_an_extra_column_names_it(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at,Plan,Regions\n1,Late,2026-01-01,gold,EU\n")
    reject = fetch(make_source(tmp_path, extra_columns=["Plan", "Region"])).only_reject
    assert reject.line == 0
    assert "'Region'" in reject.reason and "extra_columns" in reject.reason and "'Regions'" in reject.reason


def test_first_of_several_extra_columns_missing_is_reported(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at,Region\n1,Late,2026-01-01,EU\n")
    reject = fetch(make_source(tmp_path, extra_columns=["Plan", "Region"])).only_reject
    assert reject.line == 0
    assert "'Plan'" in reject.reason and "extra_columns" in reject.reason


def test_single_column_header_hints_at_the_delimiter(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id;text;created_at\n1;Late;2026-01-01\n")
    reason = fetch(make_source(tmp_path)).only_reject.reason
    assert "is the delimiter ',' right?" in reason


def test_semicolon_delimiter_setting(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id;text;created_at\n1;Late, again;2026-01-01\n")
    fetched = fetch(make_source(tmp_path, delimiter=";"))
    assert [(r.external_id, r.text) for r in fetched.records] == [("1", "Late, again")]


def test_empty_csv_is_refused_as_a_whole(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "")
    reject = fetch(make_source(tmp_path)).only_reject
    assert (reject.line, reject.reason) == (0, "the file is empty")


def test_header_only_csv_yields_nothing(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at\n")
    fetched = fetch(make_source(tmp_path))
    assert (fetched.records, fetched.rejects) == ([], [])


def test_invalid_json_array_file_is_refused_with_the_position(tmp_path: Path) -> None:
    drop(tmp_path, "export.json", '[\n  {"id": "1", "text": "Late", "created_at": "2026-01-01"},\n  {"id": "2",\n]\n')
    fetched = fetch(make_source(tmp_path))
    assert fetched.records == []
    reject = fetched.only_reject
    assert reject.line == 0
    assert reject.reason.startswith("invalid JSON at line 4, column 1")


def test_a_link_to_a_file_outside_the_folder_is_not_read(tmp_path: Path) -> None:
    # whoever may drop files in the inbox must not make the bot read a file they cannot read themselves (its rows
    # would show in quarantine and tickets); a link inside the folder is read
    secret = tmp_path / "elsewhere" / "secrets.csv"
    secret.parent.mkdir()
    secret.write_text("id,text,created_at\n1,db password hunter2,2026-01-01\n", encoding="utf-8")
    kept = drop(tmp_path, "kept.csv", "id,text,created_at\n2,Late parcel,2026-01-02\n")
    (tmp_path / "inbox" / "secrets.csv").symlink_to(secret)
    (tmp_path / "inbox" / "again.csv").symlink_to(kept)
    fetched = fetch(make_source(tmp_path))
    assert fetched.ids == ["2", "2"]  # again.csv is read (the store keeps one item per id)
    reject = fetched.only_reject
    assert reject.file == "inbox/secrets.csv" and "outside" in reject.reason and "hunter2" not in reject.raw
    assert "elsewhere" not in reject.reason  # where it points is not told


def test_json_array_file_nested_too_deeply_is_refused(tmp_path: Path) -> None:
    drop(tmp_path, "export.json", "[" * 100_000 + "]" * 100_000)
    fetched = fetch(make_source(tmp_path))
    assert fetched.records == [] and "nested" in fetched.only_reject.reason


def test_json_object_without_records_key_is_refused_with_a_hint(tmp_path: Path) -> None:
    drop(tmp_path, "export.json", '{"tickets": [{"id": "1", "text": "Late", "created_at": "2026-01-01"}]}')
    reject = fetch(make_source(tmp_path, format="json")).only_reject
    assert reject.line == 0
    assert "expected a JSON array" in reject.reason and "set records_key" in reject.reason


def test_whole_file_problem_does_not_stop_other_files(tmp_path: Path) -> None:
    drop(tmp_path, "a.xlsx", b"PK\x03\x04")
    drop(tmp_path, "b.csv", "id,text,created_at\n1,Late,2026-01-01\n")
    fetched = fetch(make_source(tmp_path))
    assert fetched.ids == ["1"]
    assert fetched.only_reject.file == "inbox/a.xlsx"


def test_hidden_and_temporary_files_are_skipped(tmp_path: Path) -> None:
    for name in (".export.csv", "~export.csv", "export.csv.tmp"):
        drop(tmp_path, name, "id,text,created_at\n1,Late,2026-01-01\n")
    fetched = fetch(make_source(tmp_path))
    assert (fetched.records, fetched.rejects) == ([], [])


# --- incremental reading --------------------------------------------------------------------------------

SMALL_EXPORTS = {
    "csv": ("export.csv", "id,text,created_at\n1,Late,2026-01-01\n2,Lost,2026-01-02\n"),
    "jsonl": (
        "export.jsonl",
        '{"id": "1", "text": "Late", "created_at": "2026-01-01"}\n'
        '{"id": "2", "text": "Lost", "created_at": "2026-01-02"}\n',
    ),
    "json": (
        "export.json",
        '[{"id": "1", "text": "Late", "created_at": "2026-01-01"},\n'
        ' {"id": "2", "text": "Lost", "created_at": "2026-01-02"}]\n',
    ),
}


@pytest.mark.parametrize(("name", "content"), SMALL_EXPORTS.values(), ids=SMALL_EXPORTS.keys())
def test_second_fetch_from_the_saved_cursor_yields_nothing(tmp_path: Path, name: str, content: str) -> None:
    drop(tmp_path, name, content)
    source = make_source(tmp_path)
    first = fetch(source)
    assert first.ids == ["1", "2"]
    again = fetch(source, first.cursor)
    assert (again.records, again.rejects) == ([], [])


@pytest.mark.parametrize("trailing_newline", [True, False], ids=["ends-with-newline", "no-final-newline"])
def test_rows_appended_to_a_csv_are_read_once(tmp_path: Path, trailing_newline: bool) -> None:
    end = "\n" if trailing_newline else ""
    path = drop(tmp_path, "export.csv", f"id,text,created_at\n1,Late,2026-01-01\n2,Lost,2026-01-02{end}")
    source = make_source(tmp_path)
    first = fetch(source)
    assert first.ids == ["1", "2"]

    append(path, ("" if trailing_newline else "\n") + f"3,Broken,2026-01-03\n4,Lost,someday{end}")
    second = fetch(source, first.cursor)
    assert second.ids == ["3"]
    assert second.records[0].origin == "inbox/export.csv:4"
    assert second.only_reject.line == 5

    third = fetch(source, second.cursor)
    assert (third.records, third.rejects) == ([], [])


@pytest.mark.parametrize("trailing_newline", [True, False], ids=["ends-with-newline", "no-final-newline"])
def test_lines_appended_to_a_jsonl_are_read_once(tmp_path: Path, trailing_newline: bool) -> None:
    end = "\n" if trailing_newline else ""
    line = '{{"id": "{}", "text": "{}", "created_at": "2026-01-01"}}'
    path = drop(tmp_path, "export.jsonl", line.format(1, "Late") + "\n" + line.format(2, "Lost") + end)
    source = make_source(tmp_path)
    first = fetch(source)
    assert first.ids == ["1", "2"]

    append(
        path, ("" if trailing_newline else "\n") + line.format(3, "Broken") + "\n" + line.format(4, "Bad\\u0000") + end
    )
    second = fetch(source, first.cursor)
    assert [(r.external_id, r.origin) for r in second.records] == [("3", "inbox/export.jsonl:3")]
    assert second.only_reject.line == 4
    assert fetch(source, second.cursor).records == []


@pytest.mark.parametrize("new_rows", [1, 3], ids=["shorter", "longer"])
def test_file_replaced_by_a_new_export_is_read_from_the_start(tmp_path: Path, new_rows: int) -> None:
    path = drop(tmp_path, "export.csv", "id,text,created_at\n1,Late,2026-01-01\n2,Lost,2026-01-02\n")
    source = make_source(tmp_path)
    first = fetch(source)

    rows = "".join(f"N{i},New export row {i},2026-02-0{i + 1}\n" for i in range(new_rows))
    path.write_text("id,text,created_at\n" + rows)
    second = fetch(source, first.cursor)
    assert second.ids == [f"N{i}" for i in range(new_rows)]
    assert second.records[0].origin == "inbox/export.csv:2"
    assert fetch(source, second.cursor).records == []


def test_file_replaced_by_one_of_the_same_size_is_read_again(tmp_path: Path) -> None:
    path = drop(tmp_path, "export.csv", "id,text,created_at\n1,Late,2026-01-01\n")
    source = make_source(tmp_path)
    first = fetch(source)
    path.write_text("id,text,created_at\n9,Lost,2026-01-09\n")
    assert fetch(source, first.cursor).ids == ["9"]


def test_file_dropped_later_is_read_and_earlier_files_are_not_repeated(tmp_path: Path) -> None:
    drop(tmp_path, "export-1.csv", "id,text,created_at\n1,Late,2026-01-01\n")
    source = make_source(tmp_path)
    first = fetch(source)
    drop(tmp_path, "export-2.csv", "id,text,created_at\n2,Lost,2026-01-02\n")
    second = fetch(source, first.cursor)
    assert [(r.external_id, r.origin) for r in second.records] == [("2", "inbox/export-2.csv:2")]
    assert fetch(source, second.cursor).records == []


def test_utf8_bom_does_not_break_the_first_header_name(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "\ufeffid,text,created_at\n1,Café closed,2026-01-01\n")
    fetched = fetch(make_source(tmp_path))
    assert fetched.rejects == []
    assert [(r.external_id, r.text) for r in fetched.records] == [("1", "Café closed")]


def test_utf8_bom_in_jsonl_and_json(tmp_path: Path) -> None:
    drop(tmp_path, "a.jsonl", '\ufeff{"id": "1", "text": "Late", "created_at": "2026-01-01"}\n')
    drop(tmp_path, "b.json", '\ufeff[{"id": "2", "text": "Lost", "created_at": "2026-01-01"}]')
    fetched = fetch(make_source(tmp_path))
    assert fetched.rejects == []
    assert fetched.ids == ["1", "2"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = drop(
        tmp_path,
        "export.csv",
        'id,text,created_at\r\n1,"Two\r\nlines",2026-01-01\r\n2,Lost,2026-01-02\r\n3,Late,someday\r\n',
    )
    source = make_source(tmp_path)
    first = fetch(source)
    records = by_id(first)
    assert records["1"].text == "Two\r\nlines"
    assert records["2"].text == "Lost" and records["2"].created_at == utc(2026, 1, 2)
    assert records["2"].origin == "inbox/export.csv:4"
    assert first.only_reject.line == 5

    append(path, "4,Broken,2026-01-04\r\n")
    assert [(r.external_id, r.origin) for r in fetch(source, first.cursor).records] == [("4", "inbox/export.csv:6")]


@pytest.mark.parametrize(("name", "options"), [("export.tsv", {}), ("export.txt", {"format": "tsv"})])
def test_tab_separated_exports(tmp_path: Path, name: str, options: dict[str, Any]) -> None:
    drop(tmp_path, name, "id\ttext\tcreated_at\n1\tLate, again\t2026-01-01\n2\tLost\t2026-01-02\n")
    fetched = fetch(make_source(tmp_path, **options))
    assert fetched.rejects == []
    assert [(r.external_id, r.text) for r in fetched.records] == [("1", "Late, again"), ("2", "Lost")]


def test_single_file_path(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at\n1,Late,2026-01-01\n")
    drop(tmp_path, "other.csv", "id,text,created_at\n2,Lost,2026-01-01\n")
    assert fetch(make_source(tmp_path, path="inbox/export.csv")).ids == ["1"]


def test_pattern_selects_files(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at\n1,Late,2026-01-01\n")
    drop(tmp_path, "notes.csv", "id,text,created_at\n2,Lost,2026-01-01\n")
    assert fetch(make_source(tmp_path, pattern="export*.csv")).ids == ["1"]


def test_missing_inbox_yields_nothing(tmp_path: Path) -> None:
    fetched = fetch(make_source(tmp_path))
    assert (fetched.records, fetched.rejects) == ([], [])


# --- batching -------------------------------------------------------------------------------------------


def csv_export(ids: range) -> str:
    return "id,text,created_at\n" + "".join(f'{i},"Row {i}\nwith a second line",2026-01-01\n' for i in ids)


def jsonl_export(ids: range) -> str:
    return "".join(json.dumps({"id": str(i), "text": f"Row {i}", "created_at": "2026-01-01"}) + "\n" for i in ids)


def json_export(ids: range) -> str:
    return json.dumps([{"id": str(i), "text": f"Row {i} – ünïcode", "created_at": "2026-01-01"} for i in ids], indent=2)


LARGE_EXPORTS = {
    "csv": ("export.csv", csv_export),
    "jsonl": ("export.jsonl", jsonl_export),
    "json": ("export.json", json_export),
}


@pytest.mark.parametrize(("name", "export"), LARGE_EXPORTS.values(), ids=LARGE_EXPORTS.keys())
def test_large_file_is_read_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, export: Any) -> None:
    monkeypatch.setattr(reviewbot.connectors.files, "BATCH_SIZE", 3)
    drop(tmp_path, name, export(range(10)))
    fetched = fetch(make_source(tmp_path))
    assert fetched.batches == [3, 3, 3, 1]
    assert fetched.ids == [str(i) for i in range(10)]


@pytest.mark.parametrize(("name", "export"), LARGE_EXPORTS.values(), ids=LARGE_EXPORTS.keys())
def test_fetch_resumes_after_an_interrupted_run_without_gaps_or_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, export: Any
) -> None:
    monkeypatch.setattr(reviewbot.connectors.files, "BATCH_SIZE", 3)
    drop(tmp_path, name, export(range(10)))
    source = make_source(tmp_path)
    first_batch = next(source.fetch({}))  # the run stopped after storing batch 1 and its cursor
    resumed = fetch(source, first_batch.cursor)
    ids = [r.external_id for r in first_batch.records] + resumed.ids
    assert ids == [str(i) for i in range(10)]
    assert fetch(source, resumed.cursor).records == []


# --- property: whatever Python's csv module writes, the source reads back -----------------------------------

text_chars = st.one_of(
    st.sampled_from([",", '"', "\n", "\r", "\r\n", "\t", " ", ";", "''"]),
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
)
feedback_texts = (
    st.lists(text_chars, min_size=1, max_size=30).map("".join).filter(lambda t: t.strip() not in NULL_VALUES)
)
ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
external_ids = st.text(ID_CHARS, min_size=1, max_size=12).filter(lambda i: i not in NULL_VALUES)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(external_ids, feedback_texts), min_size=1, max_size=20, unique_by=lambda r: r[0]),
    lineterminator=st.sampled_from(["\r\n", "\n"]),
)
def test_csv_written_by_the_csv_module_reads_back_exactly(rows: list[tuple[str, str]], lineterminator: str) -> None:
    if lineterminator == "\n":
        # Python 3.11's writer quotes a field only for the characters of its own lineterminator, so a bare
        # "\r" would be written unquoted: a broken file that the csv module cannot read back either.
        rows = [(i, text.replace("\r", "")) for i, text in rows if text.replace("\r", "").strip() not in NULL_VALUES]
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        path = workspace / "inbox" / "export.csv"
        path.parent.mkdir()
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator=lineterminator)
            writer.writerow(["id", "text", "created_at"])
            writer.writerows((i, text, "2026-01-01") for i, text in rows)
        fetched = fetch(make_source(workspace))
    assert fetched.rejects == []
    assert [(r.external_id, r.text) for r in fetched.records] == [(i, text.strip()) for i, text in rows]


def test_longer_export_that_starts_like_the_old_one_is_read_again(tmp_path: Path) -> None:
    # A cumulative export (oldest rows first) replaces the old file and only its later rows differ: the saved
    # offset may fall mid-row, so the file is read from the start (known ids are recognised downstream).
    early = "".join(f"E{i},An early complaint number {i} about something,2026-01-01\n" for i in range(200))
    path = drop(tmp_path, "export.csv", "id,text,created_at\n" + early + "1,First version,2026-01-02\n")
    source = make_source(tmp_path)
    first = fetch(source)
    assert path.stat().st_size > 4096 and len(first.records) == 201
    path.write_text("id,text,created_at\n" + early + "1,First version edited later,2026-01-02\n2,New,2026-01-03\n")
    second = fetch(source, first.cursor)
    assert len(second.records) == 202 and second.ids[-2:] == ["1", "2"]


def test_pretty_printed_object_without_records_key_names_the_key_to_set(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.json",
        '{\n  "count": 1,\n  "tickets": [\n    {"id": 1, "text": "x", "created_at": "2026-09-01"}\n  ]\n}\n',
    )
    reject = fetch(make_source(tmp_path)).only_reject
    assert reject.line == 0 and "set records_key to one of: tickets" in reject.reason


# --- rows that must not stop a file (issue 19) ----------------------------------------------------------


def make_capped_source(workspace: Path, **intake: Any) -> FileSource:
    """A file source with intake settings other than the defaults."""
    from reviewbot.settings import IntakeSettings

    options = FileSourceOptions(path="inbox", columns=COLUMNS, extra_columns=["note"])
    return FileSource(
        "feedback", "complaint", options, workspace=workspace, max_text_chars=10**6, intake=IntakeSettings(**intake)
    )


def test_a_field_over_the_csv_modules_own_limit_is_read(tmp_path: Path) -> None:
    long_note = "n" * 200_000  # the csv module refuses fields over 131,072 characters by default
    drop(tmp_path, "export.csv", f"id,text,created_at,note\n1,Late,2026-01-01,{long_note}\n2,Lost,2026-01-02,ok\n")
    fetched = fetch(make_capped_source(tmp_path))
    assert (fetched.ids, fetched.rejects) == (["1", "2"], [])
    assert len(fetched.records[0].meta["note"]) == 200_000


def test_a_field_over_the_configured_cap_is_quarantined_naming_its_column(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", f"id,text,created_at,note\n1,Late,2026-01-01,ok\n2,Lost,2026-01-02,{'n' * 5_000}\n")
    drop(tmp_path, "b.csv", "id,text,created_at,note\n3,Broken,2026-01-03,ok\n")
    fetched = fetch(make_capped_source(tmp_path, max_field_chars=4_000))
    assert fetched.ids == ["1", "3"]  # the rest of the file and the next file are read
    reject = fetched.only_reject
    assert (reject.file, reject.line) == ("inbox/a.csv", 3)
    assert reject.reason.startswith(
        "column 'note' is 5,000 characters, over the limit of 4,000 (intake.max_field_chars)"
    )
    assert fetch(make_capped_source(tmp_path, max_field_chars=4_000), fetched.cursor).rejects == []


def test_a_field_over_the_cap_in_jsonl_is_quarantined(tmp_path: Path) -> None:
    drop(tmp_path, "a.jsonl", json.dumps({"id": "1", "text": "Late", "created_at": "2026-01-01", "note": "n" * 5_000}))
    reason = fetch(make_capped_source(tmp_path, max_field_chars=4_000)).only_reject.reason
    assert reason.startswith("extra column 'note' is 5,000 characters")


def test_a_nul_byte_near_the_top_quarantines_its_row_not_the_file(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at\n1,Late,2026-01-01\n2,Lo\x00st,2026-01-02\n3,Broken,2026-01-03\n")
    fetched = fetch(make_source(tmp_path))
    assert fetched.ids == ["1", "3"]
    assert fetched.only_reject.line == 3
    assert "NUL byte" in fetched.only_reject.reason


def test_a_file_of_mostly_control_bytes_is_still_refused_as_binary(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "id,text,created_at\n1,Late,2026-01-01\n".encode("utf-16-le"))
    reject = fetch(make_source(tmp_path)).only_reject
    assert reject.whole_file
    assert reject.reason.startswith("binary file, not CSV or JSON")
    assert "UTF-16" in reject.reason


def test_dates_ahead_of_the_future_tolerance_are_quarantined(tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="minutes")
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat(timespec="minutes")
    drop(tmp_path, "export.csv", f"id,text,created_at,note\n1,Late,{soon},\n2,Lost,{later},\n")
    fetched = fetch(make_capped_source(tmp_path))  # default tolerance: 2 days
    assert fetched.ids == ["1"]
    assert "in the future, beyond intake.future_tolerance (2 days)" in fetched.only_reject.reason
    strict = fetch(make_capped_source(tmp_path, future_tolerance="1 hour"))
    assert strict.ids == [] and "(1 hour)" in strict.rejects[0].reason
    assert fetch(make_capped_source(tmp_path, future_tolerance="1 week")).ids == ["1", "2"]


def test_rows_without_an_id_column_get_a_stable_id_from_their_content(tmp_path: Path) -> None:
    export = "text,created_at\nLate parcel,2026-01-01\nLost parcel,2026-01-02\nLate parcel,2026-01-01\n"
    drop(tmp_path, "export.csv", export)
    source = make_source(tmp_path, columns={"text": "text", "created_at": "created_at"})
    first = fetch(source)
    assert len(first.ids) == 3 and len(set(first.ids)) == 2  # an exact repeat is the same item
    assert all(i.startswith("sha256:") for i in first.ids)
    # a new export under the same name, in another order: read again from the start, the same rows get the same ids
    drop(tmp_path, "export.csv", "text,created_at\nBroken lamp,2026-01-03\n" + export.split("\n", 1)[1])
    again = fetch(source, first.cursor)
    assert again.ids[1:] == first.ids and again.ids[0] not in first.ids


def test_rows_without_a_date_column_take_the_files_modification_time(tmp_path: Path) -> None:
    import os

    path = drop(tmp_path, "export.csv", "id,text\n1,Late parcel\n")
    os.utime(path, (1_780_000_000, 1_780_000_000))
    (record,) = fetch(make_source(tmp_path, columns={"id": "id", "text": "text"})).records
    assert record.created_at == datetime.fromtimestamp(1_780_000_000, tz=UTC)


# --- nothing silently lost or overwritten -----------------------------------------------------------------------


def survey_source(workspace: Path, **options: Any) -> FileSource:
    return make_source(workspace, kind="survey", columns=SURVEY_COLUMNS, **options)


def test_a_one_line_json_object_holding_the_records_is_refused_naming_the_key(tmp_path: Path) -> None:
    # it was read as one JSON Lines row without text and skipped: two answers lost without a word
    answers = [{"id": str(i), "text": "Slow refund", "created_at": "2026-11-01", "nps": 3} for i in (1, 2)]
    drop(tmp_path, "export.json", json.dumps({"exported": "2026-11-02", "records": answers}) + "\n")
    fetched = fetch(survey_source(tmp_path))
    assert (fetched.records, fetched.skipped) == ([], 0)
    reject = fetched.only_reject
    assert reject.line == 0 and "set records_key to one of: records" in reject.reason
    assert fetch(survey_source(tmp_path, records_key="records")).ids == ["1", "2"]


def test_json_lines_saved_as_json_are_still_read_as_lines(tmp_path: Path) -> None:
    # one record holding an array of objects is a record when it has the text field
    record = {"id": "1", "text": "Late", "created_at": "2026-01-01", "comments": [{"by": "agent"}]}
    drop(tmp_path, "one.json", json.dumps(record) + "\n")
    drop(tmp_path, "two.json", json.dumps(record) + "\n" + json.dumps({**record, "id": "2"}) + "\n")
    fetched = fetch(make_source(tmp_path))
    assert (fetched.ids, fetched.rejects) == (["1", "1", "2"], [])


def test_an_id_repeated_in_one_file_is_quarantined_and_the_first_row_kept(tmp_path: Path) -> None:
    drop(
        tmp_path,
        "export.csv",
        "id,text,created_at\nA-1,First note,2026-01-01\nA-2,Second,2026-01-01\nA-1,Later note,2026-01-02\n"
        "A-1 ,Padded id,2026-01-03\n",  # ids are compared without their spaces: A-1 again
    )
    fetched = fetch(make_source(tmp_path))
    assert [(r.external_id, r.text) for r in fetched.records] == [("A-1", "First note"), ("A-2", "Second")]
    assert [(r.line, r.reason) for r in fetched.rejects] == [
        (4, "id (id) 'A-1' is already on line 2; the first is kept"),
        (5, "id (id) 'A-1' is already on line 2; the first is kept"),
    ]
    assert fetched.rejects[0].raw == "A-1,Later note,2026-01-02"


def test_rows_of_a_one_line_json_array_are_told_apart_by_their_record_number(tmp_path: Path) -> None:
    answers = [
        {"id": "1", "text": "Fine", "created_at": "2026-01-01", "nps": 9},
        {"id": "2", "text": "Meh", "created_at": "2026-01-01", "nps": True},  # Python would read true as 1
        {"id": "1", "text": "Again", "created_at": "2026-01-01", "nps": 8},
        {"id": "4", "text": "Bad", "created_at": "2026-01-01", "csat": False},
    ]
    drop(tmp_path, "export.json", json.dumps(answers))
    fetched = fetch(survey_source(tmp_path))
    assert [(r.external_id, r.nps, r.origin) for r in fetched.records] == [("1", 9, "inbox/export.json:1 (record 1)")]
    assert [(r.line, r.reason) for r in fetched.rejects] == [
        (1, "record 2: nps (nps) is true, not a number"),
        (1, "record 3: id (id) '1' is already in record 1; the first is kept"),
        (1, "record 4: csat (csat) is false, not a number"),
    ]


@pytest.mark.parametrize(
    ("name", "row"),
    [
        ("export.csv", "{},Row {},2026-01-01\n"),
        ("export.jsonl", '{{"id": "{}", "text": "Row {}", "created_at": "2026-01-01"}}\n'),
    ],
    ids=["csv", "jsonl"],
)
def test_an_id_repeated_in_rows_appended_later_is_quarantined_like_one_read_at_once(
    tmp_path: Path, name: str, row: str
) -> None:
    header = "id,text,created_at\n" if name.endswith(".csv") else ""
    lines = [row.format(i, i) for i in ("A", "B")]
    path = drop(tmp_path, name, header + "".join(lines))
    source = make_source(tmp_path)
    first = fetch(source)
    append(path, row.format("C", "C") + row.format("A", "A again"))
    second = fetch(source, first.cursor)
    assert second.ids == ["C"]
    first_line = 2 if header else 1
    assert second.only_reject.reason == f"id (id) 'A' is already on line {first_line}; the first is kept"
    assert second.only_reject.line == first_line + 3


def test_repeats_far_apart_in_a_large_file_name_the_first_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ids are remembered compactly (merged into sorted arrays, behind a bit filter): shrink both to use them here
    monkeypatch.setattr(reviewbot.connectors.files, "FIRST_SEEN_BUFFER", 4)
    monkeypatch.setattr(reviewbot.connectors.files, "FIRST_SEEN_FILTER_BITS", 8)
    ids = [f"T-{i}" for i in range(40)]
    repeats = ["T-0", "T-17", "T-39", "T-5"]
    drop(tmp_path, "export.csv", "id,text,created_at\n" + "".join(f"{i},Row,2026-01-01\n" for i in ids + repeats))
    fetched = fetch(make_source(tmp_path))
    assert fetched.ids == ids
    assert [(r.line, r.reason.split(" is already ")[1]) for r in fetched.rejects] == [
        (42, "on line 2; the first is kept"),
        (43, "on line 19; the first is kept"),
        (44, "on line 41; the first is kept"),
        (45, "on line 7; the first is kept"),
    ]


def test_without_an_id_column_identical_rows_are_still_one_item(tmp_path: Path) -> None:
    drop(tmp_path, "export.csv", "text,created_at\nLate,2026-01-01\nLate,2026-01-01\n")
    fetched = fetch(make_source(tmp_path, columns={"text": "text", "created_at": "created_at"}))
    assert fetched.rejects == [] and len(set(fetched.ids)) == 1


@pytest.mark.parametrize("name", ["export.csv", "export.jsonl", "export.json"])
@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf  \r\n"], ids=["no-bytes", "blank-lines", "bom"])
def test_an_empty_file_is_refused_as_a_whole_whatever_its_format(tmp_path: Path, name: str, content: bytes) -> None:
    drop(tmp_path, name, content)
    reject = fetch(make_source(tmp_path)).only_reject
    assert (reject.file, reject.line, reject.reason) == (f"inbox/{name}", 0, "the file is empty")


def test_every_file_read_is_listed_so_its_old_file_level_entries_can_be_cleared(tmp_path: Path) -> None:
    drop(tmp_path, "header-only.csv", "id,text,created_at\n")
    drop(tmp_path, "rows.csv", "id,text,created_at\n1,Late,2026-01-01\n")
    drop(tmp_path, "bad.csv", "ident,text,created_at\n1,Late,2026-01-01\n")
    source = make_source(tmp_path)
    batches = list(source.fetch({}))
    assert sorted(f for b in batches for f in b.files_read) == ["inbox/header-only.csv", "inbox/rows.csv"]


def test_a_file_of_bad_lines_lists_a_thousand_and_counts_the_rest(tmp_path: Path) -> None:
    """Every line of garbage was one quarantine row: 200,000 lines of "x" (400 KB) made 53 MB of database and a
    15-second sync, so a 200 MB file would have filled the disk over hours while holding the sync's lock."""
    good = "G-1,Refund still missing,2026-09-01\n"
    drop(tmp_path, "damaged.csv", "id,text,created_at\n" + "x\n" * 2_500 + good)
    fetched = fetch(make_source(tmp_path))
    assert fetched.ids == ["G-1"]
    listed = [r for r in fetched.rejects if r.reason.startswith("ragged row")]
    summaries = [r for r in fetched.rejects if "more rows could not be read" in r.reason]
    assert len(listed) == 1_000 and [r.line for r in listed] == list(range(2, 1_002))
    counted = [int(r.reason.split(" more rows")[0].replace(",", "")) for r in summaries]
    assert sum(counted) == 1_500 and len(summaries) == 2  # one per batch, stored with the cursor passing its rows
    assert summaries[0].line == 1_002 and "(lines 1,002-" in summaries[0].reason
    assert "the first of them: ragged row: expected 3 fields, found 1" in summaries[0].reason
    assert summaries[0].raw == "x"


def test_the_thousand_listed_are_per_file(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", "id,text,created_at\n" + "x\n" * 999)
    drop(tmp_path, "b.csv", "id,text,created_at\n" + "y\n" * 999)
    fetched = fetch(make_source(tmp_path))
    assert len(fetched.rejects) == 1_998
    assert not any("more rows" in r.reason for r in fetched.rejects)


def test_a_json_id_that_is_an_array_or_object_is_quarantined(tmp_path: Path) -> None:
    """It was stored under its Python spelling, "['A-1']", as if it were an id."""
    lines = [
        '{"id": ["A-1"], "text": "Refund late", "created_at": "2026-09-01"}',
        '{"id": {"v": 2}, "text": "Refund late", "created_at": "2026-09-01"}',
        '{"id": 7, "text": "Refund late", "created_at": "2026-09-01"}',
    ]
    drop(tmp_path, "x.jsonl", "\n".join(lines) + "\n")
    fetched = fetch(make_source(tmp_path))
    assert fetched.ids == ["7"]
    assert [(r.line, r.reason.split(",")[0]) for r in fetched.rejects] == [
        (1, "id (id) is an array"),
        (2, "id (id) is an object"),
    ]
