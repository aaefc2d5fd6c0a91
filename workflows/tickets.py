"""Sync stage: open a review ticket per (theme, section) that passes the thresholds, refresh the evidence of
existing ones, and queue the tracker calls and the digest in the outbox, all in one transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import not_
from sqlmodel import Session, col, select

from reviewbot.evidence import (
    Quote,
    build_evidence,
    evidence_change,
    evidence_hash,
    fingerprint,
    headline,
    ticket_title,
    worth_announcing,
)
from reviewbot.models import PolicyDocument, PolicySection, ReviewTicket, Theme, ThemeMapping, utcnow
from reviewbot.models.tickets import FINISHED_STATES, SETTLED_STATES
from reviewbot.settings import Settings, TicketSettings
from reviewbot.store import Store, outbox
from reviewbot.store.policies import documents, sections
from reviewbot.store.review import audit, tickets_in
from reviewbot.store.themes import active_themes, quote_items, survey_counts
from reviewbot.store.tickets import by_fingerprints, mappings, touch
from reviewbot.workflows.review import move
from reviewbot.workflows.run_summary import SyncReport
from reviewbot.workflows.trackers import configured, held_here, record_sites, where_held

# Tickets a person has finished with keep their evidence as it was when they decided.
ANNOUNCED = ("created", "updated", "reopened")  # outcomes the tracker and the digest hear about


def ticket_reason(theme: Theme, mapping: ThemeMapping, rules: TicketSettings) -> str | None:
    """Why this (theme, section) deserves review, or None when it does not.

    A theme qualifies when it is big enough and mostly complaints or negative answers (or growing fast).
    It is filed against a section it matches well; a coverage gap is filed only when its feedback talks
    about rules or promises, which tells a missing policy apart from, say, product complaints. Size counts
    distinct texts: a complaint pasted ten times, or a templated answer, is one voice.
    """
    if theme.unique_size < rules.min_items:
        return None
    why = []
    if theme.concern_share >= rules.min_concern_share:
        why.append(f"{theme.concern_share:.0%} complaints or negative answers")
    if theme.growth is not None and theme.growth >= rules.min_growth:
        why.append(f"growing x{theme.growth:.1f} over the last {rules.recent_days} days")
    if not why:
        return None
    if mapping.is_gap:
        if theme.rules_share < rules.min_gap_rules_share:
            return None
        why.append(f"no section covers it and {theme.rules_share:.0%} of it mentions rules or promises")
    elif mapping.confidence < rules.min_confidence:
        return None
    size = f"{theme.size} items" + (f" ({theme.unique_size} distinct)" if theme.unique_size < theme.size else "")
    return f"{size}; " + "; ".join(why)


def decide_tickets(settings: Settings, store: Store, report: SyncReport) -> None:
    """Create or refresh tickets and queue their side effects."""
    counts = {"created": 0, "updated": 0, "refreshed": 0, "unchanged": 0, "reopened": 0, "eligible": 0}
    changed: list[str] = []
    with store.session() as session:
        docs = {d.id: d for d in documents(session)}
        section_rows = {(d.id, s.section_id): s for d in docs.values() for s in sections(session, d)}
        by_theme: dict[int, list[ThemeMapping]] = {}
        for mapping in mappings(session):
            by_theme.setdefault(mapping.theme_id, []).append(mapping)
        settled = _settled_sizes(session)
        eligible = [
            (theme, mapping, reason)
            for theme in active_themes(session)
            for mapping in by_theme.get(theme.id or 0, [])
            if (reason := ticket_reason(theme, mapping, settings.tickets)) is not None
        ]
        counts["eligible"] = len(eligible)
        surveys = survey_counts(session, {theme.id or 0 for theme, _, _ in eligible})  # one query, not one per ticket
        decisions = [
            Decision(
                theme,
                docs[mapping.document_id],
                section_rows.get((mapping.document_id, mapping.section_id)),
                mapping.confidence,
                reason,
                settled.get((theme.id or 0, mapping.document_id)),
                surveys.get(theme.id or 0, {"nps": {}, "csat": {}}),
            )
            for theme, mapping, reason in eligible
        ]
        tickets = by_fingerprints(session, [d.fingerprint for d in decisions])
        for decision in decisions:
            outcome = _decide(session, settings, decision, tickets.get(decision.fingerprint))
            counts[outcome] += 1
            if outcome in ANNOUNCED:
                changed.append(f"{outcome}:{decision.fingerprint}")
        if changed:
            key = "digest:" + hashlib.sha256("|".join(sorted(changed)).encode()).hexdigest()[:16]
            outbox.enqueue(session, key, "notifier", "digest", {"changes": sorted(changed)})
        refiled = refile(session, settings)  # after the decisions: a ticket reopened just now is refiled too
    report.tickets = counts | ({"refiled": refiled} if refiled else {})


def refile(session: Session, settings: Settings) -> int:
    """File in the configured tracker every ticket still under review whose issue is in another one (the workspace
    switched trackers, e.g. from the built-in one to Jira); returns how many. The old key stays in the audit log
    and is never sent to the new tracker, where the same key could name someone else's issue. Finished tickets
    keep their old issue."""
    current, site = settings.tracker.type, settings.tracker.site
    record_sites(session, settings)
    query = select(ReviewTicket).where(not_(held_here(settings)), col(ReviewTicket.state).not_in(FINISHED_STATES))
    count = 0
    for ticket in session.exec(query).all():
        old = where_held(ticket)
        was = f"{ticket.tracker_ref} in {old}" if ticket.tracker_ref else f"unfiled in {old}"
        data = {"tracker": ticket.tracker, "site": ticket.tracker_site, "ref": ticket.tracker_ref}
        audit(
            session, "reviewbot", "refile", f"{was}; filed in {configured(settings)} instead", ticket=ticket, data=data
        )
        ticket.tracker, ticket.tracker_site = current, site
        ticket.tracker_ref, ticket.tracker_status, ticket.tracker_section = None, None, None
        touch(ticket)
        session.add(ticket)
        # A key of its own: the ticket's first create (and any earlier refile) is spent.
        key = f"tracker.create:{ticket.fingerprint}:{current}:{utcnow().isoformat()}"
        outbox.enqueue(session, key, "tracker", "create", {}, ticket.id)
        count += 1
    return count


@dataclass(frozen=True)
class Decision:
    """One (theme, section) that qualifies for a ticket, and the size below which it stays quiet."""

    theme: Theme
    document: PolicyDocument
    section: PolicySection | None
    confidence: float
    reason: str
    settled_size: int | None  # a ticket of this theme on this document was dismissed or closed at this size
    surveys: dict[str, dict[str, int]]  # the theme's survey answers by class: {"nps": {...}, "csat": {...}}

    @property
    def fingerprint(self) -> str:
        """The identity of the ticket this decision is about."""
        section = self.section.section_id if self.section else None
        return fingerprint(self.theme.id or 0, self.document.id, section)


def _settled_sizes(session: Session) -> dict[tuple[int, str], int]:
    """(theme, document) -> largest theme size at which one of its tickets was dismissed or closed."""
    sizes: dict[tuple[int, str], int] = {}
    for ticket in tickets_in(session, SETTLED_STATES):
        if ticket.theme_id is not None and ticket.settled_size is not None:
            key = (ticket.theme_id, ticket.document_id)
            sizes[key] = max(sizes.get(key, 0), ticket.settled_size)
    return sizes


def _grew(decision: Decision, settings: Settings) -> bool:
    """True when the theme grew enough since a ticket of it was settled to deserve attention again."""
    if decision.settled_size is None:
        return True
    return decision.theme.size >= decision.settled_size * settings.review.reopen_factor


def _decide(session: Session, settings: Settings, decision: Decision, ticket: ReviewTicket | None) -> str:
    """Create, refresh, reopen or leave the decision's ticket (None when there is none yet); returns which."""
    theme, document, section, fp = decision.theme, decision.document, decision.section, decision.fingerprint
    if ticket is None and not _grew(decision, settings):
        return "unchanged"  # a person settled this theme here; a new section match alone does not undo that
    evidence = _evidence(session, settings, decision)
    digest = evidence_hash(evidence)
    title = ticket_title(theme, document, section)
    if ticket is None:
        ticket = ReviewTicket(
            fingerprint=fp,
            kind="gap" if section is None else "feedback",
            theme_id=theme.id,
            document_id=document.id,
            section_id=section.section_id if section else None,
            section_version=document.published_version,
            title=title,
            confidence=decision.confidence,
            impact=theme.impact,
            evidence=evidence,
            evidence_hash=digest,
            announced=headline(evidence),
            tracker=settings.tracker.type,
            tracker_site=settings.tracker.site,
        )
        session.add(ticket)
        session.flush()
        outbox.enqueue(session, f"tracker.create:{fp}", "tracker", "create", {}, ticket.id)
        return "created"
    if ticket.state in SETTLED_STATES and ticket.settled_size and _grew(decision, settings):
        return _reopen(session, ticket, theme, evidence, digest, title)
    if ticket.state in FINISHED_STATES:
        return "unchanged"
    if ticket.evidence == evidence:
        return "unchanged"
    told = ticket.announced or headline(ticket.evidence)  # none stored: the evidence is what was last told
    now = headline(evidence)
    ticket.title, ticket.evidence, ticket.evidence_hash = title, evidence, digest
    ticket.confidence = decision.confidence
    ticket.impact = theme.impact
    ticket.section_version = document.published_version
    session.add(ticket)
    if not worth_announcing(told, now, settings.tickets.comment_growth):
        return "refreshed"
    ticket.announced = now
    touch(ticket)
    note = evidence_change(told, now)
    outbox.enqueue(session, f"tracker.update:{fp}:{digest[:16]}", "tracker", "update", {"note": note}, ticket.id)
    return "updated"


def _reopen(
    session: Session, ticket: ReviewTicket, theme: Theme, evidence: dict[str, Any], digest: str, title: str
) -> str:
    was = ticket.state
    why = f"reopened: the theme grew from {ticket.settled_size} to {theme.size} items since the ticket was {was}"
    move(session, ticket, "open", "reviewbot", why)
    ticket.state_reason, ticket.settled_size = why, None
    ticket.title, ticket.evidence, ticket.evidence_hash = title, evidence, digest
    ticket.announced = headline(evidence)
    session.add(ticket)
    outbox.enqueue(
        session, f"tracker.reopen:{ticket.fingerprint}:{theme.size}", "tracker", "update", {"note": why}, ticket.id
    )
    # The tracker's issue leaves its done status too (Jira: `reopen_transition`).
    key = f"tracker.reopen-status:{ticket.fingerprint}:{theme.size}"
    outbox.enqueue(session, key, "tracker", "reopen", {}, ticket.id)
    return "reopened"


def retarget(
    session: Session,
    settings: Settings,
    ticket: ReviewTicket,
    theme: Theme,
    document: PolicyDocument,
    section: PolicySection,
) -> None:
    """Point a ticket at another section of its theme (an owner moved it): new identity, title and evidence; the
    tracker is told by the caller's comment, which refreshes the issue too."""
    reason = str(ticket.evidence.get("reason") or "moved by a policy owner")
    surveys = survey_counts(session, {theme.id or 0}).get(theme.id or 0, {"nps": {}, "csat": {}})
    decision = Decision(theme, document, section, 1.0, reason, None, surveys)
    ticket.fingerprint, ticket.document_id, ticket.section_id = decision.fingerprint, document.id, section.section_id
    ticket.kind, ticket.confidence = "feedback", 1.0
    ticket.section_version = document.published_version
    ticket.title = ticket_title(theme, document, section)
    ticket.evidence = _evidence(session, settings, decision)
    ticket.evidence_hash = evidence_hash(ticket.evidence)
    ticket.announced = headline(ticket.evidence)
    touch(ticket)
    session.add(ticket)


def _evidence(session: Session, settings: Settings, decision: Decision) -> dict[str, object]:
    theme = decision.theme
    items = quote_items(session, theme.id or 0, settings.tickets.max_quotes)
    quotes = [Quote(i.text, i.source, i.external_id, i.kind, i.created_at) for i in items]
    nps, csat = decision.surveys["nps"], decision.surveys["csat"]
    return build_evidence(
        theme,
        decision.document,
        decision.section,
        decision.confidence,
        decision.reason,
        quotes,
        nps_counts={"responses": sum(nps.values()), **nps},
        csat_counts={"responses": sum(csat.values()), **csat},
        recent_weeks=max(1, settings.tickets.recent_days // 7),
    )
