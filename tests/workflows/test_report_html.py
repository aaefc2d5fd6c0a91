"""The data behind `reviewbot report` on a small workspace: themes, sections, tickets and the links between them;
`since` limits the period; sign-off turnaround against the SLA; published versions with their effect."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from reviewbot.models import ReviewTicket
from reviewbot.report.model import Report
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.workflows.curate import merge
from reviewbot.workflows.publish import publish
from reviewbot.workflows.report_html import build_report, week_range
from reviewbot.workflows.review import dismiss, sign, triage
from reviewbot.workflows.sync import run_sync
from tests.workspaces import make_workspace, open_workspace

SYNCED = datetime(2026, 9, 10, 9, 0, tzinfo=UTC)  # the exports hold 2026-09-01 .. 2026-09-08
ROLES = """
[roles]
head-of-cx = ["dana"]
"""


@pytest.fixture
def ws(tmp_path: Path, use_database: str) -> tuple[Settings, Store]:  # type: ignore[misc]
    """The small workspace after one sync on 2026-09-10: a refunds and a delivery theme, a ticket each."""
    folder = make_workspace(tmp_path / "ws", extra_toml=ROLES)
    settings, store = open_workspace(folder)
    with time_machine.travel(SYNCED, tick=False):
        run_sync(settings, store)
    yield settings, store
    store.dispose()


def ticket_on(store: Store, section: str) -> ReviewTicket:
    with store.session() as session:
        return session.exec(select(ReviewTicket).where(ReviewTicket.section_id == section)).one()


def test_themes_sections_and_tickets_link_to_each_other(ws: tuple[Settings, Store]) -> None:
    settings, store = ws
    with time_machine.travel(SYNCED, tick=False):
        report = build_report(settings, store)
    refunds, delivery = ticket_on(store, "refunds"), ticket_on(store, "delivery")

    assert report.totals.items == 16 and report.totals_by_kind == {"complaint": 16}
    assert report.weeks == ["2026-08-31", "2026-09-07"]
    refund_theme = next(t for t in report.themes if t.tickets == [refunds.tracker_ref])
    delivery_theme = next(t for t in report.themes if t.tickets == [delivery.tracker_ref])
    assert refund_theme.scores.items == 8 and delivery_theme.scores.items == 8
    assert sum(refund_theme.weekly) == 8 and len(refund_theme.weekly) == 2
    assert [(s.document_id, s.section_id) for s in refund_theme.sections][0] == ("returns-policy", "refunds")

    sections = {s.section_id: s for s in report.sections}
    assert list(sections) == ["refunds", "delivery", "privacy"]
    assert sections["refunds"].heading == "1. Refunds" and sections["refunds"].published
    assert sections["refunds"].tickets == [refunds.tracker_ref]
    assert refund_theme.id in sections["refunds"].themes and sections["refunds"].scores.items >= 8
    assert sections["privacy"].tickets == [] and sections["privacy"].scores.items == 0

    tickets = {t.ref: t for t in report.tickets}
    row = tickets[refunds.tracker_ref or ""]
    assert (row.theme_id, row.section_id, row.state) == (refund_theme.id, "refunds", "open")
    assert row.items == 8 and row.quotes and row.age_days == 0
    assert report.signoffs == [] and [(v.version, v.tickets, v.effect) for v in report.versions] == [(1, [], None)]


def test_since_limits_feedback_weeks_and_settled_tickets(ws: tuple[Settings, Store]) -> None:
    settings, store = ws
    delivery = ticket_on(store, "delivery").tracker_ref or ""
    with time_machine.travel(SYNCED, tick=False):
        dismiss(store, settings, delivery, "carrier issue, not policy", "dana")
    with time_machine.travel(SYNCED + timedelta(days=3), tick=False):
        everything = build_report(settings, store)
        recent = build_report(settings, store, since=date(2026, 9, 7))  # a Monday: days 7 and 8 of each issue
        later = build_report(settings, store, since=date(2026, 9, 12))

    assert recent.since == date(2026, 9, 7) and recent.weeks == ["2026-09-07"]
    assert recent.totals.items == 4
    assert sorted(t.scores.items for t in recent.themes) == [2, 2]
    assert all(len(t.weekly) == 1 for t in recent.themes)
    # the dismissed ticket changed on 09-10, inside both periods so far
    assert {t.ref for t in recent.tickets} == {t.ref for t in everything.tickets}

    assert later.totals.items == 0 and later.themes == [] and later.weeks == []
    assert all(s.scores.items == 0 for s in later.sections)
    # settled before the period: left out; still open: kept
    assert [t.ref for t in later.tickets] == [ticket_on(store, "refunds").tracker_ref]


def test_signoff_turnaround_against_the_sla(ws: tuple[Settings, Store]) -> None:
    settings, store = ws
    folder = settings.workspace
    refunds, delivery = ticket_on(store, "refunds").tracker_ref or "", ticket_on(store, "delivery").tracker_ref or ""
    with time_machine.travel(SYNCED, tick=False) as clock:
        triage(store, settings, refunds, "dana")
        triage(store, settings, delivery, "dana")
        edit_policy(folder, "within 5 business days", "within 10 business days")
        edit_policy(folder, "within 48 hours", "within 24 hours")
        run_sync(settings, store)  # edited sections of triaged tickets: sign-offs are asked for
        clock.move_to(SYNCED + timedelta(days=1, hours=6))
        sign(store, settings, refunds, "dana", "approve")
        clock.move_to(SYNCED + timedelta(days=4))
        report = build_report(settings, store)

    rows = {r.ticket: r for r in report.signoffs}
    assert report.signoff_sla_days == 3 and sorted(rows) == sorted([refunds, delivery])
    answered, waiting = rows[refunds], rows[delivery]
    assert (answered.days, answered.decision, answered.over_sla, answered.pending) == (1.25, "approve", False, False)
    assert (waiting.days, waiting.decision, waiting.over_sla, waiting.pending) == (4.0, None, True, True)


def test_a_published_version_lists_its_tickets_and_effect(ws: tuple[Settings, Store]) -> None:
    settings, store = ws
    folder = settings.workspace
    refunds, delivery = ticket_on(store, "refunds").tracker_ref or "", ticket_on(store, "delivery").tracker_ref or ""
    with time_machine.travel(SYNCED, tick=False) as clock:
        edit_policy(folder, "within 5 business days", "within 10 business days")
        edit_policy(folder, "within 48 hours", "within 24 hours")
        sign(store, settings, refunds, "dana", "approve")
        sign(store, settings, delivery, "dana", "approve")
        publish(settings, store, "returns-policy", "dana")
        clock.move_to(SYNCED + timedelta(days=2))
        report = build_report(settings, store)

    [v1, v2] = report.versions
    assert (v1.version, v1.tickets, v1.effect) == (1, [], None)
    assert v2.version == 2 and sorted(v2.tickets) == sorted([refunds, delivery])
    assert v2.published_at == SYNCED and v2.published_by == "dana"
    assert v2.effect is not None and v2.effect.window_open
    assert v2.effect.after_end == SYNCED + timedelta(days=settings.impact.after_days)
    cited = {t.theme_id: t for t in v2.effect.themes}
    assert sorted(cited) == sorted({theme_about_ticket(report, refunds), theme_about_ticket(report, delivery)})
    assert all(t.effect.share.before_count == 8 and t.effect.share.after_count == 0 for t in cited.values())
    tickets = {t.ref: t for t in report.tickets}
    assert tickets[refunds].resolved_version == 2 and tickets[refunds].state == "closed"

    data = report.to_dict()
    assert data["versions"][1]["effect"]["window_open"] is True
    assert data["versions"][1]["effect"]["themes"][0]["verdict"] == "too little data"


def theme_about_ticket(report: Report, ref: str) -> int:
    [row] = [t for t in report.tickets if t.ref == ref]
    assert row.theme_id is not None
    return row.theme_id


def edit_policy(folder: Path, old: str, new: str) -> None:
    path = folder / "policies" / "returns.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_ticket_of_a_merged_theme_links_to_the_theme_that_holds_its_items(ws: tuple[Settings, Store]) -> None:
    settings, store = ws
    refunds, delivery = ticket_on(store, "refunds"), ticket_on(store, "delivery")
    assert refunds.theme_id and delivery.theme_id
    with time_machine.travel(SYNCED, tick=False):
        merge(settings, store, delivery.theme_id, [refunds.theme_id], "dana")
        report = build_report(settings, store)

    assert [t.id for t in report.themes] == [delivery.theme_id]
    assert report.themes[0].scores.items == 16
    tickets = {t.ref: t for t in report.tickets}
    assert tickets[refunds.tracker_ref or ""].theme_id == delivery.theme_id
    assert tickets[refunds.tracker_ref or ""].state == "dismissed"
    assert sorted(report.themes[0].tickets) == sorted([refunds.tracker_ref, delivery.tracker_ref])


def test_week_range_fills_quiet_weeks_from_the_period_start() -> None:
    assert week_range("2026-09-14", "2026-09-28", None) == ["2026-09-14", "2026-09-21", "2026-09-28"]
    assert week_range("2026-09-14", "2026-09-14", date(2026, 9, 3)) == ["2026-08-31", "2026-09-07", "2026-09-14"]
    assert week_range(None, None, date(2026, 9, 3)) == []
