"""State both ways between reviewbot and Jira: a dismissal, an assignment and a publish change the Jira issue
(transition, resolution, assignee), and an assignee set by a person in Jira comes back; doctor checks the names
the configuration gives Jira. Whole syncs through the real `jira` client against the stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.workflows.doctor import run_checks
from reviewbot.workflows.review import assign, dismiss, triage
from tests.connectors.jira_helpers import TOKEN, jira_workspace, said, sync, tickets
from tests.standins.jira_server import JiraStandIn
from tests.workspaces import open_workspace

pytestmark = pytest.mark.usefixtures("no_sleep")


@pytest.fixture
def strict_jira() -> Iterator[JiraStandIn]:
    """A Jira whose done statuses get no resolution unless the transition sets one."""
    with JiraStandIn(project="POL", email="bot@example.com", token=TOKEN, resolution_on_done=False) as standin:
        yield standin


@pytest.fixture
def folder(tmp_path: Path, use_database: str, strict_jira: JiraStandIn, monkeypatch: pytest.MonkeyPatch) -> Path:
    return jira_workspace(tmp_path / "ws", strict_jira, monkeypatch)


def configure(folder: Path, lines: str) -> None:
    toml = folder / "reviewbot.toml"
    toml.write_text(toml.read_text().replace('project = "POL"', f'project = "POL"\n{lines}'))


def test_dismiss_moves_the_issue_to_wont_do_with_a_resolution(folder: Path, strict_jira: JiraStandIn) -> None:
    sync(folder)
    refunds = next(t for t in tickets(folder) if t.section_id == "refunds")
    key = refunds.tracker_ref or ""
    settings, store = open_workspace(folder)
    dismiss(store, settings, key, "covered by the new courier contract", "dana")
    _, report = sync(folder)
    fields = strict_jira.issues[key]["fields"]
    assert report.errors == []
    assert fields["status"]["name"] == "Won't Do" and fields["resolution"]["name"] == "Won't Do"
    assert any(said(c["body"]).startswith("Dismissed by dana") for c in strict_jira.comments[key])
    _, again = sync(folder)
    assert again.errors == [] and again.tracker["changed"] == 0  # Jira says what reviewbot said: nothing flips


def test_publish_resolves_the_issue_as_done(folder: Path, strict_jira: JiraStandIn) -> None:
    from reviewbot.workflows.publish import publish
    from reviewbot.workflows.review import sign

    sync(folder)
    refunds = next(t for t in tickets(folder) if t.section_id == "refunds")
    key = refunds.tracker_ref or ""
    settings, store = open_workspace(folder)
    policy = folder / "policies" / "returns.md"
    policy.write_text(policy.read_text().replace("within 5 business days", "within 10 business days"))
    sign(store, settings, key, "dana", "approve")
    assert publish(settings, store, "returns-policy", "dana").errors == []
    fields = strict_jira.issues[key]["fields"]
    assert fields["status"]["name"] == "Done" and fields["resolution"]["name"] == "Done"


def test_a_transition_without_a_screen_is_done_without_the_resolution(
    tmp_path: Path, use_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with JiraStandIn(project="POL", email="bot@example.com", token=TOKEN, transition_screen=False) as jira:
        folder = jira_workspace(tmp_path / "ws", jira, monkeypatch)
        sync(folder)
        key = tickets(folder)[0].tracker_ref or ""
        settings, store = open_workspace(folder)
        dismiss(store, settings, key, "not a policy matter", "dana")
        _, report = sync(folder)
        assert report.errors == [] and jira.issues[key]["fields"]["status"]["name"] == "Won't Do"


def test_triage_with_an_assignee_assigns_the_jira_issue(folder: Path, strict_jira: JiraStandIn) -> None:
    sync(folder)
    first, second = tickets(folder)
    settings, store = open_workspace(folder)
    triage(store, settings, first.tracker_ref or "", "dana", assignee="dana")  # found by user search
    configure(folder, 'users = { "mo" = "maria@example.com" }')
    settings, store = open_workspace(folder)
    assign(store, settings, second.tracker_ref or "", "mo", "dana")  # mapped: Jira knows her as maria
    _, report = sync(folder)
    assert report.errors == []
    assert strict_jira.assignee(first.tracker_ref or "") == "dana"
    assert strict_jira.assignee(second.tracker_ref or "") == "maria"
    _, again = sync(folder)  # the same people come back: nothing changes hands
    assert again.tracker.get("assigned", 0) == 0
    assert [t.assignee for t in tickets(folder)] == ["dana", "mo"]


def test_an_unknown_assignee_fails_that_message_alone_and_says_how_to_map_them(
    folder: Path, strict_jira: JiraStandIn
) -> None:
    sync(folder)
    first, second = tickets(folder)
    settings, store = open_workspace(folder)
    assign(store, settings, first.tracker_ref or "", "zed", "dana")
    triage(store, settings, second.tracker_ref or "", "dana")
    _, report = sync(folder)
    [error] = report.errors
    assert "no single Jira user for 'zed'" in error and "[tracker] users" in error
    assert any(said(c["body"]) == "Triaged by dana" for c in strict_jira.comments[second.tracker_ref or ""])
    assert strict_jira.assignee(first.tracker_ref or "") is None


def test_an_assignee_set_in_jira_comes_back(folder: Path, strict_jira: JiraStandIn) -> None:
    configure(folder, 'users = { "mo" = "maria@example.com" }')
    sync(folder)
    first, second = tickets(folder)
    strict_jira.set_assignee(first.tracker_ref or "", "maria")
    strict_jira.set_assignee(second.tracker_ref or "", "sam.okafor")
    _, report = sync(folder)
    assert report.errors == [] and report.tracker["assigned"] == 2
    assert [t.assignee for t in tickets(folder)] == ["mo", "sam@example.com"]  # mapped, else Jira's email
    _, again = sync(folder)
    assert again.tracker.get("assigned", 0) == 0


def test_doctor_checks_every_name_the_configuration_gives_jira(folder: Path) -> None:
    checks = {c.name: c for c in run_checks(open_workspace(folder)[0])}
    for name in (
        "Jira priorities",
        "Jira done status",
        "Jira won't-do status",
        "Jira reopen status",
        "Jira resolutions",
    ):
        assert checks[name].ok, checks[name]
    assert checks["Jira section field"].ok and "Policy section" in checks["Jira section field"].detail

    configure(
        folder,
        'priorities = { high = "Blocker", medium = "Medium" }\ndismiss_transition = "Declined"\n'
        'done_resolution = "Fixed"',
    )
    toml = folder / "reviewbot.toml"
    toml.write_text(toml.read_text().replace("customfield_10042", "customfield_99999"))
    failed = {c.name: c for c in run_checks(open_workspace(folder)[0]) if not c.ok}
    assert set(failed) == {"Jira priorities", "Jira won't-do status", "Jira resolutions", "Jira section field"}
    assert "Blocker" in failed["Jira priorities"].detail and "Highest" in (failed["Jira priorities"].hint or "")
    assert "Won't Do" in (failed["Jira won't-do status"].hint or "")
    assert failed["Jira resolutions"].detail == "Fixed"
    assert "customfield_99999" in failed["Jira section field"].detail


@pytest.mark.parametrize("deployment", ["Cloud", "Server"])
def test_assignee_round_trip_on_cloud_and_data_center(deployment: str) -> None:
    from reviewbot.connectors.jira import JiraOptions, JiraTracker
    from tests.connectors.test_tracker_contract import DRAFT

    with JiraStandIn(deployment=deployment) as standin:  # type: ignore[arg-type]
        kind = "cloud" if deployment == "Cloud" else "datacenter"
        options = JiraOptions(server=standin.url, deployment=kind, project="POL", users={"mo": "maria"})
        tracker = JiraTracker(options, token="secret-token", email="bot@example.com")
        ref = tracker.create(DRAFT).ref
        tracker.assign(ref, "dana")  # Cloud by accountId, Data Center by username
        assert standin.assignee(ref) == "dana"
        pulled = tracker.pull(ref)
        assert pulled.assignee == "dana" and tracker.same_person(pulled, "dana")  # known from the lookup
        tracker.assign(ref, "mo")
        assert standin.assignee(ref) == "maria" and tracker.pull(ref).assignee == "mo"
        tracker.assign(ref, None)
        assert standin.assignee(ref) is None and tracker.pull(ref).assignee is None


def test_a_dismissed_ticket_reopened_by_growth_reopens_its_jira_issue(folder: Path, strict_jira: JiraStandIn) -> None:
    from tests.workspaces import DELIVERY_TEXTS, rows, write_csv

    sync(folder)
    delivery = next(t for t in tickets(folder) if t.section_id == "delivery")
    key = delivery.tracker_ref or ""
    settings, store = open_workspace(folder)
    dismiss(store, settings, key, "carrier issue, not policy", "dana")
    sync(folder)
    assert strict_jira.issues[key]["fields"]["status"]["name"] == "Won't Do"
    more = [t + " once more" for t in DELIVERY_TEXTS[:6]]
    write_csv(folder / "inbox" / "complaints" / "more.csv", rows(more, "D-again", day=21))
    _, grown = sync(folder)
    assert grown.errors == [] and grown.tickets["reopened"] == 1
    fields = strict_jira.issues[key]["fields"]
    assert fields["status"]["name"] == "To Do" and fields["resolution"] is None
    _, again = sync(folder)
    assert again.tracker["changed"] == 0 and next(t for t in tickets(folder) if t.id == delivery.id).state == "open"


def test_status_and_assignee_changes_in_jira_are_audited_as_whoever_made_them(
    folder: Path, strict_jira: JiraStandIn
) -> None:
    from sqlmodel import select

    from reviewbot.models import AuditEvent

    configure(folder, 'users = { "mo" = "maria@example.com" }')
    sync(folder)
    first, second = tickets(folder)
    strict_jira.set_status(first.tracker_ref or "", "Accepted", by="Sam Okafor", email="sam@example.com")
    strict_jira.set_assignee(second.tracker_ref or "", "maria", by="Dana Whitfield", email="dana@example.com")
    store, report = sync(folder)
    assert report.errors == [] and report.tracker["changed"] == 1 and report.tracker["assigned"] == 1
    with store.session() as session:
        trail = {(e.ticket_id, e.actor, e.action) for e in session.exec(select(AuditEvent))}
    assert (first.id, "jira:sam@example.com", "transition") in trail
    assert (second.id, "jira:dana@example.com", "assign") in trail
    assert not any(actor == "jira user" for _, actor, _ in trail)


def test_doctor_checks_the_transitions_in_the_projects_own_workflow(
    tmp_path: Path, use_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Closed" is a status of another project's workflow on the site; POL's workflow calls its move to Done "Resolve"
    site = JiraStandIn(token=TOKEN, site_statuses=["Closed"], transition_names={"Done": "Resolve"})
    with site as jira:
        folder = jira_workspace(tmp_path / "ws", jira, monkeypatch)
        sync(folder)  # the project now has issues, whose transitions doctor can read
        configure(folder, 'done_transition = "Resolve"\ndismiss_transition = "Closed"')
        checks = {c.name: c for c in run_checks(open_workspace(folder)[0])}
    assert checks["Jira done status"].ok, checks["Jira done status"]  # a transition of the workflow, by its name
    assert checks["Jira reopen status"].ok
    failed = checks["Jira won't-do status"]
    assert not failed.ok
    assert failed.detail == (
        "'Closed' is neither a status nor a transition of POL's workflow for Task (it is a status of another "
        "workflow on the site): every dismissal would fail"
    )
    assert failed.hint == (
        "set dismiss_transition in [tracker] to one of POL's statuses for Task (Accepted, Done, In Progress, To Do, "
        "Won't Do) or to the name of a transition into one (Resolve)"
    )
