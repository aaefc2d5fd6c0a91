"""Owners correct the mapping: a ticket filed against the wrong section is moved to the right one, or marked as no
policy matter. The move re-targets the ticket (and its tracker issue), is audited, keeps the theme where the owner
put it, and teaches the mapper: themes like this one follow on the next sync (analysis.mapping)."""

from __future__ import annotations

import difflib

from sqlmodel import Session, col, select

from reviewbot.analysis.mapping import SectionMatch
from reviewbot.errors import NotFoundError
from reviewbot.evidence import fingerprint
from reviewbot.models import MappingCorrection, PolicyDocument, PolicySection, ReviewTicket, Theme
from reviewbot.settings import Settings
from reviewbot.store import Store, outbox
from reviewbot.store.corrections import add_correction
from reviewbot.store.policies import authority_of, document_authority, documents, sections
from reviewbot.store.review import audit, requests, set_request_status
from reviewbot.store.tickets import by_fingerprint, mappings, replace_mappings
from reviewbot.workflows.locks import one_at_a_time
from reviewbot.workflows.review import (
    RefusedError,
    answerable,
    dismiss_ticket,
    holders,
    load,
    move,
    ref_of,
    require,
)
from reviewbot.workflows.tickets import retarget

MOVABLE = ("open", "triaged", "in_review", "changes_requested")
NOT_POLICY_REASON = "not a policy matter"


@one_at_a_time
def move_ticket(
    store: Store,
    settings: Settings,
    ref: str,
    section_id: str | None,
    actor: str,
    *,
    document_id: str | None = None,
    reason: str = "",
    in_tracker: bool = False,
) -> str:
    """Move a ticket to another section (`section_id` None: not a policy matter, the ticket is dismissed); the
    mapper learns from it. Refused for an unknown section, a ticket that is not open for review, a ticket without
    a theme (a periodic review), or someone who owns neither section. `in_tracker`: a person already moved it in
    the tracker, whose permissions decided; it is recorded, not judged."""
    with store.session() as session:
        ticket = load(session, ref)
        theme = _theme_of(session, ticket)
        if ticket.state not in MOVABLE:
            raise RefusedError(
                f"ticket {ref_of(ticket)} is {ticket.state}; only a ticket still under review can move",
                hint="a closed or dismissed ticket stays where it was decided",
            )
        document = _document(session, ticket, section_id, document_id)
        target = _section(session, document, section_id) if section_id is not None else None
        if not in_tracker:
            _check_mover(session, settings, ticket, document, target, actor)
        if target is not None and (document.id, target.section_id) == (ticket.document_id, ticket.section_id):
            raise RefusedError(f"ticket {ref_of(ticket)} is already on section {target.section_id}")
        was = ticket.section_id or "(coverage gap)"
        correction = add_correction(
            session,
            MappingCorrection(
                theme_id=theme.id,
                ticket_id=ticket.id,
                document_id=document.id,
                section_id=target.section_id if target else None,
                was_section=ticket.section_id,
                centroid=dict(theme.centroid),
                theme_size=theme.size,
                actor=actor,
                reason=reason,
            ),
        )
        matches = [] if target is None else [SectionMatch(document.id, target.section_id, 1.0)]
        replace_mappings(session, theme.id or 0, matches, mappings(session, theme.id))
        if target is None:
            return _not_policy(session, ticket, theme, actor, reason)
        return _retarget(session, settings, ticket, theme, document, target, actor, reason, was, correction)


def _retarget(
    session: Session,
    settings: Settings,
    ticket: ReviewTicket,
    theme: Theme,
    document: PolicyDocument,
    target: PolicySection,
    actor: str,
    reason: str,
    was: str,
    correction: MappingCorrection,
) -> str:
    why = f"moved from {was} to {target.section_id} by {actor}" + (f": {reason}" if reason else "")
    existing = by_fingerprint(session, fingerprint(theme.id or 0, document.id, target.section_id))
    if existing is not None:  # the theme already has a ticket there: this one is a duplicate now
        covered = f"{why}, where {ref_of(existing)} already reviews it"
        dismiss_ticket(session, ticket, actor, covered, f"Moved: {ref_of(existing)} covers it ({why})")
        return f"{ref_of(ticket)} is dismissed: {ref_of(existing)} already reviews this theme on {target.section_id}"
    if ticket.state in ("in_review", "changes_requested"):  # other approvers now: the sign-offs start again
        set_request_status(session, requests(session, ticket.id or 0, status="pending"), "withdrawn")
        move(session, ticket, "triaged", actor, f"{why}; sign-offs on {was} withdrawn", force=True)
    old_link = f"reviewbot:{ticket.document_id}:{ticket.section_id or '*'}"  # as deliver.policy_links names it
    retarget(session, settings, ticket, theme, document, target)
    audit(session, actor, "move", why, ticket=ticket, data={"from": was, "to": target.section_id})
    note = {"note": f"Moved to {target.heading} ({why})", "unlink": [old_link]}
    outbox.enqueue(session, f"tracker.note:moved:{correction.id}", "tracker", "update", note, ticket.id)
    return f"{ref_of(ticket)} moved from {was} to {target.section_id}; themes like it will be filed there too"


def _not_policy(session: Session, ticket: ReviewTicket, theme: Theme, actor: str, reason: str) -> str:
    why = f"{NOT_POLICY_REASON} ({actor})" + (f": {reason}" if reason else "")
    others = session.exec(
        select(ReviewTicket).where(ReviewTicket.theme_id == theme.id, col(ReviewTicket.state).in_(MOVABLE))
    ).all()
    for each in others:  # the theme needs no policy review, on any section
        dismiss_ticket(session, each, actor, why, f"Dismissed: {why}")
    return f"{ref_of(ticket)} is dismissed as {NOT_POLICY_REASON}; themes like it will get no ticket"


def _theme_of(session: Session, ticket: ReviewTicket) -> Theme:
    theme = session.get(Theme, ticket.theme_id) if ticket.theme_id else None
    if theme is None:
        raise RefusedError(
            f"ticket {ref_of(ticket)} is a periodic review of its section, not about a theme; it cannot move",
            hint="dismiss it instead if the review is not needed",
        )
    if theme.status != "active":
        raise RefusedError(f"the theme of {ref_of(ticket)} was merged into theme {theme.merged_into}")
    return theme


def _document(session: Session, ticket: ReviewTicket, section_id: str | None, wanted: str | None) -> PolicyDocument:
    """The document of the target section: the one named, else the ticket's, else the only one that has it."""
    docs = {d.id: d for d in documents(session)}
    if wanted is not None:
        if wanted not in docs:
            raise NotFoundError(f"no policy document {wanted!r}", hint=f"documents: {', '.join(sorted(docs))}")
        return docs[wanted]
    own = docs[ticket.document_id]
    if section_id is None or any(s.section_id == section_id for s in sections(session, own)):
        return own
    holders = [d for d in docs.values() if any(s.section_id == section_id for s in sections(session, d))]
    return holders[0] if len(holders) == 1 else own


def _section(session: Session, document: PolicyDocument, section_id: str) -> PolicySection:
    known = {s.section_id: s for s in sections(session, document)}
    if section_id in known:
        return known[section_id]
    close = difflib.get_close_matches(section_id, list(known), n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise NotFoundError(
        f"no section {section_id!r} in the published version of {document.id}",
        hint=f"{hint}see `reviewbot policy show {document.id}` for its section ids",
    )


MOVERS = "the owners and approvers of its section, of the target section or of the document may"


def _check_mover(
    session: Session,
    settings: Settings,
    ticket: ReviewTicket,
    document: PolicyDocument,
    target: PolicySection | None,
    actor: str,
) -> None:
    """Only someone answerable for the ticket's section, the target section or the document may move a ticket."""
    places = (document_authority(session, document), authority_of(target) if target is not None else None)
    allowed = answerable(session, settings, ticket) | holders(settings, *places)
    require(actor, allowed, f"move {ref_of(ticket)}", MOVERS)


def movers(session: Session, settings: Settings, ticket: ReviewTicket) -> set[str]:
    """Everyone who may move a ticket to some section of its document (the web console offers the move to them)."""
    document = session.get(PolicyDocument, ticket.document_id)
    places = []
    if document is not None:  # the owners and approvers the published version names
        places = [document_authority(session, document), *map(authority_of, sections(session, document))]
    return answerable(session, settings, ticket) | holders(settings, *places)
