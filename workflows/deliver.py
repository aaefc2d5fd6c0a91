"""Sync stage: deliver the outbox to the tracker and the notifier. Each message is sent at most once; a failure
leaves it queued for the next run and does not stop the notifier when the tracker is down, or the reverse.

A create is never repeated blindly: the message is marked unknown before the write is sent and stays so until the
new key is saved (in one transaction with it), so a timeout, a dropped connection or a process killed in between
all leave it unknown; the next attempt then waits until the tracker's search has caught up (`settle_seconds`)
and searches for the ticket's fingerprint before creating again. Links and the rest follow once the key is saved.

One ticket's failure (an error about that issue: Jira's 400 or 404) fails that message with the tracker's reason
and the others go on; only a failure of the whole tracker (unreachable, 5xx, rate limited, credentials) holds
back the tracker's remaining messages until the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from reviewbot.connectors.registry import ConnectorContext, make_notifier, make_tracker
from reviewbot.errors import ConfigError
from reviewbot.models import OutboxMessage, ReviewTicket, utcnow
from reviewbot.protocols import AmbiguousWrite, Link, Message, Notifier, TicketDraft, Tracker
from reviewbot.settings import Settings
from reviewbot.store import Store, outbox
from reviewbot.store.policies import published_sections
from reviewbot.store.review import audit
from reviewbot.store.tickets import by_fingerprint
from reviewbot.workflows.trackers import configured, is_held_here, where_held

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


class CreateRefused(Exception):
    """The tracker refused a create: nothing was filed, so the message is failed, not of unknown outcome."""


class NotFiledYet(Exception):
    """A message about a ticket whose create has not succeeded yet; retried after it does."""


class OtherTracker(Exception):
    """A message about a ticket whose issue is in another tracker than the configured one: never sent to this one,
    where its key could name an unrelated issue."""


def deliver(settings: Settings, store: Store) -> Delivery:
    """Send every due outbox message; count what was sent and what failed."""
    context = ConnectorContext(settings=settings, store=store)
    tracker, notifier = make_tracker(context), make_notifier(context)
    result = Delivery()
    with store.session() as session:
        messages = outbox.due(session)
    # Creates first: a ticket refiled in this tracker (see tickets.refile) may have older messages waiting for it.
    messages.sort(key=lambda message: message.action != "create")
    tracker_down = False
    for message in messages:
        if message.target == "tracker" and tracker_down:
            continue  # the tracker itself is failing: try the rest next run, in order
        if _waiting(message, tracker):
            result.counts["waiting"] += 1
            continue
        try:
            _send(settings, store, message, tracker, notifier)
        except OtherTracker as exc:
            log.info("outbox message %s not sent: %s", message.key, exc)
            with store.session() as session:
                outbox.mark_skipped(session, message.id or 0, str(exc))
            result.counts["skipped"] = result.counts.get("skipped", 0) + 1
            continue
        except Exception as exc:  # noqa: BLE001 - any failure of an outside system is retried next run
            unknown = True if isinstance(exc, AmbiguousWrite) else False if isinstance(exc, CreateRefused) else None
            log.warning("outbox message %s failed: %s", message.key, exc)
            with store.session() as session:
                outbox.mark_failed(session, message.id or 0, f"{type(exc).__name__}: {exc}", unknown=unknown)
            result.counts["failed"] += 1
            tracker_down = tracker_down or (message.target == "tracker" and site_wide(exc))
            name = tracker.name if message.target == "tracker" else notifier.name
            result.errors.append(f"{message.target} ({name}): {message.key}: {exc}")
            continue
        with store.session() as session:
            outbox.mark_sent(session, message.id or 0)
        result.counts["sent"] += 1
    return result


def site_wide(exc: BaseException) -> bool:
    """Whether a tracker error concerns the whole tracker (so its other messages wait) rather than one ticket."""
    cause = exc.__cause__ if isinstance(exc, CreateRefused) and exc.__cause__ is not None else exc
    if isinstance(cause, AmbiguousWrite | ConfigError | OSError):
        return True  # a lost connection, credentials or permissions: every other write would fail the same way
    return bool(getattr(cause, "site_wide", False))


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
    if not is_held_here(ticket, settings):
        ref = ticket.tracker_ref or f"#{ticket.id}"
        raise OtherTracker(f"{ref} is an issue of the {where_held(ticket)} tracker, not of {configured(settings)}")
    draft = draft_of(settings, ticket)
    if message.action == "create":
        ref = ticket.tracker_ref or _create(store, message, tracker, ticket, draft)
        link = getattr(tracker, "link", None)
        if link is not None:
            link(ref, draft.links)
    elif ticket.tracker_ref is None:
        raise NotFiledYet("the ticket has not reached the tracker yet; retried after its create succeeds")
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
    elif message.action == "dismiss":
        dismiss = getattr(tracker, "dismiss", None)  # a tracker without "won't do" keeps the comment alone
        if dismiss is not None:
            dismiss(ticket.tracker_ref, str(message.payload.get("reason", "")))
    elif message.action == "reopen":
        reopen = getattr(tracker, "reopen", None)
        if reopen is not None:
            reopen(ticket.tracker_ref)
    elif message.action == "assign":
        assign = getattr(tracker, "assign", None)
        if assign is not None:
            assign(ticket.tracker_ref, message.payload.get("assignee"))


def _create(store: Store, message: OutboxMessage, tracker: Tracker, ticket: ReviewTicket, draft: TicketDraft) -> str:
    """File the ticket once: find it first (an earlier create may have happened), mark the message unknown before
    writing, and save the key in the same transaction that makes the outcome known."""
    found = tracker.find(ticket.fingerprint)
    if found is None:
        with store.session() as session:
            outbox.mark_unknown(session, message.id or 0)
        try:
            found = tracker.create(draft)
        except AmbiguousWrite:
            raise
        except Exception as exc:
            if isinstance(exc, ConfigError) or hasattr(exc, "status"):
                raise CreateRefused(str(exc)) from exc  # the tracker refused it (or was never reached): not filed
            raise AmbiguousWrite(f"create: {type(exc).__name__}: {exc}") from exc  # it may have got through
    record_create(store, message, ticket, found.ref, found.status)
    return found.ref


def record_create(store: Store, message: OutboxMessage, ticket: ReviewTicket, ref: str, status: str) -> None:
    """Save the tracker's key for a ticket and mark its create message's outcome known, in one transaction."""
    with store.session() as session:
        stored = session.get(ReviewTicket, ticket.id)
        if stored is not None:
            stored.tracker_ref, stored.tracker_status, stored.tracker_section = ref, status, ticket.section_id
            session.add(stored)
        outbox.mark_known(session, message.id or 0)


def _told(store: Store, ticket: ReviewTicket) -> None:
    """Remember the section the tracker now names (a different section there later is a person's move)."""
    if ticket.tracker_section == ticket.section_id:
        return  # already known: most updates are evidence refreshes on the same section
    with store.session() as session:
        stored = session.get(ReviewTicket, ticket.id)
        if stored is not None:
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
        linked = [copy for copy in copies if tracker.link_duplicate(keep, copy) is not False]  # type: ignore[attr-defined]
        if not linked:
            continue  # known and linked before: reported once, not on every sync
        with store.session() as session:
            ticket = by_fingerprint(session, fingerprint)
            # (a ticket whose issue is in another tracker keeps that key: the copies are this tracker's business)
            if ticket is not None and is_held_here(ticket, settings) and ticket.tracker_ref != keep:
                ticket.tracker_ref = keep
                session.add(ticket)
            audit(
                session,
                "reviewbot",
                "duplicates",
                f"{keep} kept; {', '.join(linked)} linked as duplicates",
                ticket=ticket,
            )
        found.append(f"{keep} has duplicates {', '.join(linked)} (linked)")
    return found
