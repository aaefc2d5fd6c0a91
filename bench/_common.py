"""Shared pieces of the benchmarks: machine description, realistic feedback, workspaces, memory."""

from __future__ import annotations

import csv
import os
import platform
import random
import resource
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
DEMO = REPO / "config" / "demo" / "inbox"


def machine() -> str:
    """One line about where the figures come from."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.node()} | {platform.system()} {platform.release()} | {cpu} x{os.cpu_count()} | "
        f"Python {platform.python_version()} | SQLite {sqlite3.sqlite_version}"
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def seed_texts() -> list[str]:
    """The demo workspace's own feedback texts: realistic wording to vary."""
    texts: list[str] = []
    for path in sorted(DEMO.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                text = row.get("description") or row.get("comment") or ""
                if len(text) > 15:
                    texts.append(text)
    return texts


_EXTRAS = [
    "order NW-{n}", "ref {n}", "this is the {k} time", "since {d} days", "called on monday", "asked twice",
    "please sort it", "thanks", "really disappointed", "my sister had the same", "again!!", "urgent",
]  # fmt: skip


def feedback(n: int, seed: int = 7) -> list[str]:
    """n distinct, realistic complaint texts: demo texts with words dropped and details added."""
    return list(iter_feedback(n, seed))


def iter_feedback(n: int, seed: int = 7) -> Iterator[str]:
    """`feedback`'s texts one at a time: a bench that writes a million of them to a file need not hold them (a
    list of them in the process that then syncs was counted in the sync's peak memory)."""
    rng = random.Random(seed)
    seeds = seed_texts()
    for i in range(n):
        words = rng.choice(seeds).split()
        if len(words) > 8:
            del words[rng.randrange(len(words))]
        extra = rng.choice(_EXTRAS).format(
            n=100000 + i, k=rng.choice(["second", "third", "fourth"]), d=rng.randint(3, 40)
        )
        words.insert(rng.randrange(len(words) + 1), extra)
        yield " ".join(words)


def write_export(path: Path, texts: Iterable[str], start: int = 0) -> None:
    """A complaints CSV export (id, text, created_at over twelve weeks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "created_at"])
        for i, text in enumerate(texts, start):
            writer.writerow([f"C-{i}", text, f"2026-{9 + (i % 84) // 28:02d}-{1 + i % 28:02d} 10:00"])


WORKSPACE_TOML = """
policies_dir = "policies"

[[sources]]
name = "complaints"
type = "files"
kind = "complaint"
path = "inbox"
columns = { id = "id", text = "text", created_at = "created_at" }
"""


def make_workspace(folder: Path) -> Path:
    """A workspace with the demo policy and an empty inbox, database migrated."""
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.store.migrate import upgrade

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reviewbot.toml").write_text(WORKSPACE_TOML, encoding="utf-8")
    (folder / "policies").mkdir(exist_ok=True)
    policy = (REPO / "config" / "demo" / "policies" / "customer-service-policy.md").read_text(encoding="utf-8")
    (folder / "policies" / "policy.md").write_text(policy, encoding="utf-8")
    (folder / "inbox").mkdir(exist_ok=True)
    store = Store(load_settings(folder).db_url)
    upgrade(store.engine)
    store.dispose()
    return folder
