"""Small workspaces written by tests: a three-section policy and complaint exports about two issues."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlmodel import select

from reviewbot.models import FeedbackItem
from reviewbot.settings import Settings, load_settings
from reviewbot.store import Store
from reviewbot.store.migrate import upgrade
from reviewbot.workflows.collect import collect
from reviewbot.workflows.run_summary import NoProgress, SyncReport

POLICY = """---
id: returns-policy
title: Returns Policy
owner: head-of-cx
approvers: [head-of-cx]
sections:
  refunds:
    keywords: [refund, money back]
---
# Returns Policy

## 1. Refunds
We refund returned items within 5 business days of receiving them, to the original payment method.

## 2. Delivery
Parcels arrive within 3 days. Lost parcels are investigated by the carrier within 48 hours.

## 3. Privacy
We never ask for full card numbers. Data deletion requests are answered within 30 days.
"""

TOML = """
policies_dir = "policies"

[[sources]]
name = "complaints"
type = "files"
kind = "complaint"
path = "inbox/complaints"
columns = {{ id = "id", text = "text", created_at = "created_at" }}

[themes]
min_size = 4

[tickets]
min_items = 5
{extra}

[identity]
admins = ["tester"]

[identity.people]
tester = {{ os_user = "reviewbot-test" }}
"""

REFUND_TEXTS = [
    "Still waiting for my refund after three weeks, you said 5 business days",
    "Where is my refund? Returned the chair a month ago and the refund never came",
    "Refund promised in 5 business days, it has been 20 days, no refund on my bank",
    "My refund has not arrived, the bank says no refund was sent",
    "Refund delay again. Returned item received by you two weeks ago, still no refund",
    "The refund for my lamp is three weeks late, policy says 5 days",
    "I am owed a refund since last month, refund still missing",
    "Why does a refund take four weeks when you say 5 business days?",
]
DELIVERY_TEXTS = [
    "My parcel was lost by the courier and nobody investigates the lost parcel",
    "Lost parcel again, courier says delivered but the parcel never arrived",
    "Parcel marked delivered, not received, courier claim for the lost parcel ignored",
    "The courier lost my parcel, claim open for two weeks with no news",
    "Second lost parcel this month, the courier left it nowhere",
    "Parcel missing, courier tracking says delivered, lost parcel claim pending",
    "Courier lost the parcel with my kettle, still waiting on the claim",
    "Where is my parcel? Courier lost it and the claim goes nowhere",
]


def rows(texts: list[str], prefix: str, day: int = 1) -> list[dict[str, str]]:
    """Export rows for these texts, one a day from 2026-09-<day>."""
    return [
        {"id": f"{prefix}-{i}", "text": text, "created_at": f"2026-09-{day + i % 25:02d} 10:00"}
        for i, text in enumerate(texts)
    ]


def write_csv(path: Path, records: list[dict[str, str]], *, header: bool = True, mode: str = "w") -> None:
    """Write (or append) export rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text", "created_at"])
        if header:
            writer.writeheader()
        writer.writerows(records)


NOTES_SOURCE = """
[[sources]]
name = "notes"
type = "files"
kind = "agent_note"
path = "inbox/notes"
columns = { id = "id", text = "text", created_at = "created_at", author = "agent" }
"""


def write_notes(folder: Path, notes: list[tuple[str, str, str]]) -> None:
    """Agent notes as (id, text, agent)."""
    path = folder / "inbox" / "notes" / "notes.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "created_at", "agent"])
        writer.writerows((i, text, "2026-09-15 12:00", agent) for i, text, agent in notes)


def make_workspace(folder: Path, *, extra_toml: str = "", policy: str = POLICY, notes: bool = False) -> Path:
    """A workspace with the policy, two issues' worth of complaints, and a migrated database."""
    folder.mkdir(parents=True, exist_ok=True)
    toml = TOML.format(extra=extra_toml) + (NOTES_SOURCE if notes else "")
    (folder / "reviewbot.toml").write_text(toml, encoding="utf-8")
    (folder / "policies").mkdir(exist_ok=True)
    (folder / "policies" / "returns.md").write_text(policy, encoding="utf-8")
    write_csv(folder / "inbox" / "complaints" / "export-1.csv", rows(REFUND_TEXTS, "R") + rows(DELIVERY_TEXTS, "D"))
    settings = load_settings(folder)
    store = Store(settings.db_url)
    upgrade(store.engine)
    store.dispose()
    return folder


def open_workspace(folder: Path) -> tuple[Settings, Store]:
    """Settings and store of a workspace."""
    settings = load_settings(folder)
    return settings, Store(settings.db_url)


def run_collect(folder: Path) -> SyncReport:
    """The sync's collect stage on a workspace, as `reviewbot sync` runs it."""
    settings, store = open_workspace(folder)
    report = SyncReport()
    try:
        collect(settings, store, report, NoProgress())
    finally:
        store.dispose()
    return report


def stored_items(folder: Path, source: str) -> list[FeedbackItem]:
    """The feedback items of one source, as stored."""
    _, store = open_workspace(folder)
    try:
        with store.session() as session:
            return list(session.exec(select(FeedbackItem).where(FeedbackItem.source == source)).all())
    finally:
        store.dispose()
