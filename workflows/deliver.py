"""Sync stage: deliver the outbox to the tracker and the notifier. Each message is sent at most once;
a failure leaves it queued for the next run and does not stop the other messages."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from connectors.registry import ConnectorContext, make_notifier, make_tracker
from reviewbot.models import OutboxMessage, ReviewTicket
from reviewbot.protocols import Message, Notifier, TicketDraft, Tracker
from reviewbot.settings import Settings
from reviewbot.store import Store, outbox
from reviewbot.store.tickets import by_fingerprint

log = logging.getLogger(__name__)


def draft_of(ticket: ReviewTicket) -> TicketDraft:
    """What the tracker is told about a ticket."""
    return TicketDraft(
        fingerprint=ticket.fingerprint,
        title=ticket.title,
        evidence=dict(ticket.evidence),
        labels=(f"reviewbot-{ticket.fingerprint}", "reviewbot"),
    )


@dataclass
class Delivery:
    """What one delivery run sent and what failed."""

    counts: dict[str, int] = field(default_factory=lambda: {"sent": 0, "failed": 0})
    errors: list[str] = field(default_factory=list)


def deliver(settings: Settings, store: Store) -> Delivery:
    """Send every due outbox message; count what was sent and what failed."""
    context = ConnectorContext(settings=settings, store=store)
    tracker, notifier = make_tracker(context), make_notifier(context)
    result = Delivery()
    counts = result.counts
    with store.session() as session:
        messages = outbox.due(session)
    failed_targets: set[str] = set()
    names = {"tracker": tracker.name, "notifier": notifier.name}
    for message in messages:
        if message.target in failed_targets and message.target == "tracker":
            continue  # the tracker is down: keep order, try the rest next run
        try:
            _send(store, message, tracker, notifier)
        except Exception as exc:  # noqa: BLE001 - any failure of an outside system is retried next run
            log.warning("outbox message %s failed: %s", message.key, exc)
            with store.session() as session:
                outbox.mark_failed(session, message.id or 0, f"{type(exc).__name__}: {exc}")
            counts["failed"] += 1
            failed_targets.add(message.target)
            result.errors.append(f"{message.target} ({names[message.target]}): {message.key}: {exc}")
            continue
        with store.session() as session:
            outbox.mark_sent(session, message.id or 0)
        counts["sent"] += 1
    return result


def _send(store: Store, message: OutboxMessage, tracker: Tracker, notifier: Notifier) -> None:
    if message.target == "notifier":
        notifier.send(_render(store, message))
        return
    with store.session() as session:
        ticket = session.get(ReviewTicket, message.ticket_id)
    if ticket is None:
        return
    draft = draft_of(ticket)
    if message.action == "create":
        # Search before create: a create that succeeded but was not recorded must not run twice.
        ref = tracker.find(ticket.fingerprint) or tracker.create(draft)
        with store.session() as session:
            stored = session.get(ReviewTicket, ticket.id)
            if stored is not None:
                stored.tracker_ref = ref.ref
                session.add(stored)
    elif ticket.tracker_ref is None:
        raise RuntimeError("the ticket has not reached the tracker yet; retried after its create succeeds")
    elif message.action == "update":
        tracker.update(ticket.tracker_ref, draft, marker=message.key, note=str(message.payload.get("note", "")))
    elif message.action == "close":
        tracker.close(ticket.tracker_ref, str(message.payload.get("resolution", "")))


def _render(store: Store, message: OutboxMessage) -> Message:
    if message.action != "digest":
        payload = message.payload
        return Message(
            kind=payload["kind"],
            title=payload["title"],
            body=payload["body"],
            recipients=tuple(payload.get("recipients", ())),
            data=dict(payload.get("data", {})),
        )
    changes: list[tuple[int, str]] = []
    with store.session() as session:
        for change in message.payload.get("changes", []):
            outcome, fp = change.split(":", 1)
            ticket = by_fingerprint(session, fp)
            if ticket is not None:
                verb = "new" if outcome == "created" else "updated"
                changes.append(
                    (ticket.id or 0, f"- {verb}: {ticket.tracker_ref or '#' + str(ticket.id)} {ticket.title}")
                )
    new = sum(1 for c in message.payload.get("changes", []) if c.startswith("created"))
    title = f"{new} new and {len(changes) - new} updated review tickets"
    return Message(kind="digest", title=title, body="\n".join(line for _, line in sorted(changes)))
