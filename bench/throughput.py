"""Throughput and memory of a full sync, against TextBlob sentiment alone on the same texts.

    python bench/throughput.py                 # 10k and 100k, incremental 1k-into-100k vs 1k-into-empty
    python bench/throughput.py --sizes 10000   # quicker
    python bench/throughput.py --stream 1000000  # ingest only: peak memory at 100k vs 1M rows

Each case runs in a fresh process on a fresh SQLite store, so peak RSS is the case's own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import feedback, machine, make_workspace, peak_rss_mb, write_export  # noqa: E402


def case_sync(n: int, preload: int) -> dict[str, Any]:
    """Sync n new items (after `preload` items were synced); times the second sync only when preloading."""
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.workflows.sync import run_sync

    texts = feedback(preload + n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_workspace(Path(tmp) / "ws")
        settings = load_settings(folder)
        store = Store(settings.db_url)
        if preload:
            write_export(folder / "inbox" / "history.csv", texts[:preload])
            run_sync(settings, store)
        write_export(folder / "inbox" / "new.csv", texts[preload:], start=preload)
        started = time.perf_counter()
        report = run_sync(settings, store)
        seconds = time.perf_counter() - started
        store.dispose()
    assert report.sources["complaints"]["new"] == n, report.sources
    return {
        "seconds": seconds,
        "rss_mb": peak_rss_mb(),
        "themes": report.themes["active_themes"],
        "stages": report.timings,
    }


def case_textblob(n: int) -> dict[str, float]:
    """TextBlob polarity alone over the same texts."""
    from textblob.en.sentiments import PatternAnalyzer

    texts = feedback(n)
    analyzer = PatternAnalyzer()
    started = time.perf_counter()
    for text in texts:
        analyzer.analyze(text)
    return {"seconds": time.perf_counter() - started, "rss_mb": peak_rss_mb()}


def case_ingest(n: int) -> dict[str, float]:
    """Only the collect stage (read, redact, score, store) over one n-row file: streaming memory."""
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.workflows.collect import collect
    from reviewbot.workflows.run_summary import NoProgress, SyncReport

    with tempfile.TemporaryDirectory() as tmp:
        folder = make_workspace(Path(tmp) / "ws")
        _write_large(folder / "inbox" / "big.csv", n)
        settings = load_settings(folder)
        store = Store(settings.db_url)
        report = SyncReport()
        started = time.perf_counter()
        collect(settings, store, report, NoProgress())
        seconds = time.perf_counter() - started
        store.dispose()
    return {"seconds": seconds, "rss_mb": peak_rss_mb(), "stored": report.sources["complaints"]["new"]}


def _write_large(path: Path, n: int) -> None:
    """Write n rows in chunks, so building the file does not itself use n rows of memory."""
    import csv

    base = feedback(20_000)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "created_at"])
        for i in range(n):
            writer.writerow([f"C-{i}", f"{base[i % len(base)]} #{i}", f"2026-10-{1 + i % 28:02d} 10:00"])


def run_case(*args: str) -> dict[str, Any]:
    """Run one case in a fresh interpreter and return its figures."""
    done = subprocess.run([sys.executable, __file__, "--case", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"case {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _stages(result: dict[str, Any]) -> str:
    """Seconds per sync stage, the big ones."""
    return ", ".join(f"{name} {sec:.1f}s" for name, sec in result["stages"].items() if sec >= 0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--stream", type=int, default=0, help="ingest-only memory check at 100k and this many rows")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, *numbers = args.case
        result = {
            "sync": lambda: case_sync(int(numbers[0]), int(numbers[1])),
            "textblob": lambda: case_textblob(int(numbers[0])),
            "ingest": lambda: case_ingest(int(numbers[0])),
        }[kind]()
        print(json.dumps(result))
        return
    print(f"machine: {machine()}")
    if args.stream:
        for n in (100_000, args.stream):
            r = run_case("ingest", str(n))
            rate = n / r["seconds"]
            print(f"ingest {n:>9,} rows: {r['seconds']:7.1f}s  {rate:9,.0f} rows/s  peak RSS {r['rss_mb']:6.0f} MB")
        return
    for n in args.sizes:
        sync, blob = run_case("sync", str(n), "0"), run_case("textblob", str(n))
        print(
            f"N={n:>7,}: sync {sync['seconds']:6.1f}s ({n / sync['seconds']:7,.0f} items/s, {sync['themes']} themes)  "
            f"TextBlob alone {blob['seconds']:5.1f}s  ratio {sync['seconds'] / blob['seconds']:4.2f}  "
            f"peak RSS {sync['rss_mb']:5.0f} MB"
        )
        print(f"    stages: {_stages(sync)}")
    if 100_000 in args.sizes:
        into_full, into_empty = run_case("sync", "1000", "100000"), run_case("sync", "1000", "0")
        full, empty = into_full["seconds"], into_empty["seconds"]
        print(f"incremental 1k: into 100k {full:.2f}s, into empty {empty:.2f}s, ratio {full / empty:.2f}")
        print(f"    stages into 100k: {_stages(into_full)}")
        print(f"    stages into empty: {_stages(into_empty)}")


if __name__ == "__main__":
    main()
