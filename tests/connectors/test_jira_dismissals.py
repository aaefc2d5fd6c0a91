"""Every way reviewbot dismisses a ticket reaches its Jira issue as `tickets dismiss` does: the won't-do
transition with its resolution, and a comment saying why. Whole syncs through the real `jira` client against the
stand-in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reviewbot.evidence import fingerprint
from reviewbot.models import ReviewTicket
from reviewbot.store import outbox
from reviewbot.workflows.corrections import move_ticket
from reviewbot.workflows.curate import merge
from tests.connectors.jira_helpers import said, sync, tickets
from tests.standins.jira_server import JiraStandIn
from tests.workspaces import open_workspace

pytestmark = pytest.mark.usefixtures("no_sleep")


def not_policy(folder: Path, jira: JiraStandIn, ticket: ReviewTicket) -> str:
    """`tickets move REF --not-policy`."""
    settings, store = open_workspace(folder)
    move_ticket(store, settings, ticket.tracker_ref or "", None, "dana", reason="a carrier matter")
    return "not a policy matter (dana): a carrier matter"


def onto_a_covered_section_in_jira(folder: Path, jira: JiraStandIn, ticket: ReviewTicket) -> str:
    """A person sets the issue's section field in Jira to a section another ticket of the theme already covers."""
    _, store = open_workspace(folder)
    with store.session() as session:
        copy = ReviewTicket(
            fingerprint=fingerprint(ticket.theme_id or 0, "returns-policy", "privacy"),
            theme_id=ticket.theme_id,
            document_id="returns-policy",
            section_id="privacy",
            title="Review 3. Privacy",
            evidence=dict(ticket.evidence),
            tracker="jira",
        )
        session.add(copy)
        session.flush()
        outbox.enqueue(session, f"tracker.create:{copy.fingerprint}", "tracker", "create", {}, copy.id)
        copy_ref = f"#{copy.id}"  # as the dismissal says it: the move is pulled before the copy is filed
    jira.edit_field(ticket.tracker_ref or "", "customfield_10042", "privacy", by="Maria Lopez")
    return f"{copy_ref} covers it"


def by_a_theme_merge(folder: Path, jira: JiraStandIn, ticket: ReviewTicket) -> str:
    """`themes merge TARGET SOURCE`: the source theme's open tickets are dismissed."""
    settings, store = open_workspace(folder)
    other = next(t for t in tickets(folder) if t.theme_id != ticket.theme_id)
    merge(settings, store, other.theme_id or 0, [ticket.theme_id or 0], "dana")
    return f"theme {ticket.theme_id} was merged into theme {other.theme_id}"


@pytest.mark.parametrize("dismiss", [not_policy, onto_a_covered_section_in_jira, by_a_theme_merge])
def test_a_dismissal_by_any_path_moves_the_jira_issue_to_wont_do(
    ws: Path, jira: JiraStandIn, dismiss: Callable[[Path, JiraStandIn, ReviewTicket], str]
) -> None:
    sync(ws)
    delivery = next(t for t in tickets(ws) if t.section_id == "delivery")
    key = delivery.tracker_ref or ""
    why = dismiss(ws, jira, delivery)
    _, report = sync(ws)
    assert report.errors == []
    assert next(t for t in tickets(ws) if t.id == delivery.id).state == "dismissed"
    fields = jira.issues[key]["fields"]
    assert (fields["status"]["name"], (fields["resolution"] or {}).get("name")) == ("Won't Do", "Won't Do")
    assert any(why in said(c["body"]) for c in jira.comments.get(key, [])), jira.comments.get(key)
    _, again = sync(ws)  # Jira now says what reviewbot decided: nothing flips back
    assert again.errors == [] and again.tracker["changed"] == 0
    assert next(t for t in tickets(ws) if t.id == delivery.id).state == "dismissed"
