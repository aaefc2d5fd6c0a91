"""Exactly one Jira issue per ticket under every fault the issue tracker can throw at a create, and one bad ticket
holding up no other: whole syncs through the real `jira` client against the stand-in with scripted failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from reviewbot.models import AuditEvent, OutboxMessage
from reviewbot.workflows.deliver import deliver, record_create
from tests.connectors.jira_helpers import CREATE, issues_per_fingerprint, jira_workspace, sync, tickets
from tests.standins.jira_server import Fault, JiraStandIn
from tests.workspaces import open_workspace

pytestmark = pytest.mark.usefixtures("no_sleep")
GET_ISSUE = r"/rest/api/2/issue/[^/]+$"


class Killed(BaseException):
    """The process dying: nothing after it runs, no `except Exception` sees it."""


def exactly_one_issue_per_ticket(folder: Path, jira: JiraStandIn) -> None:
    filed = tickets(folder)
    assert len(jira.issues) == len(filed) == 2
    assert set(issues_per_fingerprint(jira).values()) == {1}
    assert {t.tracker_ref for t in filed} == set(jira.issues)


def create_messages(folder: Path) -> list[OutboxMessage]:
    _, store = open_workspace(folder)
    with store.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.action == "create")))


@pytest.mark.parametrize("kind", ["429", "503", "404"])
def test_a_failing_read_after_the_create_sends_no_second_post(ws: Path, jira: JiraStandIn, kind: str) -> None:
    # The client's default create_issue(prefetch=True) GETs the new issue; a 429/503 there retried the whole call
    # (a second POST), a 404 there (Jira not yet consistent) made a created issue look failed.
    jira.faults.append(Fault("GET", GET_ISSUE, kind, times=3))
    _, report = sync(ws)
    assert report.errors == [] and jira.created() == 2
    _, again = sync(ws)
    assert again.errors == [] and jira.created() == 2
    exactly_one_issue_per_ticket(ws, jira)


@pytest.mark.parametrize("status", ["500", "502", "504"])
def test_a_create_answered_with_a_server_error_is_searched_for_not_sent_again(
    ws: Path, jira: JiraStandIn, status: str
) -> None:
    jira.faults.append(Fault("POST", CREATE, f"status_after_write:{status}"))  # Jira applied it, the answer failed
    _, first = sync(ws)
    assert any("outcome is unknown" in e for e in first.errors)
    assert [m.status for m in create_messages(ws)].count("unknown") == 1
    _, second = sync(ws)
    assert second.errors == [] and jira.created() == 2
    exactly_one_issue_per_ticket(ws, jira)


def test_a_failed_remote_link_keeps_the_key_and_is_added_later(ws: Path, jira: JiraStandIn) -> None:
    jira.faults.append(Fault("POST", r"/remotelink$", "400", times=2))
    _, first = sync(ws)
    assert sum("remote" in e or "link" in e for e in first.errors) == 2
    assert all(t.tracker_ref in jira.issues for t in tickets(ws))  # both keys saved despite the failed links
    assert {m.status for m in create_messages(ws)} == {"failed"}  # not unknown: no waiting, no search
    _, second = sync(ws)
    assert second.errors == [] and jira.created() == 2
    assert all(len(jira.remote_links[key]) == 1 for key in jira.issues)
    exactly_one_issue_per_ticket(ws, jira)


def test_a_process_killed_between_the_post_and_saving_the_key_waits_out_the_search_lag(
    tmp_path: Path, use_database: str, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = jira_workspace(tmp_path / "ws", jira, monkeypatch, settle=60)
    jira.search_lag_seconds = 30  # Jira Cloud's search does not see a new issue for a while

    def killed(*args: object, **kwargs: object) -> None:
        raise Killed

    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        monkeypatch.setattr("reviewbot.workflows.deliver.record_create", killed)
        with pytest.raises(Killed):
            sync(folder)
        monkeypatch.setattr("reviewbot.workflows.deliver.record_create", record_create)  # a new process
        assert len(jira.issues) == 1 and all(t.tracker_ref is None for t in tickets(folder))
        assert [m.status for m in create_messages(folder)].count("unknown") == 1  # marked before the POST

        clock.move_to(start + timedelta(seconds=20))  # search still blind: creating now would duplicate
        _, waiting = sync(folder)
        assert waiting.delivery["waiting"] == 1 and len(jira.issues) == 2

        clock.move_to(start + timedelta(seconds=61))
        _, settled = sync(folder)
        assert settled.errors == [] and settled.delivery["waiting"] == 0
    assert jira.created() == 2
    exactly_one_issue_per_ticket(folder, jira)


def test_one_ticket_refused_by_jira_stops_no_other(ws: Path, jira: JiraStandIn) -> None:
    jira.faults.append(Fault("POST", CREATE, "400"))
    _, first = sync(ws)
    [error] = first.errors
    assert "tracker (jira)" in error and "400" in error and "The request was malformed." in error  # Jira's reason
    assert len(jira.issues) == 1 and first.delivery["sent"] == 2  # the other ticket and the digest went out
    assert sorted(m.status for m in create_messages(ws)) == ["failed", "sent"]  # refused: nothing to wait for
    _, second = sync(ws)
    assert second.errors == []
    exactly_one_issue_per_ticket(ws, jira)


def test_a_missing_component_fails_its_ticket_alone_and_doctor_says_so(
    tmp_path: Path, use_database: str, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewbot.workflows.doctor import run_checks

    folder = jira_workspace(tmp_path / "ws", jira, monkeypatch)
    toml = folder / "reviewbot.toml"
    toml.write_text(toml.read_text().replace('section_field = "customfield_10042"', 'section_field = "components"'))
    [components] = [c for c in run_checks(open_workspace(folder)[0]) if c.name == "Jira components"]
    assert not components.ok and "delivery, privacy" in components.detail  # "refunds" matches "Refunds"
    assert "create_components" in (components.hint or "")

    _, first = sync(folder)
    [error] = first.errors
    assert "section 'delivery' has no component 'delivery' in project POL" in error
    [issue] = jira.issues.values()
    assert [c["name"] for c in issue["fields"]["components"]] == ["Refunds"]
    assert jira.created() == 1  # the refused one never reached Jira

    toml.write_text(toml.read_text().replace('project = "POL"', 'project = "POL"\ncreate_components = true'))
    assert all(c.ok for c in run_checks(open_workspace(folder)[0]) if c.name.startswith("Jira"))
    _, second = sync(folder)
    assert second.errors == [] and "delivery" in [name for _, name in jira.components]
    exactly_one_issue_per_ticket(folder, jira)
    delivery = next(t for t in tickets(folder) if t.section_id == "delivery")
    assert [c["name"] for c in jira.issues[delivery.tracker_ref or ""]["fields"]["components"]] == ["delivery"]
    _, third = sync(folder)  # the component names its section: nothing moves
    assert third.errors == [] and third.tracker["moved"] == 0


def test_a_deleted_issue_fails_its_own_update_only(ws: Path, jira: JiraStandIn) -> None:
    from reviewbot.workflows.review import triage

    sync(ws)
    settings, store = open_workspace(ws)
    first, second = tickets(ws)
    triage(store, settings, first.tracker_ref or "", "dana")
    triage(store, settings, second.tracker_ref or "", "dana")
    del jira.issues[first.tracker_ref or ""]  # deleted in Jira by an admin
    result = deliver(settings, store)
    assert result.counts["sent"] == 1 and result.counts["failed"] == 1
    [error] = result.errors
    assert first.tracker_ref in error or "404" in error
    assert any("Triaged by dana" in c["body"] for c in jira.comments[second.tracker_ref or ""])


def test_a_duplicate_is_reported_and_audited_once(
    tmp_path: Path, use_database: str, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = jira_workspace(tmp_path / "ws", jira, monkeypatch, settle=0)  # no patience: search lag wins
    jira.search_lag = 3
    jira.faults.append(Fault("POST", CREATE, "drop_after_write"))
    reports = [sync(folder)[1] for _ in range(5)]
    assert sum(len(r.duplicates) for r in reports) == 1
    store = open_workspace(folder)[1]
    with store.session() as session:
        audits = session.exec(select(AuditEvent).where(AuditEvent.action == "duplicates")).all()
    assert len(audits) == 1 and len(jira.links) == 1
