"""Sync stage: what reviewbot does on its own between people's actions.

- a triaged ticket whose section was edited goes into review and its approvers are asked to sign;
- sign-offs given for text that was edited since start a new round;
- a section past its review interval gets a periodic-review ticket, even without feedback;
- a sign-off pending longer than the SLA gets a reminder (at most one per reminder interval), and past the
  escalation threshold the document owner is told too;
- the people who have not acknowledged a document's latest version get a few reminders;
- a published version whose after-window has closed gets its effect reported (reviewbot.workflows.impact).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlmodel import Session

from reviewbot.evidence import periodic_evidence
from reviewbot.models import PolicyDocument, ReviewTicket, SignOffRequest, utcnow
from reviewbot.settings import Settings
from reviewbot.store import Store, outbox
from reviewbot.store.policies import acks, document_authority, documents, get_release, review_clocks, sections
from reviewbot.store.review import audit, current_round, pending_requests, sign_offs, tickets_in
from reviewbot.store.tickets import by_fingerprint
from reviewbot.workflows.impact import report_closed_windows
from reviewbot.workflows.review import RefusedError, TicketContext, context_of, notify, ref_of, start_round
from reviewbot.workflows.run_summary import SyncReport

BOT = "reviewbot"


def follow_up(settings: Settings, store: Store, report: SyncReport, now: datetime | None = None) -> None:
    """Run every follow-up; counts go to the report."""
    now = now or utcnow()
    with store.session() as session:
        counts = {
            "reviews_started": advance_reviews(session, settings),
            "periodic_tickets": open_periodic_tickets(session, settings, now),
        }
        reminders, escalations = send_reminders(session, settings, now)
        counts.update(reminders=reminders, escalations=escalations)
        counts["ack_reminders"] = remind_acks(session, settings, now)
        counts["impact_reports"] = report_closed_windows(session, settings, now)
        report.untriaged = untriaged_edits(session, settings, set(report.drafted()))
    report.review = counts


def advance_reviews(session: Session, settings: Settings) -> int:
    """Start review rounds where the policy file was edited; returns how many rounds started."""
    started = 0
    for ticket in tickets_in(session, ("triaged", "changes_requested", "in_review", "approved")):
        ctx = context_of(session, settings, ticket)
        if ticket.state == "triaged":  # it goes into review once its section is edited
            if ctx.edited:
                start_round(session, settings, ctx, BOT)
                started += 1
            continue
        # Any other starts a new round when the text changed after someone in this round signed it (changes
        # requested included), also when it went back to the published text: an approval is of the text approved,
        # and an edit reverted before publishing leaves nothing of what was approved.
        this_round = current_round(session, ticket.id or 0)
        if any(s.section_hash != ctx.draft_hash for s in sign_offs(session, ticket.id or 0) if s.round == this_round):
            start_round(session, settings, ctx, BOT, _why_again(ctx) if ticket.state == "approved" else "")
            started += 1
    return started


def untriaged_edits(session: Session, settings: Settings, documents: set[str]) -> list[str]:
    """Open tickets of these documents whose section is edited: nobody is asked to sign them until they are triaged,
    so the sync that reads the edit says so (the editor may expect the approvers to hear of it)."""
    if not documents:
        return []
    found = []
    for ticket in tickets_in(session, ("open",)):
        if ticket.document_id not in documents:
            continue
        try:
            edited = context_of(session, settings, ticket).edited
        except RefusedError:  # its document is gone: nothing to triage it for
            continue
        if edited:
            found.append(ref_of(ticket))
    return found


def _why_again(ctx: TicketContext) -> str:
    """Why an approved ticket is back in review, for its audit trail."""
    where = f"section {ctx.ticket.section_id}" if ctx.ticket.section_id else f"document {ctx.ticket.document_id}"
    if not ctx.edited:
        return f"the edit it approved was undone ({where} is as published again); sign-offs asked again"
    return f"{where} was edited after it was approved; sign-offs asked again for the text as it is now"


def open_periodic_tickets(session: Session, settings: Settings, now: datetime) -> int:
    """Open a periodic-review ticket for every section past its review interval; returns how many."""
    opened_now: list[str] = []
    for document in documents(session):
        clocks = review_clocks(session, document.id)
        for section in sections(session, document):
            clock = clocks.get(section.section_id)
            if clock is None:
                continue
            interval = section.review_interval_days or settings.review.default_interval_days
            due = clock.reviewed_at + timedelta(days=interval)
            if now < due:
                continue
            key = f"periodic|{document.id}|{section.section_id}|{due.date().isoformat()}"
            fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
            if by_fingerprint(session, fingerprint) is not None:
                continue
            _open_periodic(session, settings, document, section, fingerprint, clock.reviewed_at, due, interval)
            opened_now.append(fingerprint)
    if opened_now:  # one message for them all: a policy met a year after its last review has every section due
        key = "digest:periodic:" + hashlib.sha256(" ".join(opened_now).encode()).hexdigest()[:16]
        outbox.enqueue(session, key, "notifier", "digest", {"changes": [f"created:{f}" for f in opened_now]})
    return len(opened_now)


def _open_periodic(session, settings, document, section, fingerprint, last, due, interval) -> None:  # type: ignore[no-untyped-def]
    evidence = periodic_evidence(document, section, last_reviewed=last, due=due, interval_days=interval)
    ticket = ReviewTicket(
        fingerprint=fingerprint,
        kind="periodic",
        document_id=document.id,
        section_id=section.section_id,
        section_version=document.published_version,
        title=f"Periodic review due: {section.heading} (last reviewed {last.date().isoformat()})"[:500],
        evidence=evidence,
        tracker=settings.tracker.type,
        tracker_site=settings.tracker.site,
    )
    session.add(ticket)
    session.flush()
    audit(session, BOT, "open", evidence["reason"], ticket=ticket)
    outbox.enqueue(session, f"tracker.create:{fingerprint}", "tracker", "create", {}, ticket.id)


def send_reminders(session: Session, settings: Settings, now: datetime) -> tuple[int, int]:
    """Remind approvers of overdue sign-offs and escalate to the document owner; returns the counts."""
    rules = settings.review
    reminders = escalations = 0
    for request in pending_requests(session):
        age = now - request.requested_at
        ticket = session.get(ReviewTicket, request.ticket_id)
        if ticket is None:
            continue
        last = request.last_reminded_at
        if age >= timedelta(days=rules.signoff_sla_days) and (
            last is None or now - last >= timedelta(days=rules.reminder_interval_days)
        ):
            _remind(session, request, ticket, age, now)
            reminders += 1
        if age >= timedelta(days=rules.escalate_after_days) and request.escalated_at is None:
            _escalate(session, settings, request, ticket, age, now)
            escalations += 1
    return reminders, escalations


def _remind(session: Session, request: SignOffRequest, ticket: ReviewTicket, age: timedelta, now: datetime) -> None:
    request.reminders += 1
    request.last_reminded_at = now
    session.add(request)
    notify(
        session,
        f"reminder:{request.id}:{request.reminders}",
        "reminder",
        f"Reminder: your sign-off on {ref_of(ticket)} is {age.days} days old",
        f"{ticket.title}\nApprove: reviewbot tickets approve {ref_of(ticket)}",
        [request.approver],
        ticket_id=ticket.id,
        ref=ref_of(ticket),
        reminder=request.reminders,
    )
    audit(session, BOT, "remind", f"reminded {request.approver} ({request.reminders})", ticket=ticket)


def remind_acks(session: Session, settings: Settings, now: datetime) -> int:
    """Remind the people who have not acknowledged a document's latest version; returns how many were reminded."""
    sent = 0
    for document in documents(session):
        entry = get_release(session, document.id, document.published_version) if document.published_version else None
        if entry is None or not entry.ack_expected:
            continue
        number = ack_reminder_due(now - entry.published_at, settings)
        if not number:
            continue
        done = {a.person for a in acks(session, document.id, entry.version)}
        name = f"{document.title} version {entry.version}"
        for person in entry.ack_expected:
            if person in done:
                continue
            # the key names the reminder's number, so a sync that runs often sends each one once, and one that
            # did not run for weeks sends only the latest due, not all it missed
            sent += notify(
                session,
                f"ack-reminder:{document.id}:v{entry.version}:{person}:{number}",
                "ack_request",  # the same message as the first request (in Slack, with its button), marked a reminder
                f"Reminder: please read and acknowledge {name}",
                f"Published on {entry.published_at.date().isoformat()}; not acknowledged yet.\n"
                f"Acknowledge: reviewbot policy ack {document.id}",
                [person],
                document=document.id,
                version=entry.version,
                reminder=number,
            )
    return sent


def ack_reminder_due(age: timedelta, settings: Settings) -> int:
    """The number of the acknowledgement reminder due for a version this old (0: none yet, or none at all)."""
    rules = settings.review
    late = age - timedelta(days=rules.ack_sla_days)
    if late < timedelta(0):
        return 0
    return min(rules.ack_reminders, 1 + int(late / timedelta(days=rules.reminder_interval_days)))


def _escalate(
    session: Session, settings: Settings, request: SignOffRequest, ticket: ReviewTicket, age: timedelta, now: datetime
) -> None:
    document = session.get(PolicyDocument, ticket.document_id)
    owner = document_authority(session, document).owner if document else None  # the published version's
    owners = settings.people([owner]) if owner else []
    request.escalated_at = now
    session.add(request)
    notify(
        session,
        f"escalation:{request.id}",
        "escalation",
        f"Escalation: {request.approver} has not signed {ref_of(ticket)} for {age.days} days",
        f"{ticket.title}\nThe sign-off was asked for on {request.requested_at.date().isoformat()}.",
        owners + [request.approver] if request.approver not in owners else owners,
        ticket_id=ticket.id,
        ref=ref_of(ticket),
        approver=request.approver,
    )
    audit(
        session,
        BOT,
        "escalate",
        f"{request.approver} overdue; told {', '.join(owners) or 'nobody (no owner)'}",
        ticket=ticket,
    )


def queue_weekly_digest(session: Session, settings: Settings, now: datetime) -> bool:
    """Queue this week's summary for the channel: open tickets by state, new ones, overdue sign-offs."""
    week = now.date().isocalendar()
    key = f"weekly:{week.year}-W{week.week:02d}"
    active = tickets_in(session, ("open", "triaged", "in_review", "changes_requested", "approved"))
    by_state: dict[str, int] = {}
    for ticket in active:
        by_state[ticket.state] = by_state.get(ticket.state, 0) + 1
    fresh = [t for t in active if now - t.created_at <= timedelta(days=7)]
    sla = timedelta(days=settings.review.signoff_sla_days)
    overdue = [r for r in pending_requests(session) if now - r.requested_at >= sla]
    states = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in sorted(by_state.items())) or "none"
    lines = [f"Open review tickets: {states}.", f"New this week: {len(fresh)}."]
    lines += [f"- {ref_of(t)} {t.title}" for t in fresh[:10]]
    lines.append(f"Overdue sign-offs: {len(overdue)}.")
    refs = {t.id: ref_of(t) for t in active}  # people know a ticket by its reference, never its database id
    lines += [
        f"- {r.approver} on {refs.get(r.ticket_id, f'ticket {r.ticket_id}')}, asked {r.requested_at.date().isoformat()}"
        for r in overdue[:10]
    ]
    title = f"Policy review: week {week.week} of {week.year}"
    payload = {"kind": "digest", "title": title, "body": "\n".join(lines), "recipients": [], "data": {}}
    return outbox.enqueue(session, key, "notifier", "send", payload)
