"""The Zendesk source through the sync's collect stage, over real HTTP to the local Zendesk stand-in: what gets
stored (complaints, ratings, notes), cursors and paging, deleted and merged tickets, 429s and connections lost
mid-page, and the messages a user sees when the subdomain, the token or an option is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

import reviewbot.connectors.zendesk
from reviewbot.connectors.registry import ConnectorContext, make_source
from reviewbot.models import FeedbackItem, QuarantinedRow, SourceState
from reviewbot.settings import load_settings
from reviewbot.workflows.doctor import run_checks
from tests.standins.zendesk_api import ZendeskApiStandIn, ZendeskFault
from tests.workspaces import make_workspace, open_workspace, run_collect, stored_items

SOURCE = "helpdesk"
EXPORT = r"/incremental/tickets/cursor"
COMMENTS = r"/comments"


@pytest.fixture
def zendesk() -> Iterator[ZendeskApiStandIn]:
    with ZendeskApiStandIn(token="zd-secret-token-81f2") as standin:
        yield standin


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits are recorded instead of slept, so fault tests stay fast."""
    recorded: list[float] = []
    monkeypatch.setattr(reviewbot.connectors.zendesk, "pause", recorded.append)
    return recorded


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def source_toml(zendesk: ZendeskApiStandIn, **options: Any) -> str:
    settings = {"subdomain": "acme", "email": zendesk.email, "api_url": zendesk.url, **options}
    lines = "\n".join(f"{key} = {toml_value(value)}" for key, value in settings.items() if value is not None)
    return f'\n[[sources]]\nname = "{SOURCE}"\ntype = "zendesk"\nkind = "complaint"\n{lines}\n'


@pytest.fixture
def workspace_for(tmp_path: Path, use_database: str, zendesk: ZendeskApiStandIn, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Make a workspace whose reviewbot.toml has a Zendesk source with these options."""
    monkeypatch.setenv("REVIEWBOT_ZENDESK_TOKEN", zendesk.token)

    def make(**options: Any) -> Path:
        return make_workspace(tmp_path / "ws", extra_toml=source_toml(zendesk, **options))

    return make


def items(folder: Path) -> dict[str, FeedbackItem]:
    return {row.external_id: row for row in stored_items(folder, SOURCE)}


def cursor(folder: Path) -> dict[str, Any]:
    _, store = open_workspace(folder)
    try:
        with store.session() as session:
            state = session.get(SourceState, SOURCE)
            return dict(state.cursor) if state else {}
    finally:
        store.dispose()


def test_tickets_ratings_and_notes_are_stored_with_their_metadata(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    refund = zendesk.add_ticket(
        "My refund is three weeks late, write to ana@example.com", subject="Refund", tags=["refund", "vip"]
    )
    zendesk.add_comment(refund, "Customer called twice; policy says 5 days but finance needs 10", public=False)
    zendesk.add_comment(refund, "We are sorry, the refund is on its way.")
    zendesk.rate(refund, "bad", "Nobody told me about the 10 days", reason="too slow")
    chat = zendesk.add_ticket("Chat wait was 40 minutes", channel="chat")
    zendesk.rate(chat, "good")
    folder = workspace_for(internal_notes=True)

    report = run_collect(folder)

    assert report.errors == [] and report.sources[SOURCE]["new"] == 5
    stored = items(folder)
    complaint = stored[str(refund)]
    assert complaint.kind == "complaint" and complaint.channel == "email"
    assert complaint.text == "My refund is three weeks late, write to [EMAIL]"  # first public comment, redacted
    assert complaint.meta == {"ticket_id": refund, "subject": "Refund", "tags": ["refund", "vip"]}
    assert complaint.origin == f"https://acme.zendesk.com/agent/tickets/{refund}"
    rating = stored[f"{refund}/rating"]
    assert (rating.kind, rating.csat, rating.csat_class, rating.is_negative) == ("survey", 1, "unsatisfied", True)
    assert rating.text == "Nobody told me about the 10 days"
    assert rating.meta == {"ticket_id": refund, "rating": "bad", "reason": "too slow"}
    [note] = [i for i in stored.values() if i.kind == "agent_note"]
    assert note.external_id.startswith(f"{refund}/note/") and note.author == "Sam Agent"
    assert note.text == "Customer called twice; policy says 5 days but finance needs 10"
    assert stored[f"{chat}/rating"].csat == 5 and stored[f"{chat}/rating"].text == ""  # a rating without comment
    assert stored[str(chat)].channel == "chat"


def test_internal_notes_stay_out_unless_asked_for(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    ticket = zendesk.add_ticket("The returns label never arrived")
    zendesk.add_comment(ticket, "internal: label printer broken", public=False)
    agent_opened = zendesk.add_ticket("Caller says the warranty was refused", public=False)  # an internal note first
    zendesk.add_comment(agent_opened, "Hello, we looked into your warranty claim.")
    folder = workspace_for()

    run_collect(folder)

    stored = items(folder)
    assert sorted(stored) == sorted([str(ticket), str(agent_opened)])
    assert stored[str(agent_opened)].text == "Hello, we looked into your warranty claim."  # first *public* comment


def test_pages_each_save_the_cursor_and_a_second_sync_adds_nothing(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    tickets = [zendesk.add_ticket(f"Complaint number {i} about the delivery slot") for i in range(7)]
    folder = workspace_for(page_size=3)

    first = run_collect(folder)

    assert first.sources[SOURCE]["new"] == 7 and sorted(items(folder)) == sorted(map(str, tickets))
    exports = zendesk.export_calls()
    assert len(exports) == 3 and "start_time" in exports[0] and all("cursor" in q for q in exports[1:])
    saved = cursor(folder)
    assert saved["subdomain"] == "acme" and saved["after_cursor"]
    second = run_collect(folder)
    assert second.sources[SOURCE] == {"new": 0, "updated": 0, "unchanged": 0, "quarantined": 0}
    assert zendesk.export_calls()[-1]["cursor"] == saved["after_cursor"]  # resumed from the bookmark


def test_a_changed_ticket_is_updated_not_duplicated(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    ticket = zendesk.add_ticket("Voucher refused at checkout")
    folder = workspace_for()
    run_collect(folder)

    zendesk.solve(ticket)  # a change that leaves the complaint as it was
    zendesk.rate(ticket, "good", "sorted in the end")
    report = run_collect(folder)

    assert report.sources[SOURCE] == {"new": 1, "updated": 0, "unchanged": 1, "quarantined": 0}
    zendesk.rate(ticket, "bad", "actually it came back")  # the customer changes their rating
    report = run_collect(folder)
    assert report.sources[SOURCE] == {"new": 0, "updated": 1, "unchanged": 1, "quarantined": 0}
    stored = items(folder)
    assert len(stored) == 2 and stored[f"{ticket}/rating"].csat == 1


def test_a_ticket_exported_twice_in_one_page_is_stored_as_its_later_copy_and_said(  # type: ignore[no-untyped-def]
    workspace_for, zendesk: ZendeskApiStandIn, cli
) -> None:
    ticket = zendesk.add_ticket("Voucher refused at checkout", subject="Voucher")
    other = zendesk.add_ticket("Parcel left in the rain")
    zendesk.changed_during_export(ticket, subject="Voucher refused twice")  # the page holds it twice
    folder = workspace_for()

    result = cli(f"-w {folder} sync")

    assert result.code == 0, result.stderr
    said = "helpdesk: 1 record came twice in one read (changed meanwhile); the later copy is kept"
    assert said in result.stdout
    stored = items(folder)
    assert sorted(stored) == sorted([str(ticket), str(other)])
    assert stored[str(ticket)].meta["subject"] == "Voucher refused twice"  # the later copy wins
    assert len([c for c in zendesk.calls if f"/tickets/{ticket}/comments" in c[0]]) == 1  # read once, not twice


def test_recent_changes_wait_for_the_export_and_are_read_once(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    zendesk.add_ticket("An old complaint about fees")
    just_now = zendesk.add_ticket("A complaint from a few seconds ago", age=5)
    folder = workspace_for()

    assert run_collect(folder).sources[SOURCE]["new"] == 1  # Zendesk holds back the last minute
    zendesk.advance(120)
    assert run_collect(folder).sources[SOURCE]["new"] == 1
    assert str(just_now) in items(folder) and len(items(folder)) == 2


def test_start_date_limits_the_first_export(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    zendesk.add_ticket("Ancient complaint", age=400 * 86400)
    recent = zendesk.add_ticket("Recent complaint")
    folder = workspace_for()  # default: the last 90 days

    run_collect(folder)

    assert sorted(items(folder)) == [str(recent)]


def test_deleted_and_merged_tickets_are_skipped(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    spam = zendesk.add_ticket("Buy cheap watches")
    first = zendesk.add_ticket("My order arrived broken")
    second = zendesk.add_ticket("Following up: my order arrived broken, no answer")
    zendesk.delete(spam)
    zendesk.merge(first, second)
    folder = workspace_for(internal_notes=True)

    report = run_collect(folder)

    assert report.errors == []
    stored = items(folder)
    # the merged ticket lives on in the one it was merged into; Zendesk's merge notes are not agent notes
    assert sorted(stored) == [str(second)] and stored[str(second)].text.startswith("Following up")


def test_a_ticket_deleted_while_being_read_is_skipped(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    kept = zendesk.add_ticket("Kept complaint")
    gone = zendesk.add_ticket("Deleted a moment later")
    folder = workspace_for()
    # the export page still lists it as open; by the time its comments are read, it is deleted
    zendesk.on_request(rf"/tickets/{gone}/comments", lambda: zendesk.delete(gone))

    report = run_collect(folder)

    assert report.errors == [] and sorted(items(folder)) == [str(kept)]


def test_429_and_503_are_waited_out(workspace_for, zendesk: ZendeskApiStandIn, waits: list[float]) -> None:  # type: ignore[no-untyped-def]
    for i in range(4):
        zendesk.add_ticket(f"Complaint {i} about the loyalty points")
    zendesk.faults += [
        ZendeskFault(EXPORT, "429", retry_after=7),
        ZendeskFault(COMMENTS, "429", retry_after=3, times=2),
        ZendeskFault(EXPORT, "503", retry_after=2),
    ]
    folder = workspace_for(page_size=2)

    report = run_collect(folder)

    assert report.errors == [] and report.sources[SOURCE]["new"] == 4
    assert sorted(waits) == [2.0, 3.0, 3.0, 7.0] and zendesk.faults == []


def test_connections_lost_mid_page_lose_and_duplicate_nothing(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    tickets = [zendesk.add_ticket(f"Complaint {i}: the warranty form is confusing") for i in range(5)]
    for ticket in tickets:
        zendesk.rate(ticket, "bad", f"rating {ticket}")
    zendesk.faults += [
        ZendeskFault(EXPORT, "drop_mid_body"),
        ZendeskFault(COMMENTS, "drop_mid_body"),
        ZendeskFault(r"/satisfaction_ratings/", "drop_before"),
    ]
    folder = workspace_for(page_size=2)

    report = run_collect(folder)

    assert report.errors == [] and zendesk.faults == [] and zendesk.errors == []
    assert sorted(items(folder)) == sorted([str(t) for t in tickets] + [f"{t}/rating" for t in tickets])


def test_an_outage_mid_run_keeps_the_pages_stored_and_the_next_sync_finishes(
    workspace_for, zendesk: ZendeskApiStandIn
) -> None:  # type: ignore[no-untyped-def]
    tickets = [zendesk.add_ticket(f"Complaint {i}: the store closed early") for i in range(6)]
    folder = workspace_for(page_size=2, retries=1)
    # the third export page fails twice, one more than the retries allow
    zendesk.on_request(EXPORT, lambda: zendesk.faults.append(ZendeskFault(EXPORT, "drop_before", times=2)), nth=3)

    first = run_collect(folder)

    assert len(first.errors) == 1 and "unreachable" in first.errors[0] and SOURCE in first.errors[0]
    assert first.sources[SOURCE]["new"] == 4  # two pages stored, each with its cursor
    second = run_collect(folder)
    assert second.errors == [] and second.sources[SOURCE]["new"] == 2
    assert sorted(items(folder)) == sorted(map(str, tickets))


def test_text_over_the_limit_is_quarantined_and_the_rest_stored(workspace_for, zendesk: ZendeskApiStandIn) -> None:  # type: ignore[no-untyped-def]
    long = zendesk.add_ticket("x" * 10_001)
    zendesk.rate(long, "bad", "too slow")
    folder = workspace_for()

    report = run_collect(folder)

    assert report.sources[SOURCE]["quarantined"] == 1 and sorted(items(folder)) == [f"{long}/rating"]
    _, store = open_workspace(folder)
    with store.session() as session:
        [row] = session.exec(select(QuarantinedRow).where(col(QuarantinedRow.source) == SOURCE)).all()
    store.dispose()
    assert row.file == f"https://acme.zendesk.com/agent/tickets/{long}" and "over the limit" in row.reason


# --- errors a user can cause -------------------------------------------------------------------------------------


def test_a_wrong_token_says_which_variable_to_fix(workspace_for, zendesk: ZendeskApiStandIn, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    zendesk.add_ticket("A complaint")
    folder = workspace_for()
    monkeypatch.setenv("REVIEWBOT_ZENDESK_TOKEN", "not-the-token")

    result = cli(["-w", str(folder), "sync"])

    assert result.code == 2 and "Traceback" not in result.stderr
    assert "Zendesk refused the credentials (401)" in result.stderr and "REVIEWBOT_ZENDESK_TOKEN" in result.stderr
    assert "not-the-token" not in result.stdout + result.stderr


def test_a_missing_token_names_the_variable(workspace_for, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = workspace_for()
    monkeypatch.delenv("REVIEWBOT_ZENDESK_TOKEN")

    result = cli(["-w", str(folder), "sync"])

    assert result.code == 2 and "Traceback" not in result.stderr
    assert "no Zendesk API token: set REVIEWBOT_ZENDESK_TOKEN" in result.stderr
    assert "reviewbot.toml:" in result.stderr  # points at the source's entry


def test_a_wrong_subdomain_says_so(tmp_path: Path, use_database: str, monkeypatch: pytest.MonkeyPatch, cli) -> None:  # type: ignore[no-untyped-def]
    with ZendeskApiStandIn(account_exists=False) as nobody:
        monkeypatch.setenv("REVIEWBOT_ZENDESK_TOKEN", nobody.token)
        folder = make_workspace(tmp_path / "ws", extra_toml=source_toml(nobody, subdomain="acmee"))
        result = cli(["-w", str(folder), "sync"])

    assert result.code == 2 and "Traceback" not in result.stderr
    assert "no Zendesk account at" in result.stderr and "subdomain" in result.stderr


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"subdomain": "acme.zendesk.com"}, "write only the part before .zendesk.com"),
        ({"page_size": 5000}, "page_size"),
        ({"tickets": True}, "unknown setting 'tickets'"),
    ],
)
def test_bad_options_name_the_setting_and_its_line(workspace_for, cli, options, expected) -> None:  # type: ignore[no-untyped-def]
    folder = workspace_for(**options)

    result = cli(["-w", str(folder), "sync"])

    assert result.code == 2 and "Traceback" not in result.stderr
    assert expected in result.stderr and "reviewbot.toml:" in result.stderr


def test_doctor_signs_in_and_explains_what_is_wrong(workspace_for, zendesk: ZendeskApiStandIn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = workspace_for()
    [ok] = [c for c in run_checks(load_settings(folder)) if c.name == f"source {SOURCE}"]
    assert ok.ok and "signed in to https://acme.zendesk.com as Reviewbot (admin)" in ok.detail

    zendesk.users[zendesk.me_id]["role"] = "agent"
    [agent] = [c for c in run_checks(load_settings(folder)) if c.name == f"source {SOURCE}"]
    assert not agent.ok and "needs an admin" in (agent.hint or "")

    monkeypatch.setenv("REVIEWBOT_ZENDESK_TOKEN", "wrong")
    [refused] = [c for c in run_checks(load_settings(folder)) if c.name == f"source {SOURCE}"]
    assert not refused.ok and "401" in refused.detail and "REVIEWBOT_ZENDESK_TOKEN" in (refused.hint or "")

    monkeypatch.delenv("REVIEWBOT_ZENDESK_TOKEN")
    [missing] = [c for c in run_checks(load_settings(folder)) if c.name == f"source {SOURCE}"]
    assert not missing.ok and "set REVIEWBOT_ZENDESK_TOKEN" in missing.detail


def test_the_example_in_the_init_template_works_once_uncommented(tmp_path: Path, monkeypatch, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli(["init", str(tmp_path / "ws")]).code == 0
    config = tmp_path / "ws" / "reviewbot.toml"
    text = config.read_text()
    start = text.index('# [[sources]]\n# name = "helpdesk"')
    end = text.index("\n\n", start)
    example = "\n".join(line.removeprefix("# ").removeprefix("#") for line in text[start:end].splitlines())
    config.write_text(text[:start] + example + text[end:])
    monkeypatch.setenv("REVIEWBOT_ZENDESK_TOKEN", "token")
    monkeypatch.setenv("REVIEWBOT_SLACK_BOT_TOKEN", "xoxb-token")

    settings = load_settings(tmp_path / "ws")
    built = [make_source(c, ConnectorContext(settings=settings)) for c in settings.sources]

    assert [(s.name, type(s).__name__) for s in built[-2:]] == [
        ("helpdesk", "ZendeskSource"),
        ("policy-feedback", "SlackChannelSource"),
    ]
