"""The data behind `reviewbot report`: themes, sections, coverage gaps, tickets, sign-offs and published versions
with their effect, over a period. Drawing it is reviewbot.report's job; this module only gathers.

The period (`since`) limits what is counted: feedback created from that day on (weekly volumes, tone, NPS and
CSAT), tickets opened or changed in it or still needing someone, sign-offs asked in it or still pending, and
versions whose after-window reaches into it.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from reviewbot.errors import ReviewbotError
from reviewbot.models import PolicyDocument, ReviewTicket, SignOff, SignOffRequest, Theme, ThemeMapping, utcnow
from reviewbot.report.model import (
    GapRow,
    Report,
    Scores,
    SectionLink,
    SectionRow,
    SignOffRow,
    ThemeEffect,
    ThemeRow,
    TicketRow,
    VersionEffect,
    VersionRow,
)
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.policies import documents, releases, sections
from reviewbot.store.report import (
    FeedbackCounts,
    active_tickets,
    earliest_week,
    feedback_totals,
    latest_week,
    resolved_tickets,
    signoff_turnaround,
    theme_counts,
)
from reviewbot.store.themes import active_themes, current_themes
from reviewbot.store.tickets import mappings
from reviewbot.workflows.impact import VersionImpact, measure
from reviewbot.workflows.review import ref_of

MAX_QUOTE_CHARS = 240  # quotes are evidence, not the whole story: the ticket has them in full
TICKET_QUOTES = 2  # per ticket in the evidence table


def start_of(since: date | None) -> datetime | None:
    """The first moment of the period: midnight UTC of `since`."""
    return None if since is None else datetime(since.year, since.month, since.day, tzinfo=UTC)


def week_range(first: str | None, last: str | None, since: date | None) -> list[str]:
    """Every week (its Monday) from the period's start, or its first feedback, to its last feedback."""
    if first is None or last is None:
        return []
    start = date.fromisoformat(first)
    if since is not None:
        start = min(start, since - timedelta(days=since.weekday()))
    end = date.fromisoformat(last)
    return [(start + timedelta(weeks=i)).isoformat() for i in range((end - start).days // 7 + 1)]


# --- gathering ---------------------------------------------------------------------------------------------------


def build_report(settings: Settings, store: Store, since: date | None = None) -> Report:
    """Gather the report's data for the period from `since` (everything when None)."""
    start, now = start_of(since), utcnow()
    with store.session() as session:
        totals = feedback_totals(session, start)
        weeks = week_range(earliest_week(session, start), latest_week(session, start), since)
        counts = theme_counts(session, start)
        docs = {d.id: d for d in documents(session)}
        tickets = _ticket_rows(session, active_tickets(session, start), now)
        maps = _mappings_by_theme(session)
        themes = _theme_rows(session, counts, maps, tickets, weeks)
        section_rows = _section_rows(session, docs, themes, counts, tickets)
        gaps = _gap_rows(docs, themes, counts, tickets)
        signoffs = _signoff_rows(session, start, now, settings.review.signoff_sla_days)
        resolved = resolved_tickets(session)
    versions = _version_rows(settings, store, docs, resolved, start)
    return Report(
        workspace=settings.workspace.name,
        generated_at=now,
        since=since,
        signoff_sla_days=settings.review.signoff_sla_days,
        weeks=weeks,
        totals=Scores.of(totals),
        totals_by_kind=dict(sorted(totals.by_kind.items())),
        themes=themes,
        sections=section_rows,
        gaps=gaps,
        tickets=tickets,
        signoffs=signoffs,
        versions=versions,
        documents={d.id: d.title for d in docs.values()},
    )


def _mappings_by_theme(session: Session) -> dict[int, list[ThemeMapping]]:
    found: dict[int, list[ThemeMapping]] = {}
    for m in mappings(session):
        found.setdefault(m.theme_id, []).append(m)
    return found


def _theme_rows(
    session: Session,
    counts: dict[int, FeedbackCounts],
    maps: dict[int, list[ThemeMapping]],
    tickets: list[TicketRow],
    weeks: list[str],
) -> list[ThemeRow]:
    refs: dict[int, list[str]] = {}
    for t in tickets:
        if t.theme_id is not None:
            refs.setdefault(t.theme_id, []).append(t.ref)
    rows = []
    for theme in active_themes(session):
        got = counts.get(theme.id or 0)
        if got is None or not got.items:  # nothing in the period
            continue
        rows.append(
            ThemeRow(
                id=theme.id or 0,
                label=theme.label,
                scores=Scores.of(got),
                weekly=[got.weekly.get(w, 0) for w in weeks],
                by_kind=dict(sorted(got.by_kind.items())),
                sections=[
                    SectionLink(m.document_id, m.section_id, round(m.confidence, 3))
                    for m in maps.get(theme.id or 0, [])
                ],
                tickets=refs.get(theme.id or 0, []),
                quote=_clip(theme.quote),
            )
        )
    return sorted(rows, key=lambda r: (-r.scores.items, r.id))


def _section_rows(
    session: Session,
    docs: dict[str, PolicyDocument],
    themes: list[ThemeRow],
    counts: dict[int, FeedbackCounts],
    tickets: list[TicketRow],
) -> list[SectionRow]:
    """Every section of each published document, plus sections only a ticket or mapping still cites.

    A theme mapped to two sections counts in both: each section is asked about the same feedback."""
    summed: dict[tuple[str, str], FeedbackCounts] = {}
    theme_ids: dict[tuple[str, str], list[int]] = {}
    for theme in themes:
        for link in theme.sections:
            if not link.is_gap:
                key = (link.document_id, link.section_id)
                summed.setdefault(key, FeedbackCounts()).add(counts[theme.id])
                theme_ids.setdefault(key, []).append(theme.id)
    refs: dict[tuple[str, str], list[str]] = {}
    for t in tickets:
        if t.section_id:
            refs.setdefault((t.document_id, t.section_id), []).append(t.ref)
    rows: list[SectionRow] = []
    seen: set[tuple[str, str]] = set()
    for doc in docs.values():
        for s in sections(session, doc):
            key = (doc.id, s.section_id)
            seen.add(key)
            rows.append(
                SectionRow(doc.id, doc.title, s.section_id, s.heading, s.owner, list(s.approvers), True,
                           theme_ids.get(key, []), Scores.of(summed.get(key, FeedbackCounts())), refs.get(key, []))
            )  # fmt: skip
    for key in sorted((set(summed) | set(refs)) - seen):
        doc = docs.get(key[0])
        rows.append(
            SectionRow(key[0], doc.title if doc else key[0], key[1], key[1], None, [], False, theme_ids.get(key, []),
                       Scores.of(summed.get(key, FeedbackCounts())), refs.get(key, []))
        )  # fmt: skip
    return rows


def _gap_rows(
    docs: dict[str, PolicyDocument], themes: list[ThemeRow], counts: dict[int, FeedbackCounts], tickets: list[TicketRow]
) -> list[GapRow]:
    rows = []
    for theme in themes:
        for link in theme.sections:
            if link.is_gap:
                doc = docs.get(link.document_id)
                refs = [
                    t.ref
                    for t in tickets
                    if t.theme_id == theme.id and t.document_id == link.document_id and t.section_id is None
                ]
                title = doc.title if doc else link.document_id
                scores = Scores.of(counts[theme.id])
                rows.append(GapRow(theme.id, theme.label, link.document_id, title, link.confidence, scores, refs))
    return rows


def _ticket_rows(session: Session, tickets: list[ReviewTicket], now: datetime) -> list[TicketRow]:
    current = current_themes(session, [t.theme_id for t in tickets if t.theme_id is not None])
    return [_ticket_row(t, _id_of(current.get(t.theme_id)) if t.theme_id is not None else None, now) for t in tickets]


def _id_of(theme: Theme | None) -> int | None:
    return theme.id if theme else None


def _ticket_row(ticket: ReviewTicket, theme_id: int | None, now: datetime) -> TicketRow:
    evidence = ticket.evidence or {}
    counts, sentiment = evidence.get("counts") or {}, evidence.get("sentiment") or {}
    quotes = [_clip(str(q.get("text", ""))) for q in (evidence.get("quotes") or [])[:TICKET_QUOTES]]
    return TicketRow(
        ref=ref_of(ticket),
        kind=ticket.kind,
        state=ticket.state,
        title=ticket.title,
        theme_id=theme_id,
        document_id=ticket.document_id,
        section_id=ticket.section_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        age_days=round((now - ticket.created_at).total_seconds() / 86400, 2),
        assignee=ticket.assignee,
        resolved_version=ticket.resolved_version,
        items=counts.get("total"),
        negative_share=sentiment.get("negative_share"),
        reason=str(evidence.get("reason") or ticket.state_reason or ""),
        quotes=[q for q in quotes if q],
    )


def _signoff_rows(session: Session, start: datetime | None, now: datetime, sla_days: float) -> list[SignOffRow]:
    return [
        _signoff_row(request, signed, ref, now, sla_days) for request, signed, ref in signoff_turnaround(session, start)
    ]


def _signoff_row(
    request: SignOffRequest, signed: SignOff | None, ref: str | None, now: datetime, sla_days: float
) -> SignOffRow:
    end = signed.signed_at if signed else now
    days = max(0.0, (end - request.requested_at).total_seconds() / 86400)
    return SignOffRow(
        ticket=ref or f"#{request.ticket_id}",
        approver=request.approver,
        round=request.round,
        requested_at=request.requested_at,
        signed_at=signed.signed_at if signed else None,
        decision=signed.decision if signed else None,
        days=round(days, 2),
        over_sla=days > sla_days,
    )


def _version_rows(
    settings: Settings,
    store: Store,
    docs: dict[str, PolicyDocument],
    resolved: dict[tuple[str, int], list[ReviewTicket]],
    start: datetime | None,
) -> list[VersionRow]:
    """Published versions whose after-window reaches into the period, with the effect of those that resolved
    tickets citing a theme."""
    rows = []
    after = timedelta(days=settings.impact.after_days)
    for doc in docs.values():
        impacts = {i.version: i for i in measure(settings, store, doc.id)}
        with store.session() as session:
            entries = releases(session, doc.id)
        for e in entries:
            if start is not None and e.published_at + after < start:
                continue
            refs = [ref_of(t) for t in resolved.get((doc.id, e.version), [])]
            rows.append(
                VersionRow(doc.id, doc.title, e.version, e.published_at, e.published_by, list(e.changelog), refs,
                           _effect(impacts.get(e.version)))
            )  # fmt: skip
    return rows


def _effect(impact: VersionImpact | None) -> VersionEffect | None:
    if impact is None:
        return None
    themes = [ThemeEffect(t.theme_id, t.label, list(t.tickets), t.effect) for t in impact.themes]
    return VersionEffect(impact.before_start, impact.after_end, impact.measured_at, themes, impact.overlap_note())


def _clip(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def write_html(path: Path, html: str) -> int:
    """Write the page (to a temporary file first, so a reader never sees half a report); returns its size."""
    data = html.encode("utf-8")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # there may be no temporary file, or no folder to hold one
            temporary.unlink(missing_ok=True)
        raise ReviewbotError(
            f"cannot write the report: {exc.strerror or exc}", file=path, hint="pass --out with a writable path"
        ) from None
    return len(data)
