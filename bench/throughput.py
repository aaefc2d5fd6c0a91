"""Throughput and memory of a full sync on SQLite and PostgreSQL, against the project's own TextBlob scorer alone.

    python bench/throughput.py                      # 10k and 100k on both stores, 3 runs each; incremental 1k
    python bench/throughput.py --sizes 10000 --runs 1 --stores sqlite   # quicker
    python bench/throughput.py --large --runs 1     # adds 300k and 1M items (long: minutes per case)
    python bench/throughput.py --stream 1000000     # ingest only: peak memory at 100k vs 1M rows
    python bench/throughput.py --themes-memory 100000   # the themes and mapping stages alone: their peak memory
    python bench/throughput.py --sizes 1000000 --runs 1 --no-incremental   # 1M only (tens of minutes per store)

Every case runs in a fresh process on a fresh store (a new SQLite file, or a new schema in the PostgreSQL
database of --pg-url), so its peak RSS is its own. The cases of one run follow each other (SQLite, PostgreSQL,
then the baseline), so a noisy machine slows them alike: compare the ratios of a run, and the medians.

The baseline is `TextBlobScorer` (the project's fastest TextBlob scorer: TextBlob's lexicon read once into plain
dictionaries, tokens remembered per word) over the same texts on one core. A sync scores with more than TextBlob
(VADER, calibration) in worker processes on every core, so its CPU seconds (its own process and its workers,
not the database server) are printed beside its wall time: what the cores bought.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import feedback, iter_feedback, machine, make_workspace, peak_rss_mb, write_export  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_database(store: str, pg_url: str, folder: Path) -> Iterator[None]:
    """Point reviewbot at a new SQLite file in the workspace, or at a new PostgreSQL schema dropped afterwards."""
    if store == "sqlite":
        os.environ["REVIEWBOT_DATABASE_URL"] = f"sqlite:///{folder / 'reviewbot.db'}"
        yield
        return
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    os.environ["REVIEWBOT_DATABASE_URL"] = f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{schema}"
    try:
        yield
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def cpu_seconds() -> float:
    """User and system CPU of this process and of its finished children (the enrichment workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stop_fork_server() -> None:
    """Stop and reap the workers' fork server, so that their CPU counts among this process's finished children.

    Workers fork from the server, not from this process: until the server is reaped, their CPU is nobody's child
    time here (the bench reported 17 s of CPU for a sync that used 36). `_stop` is CPython's own (tests use it)."""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


def case_sync(n: int, preload: int, store_kind: str, pg_url: str) -> dict[str, Any]:
    """Sync n new items (after `preload` items were synced); times the second sync only when preloading. The texts
    are written to the inbox as they are made: the peak memory measured is the sync's, not a list of the texts."""
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.workflows.sync import run_sync

    texts = iter_feedback(preload + n)
    with tempfile.TemporaryDirectory() as tmp, fresh_database(store_kind, pg_url, Path(tmp)):
        folder = make_workspace(Path(tmp) / "ws")
        settings = load_settings(folder)
        store = Store(settings.db_url)
        if preload:
            write_export(folder / "inbox" / "history.csv", islice(texts, preload))
            run_sync(settings, store)
        write_export(folder / "inbox" / "new.csv", texts, start=preload)
        started, cpu = time.perf_counter(), cpu_seconds()
        report = run_sync(settings, store)
        seconds = time.perf_counter() - started
        stop_fork_server()
        cpu = cpu_seconds() - cpu
        store.dispose()
    assert report.sources["complaints"]["new"] == n, report.sources
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rss_mb": peak_rss_mb(),
        "themes": report.themes["active_themes"],
        "stages": report.timings,
    }


def case_textblob(n: int) -> dict[str, float]:
    """The project's own TextBlob scorer alone over the same texts, on one core."""
    from reviewbot.analysis.sentiment import TextBlobScorer

    texts = feedback(n)
    scorer = TextBlobScorer()
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        scorer.score(text)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "rss_mb": peak_rss_mb()}


def case_ingest(n: int, store_kind: str, pg_url: str) -> dict[str, float]:
    """Only the collect stage (read, redact, score, store) over one n-row file: streaming memory."""
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.workflows.collect import collect
    from reviewbot.workflows.run_summary import NoProgress, SyncReport

    with tempfile.TemporaryDirectory() as tmp, fresh_database(store_kind, pg_url, Path(tmp)):
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


def case_themes(n: int, store_kind: str, pg_url: str) -> dict[str, Any]:
    """Collect n items into a fresh store, then run only the themes and mapping stages: the memory they add
    (peak RSS after resetting the process's peak), their CPU, and a digest of every item's theme and similarity,
    which tells whether a change altered what the stages produce."""
    import hashlib

    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.workflows.collect import collect
    from reviewbot.workflows.mapping import map_themes
    from reviewbot.workflows.policies import load_policies
    from reviewbot.workflows.run_summary import NoProgress, SyncReport
    from reviewbot.workflows.themes import update_themes

    with tempfile.TemporaryDirectory() as tmp, fresh_database(store_kind, pg_url, Path(tmp)):
        folder = make_workspace(Path(tmp) / "ws")
        write_export(folder / "inbox" / "new.csv", iter_feedback(n))
        settings = load_settings(folder)
        store = Store(settings.db_url)
        report = SyncReport()
        load_policies(settings, store, report)
        collect(settings, store, report, NoProgress())
        stop_fork_server()
        before = _reset_peak_rss()
        cpu = time.process_time()
        placed = update_themes(settings, store, report, NoProgress())
        map_themes(settings, store, report, placed)
        cpu = time.process_time() - cpu
        peak = _status_mb("VmHWM")
        with store.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT id, theme_id, theme_similarity FROM feedback_item ORDER BY id")
            digest = hashlib.sha256(repr(rows.all()).encode()).hexdigest()[:12]
        store.dispose()
    themes = report.themes["active_themes"]
    return {"before_mb": before, "peak_mb": peak, "cpu": cpu, "themes": themes, "digest": digest}


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no {field} in /proc/self/status: --themes-memory needs Linux")


def _reset_peak_rss() -> float:
    """Start this process's peak RSS afresh (Linux: clear_refs 5), so it measures what follows; the RSS now."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


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


def _sync_line(n: int, store: str, sync: dict[str, Any], baseline: dict[str, float]) -> str:
    """One sync's figures; wall time against the baseline's, and CPU against its CPU (what a loaded machine
    inflates least: a sync on two busy cores can look fast or slow in wall time, its CPU seconds stay)."""
    return (
        f"N={n:>9,} {store:<10}: sync {sync['seconds']:6.1f}s, CPU {sync['cpu']:6.1f}s "
        f"({n / sync['seconds']:6,.0f} items/s, {sync['themes']} themes)  "
        f"x baseline {sync['seconds'] / baseline['seconds']:4.2f} (CPU {sync['cpu'] / baseline['cpu']:4.2f})  "
        f"peak RSS {sync['rss_mb']:5.0f} MB"
    )


def bench_size(n: int, stores: list[str], runs: int, pg_url: str) -> None:
    """`runs` rounds of a sync on each store and the baseline, back to back; then the medians."""
    seconds: dict[str, list[float]] = {s: [] for s in stores}
    rss: dict[str, list[float]] = {s: [] for s in stores}
    cpu: dict[str, list[float]] = {s: [] for s in stores}
    ratios: list[float] = []
    baselines: list[float] = []
    baseline_cpu: list[float] = []
    for run in range(1, runs + 1):
        syncs = {s: run_case("sync", str(n), "0", s, pg_url) for s in stores}
        baseline = run_case("textblob", str(n))
        baselines.append(baseline["seconds"])
        baseline_cpu.append(baseline["cpu"])
        print(f"run {run}: baseline (TextBlobScorer, one core) {baseline['seconds']:.1f}s, CPU {baseline['cpu']:.1f}s")
        for store, sync in syncs.items():
            seconds[store].append(sync["seconds"])
            cpu[store].append(sync["cpu"])
            rss[store].append(sync["rss_mb"])
            print("  " + _sync_line(n, store, sync, baseline))
            print(f"      stages: {_stages(sync)}")
        if len(stores) == 2:
            ratios.append(syncs[stores[1]]["seconds"] / syncs[stores[0]]["seconds"])
            print(f"  {stores[1]} / {stores[0]}: {ratios[-1]:.2f}")
    base = statistics.median(baselines)
    for store in stores:
        per_run = [s / b for s, b in zip(seconds[store], baselines, strict=True)]
        per_run_cpu = [s / b for s, b in zip(cpu[store], baseline_cpu, strict=True)]
        print(
            f"N={n:>9,} {store:<10} median of {runs}: sync {statistics.median(seconds[store]):.1f}s, "
            f"baseline {base:.1f}s, x baseline {statistics.median(per_run):.2f} (runs: "
            f"{', '.join(f'{r:.2f}' for r in per_run)}); CPU {statistics.median(cpu[store]):.1f}s, "
            f"baseline CPU {statistics.median(baseline_cpu):.1f}s, x baseline CPU "
            f"{statistics.median(per_run_cpu):.2f}; peak RSS {statistics.median(rss[store]):.0f} MB"
        )
    if ratios:
        print(f"N={n:>9,} {stores[1]} / {stores[0]} median {statistics.median(ratios):.2f} (runs: "
              f"{', '.join(f'{r:.2f}' for r in ratios)})")  # fmt: skip


def bench_incremental(stores: list[str], pg_url: str) -> None:
    """1k new items into a store of 100k, against 1k into an empty one, on each store."""
    for store in stores:
        into_full = run_case("sync", "1000", "100000", store, pg_url)
        into_empty = run_case("sync", "1000", "0", store, pg_url)
        full, empty = into_full["seconds"], into_empty["seconds"]
        print(f"incremental 1k {store}: into 100k {full:.2f}s, into empty {empty:.2f}s, ratio {full / empty:.2f}")
        print(f"    stages into 100k: {_stages(into_full)}")
        print(f"    stages into empty: {_stages(into_empty)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--large", action="store_true", help="add 300k and 1M items (minutes per case)")
    parser.add_argument("--runs", type=int, default=3, help="rounds per size; medians are reported")
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default=PG_URL, help="a PostgreSQL database to make a schema per case in")
    parser.add_argument("--no-incremental", action="store_true", help="skip 1k into 100k vs 1k into empty")
    parser.add_argument("--stream", type=int, default=0, help="ingest-only memory check at 100k and this many rows")
    parser.add_argument("--themes-memory", type=int, default=0, help="themes and mapping stages alone, N items")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, *rest = args.case
        result = {
            "sync": lambda: case_sync(int(rest[0]), int(rest[1]), rest[2], rest[3]),
            "textblob": lambda: case_textblob(int(rest[0])),
            "ingest": lambda: case_ingest(int(rest[0]), rest[1], rest[2]),
            "themes": lambda: case_themes(int(rest[0]), rest[1], rest[2]),
        }[kind]()
        print(json.dumps(result))
        return
    print(f"machine: {machine()}")
    if args.stream:
        for store in args.stores:
            for n in (100_000, args.stream):
                r = run_case("ingest", str(n), store, args.pg_url)
                rate = n / r["seconds"]
                print(f"ingest {store:<10} {n:>9,} rows: {r['seconds']:7.1f}s  {rate:9,.0f} rows/s  "
                      f"peak RSS {r['rss_mb']:6.0f} MB")  # fmt: skip
        return
    if args.themes_memory:
        for store in args.stores:
            r = run_case("themes", str(args.themes_memory), store, args.pg_url)
            print(
                f"themes+mapping {args.themes_memory:,} items ({store}): RSS before {r['before_mb']:.0f} MB, "
                f"peak {r['peak_mb']:.0f} MB, CPU {r['cpu']:.1f}s, {r['themes']} themes, placements {r['digest']}"
            )
        return
    sizes = sorted(set(args.sizes) | ({300_000, 1_000_000} if args.large else set()))
    for n in sizes:
        bench_size(n, args.stores, args.runs, args.pg_url)
    if (100_000 in sizes or not sizes) and not args.no_incremental:  # `--sizes` alone: incremental only
        bench_incremental(args.stores, args.pg_url)


if __name__ == "__main__":
    main()
