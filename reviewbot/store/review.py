"""Queries for sign-offs, sign-off requests and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from sqlmodel import Session, col, select

from reviewbot.models import AuditEvent, ReviewTicket, SignOff, SignOffRequest
from reviewbot.models.tickets import FINISHED_STATES

# (admin, person) while an admin acts for someone else: their events name both
ACTING_FOR: ContextVar[tuple[str, str] | None] = ContextVar("acting_for", default=None)


def audit(
    session: Session,
    actor: str,
    action: str,
    detail: str,
    *,
    ticket: ReviewTicket | None = None,
    document_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append an event to the audit log (as "ADMIN for PERSON" when an admin is acting for that person)."""
    acting = ACTING_FOR.get()
    if acting is not None and actor == acting[1]:
        actor = f"{acting[0]} for {actor}"
        data = {**(data or {}), "acting_admin": acting[0], "acting_for": acting[1]}
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            detail=detail,
            ticket_id=ticket.id if ticket else None,
            document_id=document_id or (ticket.document_id if ticket else None),
            data=data or {},
        )
    )


def audit_log(
    session: Session, *, ticket_id: int | None = None, document_id: str | None = None, limit: int = 200
) -> list[AuditEvent]:
    """Audit events, newest first."""
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    if ticket_id is not None:
        query = query.where(AuditEvent.ticket_id == ticket_id)
    if document_id is not None:
        query = query.where(AuditEvent.document_id == document_id)
    return list(session.exec(query.limit(limit)))


def sign_offs(session: Session, ticket_id: int) -> list[SignOff]:
    """A ticket's sign-offs, oldest first."""
    query = select(SignOff).where(SignOff.ticket_id == ticket_id).order_by(col(SignOff.signed_at), col(SignOff.id))
    return list(session.exec(query))


def requests(session: Session, ticket_id: int, *, status: str | None = None) -> list[SignOffRequest]:
    """A ticket's sign-off requests, oldest first."""
    query = select(SignOffRequest).where(SignOffRequest.ticket_id == ticket_id)
    if status:
        query = query.where(SignOffRequest.status == status)
    return list(session.exec(query.order_by(col(SignOffRequest.id))))


def pending_requests(session: Session, approver: str | None = None) -> list[SignOffRequest]:
    """Sign-offs still awaited, oldest first."""
    query = select(SignOffRequest).where(SignOffRequest.status == "pending")
    if approver:
        query = query.where(SignOffRequest.approver == approver)
    return list(session.exec(query.order_by(col(SignOffRequest.requested_at), col(SignOffRequest.id))))


def current_round(session: Session, ticket_id: int) -> int:
    """The latest sign-off round of a ticket (0 before any request)."""
    return max((r.round for r in requests(session, ticket_id)), default=0)


def set_request_status(session: Session, rows: Sequence[SignOffRequest], status: str) -> None:
    """Mark requests answered or withdrawn."""
    for row in rows:
        row.status = status
        session.add(row)


def tickets_in(session: Session, states: Sequence[str]) -> list[ReviewTicket]:
    """Tickets in any of these states, oldest first."""
    query = select(ReviewTicket).where(col(ReviewTicket.state).in_(list(states)))
    return list(session.exec(query.order_by(col(ReviewTicket.id))))


def stale_sign_offs(session: Session, ticket: ReviewTicket, signed: Sequence[SignOff]) -> set[int]:
    """The ids of the sign-offs that no longer count: of an earlier round, of another text than the policy file has
    now, or given before the ticket went back to triage (a move, say); of a finished ticket, those of an earlier
    round than its last."""
    this_round = current_round(session, ticket.id or 0)
    if ticket.state in FINISHED_STATES:
        return {s.id or 0 for s in signed if s.round != this_round}
    if ticket.state in ("open", "triaged"):  # no round is open: whatever was signed is asked again
        return {s.id or 0 for s in signed}
    from reviewbot.models import PolicyDocument  # the policy tables: read for a ticket in review only
    from reviewbot.store.policies import content_hash

    document = session.get(PolicyDocument, ticket.document_id)
    if document is None:  # its document is gone: nothing can count
        return {s.id or 0 for s in signed}
    now = content_hash(session, document, document.current_revision, ticket.section_id)
    return {s.id or 0 for s in signed if s.round != this_round or s.section_hash != now}
