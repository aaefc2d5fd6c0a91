"""Sync stage: deliver the outbox to the tracker and the notifier. Each message is sent at most once; a failure
leaves it queued for the next run and does not stop the notifier when the tracker is down, or the reverse.

A tracker write whose outcome is unknown (timeout, dropped connection) is not repeated blindly: the message is
marked unknown, and the next attempt first searches the tracker for the ticket's fingerprint, after giving the
tracker's search time to catch up (`settle_seconds`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from connectors.registry import ConnectorContext, make_notifier, make_tracker
from reviewbot.models import OutboxMessage, ReviewTicket, utcnow
from reviewbot.protocols import AmbiguousWrite, Link, Message, Notifier, TicketDraft, Tracker
from reviewbot.settings import Settings
from reviewbot.store import Store, outbox
from reviewbot.store.policies import published_sections
from reviewbot.store.review import audit
from reviewbot.store.tickets import by_fingerprint

log = logging.getLogger(__name__)


def policy_links(settings: Settings, ticket: ReviewTicket) -> tuple[Link, ...]:
    """Links from a ticket to its policy section, and to the version that resolved it once there is one."""
    base = settings.review.publish_url or settings.publish_path.resolve().as_uri()
    document, section = ticket.document_id, ticket.section_id
    heading = (ticket.evidence.get("section") or {}).get("heading") or section or document
    anchor = f"#{section}" if section else ""
    links = [
        Link(
            f"reviewbot:{document}:{section or '*'}",
            f"{base.rstrip('/')}/{document}.html{anchor}",
            f"Policy: {heading}",
        )
    ]
    if ticket.resolved_version:
        url = f"{base.rstrip('/')}/{document}-v{ticket.resolved_version}.html{anchor}"
        links.append(
            Link(
                f"reviewbot:{document}:v{ticket.resolved_version}",
                url,
                f"Published in version {ticket.resolved_version}",
            )
        )
    return tuple(links)


def draft_of(settings: Settings, ticket: ReviewTicket) -> TicketDraft:
    """What the tracker is told about a ticket."""
    return TicketDraft(
        fingerprint=ticket.fingerprint,
        title=ticket.title,
        evidence=dict(ticket.evidence),
        labels=("reviewbot",),
        links=policy_links(settings, ticket),
    )


@dataclass
class Delivery:
    """What one delivery run sent, what failed, what waits for the tracker's search to catch up."""

    counts: dict[str, int] = field(default_factory=lambda: {"sent": 0, "failed": 0, "waiting": 0})
    errors: list[str] = field(default_factory=list)


def deliver(settings: Settings, store: Store) -> Delivery:
    """Send every due outbox message; count what was sent and what failed."""
    context = ConnectorContext(settings=settings, store=store)
    tracker, notifier = make_tracker(context), make_notifier(context)
    result = Delivery()
    with store.session() as session:
        messages = outbox.due(session)
    tracker_down = False
    for message in messages:
        if message.target == "tracker" and tracker_down:
            continue  # keep the order of a ticket's messages: try the rest next run
        if _waiting(message, tracker):
            result.counts["waiting"] += 1
            continue
        try:
            _send(settings, store, message, tracker, notifier)
        except Exception as exc:  # noqa: BLE001 - any failure of an outside system is retried next run
            unknown = isinstance(exc, AmbiguousWrite)
            log.warning("outbox message %s failed: %s", message.key, exc)
            with store.session() as session:
                outbox.mark_failed(session, message.id or 0, f"{type(exc).__name__}: {exc}", unknown=unknown)
            result.counts["failed"] += 1
            tracker_down = tracker_down or message.target == "tracker"
            name = tracker.name if message.target == "tracker" else notifier.name
            result.errors.append(f"{message.target} ({name}): {message.key}: {exc}")
            continue
        with store.session() as session:
            outbox.mark_sent(session, message.id or 0)
        result.counts["sent"] += 1
    return result


def _waiting(message: OutboxMessage, tracker: Tracker) -> bool:
    """True while a create of unknown outcome waits for the tracker's search to show it, if it happened."""
    if message.status != "unknown" or message.action != "create" or message.last_attempt_at is None:
        return False
    settle = timedelta(seconds=getattr(tracker, "settle_seconds", 0))
    return utcnow() - message.last_attempt_at < settle


def _send(settings: Settings, store: Store, message: OutboxMessage, tracker: Tracker, notifier: Notifier) -> None:
    if message.target == "notifier":
        notifier.send(_render(store, message))
        return
    with store.session() as session:
        ticket = session.get(ReviewTicket, message.ticket_id)
    if ticket is None:
        return
    draft = draft_of(settings, ticket)
    if message.action == "create":
        # Search before create: a create that happened but was not recorded must not run twice.
        ref = tracker.find(ticket.fingerprint) or tracker.create(draft)
        _told(store, ticket, tracker_ref=ref.ref, tracker_status=ref.status)
    elif ticket.tracker_ref is None:
        raise RuntimeError("the ticket has not reached the tracker yet; retried after its create succeeds")
    elif message.action == "update":
        tracker.update(ticket.tracker_ref, draft, marker=message.key, note=str(message.payload.get("note", "")))
        unlink = getattr(tracker, "unlink", None)
        if unlink is not None and message.payload.get("unlink"):
            unlink(ticket.tracker_ref, message.payload["unlink"])
        _told(store, ticket)
    elif message.action == "close":
        if ticket.resolved_version:
            tracker.update(ticket.tracker_ref, draft, marker=message.key + ":links", note="")
        tracker.close(ticket.tracker_ref, str(message.payload.get("resolution", "")))


def _told(store: Store, ticket: ReviewTicket, **fields: str) -> None:
    """Remember what the tracker now holds: its key and status after a create, and the section it names (a
    different section there later is a person's move)."""
    if not fields and ticket.tracker_section == ticket.section_id:
        return  # already known: most updates are evidence refreshes on the same section
    with store.session() as session:
        stored = session.get(ReviewTicket, ticket.id)
        if stored is not None:
            for name, value in fields.items():
                setattr(stored, name, value)
            stored.tracker_section = ticket.section_id
            session.add(stored)


def _render(store: Store, message: OutboxMessage) -> Message:
    # The key and whether this is a retry let a notifier check that an earlier attempt did not arrive after all.
    marks = {"outbox_key": message.key, "retry": message.attempts > 0}
    if message.action != "digest":
        payload = message.payload
        data = {**payload.get("data", {}), **marks}
        if payload["kind"] == "signoff_request":
            data["sections"] = _section_choices(store)
        return Message(
            kind=payload["kind"],
            title=payload["title"],
            body=payload["body"],
            recipients=tuple(payload.get("recipients", ())),
            data=data,
        )
    changes: list[tuple[int, str]] = []
    created: list[dict[str, str]] = []
    with store.session() as session:
        for change in message.payload.get("changes", []):
            outcome, fp = change.split(":", 1)
            ticket = by_fingerprint(session, fp)
            if ticket is not None:
                verb = "new" if outcome == "created" else "updated"
                ref = ticket.tracker_ref or f"#{ticket.id}"
                changes.append((ticket.id or 0, f"- {verb}: {ref} {ticket.title}"))
                if outcome == "created" and ticket.theme_id is not None:
                    created.append({"ref": ref, "section": ticket.section_id or ""})
    new = sum(1 for c in message.payload.get("changes", []) if c.startswith("created"))
    title = f"{new} new and {len(changes) - new} updated review tickets"
    data = {**marks, "created": created, "sections": _section_choices(store) if created else []}
    return Message(kind="digest", title=title, body="\n".join(line for _, line in sorted(changes)), data=data)


def _section_choices(store: Store) -> list[tuple[str, str, str]]:
    """(document#section, heading, document title) of every published section: where a ticket can be moved."""
    with store.session() as session:
        return [(f"{doc.id}#{s.section_id}", s.heading, doc.title) for doc, s in published_sections(session)]


def reconcile(settings: Settings, store: Store) -> list[str]:
    """Find tickets the tracker holds more than once; link the copies to the oldest and report them."""
    tracker = make_tracker(ConnectorContext(settings=settings, store=store))
    find_duplicates = getattr(tracker, "duplicates", None)
    if find_duplicates is None:
        return []
    found = []
    for fingerprint, refs in find_duplicates().items():
        keep, *copies = refs
        for copy in copies:
            tracker.link_duplicate(keep, copy)  # type: ignore[attr-defined]
        with store.session() as session:
            ticket = by_fingerprint(session, fingerprint)
            if ticket is not None and ticket.tracker_ref != keep:
                ticket.tracker_ref = keep
                session.add(ticket)
            audit(
                session,
                "reviewbot",
                "duplicates",
                f"{keep} kept; {', '.join(copies)} linked as duplicates",
                ticket=ticket,
            )
        found.append(f"{keep} has duplicates {', '.join(copies)} (linked)")
    return found
