"""The effect of a published version on a small workspace with frozen time: a version resolves the refunds and
the delivery tickets; afterwards refund complaints fall and delivery complaints do not. While the after-window
is open the figures are provisional and nobody is told; the first sync after it closes comments the verdict on
each ticket and sends one message, and later syncs add nothing."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import col, select

from reviewbot.models import AuditEvent, OutboxMessage, ReviewTicket, TrackerComment, TrackerIssue
from reviewbot.store import Store
from reviewbot.store.report import resolved_tickets
from reviewbot.workflows.impact import measure
from reviewbot.workflows.publish import publish
from reviewbot.workflows.review import ref_of, sign
from reviewbot.workflows.sync import run_sync
from tests.workspaces import make_workspace, open_workspace, write_csv

EXTRA = """
[review]
reopen_factor = 4            # delivery complaints keep coming; reopening its ticket is not what this is about

[roles]
head-of-cx = ["dana"]

[notifier]
type = "console"
file = "notifications.log"

[[sources]]
name = "surveys"
type = "files"
kind = "survey"
path = "inbox/surveys"
columns = { id = "id", text = "text", created_at = "created_at" }
"""
PRAISE = [  # no words shared with the complaints, so the praise forms no theme with them
    "The oak table looks lovely in our kitchen, great quality wood",
    "Very comfortable sofa, soft cushions and a perfect colour",
    "Beautiful mirror, elegant frame for the hallway",
    "Lovely rug, thick and soft, feels great underfoot",
    "The bookcase was easy to assemble and feels very sturdy",
    "Great mattress, sleeping much better now",
]
# eight distinct texts per issue (tickets count distinct voices), nearly the same words within an issue and
# none shared across issues, so that each issue forms one theme whatever the clustering settles on
REFUNDS = [
    f"Still waiting for my refund for the returned {thing}, you promised a refund in 5 business days"
    for thing in ("chair", "lamp", "stool", "vase", "clock", "shelf", "bench", "desk")
]
LOST_PARCELS = [
    f"The courier lost my parcel with the {thing}, nobody investigates the lost parcel claim"
    for thing in ("kettle", "toaster", "blender", "iron", "fan", "heater", "radio", "speaker")
]
PUBLISHED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)  # the after-window closes 28 days later, 2026-10-29 09:00
MIDWAY = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)


def spread(texts: list[str], count: int, prefix: str, first: datetime, days: int) -> list[dict[str, str]]:
    """`count` export rows cycling through `texts`, spread evenly over `days` days from `first`."""
    return [
        {
            "id": f"{prefix}-{i}",
            "text": texts[i % len(texts)],
            "created_at": (first + timedelta(days=i * days / count)).strftime("%Y-%m-%d %H:%M"),
        }
        for i in range(count)
    ]


def write_feedback(folder: Path, name: str, rows: list[dict[str, str]], surveys: list[dict[str, str]]) -> None:
    write_csv(folder / "inbox" / "complaints" / name, rows)
    path = folder / "inbox" / "surveys" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text", "created_at"])
        writer.writeheader()
        writer.writerows(surveys)


def before_window() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """September: 24 refund and 24 delivery complaints, 60 happy survey answers."""
    start = datetime(2026, 9, 4, 10, 0, tzinfo=UTC)
    complaints = spread(REFUNDS, 24, "R", start, 26) + spread(LOST_PARCELS, 24, "D", start, 26)
    return complaints, spread(PRAISE, 60, "S", start, 26)


def after_window() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """October: 3 refund complaints, 24 delivery complaints (as before), 60 happy survey answers."""
    start = datetime(2026, 10, 2, 10, 0, tzinfo=UTC)
    complaints = spread(REFUNDS[::3], 3, "R2", start, 26) + spread(LOST_PARCELS, 24, "D2", start, 26)
    return complaints, spread(PRAISE, 60, "S2", start, 26)


def split(rows: list[dict[str, str]], at: datetime) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    cut = at.strftime("%Y-%m-%d %H:%M")
    return [r for r in rows if r["created_at"] < cut], [r for r in rows if r["created_at"] >= cut]


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(PUBLISHED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ws(tmp_path: Path, use_database: str, clock) -> Path:  # type: ignore[no-untyped-def]
    folder = make_workspace(tmp_path / "ws", extra_toml=EXTRA)
    (folder / "inbox" / "complaints" / "export-1.csv").unlink()
    write_feedback(folder, "september.csv", *before_window())
    return folder


def sync(folder: Path):  # type: ignore[no-untyped-def]
    settings, store = open_workspace(folder)
    return settings, store, run_sync(settings, store)


def ticket_on(store: Store, section: str) -> ReviewTicket:
    with store.session() as session:
        return session.exec(select(ReviewTicket).where(ReviewTicket.section_id == section)).one()


def edit_policy(folder: Path, old: str, new: str) -> None:
    path = folder / "policies" / "returns.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def messages(folder: Path, kind: str) -> list[str]:
    """Every message of a kind the console notifier wrote, in full."""
    log = folder / "notifications.log"
    if not log.exists():
        return []
    blocks = log.read_text(encoding="utf-8").split("\n\n")
    return [b.strip() for b in blocks if b.startswith(f"[{kind}]")]


def impact_comments(store: Store) -> dict[str, str]:
    """Tracker issue key -> body of the impact comments on the built-in tracker."""
    with store.session() as session:
        rows = session.exec(select(TrackerComment).where(col(TrackerComment.marker).contains(":impact:")))
        return {c.issue_key: c.body for c in rows}


def publish_version_2(folder: Path) -> tuple[str, str]:
    """Approve the refunds and delivery tickets after editing their sections, and publish; returns their refs."""
    settings, store, _ = sync(folder)
    refunds, delivery = ticket_on(store, "refunds").tracker_ref, ticket_on(store, "delivery").tracker_ref
    assert refunds and delivery
    edit_policy(folder, "within 5 business days", "within 10 business days")
    edit_policy(folder, "within 48 hours", "within 24 hours")
    sign(store, settings, refunds, "dana", "approve")
    sign(store, settings, delivery, "dana", "approve")
    result = publish(settings, store, "returns-policy", "dana")
    assert result.version == 2 and sorted(result.resolved) == sorted([refunds, delivery])
    return refunds, delivery


def test_effect_is_reported_once_after_the_window_closes(ws: Path, clock) -> None:  # type: ignore[no-untyped-def]
    refunds, delivery = publish_version_2(ws)
    complaints, surveys = after_window()
    (early, late), (early_s, late_s) = split(complaints, MIDWAY), split(surveys, MIDWAY)

    clock.move_to(MIDWAY)
    write_feedback(ws, "october-1.csv", early, early_s)
    settings, store, report = sync(ws)
    assert report.review["impact_reports"] == 0
    assert messages(ws, "impact") == [] and impact_comments(store) == {}
    [provisional] = measure(settings, store, "returns-policy", 2)
    assert provisional.window_open and provisional.after_end == PUBLISHED + timedelta(days=28)

    clock.move_to(datetime(2026, 10, 29, 10, 0, tzinfo=UTC))
    write_feedback(ws, "october-2.csv", late, late_s)
    _, _, report = sync(ws)
    assert report.review["impact_reports"] == 1

    [sent] = messages(ws, "impact")
    assert sent.startswith("[impact] Effect of Returns Policy version 2: 1 improved, 1 no change\n")
    assert "Feedback 28 days before vs 28 days after publishing on 2026-10-01:" in sent
    refund_line = next(line for line in sent.splitlines() if line.endswith(f"({refunds})"))
    assert refund_line.startswith("- improved: ")
    assert "was 22.2% of all feedback before and 3.4% after (24/108 -> 3/87, p < 0.001, fell)" in refund_line
    delivery_line = next(line for line in sent.splitlines() if line.endswith(f"({delivery})"))
    assert delivery_line.startswith("- no change: ") and "(24/108 -> 24/87, p = " in delivery_line

    comments = impact_comments(store)
    assert sorted(comments) == sorted([refunds, delivery])
    assert comments[refunds].startswith(
        "Effect of Returns Policy version 2 (28 days before vs 28 days after publishing on 2026-10-01): improved: "
    )
    assert comments[delivery].split("): ", 1)[1].startswith("no change: ")

    # later syncs change nothing: no second message, no second comment, one audit entry
    _, _, again = sync(ws)
    clock.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    _, _, later = sync(ws)
    assert again.review["impact_reports"] == 0 and later.review["impact_reports"] == 0
    assert len(messages(ws, "impact")) == 1 and impact_comments(store) == comments
    with store.session() as session:
        keys = [m.key for m in session.exec(select(OutboxMessage).where(col(OutboxMessage.key).contains("impact:")))]
        audited = session.exec(select(AuditEvent).where(AuditEvent.action == "impact")).all()
    assert len(keys) == 3  # one message, two comments
    assert [e.detail for e in audited] == ["version 2: 1 improved, 1 no change"]


def test_measure_counts_only_the_windows(ws: Path, clock) -> None:  # type: ignore[no-untyped-def]
    refunds, _ = publish_version_2(ws)
    # refund complaints long before the before-window do not count
    old = spread(REFUNDS, 12, "R-old", datetime(2026, 8, 1, 10, 0, tzinfo=UTC), 20)
    write_csv(ws / "inbox" / "complaints" / "august.csv", old)
    clock.move_to(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    write_feedback(ws, "october.csv", *after_window())
    settings, store, _ = sync(ws)

    [impact] = measure(settings, store, "returns-policy", 2)
    assert not impact.window_open and impact.before_start == PUBLISHED - timedelta(days=28)
    refund = next(t for t in impact.themes if t.tickets == [refunds])
    share = refund.effect.share
    assert (share.before_count, share.before_total, share.after_count, share.after_total) == (24, 108, 3, 87)
    assert refund.verdict == "improved"
    # version 1 resolved nothing: without a version, only versions with something to measure are listed
    assert [v.version for v in measure(settings, store, "returns-policy")] == [2]
    assert measure(settings, store, "returns-policy", 1)[0].themes == []


def test_cli_impact(ws: Path, clock, cli) -> None:  # type: ignore[no-untyped-def]
    refunds, delivery = publish_version_2(ws)
    clock.move_to(MIDWAY)
    early, early_s = (split(rows, MIDWAY)[0] for rows in after_window())
    write_feedback(ws, "october-1.csv", early, early_s)
    sync(ws)

    shown = cli(f"-w {ws} policy impact returns-policy 2")
    assert shown.code == 0, shown.stderr
    assert "Returns Policy version 2: 28 days before vs 28 days after publishing on 2026-10-01" in shown.stdout
    assert "after-window still open until 2026-10-29 09:00 UTC" in shown.stdout
    assert refunds in shown.stdout and delivery in shown.stdout

    clock.move_to(datetime(2026, 10, 30, 9, 0, tzinfo=UTC))
    write_feedback(ws, "october-2.csv", *(split(rows, MIDWAY)[1] for rows in after_window()))
    sync(ws)
    table = cli(f"-w {ws} policy impact returns-policy")
    assert table.code == 0 and "still open" not in table.stdout
    refund_row = next(line for line in table.stdout.splitlines() if refunds in line)
    assert "22.2% (24/108)" in refund_row and "3.4% (3/87)" in refund_row and "improved" in refund_row

    data = json.loads(cli(f"-w {ws} policy impact returns-policy 2 --json").stdout)
    [version] = data["versions"]
    assert version["version"] == 2 and version["window_open"] is False
    assert version["verdicts"] == {"improved": 1, "no change": 1}
    by_ticket = {t["tickets"][0]: t for t in version["themes"]}
    assert by_ticket[refunds]["verdict"] == "improved" and by_ticket[delivery]["verdict"] == "no change"
    assert by_ticket[refunds]["share"]["after_count"] == 3 and by_ticket[refunds]["share"]["p_value"] < 0.001

    # the resolved ticket answers it too: `tickets show` has the verdict of the version that resolved it
    shown = " ".join(cli(f"-w {ws} tickets show {refunds}").stdout.split())
    assert "Effect of version 2 (28 days before vs 28 days after publishing on 2026-10-01): improved: " in shown
    assert "(24/108 -> 3/87, p < 0.001, fell)" in shown
    effect = json.loads(cli(f"-w {ws} tickets show {delivery} --json").stdout)["effect"]
    assert (effect["version"], effect["verdict"], effect["window_open"]) == (2, "no change", False)
    assert json.loads(cli(f"-w {ws} tickets show {refunds} --json").stdout)["effect"]["share"]["after_count"] == 3

    nothing = cli(f"-w {ws} policy impact returns-policy 1")
    assert nothing.code == 0 and "resolved no ticket with a theme: nothing to measure" in nothing.stdout
    unknown = cli(f"-w {ws} policy impact returns-policy 7")
    assert unknown.code == 1 and "returns-policy has no version 7" in unknown.stderr
    assert "versions 1-2 exist" in unknown.stderr
    missing = cli(f"-w {ws} policy impact no-such-policy")
    assert missing.code == 1 and "no policy document 'no-such-policy'" in missing.stderr


def test_a_version_keeps_its_themes_when_a_later_one_resolves_the_ticket_again(  # type: ignore[no-untyped-def]
    ws: Path, clock, monkeypatch
) -> None:
    """The delivery change did nothing, the complaints grew back and reopened its ticket, and version 3 tries
    again: version 2's effect still counts the delivery theme, and version 3 measures it too."""
    monkeypatch.setenv("REVIEWBOT_REVIEW__REOPEN_FACTOR", "1.5")
    _, delivery = publish_version_2(ws)
    clock.move_to(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    write_feedback(ws, "october.csv", *after_window())
    settings, store, report = sync(ws)
    assert report.tickets["reopened"] == 1 and ticket_on(store, "delivery").state == "open"

    edit_policy(ws, "within 24 hours", "within 12 hours")
    sign(store, settings, delivery, "dana", "approve")
    assert publish(settings, store, "returns-policy", "dana").resolved == [delivery]

    [second] = measure(settings, store, "returns-policy", 2)
    assert delivery in [ref for theme in second.themes for ref in theme.tickets]
    assert second.verdicts() == {"improved": 1, "no change": 1}
    [third] = measure(settings, store, "returns-policy", 3)
    assert [theme.tickets for theme in third.themes] == [[delivery]]
    with store.session() as session:
        resolved = resolved_tickets(session)
    # the report's versions table lists it under both versions
    assert delivery in [ref_of(t) for t in resolved[("returns-policy", 2)]]
    assert [ref_of(t) for t in resolved[("returns-policy", 3)]] == [delivery]


def test_a_later_version_inside_the_after_window_is_named(ws: Path, clock, cli) -> None:  # type: ignore[no-untyped-def]
    """Version 3 came out two weeks after version 2: version 2's after figures hold its changes too, and both the
    message and `policy impact` say so instead of crediting version 2 alone."""
    publish_version_2(ws)
    clock.move_to(MIDWAY)
    edit_policy(ws, "within 30 days", "within 14 days")
    settings, store, _ = sync(ws)
    assert publish(settings, store, "returns-policy", "dana").version == 3
    clock.move_to(datetime(2026, 10, 29, 10, 0, tzinfo=UTC))
    write_feedback(ws, "october.csv", *after_window())
    sync(ws)

    note = "version 3 (2026-10-15) was published inside this after-window: the after figures include its changes too"
    [sent] = messages(ws, "impact")
    assert sent.splitlines()[-1] == f"Note: {note}."
    shown = cli(f"-w {ws} policy impact returns-policy 2", columns=80).stdout
    assert f"Note: {note}." in " ".join(shown.split())
    data = json.loads(cli(f"-w {ws} policy impact returns-policy --json").stdout)
    [version] = data["versions"]  # version 3 resolved no ticket: nothing of its own to measure
    assert version["later_versions_in_window"] == [{"version": 3, "published_at": "2026-10-15T09:00:00+00:00"}]
    assert cli(f"-w {ws} report --out {ws / 'report.html'}").code == 0
    assert f"Note: {note}." in (ws / "report.html").read_text(encoding="utf-8")  # the report says so too


def test_a_change_that_did_not_help_is_reopened_and_tried_again(ws: Path, clock, cli) -> None:  # type: ignore[no-untyped-def]
    """Version 2 left delivery complaints where they were ("no change"). Its owner reopens the closed ticket (it
    would otherwise wait for the theme to grow by half), and version 3 tries again: both versions measure it."""
    _, delivery = publish_version_2(ws)
    clock.move_to(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    write_feedback(ws, "october.csv", *after_window())
    settings, store, _ = sync(ws)
    assert ticket_on(store, "delivery").state == "closed"  # reopen_factor 4: growth alone would not reopen it

    refused = cli(f"-w {ws} tickets reopen {delivery}")
    assert refused.code == 2 and "--reason" in refused.stderr
    reopened = cli(f'-w {ws} tickets reopen {delivery} --reason "no change after version 2"')
    assert reopened.code == 0 and reopened.stdout.strip() == f"{delivery} is open again"
    ticket = ticket_on(store, "delivery")
    assert ticket.state == "open" and ticket.state_reason == "reopened by tester: no change after version 2"
    with store.session() as session:
        issue = session.exec(select(TrackerIssue).where(TrackerIssue.key == delivery)).one()
    assert issue.status == "open"  # the tracker's issue left its done status too
    again = cli(f'-w {ws} tickets reopen {delivery} --reason "twice"')
    assert again.code == 1 and f"ticket {delivery} is open; only a closed ticket is reopened" in again.stderr

    edit_policy(ws, "within 24 hours", "within 12 hours")
    sign(store, settings, delivery, "dana", "approve")
    assert publish(settings, store, "returns-policy", "dana").resolved == [delivery]
    [second] = measure(settings, store, "returns-policy", 2)
    [third] = measure(settings, store, "returns-policy", 3)
    assert delivery in [ref for theme in second.themes for ref in theme.tickets]
    assert [theme.tickets for theme in third.themes] == [[delivery]]
