"""Sync stage: pull ticket states back from the tracker. A status a person set there (Accepted, Won't Do,
Done, ...) becomes our state; only changes since the last pull count, so our own decisions are not undone
by a status the tracker has not caught up with. A section a person set in the tracker's section field moves the
ticket there, as `reviewbot tickets move` would. An assignee a person set there becomes the ticket's assignee
(unless an assignment made here is still on its way to the tracker)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from reviewbot.connectors.registry import ConnectorContext, make_tracker
from reviewbot.errors import ReviewbotError
from reviewbot.models import OutboxMessage, ReviewTicket
from reviewbot.models.tickets import SETTLED_STATES
from reviewbot.protocols import Tracker, TrackerRef
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.review import audit
from reviewbot.workflows.corrections import move_ticket
from reviewbot.workflows.review import move, settle
from reviewbot.workflows.run_summary import SyncReport

SETTLED = ("published", "closed")


def pull_states(settings: Settings, store: Store, report: SyncReport) -> None:
    """Ask the tracker for the status of every ticket it holds and apply the changes."""
    tracker = make_tracker(ConnectorContext(settings=settings, store=store))
    t = ReviewTicket
    with store.session() as session:
        query = select(t.id, t.tracker_ref, t.tracker_status, t.tracker_section).where(
            col(t.tracker_ref).is_not(None), t.tracker == tracker.name
        )
        tickets = list(session.exec(query))  # columns: the evidence of every ticket is not needed here
    if not tickets:
        return
    keys = [ticket.tracker_ref for ticket in tickets]
    try:
        pull_many = getattr(tracker, "pull_many", None)
        refs = pull_many(keys) if pull_many else {key: tracker.pull(key) for key in keys}
    except Exception as exc:  # noqa: BLE001 - a tracker outage fails this step only
        report.errors.append(f"tracker ({tracker.name}): pulling ticket states: {exc}")
        return
    moved = {i: ref for i, key, status, _ in tickets if (ref := refs.get(key)) is not None and ref.status != status}
    changed = 0
    with store.session() as session:
        for ticket_id, ref in moved.items():
            ticket = session.get(ReviewTicket, ticket_id)
            if ticket is None or ticket.tracker_status == ref.status:
                continue
            first_look = ticket.tracker_status is None
            ticket.tracker_status = ref.status
            session.add(ticket)
            if not first_look:
                changed += _apply(session, ticket, ref, tracker.name)
    resectioned = {i: ref for i, key, _, told in tickets if (ref := refs.get(key)) and ref.section not in (None, told)}
    moves = _follow_sections(settings, store, tracker, resectioned, report)
    assigned = _follow_assignees(store, tracker, {i: ref for i, key, _, _ in tickets if (ref := refs.get(key))})
    report.tracker = {"pulled": len(refs), "changed": changed, "moved": moves}
    if assigned:
        report.tracker["assigned"] = assigned


def _follow_assignees(store: Store, tracker: Tracker, refs: dict[int, TrackerRef]) -> int:
    """Take over the assignee a person set in the tracker; returns how many tickets changed hands. An issue left
    unassigned there changes nothing (the assignment may not have reached it yet)."""
    same_person = getattr(tracker, "same_person", lambda ref, person: ref.assignee == person)
    changed = 0
    with store.session() as session:
        waiting = set(
            session.exec(
                select(OutboxMessage.ticket_id).where(
                    OutboxMessage.action == "assign", col(OutboxMessage.status).in_(["pending", "failed", "unknown"])
                )
            )
        )
        for ticket_id, ref in refs.items():
            if ref.assignee is None or ticket_id in waiting:
                continue
            ticket = session.get(ReviewTicket, ticket_id)
            if ticket is None or ticket.assignee == ref.assignee or same_person(ref, ticket.assignee):
                continue
            ticket.assignee = ref.assignee
            session.add(ticket)
            audit(
                session,
                f"{tracker.name} user",
                "assign",
                f"assigned to {ref.assignee} in {tracker.name}",
                ticket=ticket,
            )
            changed += 1
    return changed


def _follow_sections(
    settings: Settings, store: Store, tracker: Tracker, refs: dict[int, TrackerRef], report: SyncReport
) -> int:
    """Move the tickets whose section a person changed in the tracker (its section field); returns how many."""
    moves = 0
    for ticket_id, ref in refs.items():
        with store.session() as session:
            ticket = session.get(ReviewTicket, ticket_id)
            if ticket is None:
                continue
            first_look, current = ticket.tracker_section is None, ticket.section_id
            ticket.tracker_section = ref.section  # seen: the same value is not a change next time
            session.add(ticket)
        if first_look or ref.section == current:
            continue
        who = getattr(tracker, "section_changed_by", lambda _: None)(ref.ref) or f"{tracker.name} user"
        try:
            move_ticket(store, settings, str(ticket_id), ref.section, f"{tracker.name}:{who}", in_tracker=True)
            moves += 1
        except ReviewbotError as exc:
            report.errors.append(f"tracker ({tracker.name}): {ref.ref} names section {ref.section!r}: {exc.message}")
    return moves


def _apply(session: Session, ticket: ReviewTicket, ref: TrackerRef, tracker: str) -> int:
    """Make our state follow a status a person set in the tracker; returns 1 when the state changed."""
    state = ref.state
    if state is None or state == ticket.state or (state == "closed" and ticket.state in SETTLED):
        return 0
    actor, why = f"{tracker} user", f"{ref.status} in {tracker}"
    if state in SETTLED_STATES:
        settle(session, ticket, state, actor, why, force=True)
    elif state in ("open", "triaged", "in_review"):
        move(session, ticket, state, actor, why, force=True)
    else:
        return 0  # approval and publishing happen in reviewbot, where the sign-off rules are checked
    return 1
