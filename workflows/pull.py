"""Sync stage: pull ticket states back from the tracker. A status a person set there (Accepted, Won't Do,
Done, ...) becomes our state; only changes since the last pull count, so our own decisions are not undone
by a status the tracker has not caught up with. A section a person set in the tracker's section field moves the
ticket there, as `reviewbot tickets move` would. An assignee a person set there becomes the ticket's assignee
(unless an assignment made here is still on its way to the tracker). Each change is audited as done by the tracker
user the issue's history names (`jira:maria@example.com`)."""

from __future__ import annotations

import logging

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
from reviewbot.workflows.trackers import held_here

log = logging.getLogger(__name__)
SETTLED = ("published", "closed")


def pull_states(settings: Settings, store: Store, report: SyncReport) -> None:
    """Ask the tracker for the status of every ticket it holds and apply the changes."""
    tracker = make_tracker(ConnectorContext(settings=settings, store=store))
    t = ReviewTicket
    with store.session() as session:
        # Only refs of this tracker: after a switch of trackers, another tracker's key may name an unrelated issue.
        query = select(t.id, t.tracker_ref, t.tracker_status, t.tracker_section, t.state).where(
            col(t.tracker_ref).is_not(None), held_here(settings)
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
    moved = {i: ref for i, key, status, _, _ in tickets if (ref := refs.get(key)) is not None and ref.status != status}
    # Who set each status that changes a ticket, asked before the transaction that applies them (a tracker call).
    actors = {
        i: tracker_actor(tracker, ref.ref, "status")
        for i, _, status, _, state in tickets
        if (ref := moved.get(i)) is not None and status is not None and _taken_over(state, ref)
    }
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
                who = actors.get(ticket_id) or f"{tracker.name} user"
                changed += _apply(session, ticket, ref, tracker.name, who)
    resectioned = {
        i: ref for i, key, _, told, _ in tickets if (ref := refs.get(key)) and ref.section not in (None, told)
    }
    moves = _follow_sections(settings, store, tracker, resectioned, report)
    assigned = _follow_assignees(store, tracker, {i: ref for i, key, *_ in tickets if (ref := refs.get(key))})
    report.tracker = {"pulled": len(refs), "changed": changed, "moved": moves}
    if assigned:
        report.tracker["assigned"] = assigned


def tracker_actor(tracker: Tracker, ref: str, field: str) -> str:
    """Who made a change in the tracker, as the audit log names them: `jira:maria@example.com` when the issue's
    history says (`field`: "status", "assignee" or "section"), else `jira user`."""
    changed_by = getattr(tracker, "changed_by", None)
    try:
        who = changed_by(ref, field) if changed_by is not None else None
    except Exception as exc:  # noqa: BLE001 - a history that cannot be read leaves the change itself to apply
        log.warning("%s: who changed its %s is unknown: %s", ref, field, exc)
        who = None
    return f"{tracker.name}:{who}" if who else f"{tracker.name} user"


def _follow_assignees(store: Store, tracker: Tracker, refs: dict[int, TrackerRef]) -> int:
    """Take over the assignee a person set in the tracker; returns how many tickets changed hands. An issue left
    unassigned there changes nothing (the assignment may not have reached it yet)."""
    same_person = getattr(tracker, "same_person", lambda ref, person: ref.assignee == person)
    with store.session() as session:
        waiting = set(
            session.exec(
                select(OutboxMessage.ticket_id).where(
                    OutboxMessage.action == "assign", col(OutboxMessage.status).in_(["pending", "failed", "unknown"])
                )
            )
        )
        filed = select(ReviewTicket.id, ReviewTicket.assignee).where(col(ReviewTicket.tracker_ref).is_not(None))
        held = dict(session.exec(filed).all())
    # The tracker is asked (user search, history) outside the transaction that records the changes.
    handed = {
        i: (ref, held[i], tracker_actor(tracker, ref.ref, "assignee"))
        for i, ref in refs.items()
        if ref.assignee is not None
        and i not in waiting
        and i in held
        and held[i] != ref.assignee
        and not same_person(ref, held[i])
    }
    changed = 0
    with store.session() as session:
        for ticket_id, (ref, before, who) in handed.items():
            ticket = session.get(ReviewTicket, ticket_id)
            if ticket is None or ticket.assignee != before:
                continue  # reassigned here meanwhile: that decision is newer
            ticket.assignee = ref.assignee
            session.add(ticket)
            audit(session, who, "assign", f"assigned to {ref.assignee} in {tracker.name}", ticket=ticket)
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
        try:
            move_ticket(
                store,
                settings,
                str(ticket_id),
                ref.section,
                tracker_actor(tracker, ref.ref, "section"),
                in_tracker=True,
            )
            moves += 1
        except ReviewbotError as exc:
            report.errors.append(f"tracker ({tracker.name}): {ref.ref} names section {ref.section!r}: {exc.message}")
    return moves


def _taken_over(state: str, ref: TrackerRef) -> bool:
    """Whether the state a status set in the tracker means replaces the ticket's `state` here."""
    wanted = ref.state
    if wanted is None or wanted == state or (wanted == "closed" and state in SETTLED):
        return False
    # approval and publishing happen in reviewbot, where the sign-off rules are checked
    return wanted in SETTLED_STATES or wanted in ("open", "triaged", "in_review")


def _apply(session: Session, ticket: ReviewTicket, ref: TrackerRef, tracker: str, actor: str) -> int:
    """Make our state follow a status a person (`actor`) set in the tracker; returns 1 when the state changed."""
    if ref.state is None or not _taken_over(ticket.state, ref):
        return 0
    why = f"{ref.status} in {tracker}"
    if ref.state in SETTLED_STATES:
        settle(session, ticket, ref.state, actor, why, force=True)
    else:
        move(session, ticket, ref.state, actor, why, force=True)
    return 1
