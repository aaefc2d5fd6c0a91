"""A workspace that switches from the built-in tracker to Jira: its tickets still under review are filed in Jira
at the next sync, its finished ones keep their built-in issue, and no built-in key (RB-5) is ever sent to Jira,
where a project RB would make it someone else's issue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import update
from sqlmodel import select

from reviewbot.errors import NotFoundError
from reviewbot.models import AuditEvent, OutboxMessage, ReviewTicket
from reviewbot.workflows.deliver import deliver
from reviewbot.workflows.doctor import run_checks
from reviewbot.workflows.review import comment_on_tracker, dismiss, load
from tests.connectors.jira_helpers import TOKEN, issues_per_fingerprint, jira_workspace, sync, tickets
from tests.standins.jira_server import JiraStandIn
from tests.workspaces import make_workspace, open_workspace

pytestmark = pytest.mark.usefixtures("no_sleep")


@pytest.fixture
def builtin(tmp_path: Path, use_database: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace that filed its two tickets in the built-in tracker (RB-1, RB-2)."""
    monkeypatch.setenv("REVIEWBOT_JIRA_TOKEN", TOKEN)
    folder = make_workspace(tmp_path / "ws")
    sync(folder)
    assert sorted(t.tracker_ref or "" for t in tickets(folder)) == ["RB-1", "RB-2"]
    return folder


def switch_to_jira(folder: Path, jira: JiraStandIn) -> None:
    toml = folder / "reviewbot.toml"
    tracker = f'[tracker]\ntype = "jira"\nserver = "{jira.url}"\nemail = "bot@example.com"\nproject = "POL"\n'
    toml.write_text(toml.read_text() + "\n" + tracker)


def test_switching_to_jira_files_the_open_tickets_there_and_keeps_the_old_keys(
    builtin: Path, jira: JiraStandIn
) -> None:
    first, second = tickets(builtin)
    settings, store = open_workspace(builtin)
    dismiss(store, settings, second.tracker_ref or "", "a carrier matter", "tester")
    switch_to_jira(builtin, jira)
    checks = {c.name: c for c in run_checks(open_workspace(builtin)[0])}
    assert "RB-1" not in checks["tickets in another tracker"].detail
    assert "1 ticket under review" in checks["tickets in another tracker"].detail

    store, report = sync(builtin)
    assert report.errors == [] and report.tickets["refiled"] == 1
    refiled, kept = tickets(builtin)
    assert (refiled.tracker, kept.tracker, kept.tracker_ref) == ("jira", "builtin", "RB-2")
    assert refiled.tracker_ref in jira.issues and len(jira.issues) == 1
    assert jira.issues[refiled.tracker_ref or ""]["fields"]["summary"] == refiled.title
    with store.session() as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "refile")).all()
    assert event.ticket_id == first.id and event.detail.startswith("RB-1 in builtin; filed in jira")

    _, again = sync(builtin)
    assert again.errors == [] and "refiled" not in again.tickets and len(jira.issues) == 1
    assert set(issues_per_fingerprint(jira).values()) == {1}
    assert not any("RB-" in target for _, target, _ in jira.requests)


def test_a_message_about_an_issue_of_the_old_tracker_is_never_sent_to_jira(builtin: Path, jira: JiraStandIn) -> None:
    settings, store = open_workspace(builtin)
    dismiss(store, settings, "RB-2", "a carrier matter", "tester")
    switch_to_jira(builtin, jira)
    sync(builtin)
    settings, store = open_workspace(builtin)
    with store.session() as session:  # e.g. the impact verdict on a finished ticket, weeks later
        comment_on_tracker(session, load(session, "RB-2"), "verdict:RB-2", "Complaints fell by half")
    result = deliver(settings, store)
    assert result.errors == [] and result.counts["skipped"] == 1
    assert not any("RB-" in target for _, target, _ in jira.requests)
    with store.session() as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.key == "tracker.note:verdict:RB-2")).one()
    assert message.status == "skipped" and "RB-2 is an issue of the builtin tracker" in (message.last_error or "")
    assert deliver(settings, store).counts == {"sent": 0, "failed": 0, "waiting": 0}  # not tried again


def test_a_finished_ticket_reopened_by_growth_after_the_switch_is_filed_in_jira(
    builtin: Path, jira: JiraStandIn
) -> None:
    from tests.workspaces import DELIVERY_TEXTS, rows, write_csv

    delivery = next(t for t in tickets(builtin) if t.section_id == "delivery")
    settings, store = open_workspace(builtin)
    dismiss(store, settings, delivery.tracker_ref or "", "carrier issue, not policy", "tester")
    switch_to_jira(builtin, jira)
    _, first = sync(builtin)
    assert first.tickets["refiled"] == 1 and len(jira.issues) == 1  # the other ticket, still under review
    more = [t + " once more" for t in DELIVERY_TEXTS[:6]]
    write_csv(builtin / "inbox" / "complaints" / "more.csv", rows(more, "D-again", day=21))
    _, grown = sync(builtin)
    assert grown.errors == [] and grown.tickets["reopened"] == 1 and grown.tickets["refiled"] == 1
    reopened = next(t for t in tickets(builtin) if t.id == delivery.id)
    assert reopened.state == "open" and reopened.tracker == "jira" and reopened.tracker_ref in jira.issues
    assert any("reopened" in c["body"] for c in jira.comments.get(reopened.tracker_ref or "", []))
    assert not any("RB-" in target for _, target, _ in jira.requests)


@pytest.fixture
def other_site() -> Iterator[JiraStandIn]:
    """A second Jira site with a project POL of its own, whose issue POL-1 is nobody's ticket."""
    with JiraStandIn(deployment="Cloud", project="POL", email="bot@example.com", token=TOKEN) as standin:
        yield standin


def test_moving_to_another_jira_site_refiles_there_and_sends_it_no_old_key(
    tmp_path: Path, use_database: str, jira: JiraStandIn, other_site: JiraStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = jira_workspace(tmp_path / "ws", jira, monkeypatch)
    sync(folder)
    first, second = tickets(folder)
    assert sorted([first.tracker_ref, second.tracker_ref]) == ["POL-1", "POL-2"]
    settings, store = open_workspace(folder)
    dismiss(store, settings, second.tracker_ref or "", "a carrier matter", "tester")
    toml = folder / "reviewbot.toml"
    toml.write_text(toml.read_text().replace(jira.url, other_site.url + "/"))  # same project key, another site
    answer = requests.post(  # the new site's POL-1, filed there by someone else
        f"{other_site.url}/rest/api/2/issue",
        json={"fields": {"project": {"key": "POL"}, "issuetype": {"name": "Task"}, "summary": "Someone else's issue"}},
        auth=("bot@example.com", TOKEN),
        timeout=10,
    )
    assert answer.json()["key"] == "POL-1"
    checks = {c.name: c for c in run_checks(open_workspace(folder)[0])}
    assert "1 ticket under review" in checks["tickets in another tracker"].detail

    store, report = sync(folder)
    assert report.errors == [] and report.tickets["refiled"] == 1
    refiled, kept = tickets(folder)
    assert refiled.tracker_ref == "POL-2" and refiled.tracker_site == f"{other_site.url} POL"
    assert (kept.tracker_ref, kept.tracker_site) == (second.tracker_ref, f"{jira.url} POL")
    assert other_site.issues["POL-1"]["fields"]["summary"] == "Someone else's issue"  # untouched
    assert not any(target.endswith(("/POL-1", "/POL-1/comment")) for _, target, _ in other_site.requests)
    with store.session() as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "refile")).all()
    assert event.detail == f"{first.tracker_ref} in jira ({jira.url} POL); filed in jira ({other_site.url} POL) instead"
    _, again = sync(folder)
    assert again.errors == [] and "refiled" not in again.tickets and len(other_site.issues) == 2
    with store.session() as session:  # POL-2 is now both the old site's dismissed issue and the new site's one
        assert load(session, "POL-2").id == refiled.id  # the one under review, in the tracker used now
    settings, store = open_workspace(folder)
    dismiss(store, settings, str(refiled.id), "a carrier matter too", "tester")
    with store.session() as session, pytest.raises(NotFoundError) as ambiguous:
        load(session, "POL-2")
    assert ambiguous.value.message.startswith("POL-2 names 2 tickets, filed in different trackers: #")
    assert (
        ambiguous.value.hint
        == f"name it by its number, e.g. `reviewbot tickets show {max(refiled.id or 0, kept.id or 0)}`"
    )


def test_moving_to_another_project_of_the_same_site_refiles_there(
    tmp_path: Path, use_database: str, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = jira_workspace(tmp_path / "ws", jira, monkeypatch)
    sync(folder)
    jira.project_key = "OPS"  # the site's project is now OPS; POL is someone else's
    toml = folder / "reviewbot.toml"
    toml.write_text(toml.read_text().replace('project = "POL"', 'project = "OPS"'))
    _, report = sync(folder)
    assert report.errors == [] and report.tickets["refiled"] == 2
    assert sorted(t.tracker_ref or "" for t in tickets(folder)) == ["OPS-3", "OPS-4"]


def test_tickets_filed_before_sites_were_kept_belong_to_the_site_configured_at_the_next_sync(
    tmp_path: Path, use_database: str, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = jira_workspace(tmp_path / "ws", jira, monkeypatch)
    sync(folder)
    _, store = open_workspace(folder)
    with store.session() as session:  # as migration 0007 leaves them
        session.execute(update(ReviewTicket).values(tracker_site=None))
    _, report = sync(folder)
    assert report.errors == [] and "refiled" not in report.tickets and len(jira.issues) == 2
    assert {t.tracker_site for t in tickets(folder)} == {f"{jira.url} POL"}
