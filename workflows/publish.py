"""Publishing a policy version and closing the loop: resolved tickets close, people are told and thanked,
agents are asked to acknowledge the new version."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from reviewbot.errors import NotFoundError
from reviewbot.models import FeedbackItem, PolicyDocument, PolicyRelease, ReviewTicket, Theme, utcnow
from reviewbot.models.base import as_utc
from reviewbot.policy.diff import SectionChange, diff_sections
from reviewbot.policy.parse import ParsedPolicy
from reviewbot.policy.render import render_html, render_markdown
from reviewbot.settings import Settings
from reviewbot.store import Store, outbox
from reviewbot.store.policies import RESOLVED, acks, add_ack, get_release, release, releases, sections
from reviewbot.store.review import audit, tickets_in
from reviewbot.workflows.deliver import deliver
from reviewbot.workflows.locks import one_at_a_time
from reviewbot.workflows.policies import refresh_document
from reviewbot.workflows.review import (
    PUBLISHERS,
    RefusedError,
    approval_is_stale,
    context_of,
    move,
    notify,
    publishers,
    ref_of,
    require,
    settle,
)

ACTIVE = ("open", "triaged", "in_review", "changes_requested", "approved")
THANKED_KINDS = ("suggestion", "agent_note")


@dataclass
class PublishPlan:
    """What publishing a document now would do."""

    document: PolicyDocument
    policy: ParsedPolicy
    changes: list[SectionChange]
    resolved: list[ReviewTicket]  # approved tickets this version answers
    blocking: list[ReviewTicket]  # tickets on changed sections that are not approved
    changelog: list[str]


@dataclass
class PublishResult:
    """What publishing did."""

    document_id: str
    version: int
    files: list[str]
    changelog: list[str]
    resolved: list[str]
    forced: bool
    ack_expected: list[str]
    delivery: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def plan_publish(settings: Settings, store: Store, document_id: str) -> PublishPlan:
    """Read the policy file, record it, and work out the changes, the tickets they resolve and what blocks."""
    policy = refresh_document(settings, store, document_id)
    with store.session() as session:
        document = _document(session, document_id)
        if not document.has_draft:
            raise RefusedError(
                f"nothing to publish: {document.path} is the same as version {document.published_version}",
                hint="edit the policy file first",
            )
        published = sections(session, document)
        changes = diff_sections(published, sections(session, document, document.current_revision))
        changed = {c.section_id for c in changes}
        active = [t for t in tickets_in(session, ACTIVE) if t.document_id == document_id]
        concerned = [t for t in active if t.section_id in changed or t.section_id is None]
        # an approval is of the text approved: a ticket whose text was edited since is not approved for this one
        approved = [t for t in concerned if t.state == "approved"]
        stale = [t for t in approved if approval_is_stale(session, context_of(session, settings, t))]
        blocking = [t for t in active if t.section_id in changed and t.state != "approved"] + stale
        resolved = [t for t in approved if t not in stale]
        changelog = _changelog(session, changes, resolved)
        return PublishPlan(document, policy, changes, resolved, blocking, changelog)


def check_publisher(settings: Settings, store: Store, plan: PublishPlan, actor: str) -> None:
    """Refuse `actor` unless they may publish the plan's document (its published owner, admins), naming who may."""
    with store.session() as session:
        allowed = publishers(session, settings, plan.document)
    require(actor, allowed, f"publish {plan.document.id}", PUBLISHERS)


def _release_or_latest(session: Session, document_id: str, version: int | None) -> PolicyRelease:
    """The release of a version of a document (its published one when None), or a NotFoundError saying so."""
    document = _document(session, document_id)  # an unknown document is named as such, whatever the version
    number = version or document.published_version
    entry = get_release(session, document_id, number)
    if entry is None:
        raise NotFoundError(
            f"{document_id} has no version {number}", hint=f"see `reviewbot policy versions {document_id}`"
        )
    return entry


def _document(session: Session, document_id: str) -> PolicyDocument:
    document = session.get(PolicyDocument, document_id)
    if document is None:
        raise NotFoundError(f"no policy document {document_id!r}", hint="see `reviewbot policy list`")
    return document


def _changelog(session: Session, changes: list[SectionChange], resolved: list[ReviewTicket]) -> list[str]:
    """One line per change: the tickets it answers, or what happened to sections no ticket asked about."""
    lines = []
    for ticket in resolved:
        theme = session.get(Theme, ticket.theme_id) if ticket.theme_id else None
        what = f'addresses "{theme.label}"' if theme else "periodic review"
        where = (ticket.evidence.get("section") or {}).get("heading") or "New coverage"
        lines.append(f"{where}: {what} ({ref_of(ticket)})")
    asked = {t.section_id for t in resolved}
    for change in changes:
        if change.section_id not in asked:
            lines.append(f"{change.new_heading or change.old_heading}: {change.status}")
    return lines


@one_at_a_time
def publish(
    settings: Settings,
    store: Store,
    document_id: str,
    actor: str,
    *,
    changelog: list[str] | None = None,
    force_reason: str | None = None,
    published_at: datetime | None = None,
) -> PublishResult:
    """Publish the policy file as the next version (its owner or an admin may); refused while a changed section
    has unapproved tickets.

    `published_at` records a version that took effect earlier (a publish done outside reviewbot, or history
    being imported): not in the future and not before the previous version. The effect of a version is measured
    from this date.
    """
    plan = plan_publish(settings, store, document_id)
    check_publisher(settings, store, plan, actor)
    if plan.blocking and not force_reason:
        listed = ", ".join(f"{ref_of(t)} ({blocking_state(t)})" for t in plan.blocking)
        raise RefusedError(
            f"{document_id} has changed sections with tickets that are not approved: {listed}",
            hint=_untriaged_hint(plan.blocking)
            + "get them approved first (`reviewbot sync` asks again for what was approved as an earlier text), "
            "or publish anyway (audited) with "
            f'`reviewbot policy publish {document_id} --force --reason "..."`',
        )
    lines = changelog if changelog is not None else plan.changelog
    version = plan.document.published_version + 1
    published_at = _checked_date(store, document_id, published_at)
    files = _write_files(settings, plan.policy, version, published_at, lines)
    # once each, though a person may hold two of the roles (an agent who is also a team lead)
    expected = list(dict.fromkeys(p for role in settings.review.ack_roles for p in settings.roles.get(role, [])))
    with store.session() as session:
        document = _document(session, document_id)
        entry = release(
            session,
            document,
            document.current_revision,
            published_by=actor,
            changelog=lines,
            forced_reason=force_reason if plan.blocking else None,
            ack_expected=expected,
            files=files,
            published_at=published_at,
        )
        entry.meta = {**(entry.meta or {}), RESOLVED: [t.id for t in plan.resolved]}
        detail = f"version {entry.version}: {len(plan.changes)} section(s) changed"
        if published_at < utcnow() - timedelta(minutes=1):
            detail += f"; recorded as published on {published_at:%Y-%m-%d %H:%M} UTC"
        if plan.blocking:
            detail += f"; forced past {', '.join(ref_of(t) for t in plan.blocking)}: {force_reason}"
        audit(session, actor, "publish", detail, document_id=document_id, data={"changelog": lines})
        resolved = [_close(session, t, entry.version, actor) for t in plan.resolved]
        _tell_people(session, settings, document, entry.version, lines, plan.resolved, expected)
    delivery = deliver(settings, store)
    return PublishResult(
        document_id, version, files, lines, resolved, bool(plan.blocking), expected, delivery.counts, delivery.errors
    )


def _untriaged_hint(blocking: list[ReviewTicket]) -> str:
    """An open ticket is never sent for sign-off, however its section is edited: say to triage it first."""
    untriaged = [ref_of(t) for t in blocking if t.state == "open"]
    if not untriaged:
        return ""
    return (
        f"{', '.join(untriaged)}: nobody is asked to sign an open ticket; triage it (`reviewbot tickets triage "
        f"{untriaged[0]}`) and the next sync asks its approvers; then "
    )


def blocking_state(ticket: ReviewTicket) -> str:
    """How a ticket that blocks a publish is named: its state, or for an approved one (which blocks only when its
    text was edited after the approval) "approved an earlier text"."""
    return "approved an earlier text" if ticket.state == "approved" else ticket.state


def _checked_date(store: Store, document_id: str, published_at: datetime | None) -> datetime:
    """The publish time: now, or a checked earlier time (RefusedError when in the future or before the last)."""
    now = utcnow()
    if published_at is None:
        return now
    published_at = as_utc(published_at)
    if published_at > now:
        raise RefusedError(f"{published_at:%Y-%m-%d %H:%M} UTC is in the future", hint="publish now, without --at")
    with store.session() as session:
        previous = releases(session, document_id)
    if previous and published_at < as_utc(previous[-1].published_at):
        last = as_utc(previous[-1].published_at)
        raise RefusedError(
            f"version {previous[-1].version} was published on {last:%Y-%m-%d %H:%M} UTC, after {published_at:%Y-%m-%d}",
            hint="a new version cannot predate the previous one",
        )
    return published_at


def _close(session: Session, stale: ReviewTicket, version: int, actor: str) -> str:
    ticket = session.get(ReviewTicket, stale.id)
    assert ticket is not None
    move(session, ticket, "published", actor, f"version {version}")
    settle(session, ticket, "closed", actor, f"published in version {version}")
    ticket.resolved_version = version
    session.add(ticket)
    resolution = f"Published in version {version} of {ticket.document_id}"
    outbox.enqueue(
        session,
        f"tracker.close:{ticket.fingerprint}:v{version}",
        "tracker",
        "close",
        {"resolution": resolution},
        ticket.id,
    )
    return ref_of(ticket)


def _tell_people(
    session: Session,
    settings: Settings,
    document: PolicyDocument,
    version: int,
    lines: list[str],
    resolved: list[ReviewTicket],
    expected: list[str],
) -> None:
    """Announce the version, thank the people whose notes and suggestions it answers, ask for acknowledgements."""
    name = f"{document.title} version {version}"
    changes = "\n".join(f"- {line}" for line in lines) or "- no listed changes"
    notify(
        session,
        f"announce:{document.id}:v{version}",
        "announcement",
        f"Published: {name}",
        changes,
        [],
        document=document.id,
        version=version,
    )
    for person, refs in _contributors(session, resolved).items():
        notify(
            session,
            f"thanks:{document.id}:v{version}:{person}",
            "thank_you",
            f"Thank you: your feedback shaped {name}",
            f"What you reported is addressed in {name}:\n{_their_changes(lines, refs) or changes}",
            [person],
            document=document.id,
            version=version,
        )
    for person in expected:
        notify(
            session,
            f"ack:{document.id}:v{version}:{person}",
            "ack_request",
            f"Please read and acknowledge {name}",
            f"{changes}\nAcknowledge: reviewbot policy ack {document.id}",
            [person],
            document=document.id,
            version=version,
        )


def _contributors(session: Session, resolved: list[ReviewTicket]) -> dict[str, set[str]]:
    """Authors of the suggestions and agent notes behind the resolved tickets' themes, each with the references of
    the tickets their feedback was evidence for."""
    refs: dict[int, set[str]] = {}
    for ticket in resolved:
        if ticket.theme_id is not None:
            refs.setdefault(ticket.theme_id, set()).add(ref_of(ticket))
    if not refs:
        return {}
    query = (
        select(FeedbackItem.author, FeedbackItem.theme_id)
        .where(col(FeedbackItem.theme_id).in_(list(refs)), col(FeedbackItem.kind).in_(THANKED_KINDS))
        .where(col(FeedbackItem.author).is_not(None))
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for author, theme_id in session.exec(query):
        if author and theme_id is not None:
            found.setdefault(author, set()).update(refs[theme_id])
    return dict(sorted(found.items()))


def _their_changes(lines: list[str], refs: set[str]) -> str:
    """The changelog lines that name one of `refs` ("... (RB-5)"), as a list; empty when none does (a changelog
    written by hand need not name tickets: then the whole changelog is sent)."""
    theirs = [line for line in lines if any(line.rstrip().endswith(f"({ref})") for ref in refs)]
    return "\n".join(f"- {line}" for line in theirs)


def _write_files(settings: Settings, policy: ParsedPolicy, version: int, published_at, lines: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Render the published document as Markdown and HTML, versioned and as the latest copy."""
    folder = settings.publish_path
    folder.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(policy, version=version, published_at=published_at, changelog=lines)
    page = render_html(policy, version=version, published_at=published_at, changelog=lines)
    written = []
    for name, text in (
        (f"{policy.id}-v{version}.md", markdown),
        (f"{policy.id}-v{version}.html", page),
        (f"{policy.id}.md", markdown),
        (f"{policy.id}.html", page),
    ):
        _atomic_write(folder / name, text)
        written.append(str((folder / name).relative_to(settings.workspace)))
    return written


def _atomic_write(path: Path, text: str) -> None:
    # Readers (a web server, a sync to an intranet) never see half a file.
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(temp, 0o644)  # mkstemp's 0600 would hide a published policy from a web server running as another user
    os.replace(temp, path)


@one_at_a_time
def acknowledge(store: Store, document_id: str, person: str, version: int | None = None) -> str:
    """Record that a person read a published version (the latest by default)."""
    with store.session() as session:
        entry = _release_or_latest(session, document_id, version)
        number = entry.version
        if person not in entry.ack_expected:
            # an acknowledgement is an attestation: only the people asked for one can give it, so the
            # "N of M acknowledged" count means what it says
            raise RefusedError(
                f"{person} was not asked to acknowledge {document_id} version {number}",
                hint="the people in review.ack_roles when the version was published are asked "
                f"({len(entry.ack_expected)} people)",
            )
        if not add_ack(session, document_id, number, person):
            return f"{person} had already acknowledged {document_id} version {number}"
        audit(session, person, "acknowledge", f"version {number}", document_id=document_id)
        return f"{person} acknowledged {document_id} version {number}"


@dataclass
class AckStatus:
    """Who has and has not acknowledged a version."""

    document_id: str
    version: int
    acknowledged: dict[str, str]  # person -> when
    pending: list[str]


def ack_status(store: Store, document_id: str, version: int | None = None) -> AckStatus:
    """Acknowledgements of a version against the people asked for them."""
    with store.session() as session:
        entry = _release_or_latest(session, document_id, version)
        number = entry.version
        expected = set(entry.ack_expected)  # acknowledgements recorded before only the asked could give one
        done = {
            a.person: a.acked_at.isoformat(timespec="minutes")
            for a in acks(session, document_id, number)
            if a.person in expected
        }
        asked = dict.fromkeys(entry.ack_expected)  # versions published before the people were deduplicated
        return AckStatus(document_id, number, done, [p for p in asked if p not in done])


def version_history(store: Store, document_id: str) -> tuple[PolicyDocument, list]:  # type: ignore[type-arg]
    """A document and its published versions."""
    with store.session() as session:
        return _document(session, document_id), releases(session, document_id)
