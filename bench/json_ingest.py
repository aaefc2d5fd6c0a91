"""Peak memory and time of reading one large JSON-array export through the file source (no enrichment, no store).

    python bench/json_ingest.py                    # 1M records (about 150 MB), pretty-printed one per line
    python bench/json_ingest.py --rows 100000      # quicker
    python bench/json_ingest.py --file big.json    # an export of your own (columns id, text, created_at)

The file is written first, then read in a fresh interpreter, so the peak RSS printed is the reading's own: the
interpreter and imports (printed as "before"), then everything `FileSource.fetch` holds while it yields batches.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import iter_feedback, machine, peak_rss_mb  # noqa: E402


def write_json(path: Path, rows: int) -> None:
    """A JSON array of `rows` complaint records, one per line, as helpdesk exports pretty-print them."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[\n")
        for i, text in enumerate(iter_feedback(rows)):
            record = {"id": f"C-{i}", "text": text, "created_at": f"2026-{9 + (i % 84) // 28:02d}-{1 + i % 28:02d}"}
            fh.write(("  " if i == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False))
        fh.write("\n]\n")


def read(path: Path) -> dict[str, float]:
    """Read the file as a `files` source does in a sync; the figures of this process."""
    from reviewbot.connectors.files import ColumnMap, FileSource, FileSourceOptions

    columns = ColumnMap(id="id", text="text", created_at="created_at")
    options = FileSourceOptions(path=path.name, columns=columns)
    source = FileSource("bench", "complaint", options, workspace=path.parent, max_text_chars=10_000)
    before = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    records = rejects = 0
    for batch in source.fetch({}):
        records += len(batch.records)
        rejects += len(batch.rejects)
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "before_mb": before,
        "peak_mb": peak_rss_mb(),
        "records": records,
        "rejects": rejects,
    }


def main() -> None:
    """Write (or take) the export, read it in a fresh interpreter, print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, help="read this export instead of writing one")
    parser.add_argument("--case", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(read(args.case)))
        return
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file.resolve() if args.file else Path(tmp) / "export.json"
        if not args.file:
            write_json(path, args.rows)
        done = subprocess.run(
            [sys.executable, __file__, "--case", str(path)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{path.stat().st_size / 1e6:,.0f} MB, {r['records']:,} records, {r['rejects']:,} rejects: "
            f"{r['seconds']:.1f}s (CPU {r['cpu']:.1f}s), RSS before {r['before_mb']:.0f} MB, peak {r['peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
