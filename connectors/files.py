"""File source: CSV, TSV, JSONL and JSON-array exports dropped into an inbox folder.

The cursor remembers, per file, the byte offset after the last record read, so appended rows are picked
up and nothing is read twice. A file whose beginning changed (a new export under the same name) is read
again from the start; rows already stored are recognised by their external id. Within one file an id belongs to
the first row carrying it: a later row repeating it is quarantined, not stored over it.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from reviewbot.connectors.json_array import TOO_DEEP, InvalidJson, JsonText, undecodable
from reviewbot.connectors.json_array import records as json_records
from reviewbot.connectors.registry import Connector, ConnectorContext, parse_options, source_loc
from reviewbot.intake import (
    CSAT_RANGE,
    NPS_RANGE,
    FieldError,
    check_date_range,
    check_text,
    clean_id,
    content_id,
    parse_datetime,
    parse_score,
)
from reviewbot.paths import printable_name
from reviewbot.protocols import Batch, Kind, RawRecord, Reject
from reviewbot.settings import IntakeSettings, SourceConfig, TimeZoneName

BATCH_SIZE = 1000
HEAD_BYTES = 4096
RAW_PREVIEW = 500
MAX_LISTED_REJECTS = 1000  # bad rows of one file listed one by one; the rest are counted in a line per batch
# The most a CSV record may take before a quote still open in it counts as a stray one: the longest field
# (intake.max_field_chars) at four bytes a character, and room for the rest of the row.
RECORD_BYTES_PER_CHAR = 4
RECORD_SLACK_BYTES = 1 << 20
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
# Control bytes that text exports never hold in bulk (tab, newlines and form feed are text).
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 12, 13))
BINARY_SHARE = 0.1  # a head of which more than this share is control bytes is not text
_MAGIC = {
    b"PK\x03\x04": "a ZIP archive: an Excel .xlsx workbook?",
    b"\xd0\xcf\x11\xe0": "an old Office file (.xls?)",
    b"%PDF": "a PDF",
    b"\x1f\x8b": "gzip-compressed",
}
# The database columns' sizes (reviewbot.models.FeedbackItem): longer values are cut, not refused.
_FIELD_LENGTHS = {"customer": 200, "channel": 100, "author": 200}


class ColumnMap(BaseModel):
    """Which column (or JSON key; dots reach into nested objects) holds each field."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None  # none: a hash of the row's values, so the same row read again is the same item
    text: str | None = None
    created_at: str | None = None  # none: the file's modification time
    customer: str | None = None
    channel: str | None = None
    author: str | None = None
    nps: str | None = None
    csat: str | None = None


class FileSourceOptions(BaseModel):
    """Options of a `type = "files"` source in reviewbot.toml."""

    model_config = ConfigDict(extra="forbid")

    path: str
    pattern: str = "*"
    format: Literal["auto", "csv", "tsv", "jsonl", "json"] = "auto"
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str = "utf-8"
    date_format: str | None = None
    timezone: TimeZoneName = "UTC"
    null_values: list[str] = Field(default_factory=lambda: ["", "None", "NULL", "null", "N/A", "n/a", "NA"])
    records_key: str | None = None
    columns: ColumnMap
    extra_columns: list[str] = Field(default_factory=list)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            "".encode(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; use e.g. 'utf-8' or 'cp1252'") from None
        return value


class FileFormatError(Exception):
    """The file as a whole cannot be read; the message says why and how to fix it."""


@dataclass
class _Row:
    line: int
    next_line: int
    start: int  # byte offset of the row's first byte
    end: int  # byte offset just after this row
    values: dict[str, Any] | None
    raw: str
    error: str | None = None
    record: int | None = None  # the element's number in a JSON array, whose lines may all be line 1

    @property
    def position(self) -> int:
        """Where the row is, as people find it: its record number in a JSON array, else its line."""
        return self.record or self.line

    def place(self, position: int) -> str:
        """A position in this row's file, said the way `position` counts."""
        return f"in record {position}" if self.record else f"on line {position}"


# Ids remembered in a dictionary before they are merged into the sorted arrays of _FirstSeen (about 8 MB).
FIRST_SEEN_BUFFER = 65_536
# Bits of _FirstSeen's filter (4 MB): with a million ids in a file, 3% of new ids need a look in the arrays.
FIRST_SEEN_FILTER_BITS = 1 << 25


class _FirstSeen:
    """Where each id was first seen in one file, in 12 bytes an id.

    A dictionary of a million ids takes about 120 MB, which the streaming ingest of a large export must not grow
    by; Python's hash of the id stands for it (two of a million distinct ids share one with odds of 1 in 37
    million), in sorted numpy arrays that a small dictionary of the latest ids is merged into now and then.
    A bit filter answers most look-ups of new ids without the arrays (a few microseconds each).
    """

    def __init__(self) -> None:
        self._recent: dict[int, int] = {}
        self._keys = np.empty(0, dtype=np.int64)
        self._positions = np.empty(0, dtype=np.int32)
        self._filter = bytearray(FIRST_SEEN_FILTER_BITS // 8)

    def first(self, external_id: str, position: int) -> int | None:
        """The position of an earlier row with this id, or None after remembering this one as the first."""
        key = hash(external_id)
        slot = key & (FIRST_SEEN_FILTER_BITS - 1)
        byte, bit = slot >> 3, 1 << (slot & 7)
        if self._filter[byte] & bit:
            found = self._find(key)
            if found is not None:
                return found
        self._filter[byte] |= bit
        self._recent[key] = position
        if len(self._recent) >= FIRST_SEEN_BUFFER:
            self._merge()
        return None

    def _find(self, key: int) -> int | None:
        found = self._recent.get(key)
        if found is None and len(self._keys):
            index = int(self._keys.searchsorted(key))
            if index < len(self._keys) and self._keys[index] == key:
                found = int(self._positions[index])
        return found

    def _merge(self) -> None:
        keys = np.fromiter(self._recent.keys(), np.int64, len(self._recent))
        positions = np.fromiter(self._recent.values(), np.int32, len(self._recent))
        order = keys.argsort()
        at = self._keys.searchsorted(keys[order])  # inserted in place: no second copy of the arrays
        self._keys = np.insert(self._keys, at, keys[order])
        self._positions = np.insert(self._positions, at, positions[order])
        self._recent.clear()


@dataclass
class _Unlisted:
    """Rows of a file quarantined beyond MAX_LISTED_REJECTS, not yet summarised: a damaged export (or a file of
    garbage lines) would otherwise put every line in the quarantine, a row in the database for every 2 bytes."""

    rows: int = 0
    first: Reject | None = None
    last_line: int = 0

    def add(self, reject: Reject) -> None:
        """Count one more unlisted row."""
        self.rows += 1
        self.first = self.first or reject
        self.last_line = reject.line

    def summarised(self, batch: Batch, display: str) -> Batch:
        """The batch with one quarantine entry for the rows counted since the last one (stored with the cursor that
        passes them, so none is lost unsaid), and the count started again."""
        if self.first is not None:
            lines = (
                f"line {self.first.line:,}"
                if self.first.line == self.last_line
                else (f"lines {self.first.line:,}-{self.last_line:,}")
            )
            reason = (
                f"{self.rows:,} more rows could not be read ({lines}), not listed one by one after the first "
                f"{MAX_LISTED_REJECTS:,} of the file; the first of them: {self.first.reason}. Is it the right file, "
                "delimiter and encoding? Fix the export and drop it again"
            )
            batch.rejects.append(Reject(display, self.first.line, reason, self.first.raw))
        self.rows, self.first, self.last_line = 0, None, 0
        return batch


class FileSource:
    """Reads every matching file under a folder (or one file), incrementally."""

    def __init__(
        self,
        name: str,
        kind: Kind,
        options: FileSourceOptions,
        *,
        workspace: Path,
        max_text_chars: int,
        intake: IntakeSettings | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.options = options
        self.root = (workspace / options.path).resolve()
        self.workspace = workspace.resolve()
        self.max_text_chars = max_text_chars
        self.intake = intake or IntakeSettings()
        self.tz = ZoneInfo(options.timezone)
        self._file_time: datetime | None = None  # the modification time of the file being read
        # (how a field is named in a quarantine reason, its column) of every field that is stored
        self._stored = [(f"{k} ({c})", c) for k, c in options.columns.model_dump().items() if c]
        self._stored += [(f"extra column {c!r}", c) for c in options.extra_columns]

    def files(self) -> list[Path]:
        """The files this source reads, in a stable order; hidden and temporary files are skipped."""
        if self.root.is_file():
            return [self.root]
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.glob(self.options.pattern) if p.is_file()]
        return sorted(p for p in found if not p.name.startswith((".", "~")) and not p.name.endswith(".tmp"))

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        """Yield batches of records from new files and new rows of known files."""
        files_state: dict[str, Any] = dict(cursor.get("files", {}))
        for path in self.files():
            key = self._display(path)
            for batch, state in self._read_file(path, files_state.get(key)):
                if state is not None:
                    files_state[key] = state
                batch.cursor = {"files": dict(files_state)}
                yield batch

    def _inside(self, path: Path) -> bool:
        """True when the file, links followed, is in the source's folder (or is the source's own file)."""
        real = path.resolve()
        return real == self.root or real.is_relative_to(self.root)

    def _display(self, path: Path) -> str:
        """The file's name as stored and shown: relative to the workspace, printable on one line."""
        try:
            return printable_name(str(path.relative_to(self.workspace)))
        except ValueError:
            return printable_name(str(path))

    def _read_file(self, path: Path, state: dict[str, Any] | None) -> Iterator[tuple[Batch, dict[str, Any] | None]]:
        display = self._display(path)
        if not self._inside(path):
            yield Batch(rejects=[Reject(display, 0, OUTSIDE)]), None
            return
        try:
            with path.open("rb") as fh:
                self._file_time = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
                head = fh.read(HEAD_BYTES)
                if len(head) < HEAD_BYTES and not head.removeprefix(codecs.BOM_UTF8).strip():
                    raise FileFormatError("the file is empty")
                fmt = self._format(path, head)
                resume = self._resume_point(fh, path, state)
                if resume and resume["offset"] == path.stat().st_size:
                    return  # nothing new
                # With an id column, rows read by earlier syncs are read again for their ids alone, so an
                # appended row repeating one is caught as it is in a file read at once (1.6 s for 100k CSV rows
                # on the loaded development VM, where reading them as new took 4.6 s); JSON reads it all anyway.
                start = resume if self.options.columns.id is None else None
                if fmt == "json":
                    rows = self._json_rows(fh)
                elif fmt == "jsonl":
                    rows = self._jsonl_rows(fh, start)
                else:
                    rows = self._csv_rows(fh, start, fmt)
                yield from self._batches(rows, fh, display, resume["offset"] if resume else 0)
        except FileFormatError as exc:
            yield Batch(rejects=[Reject(display, 0, str(exc))]), None
        except OSError as exc:
            yield Batch(rejects=[Reject(display, 0, f"cannot read the file: {exc.strerror or exc}")]), None

    @staticmethod
    def _resume_point(fh: BinaryIO, path: Path, state: dict[str, Any] | None) -> dict[str, Any] | None:
        """Where to continue in this file, or None to read it from the start (new, replaced or truncated)."""
        if not state or state.get("offset", 0) > path.stat().st_size:
            return None
        # Only bytes already read are compared, so appending rows does not look like a new file; the bytes
        # just before the offset catch a longer export that merely starts like the old one.
        offset, length = state["offset"], state.get("head_len", 0)
        if _hash(fh, 0, length) != state.get("head") or _hash(fh, offset - length, offset) != state.get("tail"):
            return None
        return state

    def _format(self, path: Path, head: bytes) -> str:
        what = _binary_kind(head)
        if what is not None:
            kind, hint = (f"binary file ({what})", "") if what else ("binary file", " (UTF-16 text? save it as UTF-8)")
            raise FileFormatError(f"{kind}, not CSV or JSON; export the data as CSV, JSONL or JSON{hint}")
        if self.options.format != "auto":
            return self.options.format
        fmt = EXTENSIONS.get(path.suffix.lower())
        if fmt is None:
            raise FileFormatError(
                f"unsupported file type {path.suffix or '(no extension)'!r}; "
                "export the data as .csv, .tsv, .jsonl or .json, or set format in reviewbot.toml"
            )
        if fmt == "json" and not self.options.records_key and _one_object_per_line(head, self.options.columns.text):
            return "jsonl"  # JSON Lines saved as .json
        return fmt

    def _batches(
        self, rows: Iterator[_Row], fh: BinaryIO, display: str, done: int
    ) -> Iterator[tuple[Batch, dict[str, Any] | None]]:
        """The file's rows past byte `done` in batches; the first, yielded even when empty, lists it in files_read."""
        seen = _FirstSeen()
        batch = Batch(files_read=[display])
        last: _Row | None = None
        unlisted = _Unlisted()
        listed = 0
        for row in rows:
            if row.start < done:  # read by an earlier sync: only its id is remembered
                with contextlib.suppress(FieldError):  # a repeat, quarantined when it was read
                    self._claim_id(seen, row)
                continue
            last = row
            before = len(batch.rejects)
            self._add(batch, row, display, seen)
            if len(batch.rejects) > before:
                listed += 1
                if listed > MAX_LISTED_REJECTS:
                    unlisted.add(batch.rejects.pop())
            if len(batch.records) + len(batch.rejects) + batch.skipped + unlisted.rows >= BATCH_SIZE:
                yield unlisted.summarised(batch, display), _state(fh, row)
                batch = Batch()
        # A file with no new rows still clears its whole-file quarantine entries; its cursor stays as it was.
        yield unlisted.summarised(batch, display), _state(fh, last) if last is not None else None

    def _add(self, batch: Batch, row: _Row, display: str, seen: _FirstSeen) -> None:
        if row.error is None and row.values is not None:
            origin = f"{display}:{row.line}" + (f" (record {row.record})" if row.record else "")
            try:
                self._claim_id(seen, row)
                record = self._record(row.values, origin)
            except FieldError as exc:
                row.error = str(exc)
            else:
                if record is None:
                    batch.skipped += 1
                else:
                    batch.records.append(record)
                return
        reason = row.error or "unreadable row"
        if row.record:  # every element of a one-line array is on line 1
            reason = f"record {row.record}: {reason}"
        batch.rejects.append(Reject(display, row.line, reason, row.raw[:RAW_PREVIEW]))

    def _claim_id(self, seen: _FirstSeen, row: _Row) -> None:
        """Remember where the row's id first appears in the file; FieldError if an earlier row of the file has it.

        The first row carrying an id keeps it (whatever else is wrong with that row): two rows of one export
        with one id contradict each other, and taking the later silently lost the first. Rows without an id
        column have ids from their content, and identical rows are rightly one item.
        """
        column = self.options.columns.id
        if column is None or row.values is None:
            return
        try:
            external_id = clean_id(self._get(row.values, column), field=f"id ({column})")
        except FieldError:
            return  # refused by _record, unless the row has nothing to store
        first = seen.first(external_id, row.position)
        if first is not None:
            raise FieldError(f"id ({column}) {external_id!r} is already {row.place(first)}; the first is kept")

    def _record(self, values: dict[str, Any], origin: str) -> RawRecord | None:
        """The record of a row, or None for a row with no text (and no score) to skip; FieldError if bad."""
        cols = self.options.columns
        self._check_storable(values)
        nps = parse_score(self._get(values, cols.nps), field=f"nps ({cols.nps})", low=NPS_RANGE[0], high=NPS_RANGE[1])
        csat = parse_score(
            self._get(values, cols.csat), field=f"csat ({cols.csat})", low=CSAT_RANGE[0], high=CSAT_RANGE[1]
        )
        raw_text = str(_scalar(self._get(values, cols.text), f"text ({cols.text})") or "")
        if not raw_text.strip() and nps is None and csat is None:
            return None  # nothing to learn from: counted, not quarantined
        text = check_text(raw_text, max_chars=self.max_text_chars, has_score=True)
        return RawRecord(
            external_id=self._id(values),
            text=text,
            created_at=self._created_at(values),
            kind=self.kind,
            origin=origin,
            customer=self._text_or_none(values, cols.customer, "customer"),
            channel=self._text_or_none(values, cols.channel, "channel"),
            author=self._text_or_none(values, cols.author, "author"),
            nps=nps,
            csat=csat,
            meta={c: v for c in self.options.extra_columns if (v := self._get(values, c)) is not None},
        )

    def _check_storable(self, values: dict[str, Any]) -> None:
        """Refuse a row whose mapped fields the database cannot store: a NUL byte, or a field over the cap."""
        for field, column in self._stored:
            value = self._get(values, column)
            if not isinstance(value, str):
                continue
            if "\x00" in value:  # PostgreSQL refuses it in text and JSON
                raise FieldError(
                    f"{field} holds a NUL byte (\\x00) at character {value.index(chr(0)) + 1:,}, which the "
                    "database cannot store; remove it from the export"
                )
            if len(value) > self.intake.max_field_chars:
                raise FieldError(_too_long(field, len(value), self.intake.max_field_chars))

    def _id(self, values: dict[str, Any]) -> str:
        """The row's id, or a hash of its values when no id column is mapped."""
        column = self.options.columns.id
        if column is None:
            return content_id(values)
        field = f"id ({column})"
        return clean_id(_scalar(self._get(values, column), field), field=field)  # ["A-1"] was stored as "['A-1']"

    def _created_at(self, values: dict[str, Any]) -> datetime:
        """The row's date (within the configured range), or the file's modification time when none is mapped."""
        column = self.options.columns.created_at
        if column is None:
            assert self._file_time is not None
            return self._file_time
        field = f"created_at ({column})"
        created = self._get(values, column)
        moment = parse_datetime(str(created or ""), field=field, fmt=self.options.date_format, tz=self.tz)
        return check_date_range(
            moment,
            field=field,
            now=datetime.now(UTC),
            future_tolerance=self.intake.future_tolerance,
            earliest=self.intake.earliest_date,
        )

    def _get(self, values: dict[str, Any], column: str | None) -> Any:
        if column is None:
            return None
        value: Any = values
        for part in column.split(".") if column not in values else [column]:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value.strip() in self.options.null_values:
            return None
        return value

    def _text_or_none(self, values: dict[str, Any], column: str | None, field: str) -> str | None:
        value = _scalar(self._get(values, column), f"{field} ({column})")
        return None if value is None else str(value).strip()[: _FIELD_LENGTHS[field]] or None

    def _record_limit(self) -> int:
        """The most bytes one row (a CSV record, a JSON line) may take: past it, it is read past, not held."""
        return RECORD_BYTES_PER_CHAR * self.intake.max_field_chars + RECORD_SLACK_BYTES

    # --- CSV -----------------------------------------------------------------------------------------

    def _csv_rows(self, fh: BinaryIO, start: dict[str, Any] | None, fmt: str) -> Iterator[_Row]:
        delimiter = self.options.delimiter or ("\t" if fmt == "tsv" else ",")
        # The delimiter as bytes of this encoding; utf-8-sig would put its byte order mark in front.
        sep = delimiter.encode(self.options.encoding).removeprefix(codecs.BOM_UTF8)
        # Process-wide, but every file source of a workspace shares the setting; longer fields are quarantined.
        csv.field_size_limit(self.intake.max_field_chars)
        fh.seek(0)
        limit = self._record_limit()
        records = _records(fh, 0, 1, sep, limit)
        first = next(records, None)
        if first is None:
            raise FileFormatError("the file is empty")
        raw_bytes = first.data
        header_text = self._decode(raw_bytes, strip_bom=True)
        if header_text is None:
            raise FileFormatError(f"the header row is not valid {self.options.encoding}; set encoding for this source")
        try:
            header = [h.strip() for h in _split(header_text, delimiter)]
        except csv.Error as exc:
            raise FileFormatError(f"the header row cannot be read: {exc}") from None
        self._check_header(header, delimiter)
        if start:
            fh.seek(start["offset"])
            records = _records(fh, start["offset"], start["line"], sep, limit)
        return self._csv_values(records, header, delimiter)

    def _check_header(self, header: list[str], delimiter: str) -> None:
        needed = [(f"columns.{k}", v) for k, v in self.options.columns.model_dump().items() if v]
        needed += [("extra_columns", c) for c in self.options.extra_columns]  # a list: every extra column is checked
        for setting, column in needed:
            if column not in header:
                close = difflib.get_close_matches(column, header, n=1)
                raise FileFormatError(
                    f"column {column!r} ({setting} in reviewbot.toml) is not in the header "
                    f"({', '.join(header[:12])}{', ...' if len(header) > 12 else ''})"
                    + (f"; did you mean {close[0]!r}?" if close else "")
                    + ("" if len(header) > 1 else f"; is the delimiter {delimiter!r} right?")
                )
            if header.count(column) > 1:  # a survey tool's two "Comment" columns: the last one was read, silently
                where = ", ".join(str(i + 1) for i, name in enumerate(header) if name == column)
                raise FileFormatError(
                    f"column {column!r} ({setting} in reviewbot.toml) is in the header {header.count(column)} times "
                    f"(columns {where}), so which one it means is unclear; rename the others in the export"
                )

    def _csv_values(self, records: Iterator[_CsvRecord], header: list[str], delimiter: str) -> Iterator[_Row]:
        for line, next_line, start, end, raw_bytes, problem in records:
            text = self._decode(raw_bytes)
            if text is None:
                raw = raw_bytes.decode("utf-8", "replace")
                yield _Row(line, next_line, start, end, None, raw, self._decode_error(raw_bytes))
                continue
            if not text.strip():
                continue
            if problem:
                yield _Row(line, next_line, start, end, None, text.rstrip("\r\n")[:RAW_PREVIEW], problem)
                continue
            try:
                fields = _split(text, delimiter)
            except csv.Error as exc:  # a field over intake.max_field_chars
                error = self._split_error(text, header, delimiter, exc)
                yield _Row(line, next_line, start, end, None, text[:RAW_PREVIEW], error)
                continue
            if len(fields) != len(header):
                error = f"ragged row: expected {len(header)} fields, found {len(fields)}"
                yield _Row(line, next_line, start, end, None, text.rstrip("\r\n"), error)
                continue
            yield _Row(line, next_line, start, end, dict(zip(header, fields, strict=True)), text.rstrip("\r\n"))

    def _split_error(self, text: str, header: list[str], delimiter: str, exc: csv.Error) -> str:
        """Why a row could not be split: names the column over intake.max_field_chars when that is the cause."""
        cap = self.intake.max_field_chars
        if len(text) <= cap:
            return f"the row cannot be read as CSV: {exc}"
        csv.field_size_limit(len(text) + 1)  # read it once more, only to find and name the long field
        try:
            fields = _split(text, delimiter)
        except csv.Error:
            fields = []
        finally:
            csv.field_size_limit(cap)
        for index, value in enumerate(fields):
            if len(value) > cap:
                name = header[index] if index < len(header) else f"field {index + 1}"
                return _too_long(f"column {name!r}", len(value), cap)
        return _too_long("a field", len(text), cap)

    def _decode(self, raw: bytes, strip_bom: bool = False) -> str | None:
        encoding = self.options.encoding
        if strip_bom and encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            encoding = "utf-8-sig"
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            return None

    def _decode_error(self, raw: bytes) -> str:
        try:
            raw.decode(self.options.encoding)
        except UnicodeDecodeError as exc:
            return undecodable(self.options.encoding, exc.start)
        return "undecodable bytes"

    # --- JSON ----------------------------------------------------------------------------------------

    def _jsonl_rows(self, fh: BinaryIO, start: dict[str, Any] | None) -> Iterator[_Row]:
        offset, line = (start["offset"], start["line"]) if start else (0, 1)
        fh.seek(offset)
        limit = self._record_limit()
        for raw_line, length in _lines(fh, limit):
            first_byte, offset = offset, offset + length
            # A last line without a newline continues where appended lines begin.
            next_line = line + 1 if raw_line.endswith(b"\n") else line
            text = self._decode(raw_line, strip_bom=line == 1)
            if length > len(raw_line):
                raw = raw_line[:RAW_PREVIEW].decode("utf-8", "replace")
                yield _Row(line, next_line, first_byte, offset, None, raw, _too_long_line(length, limit))
            elif text is None:
                raw = raw_line.decode("utf-8", "replace")
                yield _Row(line, next_line, first_byte, offset, None, raw, self._decode_error(raw_line))
            elif text.strip():
                row = _json_row(text.rstrip("\r\n"), line, next_line, first_byte, offset)
                if row.values is not None and (wrapped := _wrapped_records(row.values, self.options.columns.text)):
                    row.values, row.error = None, wrapped  # else skipped as a row with no text, silently
                yield row
            line = next_line

    def _json_rows(self, fh: BinaryIO) -> Iterator[_Row]:
        """The elements of a JSON array file, streamed (json_array): read through once to refuse invalid JSON
        before any row of it is stored, as when the file was read whole, then again to yield them."""
        key = self.options.records_key
        try:
            check = JsonText(fh, self.options.encoding)
            for _ in json_records(check, key):
                pass
            end_line = check.line_at(len(check.text))
            start = 0
            text = JsonText(fh, self.options.encoding)
            for number, element in enumerate(json_records(text, key), 1):
                # Each element's cursor covers the file up to its end, so a run interrupted between batches
                # resumes after the last stored element; the last one also covers the closing brackets.
                end = check.size if element.last else element.end
                item = element.value
                raw = json.dumps(item, ensure_ascii=False)[:RAW_PREVIEW]
                error = None if isinstance(item, dict) else f"expected a JSON object, found {type(item).__name__}"
                yield _Row(element.line, end_line, start, end, item if error is None else None, raw, error, number)
                start = end
        except InvalidJson as exc:
            raise FileFormatError(str(exc)) from None


def _state(fh: BinaryIO, row: _Row) -> dict[str, Any]:
    """The cursor of one file after `row`: where to continue, and hashes of what was read to detect replacement."""
    head_len = min(HEAD_BYTES, row.end)
    state = {
        "head": _hash(fh, 0, head_len),
        "head_len": head_len,
        "tail": _hash(fh, row.end - head_len, row.end),
        "offset": row.end,
        "line": row.next_line,
    }
    fh.seek(row.end)
    return state


def _binary_kind(head: bytes) -> str | None:
    """What a file that is not text looks like by its first bytes ("" if unknown), or None for text.

    A stray NUL byte in a text export is one bad row, quarantined on its own; only a head that is mostly
    control bytes (or a known binary format) refuses the whole file.
    """
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            return what
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return "" if head and controls > BINARY_SHARE * len(head) else None


def _too_long(field: str, length: int, cap: int) -> str:
    """The reason for a field longer than intake.max_field_chars."""
    return (
        f"{field} is {length:,} characters, over the limit of {cap:,} (intake.max_field_chars); "
        "a quote left open in the export can run on like this"
    )


def _one_object_per_line(head: bytes, text_column: str | None) -> bool:
    """True when a .json file starts with a complete JSON object on its first line (JSON Lines).

    Not when that object is the whole file and, without the text column, holds an array of objects: it is an
    export on one line whose records are under a key (records_key), not one record.
    """
    first, _, rest = head.lstrip(b"\xef\xbb\xbf \t\r\n").partition(b"\n")
    try:
        value = json.loads(first)
    except (ValueError, RecursionError):
        return False
    if not isinstance(value, dict) or rest.strip():
        return isinstance(value, dict)
    has_text = text_column is not None and (text_column in value or text_column.split(".")[0] in value)
    return has_text or not _array_keys(value, of_objects=True)


def _wrapped_records(value: dict[str, Any], text_column: str | None) -> str | None:
    """Why a JSON Lines line that is an object holding an array of records, and no text, is not a record."""
    if text_column is not None and (text_column in value or text_column.split(".")[0] in value):
        return None
    keys = _array_keys(value, of_objects=True)
    if not keys:
        return None
    return (
        f"this line is one object holding {len(value[keys[0]]):,} records under {keys[0]!r}, not a record: a JSON "
        "Lines file has one record per line (records_key applies to .json files: save the export as .json and set "
        f'records_key = "{keys[0]}", or write one record per line)'
    )


def _array_keys(doc: Any, *, of_objects: bool = False) -> list[str]:
    """The keys of a JSON object holding arrays (of objects first), the candidates for records_key."""
    if not isinstance(doc, dict):
        return []
    arrays = [k for k, v in doc.items() if isinstance(v, list)]
    records = [k for k in arrays if doc[k] and all(isinstance(item, dict) for item in doc[k])]
    return records if records or of_objects else arrays


def _hash(fh: BinaryIO, start: int, end: int) -> str:
    fh.seek(start)
    return hashlib.sha256(fh.read(end - start)).hexdigest()


# Whoever may drop files in the inbox must not make the bot read files they cannot read themselves: their rows
# would show in quarantine and in tickets. Where the link points is not said, for the same reason.
OUTSIDE = "a link to a file outside the source's folder is not read: copy the file into the folder instead"


def _scalar(value: Any, field: str) -> Any:
    """A JSON value that can be read as text (a string, number or null), or a FieldError naming the field."""
    if isinstance(value, dict | list):
        kind = "an object" if isinstance(value, dict) else "an array"
        raise FieldError(f"{field} is {kind}, not text: point the column at a field inside it (a.b reads b in a)")
    return value


def _json_row(text: str, line: int, next_line: int, start: int, end: int) -> _Row:
    """One JSONL line as a row."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return _Row(line, next_line, start, end, None, text, f"invalid JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return _Row(line, next_line, start, end, None, text, TOO_DEEP)
    if not isinstance(value, dict):
        return _Row(line, next_line, start, end, None, text, f"expected a JSON object, found {type(value).__name__}")
    return _Row(line, next_line, start, end, value, text)


class _CsvRecord(NamedTuple):
    """One CSV record's bytes and where they are."""

    line: int  # its first line
    next_line: int
    start: int  # byte offset of its first byte
    end: int  # ... and just past its last
    data: bytes
    problem: str | None = None  # why it is not a row (then `data` is its first line, or the start of it)


UNCLOSED = 'a quoted field opened on this line never closes (a stray " at the start of a field?)'


def _too_long_line(length: int, limit: int) -> str:
    return f"the line is {length:,} bytes, over the {limit:,} any row may take (4 x intake.max_field_chars + 1 MB)"


def _lines(fh: BinaryIO, limit: int) -> Iterator[tuple[bytes, int]]:
    """The file's lines from where it stands, with their lengths in bytes. A line over `limit` bytes is given as its
    first `limit` bytes (and its newline, if it has one), the rest read past and not held: a 50 MB line took a sync
    to about 1 GB."""
    while line := fh.readline(limit + 1):
        length = len(line)
        if length > limit and not line.endswith(b"\n"):
            rest = b""
            while rest := fh.readline(1 << 20):
                length += len(rest)
                if rest.endswith(b"\n"):
                    break
            line = line[:limit] + (b"\n" if rest.endswith(b"\n") else b"")
        yield line, length


def _records(fh: BinaryIO, offset: int, line: int, delimiter: bytes, limit: int) -> Iterator[_CsvRecord]:
    """Split CSV bytes into records (a quoted field may span lines, up to `limit` bytes).

    A quote that opens a field and never closes (by the end of the file, or within `limit` bytes) is a mistake
    on its own line: that line is given alone, with its problem, and reading goes on from the next one, so one
    stray quote does not take every later row with it (nor hold them all in memory). So is a line over `limit`.
    """
    while True:
        parts: list[bytes] = []
        quoted, size, start, start_line, stopped = False, 0, offset, line, False
        for raw_line, length in _lines(fh, limit):
            if length > len(raw_line) and parts:  # inside a quoted record already over the limit
                stopped = True
                break
            if not parts:
                start, start_line = offset, line
            offset += length
            if length > len(raw_line):
                line += raw_line.endswith(b"\n")
                problem = _too_long_line(length, limit)
                yield _CsvRecord(start_line, line, start, offset, raw_line[:RAW_PREVIEW], problem)
                continue
            size += length
            parts.append(raw_line)
            quoted = _still_quoted(raw_line, quoted, delimiter)
            if raw_line.endswith(b"\n"):
                line += 1  # a last line without a newline continues where appended rows begin
            if not quoted:  # RFC 4180: a record ends at a newline outside quotes
                yield _CsvRecord(start_line, line, start, offset, b"".join(parts))
                parts, size = [], 0
            elif size > limit:
                stopped = True
                break
        if not parts:
            return
        if len(parts) == 1 and not stopped:  # its own last line: nothing after it to give back
            yield _CsvRecord(start_line, line, start, offset, parts[0], UNCLOSED)
            return
        first = parts[0]
        offset, line = start + len(first), start_line + 1
        fh.seek(offset)
        yield _CsvRecord(start_line, line, start, offset, first, UNCLOSED)


def _still_quoted(raw_line: bytes, quoted: bool, delimiter: bytes) -> bool:
    """Whether a quoted field is still open at the end of `raw_line`, which starts inside one if `quoted`.

    Read as the csv module reads it: a quote opens a quoted field only as the field's first character, ""
    inside one is an escaped quote, and any other quote (`my 5" screen`) is a plain character. Counting
    quotes instead would let one such stray quote swallow every following row into one ragged record.
    """
    quote = b'"'
    if quote not in raw_line:
        return quoted
    pos, field_start = 0, not quoted
    while pos < len(raw_line):
        if quoted:
            close = raw_line.find(quote, pos)
            if close < 0:
                return True
            if raw_line.startswith(quote, close + 1):
                pos = close + 2  # an escaped quote
            else:
                pos, quoted, field_start = close + 1, False, False
        elif field_start and raw_line.startswith(quote, pos):
            pos, quoted = pos + 1, True
        else:
            after = raw_line.find(delimiter, pos)
            if after < 0:
                return False
            pos, field_start = after + 1, True
    return quoted


def _split(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    fields: list[str] = []
    for row in reader:
        if fields:
            fields[-1] += "\n"
            fields[-1] += row[0] if row else ""
            fields.extend(row[1:])
        else:
            fields = row
    return fields


def make_file_source(config: SourceConfig, context: ConnectorContext) -> FileSource:
    """Build a FileSource from its `[[sources]]` entry."""
    options = parse_options(FileSourceOptions, config.options, source_loc(config, context.settings), context.settings)
    return FileSource(
        config.name,
        config.kind,
        options,
        workspace=context.settings.workspace,
        max_text_chars=context.settings.enrich.max_text_chars,
        intake=context.settings.intake,
    )


connector = Connector(source=make_file_source)  # declared in pyproject.toml as "files"
