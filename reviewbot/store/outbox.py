"""Queries for the outbox: side effects decided in a transaction, delivered after it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from reviewbot.models import OutboxMessage, utcnow

MAX_ERROR = 2000


def enqueue(
    session: Session, key: str, target: str, action: str, payload: dict[str, Any], ticket_id: int | None = None
) -> bool:
    """Add a message unless one with this key exists (the key is the idempotency marker); True if added."""
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)).first() is not None:
        return False
    session.add(OutboxMessage(key=key, target=target, action=action, payload=payload, ticket_id=ticket_id))
    return True


def due(session: Session) -> list[OutboxMessage]:
    """Messages still to deliver (new, failed before, or of unknown outcome), oldest first."""
    query = select(OutboxMessage).where(col(OutboxMessage.status).in_(["pending", "failed", "unknown"]))
    return list(session.exec(query.order_by(col(OutboxMessage.id))))


def mark_sent(session: Session, message_id: int) -> None:
    """Record a delivered message."""
    message = session.get(OutboxMessage, message_id)
    if message is not None:
        message.status, message.sent_at, message.last_attempt_at = "sent", utcnow(), utcnow()
        message.attempts += 1
        session.add(message)


def mark_unknown(session: Session, message_id: int) -> None:
    """Record that a write is about to be sent: until its result is recorded, its outcome is unknown (a process
    killed in between leaves it so), and the next attempt waits for the tracker's search before writing again."""
    message = session.get(OutboxMessage, message_id)
    if message is not None:
        message.status, message.last_attempt_at = "unknown", utcnow()
        session.add(message)


def mark_known(session: Session, message_id: int) -> None:
    """The write's result is recorded (in the same transaction): the message is no longer of unknown outcome."""
    message = session.get(OutboxMessage, message_id)
    if message is not None and message.status == "unknown":
        message.status = "pending"
        session.add(message)


def mark_skipped(session: Session, message_id: int, reason: str) -> None:
    """Record a message that is not to be sent at all (it is about an issue in another tracker), and why."""
    message = session.get(OutboxMessage, message_id)
    if message is not None:
        message.status, message.last_attempt_at, message.last_error = "skipped", utcnow(), reason[:MAX_ERROR]
        session.add(message)


def mark_failed(session: Session, message_id: int, error: str, *, unknown: bool | None = None) -> None:
    """Record a failed attempt, tried again next run. `unknown`: True when the write may have happened all the
    same, False when it was refused (nothing happened), None when this attempt did not get as far as writing."""
    message = session.get(OutboxMessage, message_id)
    if message is not None:
        # Unless refused, once unknown stays unknown: a failure before writing does not prove the earlier write
        # did nothing.
        keep = unknown is None and message.status == "unknown"
        message.status = "unknown" if unknown or keep else "failed"
        message.attempts += 1
        message.last_attempt_at = utcnow()
        message.last_error = error[:MAX_ERROR]
        session.add(message)
