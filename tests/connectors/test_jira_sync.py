"""Review tickets in Jira through whole syncs, driven by the real `jira` client against the local stand-in:
exactly one issue per ticket under every injected fault, no repeated comments, state flowing back, publish
closing the issue, doctor messages, and no token in any output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlmodel import select

from reviewbot.models import OutboxMessage
from reviewbot.workflows.doctor import run_checks
from tests.connectors.jira_helpers import (
    CREATE,
    TOKEN,
    issues_per_fingerprint,
    jira_workspace,
    said,
    sync,
    tickets,
)
from tests.standins.jira_server import Fault, JiraStandIn
from tests.workspaces import open_workspace

pytestmark = pytest.mark.usefixtures("no_sleep")


def test_tickets_become_jira_issues_with_evidence_links_and_labels(ws: Path, jira: JiraStandIn) -> None:
    _, report = sync(ws)
    assert report.errors == [] and report.tickets["created"] == 2
    assert len(jira.issues) == 2 and set(issues_per_fingerprint(jira).values()) == {1}
    refunds = next(t for t in tickets(ws) if t.section_id == "refunds")
    issue = jira.issues[refunds.tracker_ref or ""]
    fields = issue["fields"]
    assert fields["summary"] == refunds.title
    assert "h2. What people said" in fields["description"] and "{quote}" in fields["description"]
    assert "within 5 business days" in fields["description"]
    assert {"reviewbot", f"reviewbot-{refunds.fingerprint}"} <= set(fields["labels"])
    assert fields["customfield_10042"] == "refunds"
    [link] = jira.remote_links[refunds.tracker_ref or ""]
    assert link["object"]["url"].endswith("/publish/returns-policy.html#refunds")
    _, again = sync(ws)
    assert again.errors == [] and len(jira.issues) == 2
    assert sum(len(c) for c in jira.comments.values()) == 0


def test_connection_dropped_after_create_is_found_not_created_again(ws: Path, jira: JiraStandIn) -> None:
    jira.faults.append(Fault("POST", CREATE, "drop_after_write"))
    _, first = sync(ws)
    assert first.status == "partial" and any("outcome is unknown" in e for e in first.errors)
    assert len(jira.issues) == 1  # the write happened although the client saw an error
    _, second = sync(ws)
    assert second.errors == []
    assert set(issues_per_fingerprint(jira).values()) == {1} and len(jira.issues) == 2
    assert all(t.tracker_ref in jira.issues for t in tickets(ws))


def test_unknown_create_waits_for_search_to_catch_up(
    tmp_path: Path, use_database: str, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = jira_workspace(tmp_path / "ws", jira, monkeypatch, settle=120)
    jira.search_lag = 4  # Cloud search does not see a new issue for a while
    jira.faults.append(Fault("POST", CREATE, "drop_after_write"))
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        sync(folder)
        _, waiting = sync(folder)
        assert waiting.delivery["waiting"] == 1 and len(jira.issues) == 2
        clock.move_to(start + timedelta(seconds=121))
        sync(folder)
        sync(folder)
    assert set(issues_per_fingerprint(jira).values()) == {1} and len(jira.issues) == 2


def test_duplicates_are_reported_and_linked(
    tmp_path: Path, use_database: str, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = jira_workspace(tmp_path / "ws", jira, monkeypatch, settle=0)  # no patience: search lag wins
    jira.search_lag = 3
    jira.faults.append(Fault("POST", CREATE, "drop_after_write"))
    sync(folder)
    _, second = sync(folder)
    dupes = [count for count in issues_per_fingerprint(jira).values() if count > 1]
    assert dupes == [2]
    _, third = sync(folder)
    found = second.duplicates + third.duplicates
    assert len(found) == 1 and "linked" in found[0]
    [link] = jira.links
    assert link["type"] == "Duplicate"
    keep = link["outward"]
    assert keep in {t.tracker_ref for t in tickets(folder)}  # the ticket points at the oldest issue
    sync(folder)
    assert len(jira.links) == 1


@pytest.mark.parametrize("kind", ["429", "503"])
def test_rate_limits_are_waited_out_and_retried(ws: Path, jira: JiraStandIn, no_sleep: list[float], kind: str) -> None:
    jira.faults.append(Fault("POST", CREATE, kind, retry_after=7, times=2))
    _, report = sync(ws)
    assert report.errors == [] and len(jira.issues) == 2
    assert no_sleep.count(7.0) == 2


def test_jira_outage_fails_only_the_jira_step_and_nothing_is_lost(ws: Path, jira: JiraStandIn) -> None:
    jira.faults.append(Fault("*", r"/rest/", "503", retry_after=1, times=1000))
    store, report = sync(ws)
    assert report.status == "partial"
    assert report.sources["complaints"]["new"] == 16 and report.tickets["created"] == 2  # the rest ran
    assert any("tracker (jira)" in e and "503" in e for e in report.errors)
    assert report.delivery["sent"] == 1  # the digest went out; the tracker's messages wait
    with store.session() as session:
        waiting = session.exec(select(OutboxMessage).where(OutboxMessage.target == "tracker")).all()
    assert {m.status for m in waiting} <= {"failed", "pending"} and len(waiting) == 2
    jira.faults.clear()
    _, recovered = sync(ws)
    assert recovered.errors == [] and len(jira.issues) == 2
    assert set(issues_per_fingerprint(jira).values()) == {1}


def test_evidence_changes_and_sign_offs_become_comments_once(ws: Path, jira: JiraStandIn) -> None:
    from reviewbot.workflows.review import triage
    from tests.workspaces import rows, write_csv

    sync(ws)
    late = rows(["My refund is three weeks late, refund missing"], "R9", day=22)
    write_csv(ws / "inbox" / "complaints" / "more.csv", late)
    _, report = sync(ws)
    assert report.tickets["updated"] == 1
    refunds = next(t for t in tickets(ws) if t.section_id == "refunds")
    ref = refunds.tracker_ref or ""
    settings, store = open_workspace(ws)
    triage(store, settings, ref, "dana")
    sync(ws)
    sync(ws)
    bodies = [said(c["body"]) for c in jira.comments[ref]]
    assert len(bodies) == 2 and bodies[0].startswith("+1 items (now 9)") and bodies[1] == "Triaged by dana"


def test_status_changed_in_jira_shows_up_after_the_next_sync(ws: Path, jira: JiraStandIn, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    sync(ws)
    refunds, delivery = sorted(tickets(ws), key=lambda t: t.section_id or "")[::-1]
    jira.set_status(refunds.tracker_ref or "", "Won't Do")
    jira.set_status(delivery.tracker_ref or "", "Accepted")
    _, report = sync(ws)
    assert report.tracker == {"pulled": 2, "changed": 2, "moved": 0}
    monkeypatch.chdir(ws)
    listed = {t["tracker_ref"]: t["state"] for t in json.loads(cli("tickets list --json").stdout)}
    assert listed == {refunds.tracker_ref: "dismissed", delivery.tracker_ref: "triaged"}
    _, again = sync(ws)
    assert again.tracker == {"pulled": 2, "changed": 0, "moved": 0}
    assert next(t for t in tickets(ws) if t.id == refunds.id).state == "dismissed"  # not reopened by a stale status


def test_publish_moves_the_issue_to_done_with_the_version(ws: Path, jira: JiraStandIn) -> None:
    from reviewbot.workflows.publish import publish
    from reviewbot.workflows.review import sign

    sync(ws)
    settings, store = open_workspace(ws)
    refunds = next(t for t in tickets(ws) if t.section_id == "refunds")
    ref = refunds.tracker_ref or ""
    policy = ws / "policies" / "returns.md"
    policy.write_text(policy.read_text().replace("within 5 business days", "within 10 business days"))
    assert "is approved" in sign(store, settings, ref, "dana", "approve")
    result = publish(settings, store, "returns-policy", "dana")
    assert result.errors == []
    assert jira.issues[ref]["fields"]["status"]["name"] == "Done"
    assert any("Published in version 2 of returns-policy" in said(c["body"]) for c in jira.comments[ref])
    assert any(said(c["body"]).startswith("Approved by dana") for c in jira.comments[ref])
    urls = [link["object"]["url"] for link in jira.remote_links[ref]]
    assert any(u.endswith("/publish/returns-policy-v2.html#refunds") for u in urls)
    _, later = sync(ws)
    assert later.errors == [] and later.tracker["changed"] == 0


def test_doctor_says_how_to_fix_jira_problems(ws: Path, jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, _ = open_workspace(ws)
    checks = {c.name: c for c in run_checks(settings)}
    assert checks["Jira credentials"].ok and checks["Jira project"].ok and checks["Jira done status"].ok

    monkeypatch.setenv("REVIEWBOT_JIRA_TOKEN", "wrong-token")
    [failed] = [c for c in run_checks(open_workspace(ws)[0]) if not c.ok]
    assert "401" in failed.detail and "REVIEWBOT_JIRA_TOKEN" in (failed.hint or "")

    monkeypatch.setenv("REVIEWBOT_JIRA_TOKEN", TOKEN)
    toml = ws / "reviewbot.toml"
    toml.write_text(toml.read_text().replace('project = "POL"', 'project = "NOPE"'))
    failed = [c for c in run_checks(open_workspace(ws)[0]) if not c.ok]
    assert [c.name for c in failed] == ["Jira project"] and "NOPE" in failed[0].detail

    toml.write_text(toml.read_text().replace('project = "NOPE"', 'project = "POL"\ndone_transition = "Shipped"'))
    failed = [c for c in run_checks(open_workspace(ws)[0]) if not c.ok]
    assert [c.name for c in failed] == ["Jira done status"] and "Done" in (failed[0].hint or "")


def test_a_403_names_every_permission_the_readme_asks_for(ws: Path, jira: JiraStandIn) -> None:
    jira.faults.append(Fault("*", r"/rest/api/2/myself", "403", times=1))
    [failed] = [c for c in run_checks(open_workspace(ws)[0]) if not c.ok]
    for permission in ("Browse Projects", "Create", "Transition", "Link", "Resolve", "Assign", "Add Comments"):
        assert permission in (failed.hint or ""), permission
    assert "Browse users and groups" in (failed.hint or "")


@pytest.mark.usefixtures("no_sleep")
def test_doctor_tells_a_wrong_server_and_a_rate_limit_from_a_wrong_project(ws: Path, jira: JiraStandIn) -> None:
    # A server URL with a path Jira does not serve answers 404 to every call, the server info first.
    jira.faults.append(Fault("*", r"/rest/api/2/serverInfo", "404", times=1))
    [failed] = [c for c in run_checks(open_workspace(ws)[0]) if not c.ok]
    assert failed.name == "Jira reachable" and "404" in failed.detail
    assert "/browse/" in (failed.hint or "") and "set project" not in (failed.hint or "")

    jira.faults.append(Fault("*", r"/rest/api/2/serverInfo", "429", retry_after=0, times=20))
    [failed] = [c for c in run_checks(open_workspace(ws)[0]) if not c.ok]
    jira.faults.clear()
    assert "429" in failed.detail and "rate-limiting" in (failed.hint or "")
    assert "network" not in (failed.hint or "")

    jira.faults.append(Fault("*", r"/rest/api/2/project/POL$", "404", times=1))
    [failed] = [c for c in run_checks(open_workspace(ws)[0]) if not c.ok]
    assert (failed.name, failed.detail) == ("Jira project", "no project POL")


def test_a_sync_to_a_project_jira_lacks_says_so_once_and_holds_the_rest(ws: Path, jira: JiraStandIn) -> None:
    toml = ws / "reviewbot.toml"
    toml.write_text(toml.read_text().replace('project = "POL"', 'project = "NOPE"'))
    _, report = sync(ws)
    tracker_errors = [e for e in report.errors if "NOPE" in e]
    assert tracker_errors and all("check project in [tracker]" in e for e in tracker_errors)
    assert len(tracker_errors) <= 2  # held back after the first, not one per ticket
    assert jira.issues == {}


def test_no_output_or_log_line_carries_the_token(ws: Path, jira: JiraStandIn, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ws)
    monkeypatch.setenv("REVIEWBOT_JIRA_TOKEN", "wrong-" + TOKEN)
    outputs = [cli("-vv sync"), cli("doctor"), cli("config show"), cli("-vv tickets list")]
    assert outputs[0].code == 1 and "401" in outputs[0].stderr
    assert "REVIEWBOT_JIRA_TOKEN" in outputs[1].stdout
    for result in outputs:
        assert TOKEN not in result.stdout + result.stderr


def test_a_moved_ticket_moves_its_jira_issue(ws: Path, jira: JiraStandIn) -> None:
    from reviewbot.workflows.corrections import move_ticket
    from reviewbot.workflows.deliver import deliver

    sync(ws)
    refunds = next(t for t in tickets(ws) if t.section_id == "refunds")
    key = refunds.tracker_ref or ""
    settings, store = open_workspace(ws)
    move_ticket(store, settings, key, "privacy", "dana", reason="card refunds need a data check")
    deliver(settings, store)
    moved = next(t for t in tickets(ws) if t.id == refunds.id)
    fields = jira.issues[key]["fields"]
    assert fields["customfield_10042"] == "privacy" and fields["summary"] == moved.title
    assert f"reviewbot-{moved.fingerprint}" in fields["labels"]
    assert f"reviewbot-{refunds.fingerprint}" not in fields["labels"]
    assert [link["object"]["url"].rsplit("#", 1)[1] for link in jira.remote_links[key]] == ["privacy"]
    assert any("Moved to 3. Privacy" in said(c["body"]) for c in jira.comments[key])
    _, again = sync(ws)  # Jira names the section reviewbot told it: nothing moves back
    assert again.errors == [] and again.tracker["moved"] == 0 and len(jira.issues) == 2
    assert next(t for t in tickets(ws) if t.id == refunds.id).section_id == "privacy"


def test_a_section_changed_in_jira_moves_the_ticket_and_teaches_the_mapper(ws: Path, jira: JiraStandIn) -> None:
    from reviewbot.models import AuditEvent, MappingCorrection

    sync(ws)
    delivery = next(t for t in tickets(ws) if t.section_id == "delivery")
    key = delivery.tracker_ref or ""
    jira.edit_field(key, "customfield_10042", "privacy", by="Maria Lopez", email="maria@example.com")
    store, report = sync(ws)
    assert report.errors == [] and report.tracker["moved"] == 1
    moved = next(t for t in tickets(ws) if t.id == delivery.id)
    assert moved.section_id == "privacy" and moved.title.startswith("Review 3. Privacy")
    with store.session() as session:
        [correction] = session.exec(select(MappingCorrection)).all()
        trail = [(e.actor, e.action) for e in session.exec(select(AuditEvent).where(AuditEvent.ticket_id == moved.id))]
    assert (correction.actor, correction.section_id, correction.was_section) == (
        "jira:maria@example.com",
        "privacy",
        "delivery",
    )
    assert ("jira:maria@example.com", "move") in trail
    assert jira.issues[key]["fields"]["summary"] == moved.title
    _, again = sync(ws)
    assert again.tracker["moved"] == 0 and next(t for t in tickets(ws) if t.id == delivery.id).section_id == "privacy"


def test_a_section_jira_names_that_the_policy_lacks_is_reported_once(ws: Path, jira: JiraStandIn) -> None:
    sync(ws)
    delivery = next(t for t in tickets(ws) if t.section_id == "delivery")
    jira.edit_field(delivery.tracker_ref or "", "customfield_10042", "shipping")
    _, report = sync(ws)
    assert report.tracker["moved"] == 0
    assert any(f"{delivery.tracker_ref} names section 'shipping': no section 'shipping'" in e for e in report.errors)
    assert next(t for t in tickets(ws) if t.id == delivery.id).section_id == "delivery"
    _, again = sync(ws)
    assert again.errors == []


def test_a_bad_project_key_names_the_setting_and_where_the_value_came_from(
    ws: Path, jira: JiraStandIn, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ws)
    monkeypatch.setenv("REVIEWBOT_TRACKER__PROJECT", "pol")
    [tracker] = [c for c in run_checks(open_workspace(ws)[0]) if c.name == "tracker"]
    assert not tracker.ok
    assert "project = 'pol': should be a Jira project key like POL (upper case)" in tracker.detail
    assert "REVIEWBOT_TRACKER__PROJECT" in tracker.detail + (tracker.hint or "")
    synced = cli("sync")
    assert synced.code == 2 and "REVIEWBOT_TRACKER__PROJECT" in synced.stderr
    assert "reviewbot.toml:" not in synced.stderr  # its line says "POL": the file is not what is wrong

    monkeypatch.delenv("REVIEWBOT_TRACKER__PROJECT")
    toml = ws / "reviewbot.toml"
    toml.write_text(toml.read_text().replace('project = "POL"', 'project = "pol"'))
    line = toml.read_text().splitlines().index('project = "pol"') + 1
    synced = cli("sync")
    assert f"reviewbot.toml:{line}: tracker.project: project = 'pol': should be a Jira project key" in synced.stderr
    assert "REVIEWBOT_TRACKER__PROJECT" not in synced.stderr
