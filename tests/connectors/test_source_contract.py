"""The contract every Source keeps (files, Zendesk, Slack channel), each built from reviewbot.toml through the
registry and read into a real store the way the sync stores batches: it produces items, their keys are unique, a
second run from the saved cursor adds nothing, new input is read once, and neither a run killed between two batches
nor faults of the network lose or duplicate an item."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import select

import reviewbot.connectors.files
import reviewbot.connectors.slack.source
import reviewbot.connectors.zendesk
from reviewbot.connectors.registry import ConnectorContext, make_source
from reviewbot.models import FeedbackItem
from reviewbot.protocols import Source
from reviewbot.settings import Settings, load_settings
from reviewbot.store import Store
from reviewbot.store.feedback import add_quarantined, get_cursor, save_cursor, upsert_items
from reviewbot.workflows.collect import make_enricher
from tests.standins.slack_api import SlackApiStandIn, SlackFault
from tests.standins.zendesk_api import ZendeskApiStandIn, ZendeskFault

NAME = "contract"
CHANNEL = "C0CONTRACT"


@dataclass
class World:
    """One kind of source with the system it reads: makes input, builds the source, injects network faults."""

    folder: Path
    source_toml: str
    seed: Any  # () -> keys the first run must produce
    add_more: Any  # () -> keys of input added after it
    inject_faults: Any = None  # () -> None; None: this source has no network to fail
    pending_faults: Any = lambda: []  # () -> faults not yet used up

    def settings(self) -> Settings:
        (self.folder / "reviewbot.toml").write_text(f'policies_dir = "policies"\n{self.source_toml}', encoding="utf-8")
        return load_settings(self.folder)

    def source(self) -> Source:
        settings = self.settings()
        return make_source(settings.sources[0], ConnectorContext(settings=settings))


# --- the three worlds --------------------------------------------------------------------------------------------


def files_world(folder: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(reviewbot.connectors.files, "BATCH_SIZE", 3)  # several batches from a small export
    export = folder / "inbox" / "contract" / "export.csv"
    counter = iter(range(1000))

    def write(count: int, mode: str) -> set[str]:
        export.parent.mkdir(parents=True, exist_ok=True)
        ids = [f"F-{next(counter)}" for _ in range(count)]
        with export.open(mode, newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            if mode == "w":
                writer.writerow(["id", "text", "created_at"])
            writer.writerows((i, f"complaint {i}: the refund took weeks", "2026-09-14 10:00") for i in ids)
        return set(ids)

    toml = f"""
[[sources]]
name = "{NAME}"
type = "files"
kind = "complaint"
path = "inbox/contract"
columns = {{ id = "id", text = "text", created_at = "created_at" }}
"""
    return World(folder, toml, seed=lambda: write(7, "w"), add_more=lambda: write(2, "a"))


def zendesk_world(folder: Path, monkeypatch: pytest.MonkeyPatch, zendesk: ZendeskApiStandIn) -> World:
    monkeypatch.setattr(reviewbot.connectors.zendesk, "pause", lambda seconds: None)
    monkeypatch.setenv("REVIEWBOT_ZENDESK_TOKEN", zendesk.token)

    def tickets(count: int, rated: int) -> set[str]:
        ids = [zendesk.add_ticket(f"Complaint {i}: the voucher was refused at the till") for i in range(count)]
        for ticket in ids[:rated]:
            zendesk.rate(ticket, "bad", "nobody could explain the rule")
        return {str(t) for t in ids} | {f"{t}/rating" for t in ids[:rated]}

    def faults() -> None:
        zendesk.faults += [
            ZendeskFault(r"/incremental/", "429", retry_after=5),
            ZendeskFault(r"/incremental/", "drop_mid_body"),
            ZendeskFault(r"/comments", "drop_mid_body", times=2),
            ZendeskFault(r"/satisfaction_ratings/", "429", retry_after=1),
        ]

    toml = f"""
[[sources]]
name = "{NAME}"
type = "zendesk"
kind = "complaint"
subdomain = "acme"
email = "{zendesk.email}"
api_url = "{zendesk.url}"
page_size = 3
"""
    return World(
        folder,
        toml,
        seed=lambda: tickets(6, 2),
        add_more=lambda: tickets(2, 1),
        inject_faults=faults,
        pending_faults=lambda: zendesk.faults,
    )


def slack_world(folder: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackApiStandIn) -> World:
    monkeypatch.setattr(reviewbot.connectors.slack.source, "BATCH_SIZE", 3)
    monkeypatch.setattr("slack_sdk.http_retry.builtin_handlers.time", SimpleNamespace(sleep=lambda seconds: None))
    monkeypatch.setenv("REVIEWBOT_SLACK_BOT_TOKEN", slack.bot_token)
    threads: list[str] = []

    def post(text: str, thread: str | None = None) -> str:
        return f"{CHANNEL}/" + slack.add_message(CHANNEL, text, user="U0TOM", thread_ts=thread)

    def seed() -> set[str]:
        keys = {post(f"note {i}: agents disagree on the price promise") for i in range(5)}
        parent = post("a thread on the returns window")
        threads.append(parent.split("/", 1)[1])
        return keys | {parent} | {post(f"reply {i}: yes", threads[0]) for i in range(3)}

    def more() -> set[str]:
        return {post("one more note on price matching"), post("a late reply", threads[0])}

    def faults() -> None:
        slack.faults += [
            SlackFault("conversations.history", "429", retry_after=3),
            SlackFault("conversations.history", "drop_after_write"),
            SlackFault("conversations.replies", "drop_before"),
            SlackFault("conversations.replies", "429", retry_after=1),
        ]

    toml = f"""
[[sources]]
name = "{NAME}"
type = "slack"
kind = "agent_note"
channel = "{CHANNEL}"
api_url = "{slack.url}"
page_size = 2
retry_backoff = 0
"""
    return World(folder, toml, seed=seed, add_more=more, inject_faults=faults, pending_faults=lambda: slack.faults)


@pytest.fixture(params=["files", "zendesk", "slack"])
def world(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    folder = tmp_path / "ws"
    folder.mkdir()
    if request.param == "files":
        yield files_world(folder, monkeypatch)
    elif request.param == "zendesk":
        with ZendeskApiStandIn() as zendesk:
            yield zendesk_world(folder, monkeypatch, zendesk)
    else:
        with SlackApiStandIn(bot_token="xoxb-contract") as slack:
            yield slack_world(folder, monkeypatch, slack)


# --- storing as the sync does --------------------------------------------------------------------------------------


def ingest(world: World, store: Store, *, stop_after: int | None = None) -> list[str]:
    """Read from the saved cursor, storing each batch with its cursor in one transaction as the sync does; with
    `stop_after`, stop after that many batches, like a run killed between two transactions. Returns the keys read."""
    source, enricher = world.source(), make_enricher(world.settings(), store)
    with store.session() as session:
        cursor = get_cursor(session, NAME)
    keys: list[str] = []
    batches = source.fetch(cursor)
    for number, batch in enumerate(batches, start=1):
        rows = [enricher.enrich(NAME, record) for record in batch.records]
        rejects = [{"file": r.file, "line": r.line, "reason": r.reason, "raw": r.raw} for r in batch.rejects]
        with store.session() as session:
            counts = upsert_items(session, NAME, rows)
            add_quarantined(session, NAME, rejects)
            if batch.cursor:
                save_cursor(session, NAME, batch.cursor, counts.new)
        keys += [record.external_id for record in batch.records]
        if stop_after is not None and number >= stop_after:
            batches.close()  # the generator is abandoned mid-run, as a killed process would leave it
            break
    return keys


def stored(store: Store) -> list[str]:
    with store.session() as session:
        return sorted(session.exec(select(FeedbackItem.external_id).where(FeedbackItem.source == NAME)).all())


# --- the contract ------------------------------------------------------------------------------------------------


def test_a_first_run_produces_every_item_once_with_unique_keys(world: World, store: Store) -> None:
    expected = world.seed()

    keys = ingest(world, store)

    assert len(keys) == len(set(keys)) == len(expected) > 0
    assert set(keys) == expected and stored(store) == sorted(expected)


def test_a_second_run_from_the_saved_cursor_adds_nothing(world: World, store: Store) -> None:
    expected = world.seed()
    ingest(world, store)

    assert ingest(world, store) == []
    assert stored(store) == sorted(expected)


def test_new_input_is_read_once(world: World, store: Store) -> None:
    first = world.seed()
    ingest(world, store)
    more = world.add_more()

    assert sorted(ingest(world, store)) == sorted(more)
    assert ingest(world, store) == []
    assert stored(store) == sorted(first | more)


def test_a_run_killed_between_batches_loses_and_duplicates_nothing(world: World, store: Store) -> None:
    expected = world.seed()

    before = ingest(world, store, stop_after=1)
    after = ingest(world, store)

    assert 0 < len(before) < len(expected)
    assert set(before).isdisjoint(after)  # resumed after the last stored batch, not before it
    assert sorted(before + after) == sorted(expected) == stored(store)


def test_network_faults_mid_run_lose_and_duplicate_nothing(world: World, store: Store) -> None:
    if world.inject_faults is None:
        pytest.skip("local files have no network to fail")
    expected = world.seed()
    world.inject_faults()

    keys = ingest(world, store)

    assert world.pending_faults() == []  # every fault was hit
    assert sorted(keys) == sorted(expected) == stored(store)
