"""The effect of a published version: for each theme cited by the tickets it resolved, the theme's share of all
feedback and its negative share in a window before the publish date and one after (`[impact]`), tested and turned
into a verdict by reviewbot.analysis.effect.

Once a version's after-window has closed, the next sync comments the verdict on each resolved ticket in the
tracker and sends one "impact" message; both go through the outbox, keyed by document and version, so they
happen exactly once. Everything is computed from existing tables: nothing is stored besides the outbox messages
and an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from reviewbot.analysis.effect import Comparison, Effect, Verdict, theme_effect
from reviewbot.errors import NotFoundError
from reviewbot.models import FeedbackItem, PolicyDocument, PolicyRelease, ReviewTicket, utcnow
from reviewbot.models.base import as_utc
from reviewbot.settings import ImpactSettings, Settings
from reviewbot.store import Store
from reviewbot.store.policies import documents, get_release, releases, resolved_by
from reviewbot.store.review import audit
from reviewbot.store.themes import current_themes
from reviewbot.store.tickets import ref_of

BOT = "reviewbot"
VERDICT_ORDER: tuple[Verdict, ...] = ("worse", "improved", "no change", "too little data")


@dataclass(frozen=True)
class ThemeImpact:
    """The effect of a version on one theme, and the resolved tickets that cited it."""

    theme_id: int
    label: str
    tickets: list[str]  # references of the resolved tickets, e.g. ["RB-1"]
    effect: Effect

    @property
    def verdict(self) -> Verdict:
        """improved, no change, worse, or too little data."""
        return self.effect.verdict

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"theme_id": self.theme_id, "label": self.label, "tickets": self.tickets, **self.effect.to_dict()}


@dataclass(frozen=True)
class VersionImpact:
    """The effect of one published version on every theme its resolved tickets cited."""

    document_id: str
    title: str
    version: int
    published_at: datetime
    before_start: datetime  # the before-window is [before_start, published_at)
    after_end: datetime  # the after-window is [published_at, after_end)
    measured_at: datetime
    themes: list[ThemeImpact]
    # later versions of the document published inside the after-window: the figures mix in their effect too
    overlapping: list[tuple[int, datetime]] = field(default_factory=list)

    @property
    def window_open(self) -> bool:
        """True while the after-window has not closed: the figures so far are provisional."""
        return self.measured_at < self.after_end

    @property
    def name(self) -> str:
        """How people refer to the version, e.g. "Returns Policy version 2"."""
        return f"{self.title} version {self.version}"

    def verdicts(self) -> dict[str, int]:
        """How many themes got each verdict, worst first."""
        found = [t.verdict for t in self.themes]
        return {v: found.count(v) for v in VERDICT_ORDER if v in found}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "document": self.document_id,
            "title": self.title,
            "version": self.version,
            "published_at": self.published_at.isoformat(),
            "before_start": self.before_start.isoformat(),
            "after_end": self.after_end.isoformat(),
            "measured_at": self.measured_at.isoformat(),
            "window_open": self.window_open,
            "verdicts": self.verdicts(),
            "themes": [t.to_dict() for t in self.themes],
            "later_versions_in_window": [{"version": v, "published_at": at.isoformat()} for v, at in self.overlapping],
        }

    def overlap_note(self) -> str | None:
        """What a later version inside the after-window means for the figures, or None when there is none."""
        if not self.overlapping:
            return None
        later = ", ".join(f"version {v} ({at:%Y-%m-%d})" for v, at in self.overlapping)
        were, their = ("was", "its") if len(self.overlapping) == 1 else ("were", "their")
        return f"{later} {were} published inside this after-window: the after figures include {their} changes too"


# --- measuring ---------------------------------------------------------------------------------------------


def measure(settings: Settings, store: Store, document_id: str, version: int | None = None) -> list[VersionImpact]:
    """The effect of one version of a document, or of every version that resolved tickets with a theme."""
    now = utcnow()
    with store.session() as session:
        document = session.get(PolicyDocument, document_id)
        if document is None:
            raise NotFoundError(f"no policy document {document_id!r}", hint="see `reviewbot policy list`")
        if version is not None:
            return [measure_version(session, settings.impact, document, _release(session, document, version), now)]
        found = [measure_version(session, settings.impact, document, e, now) for e in releases(session, document_id)]
        return [v for v in found if v.themes]


def _release(session: Session, document: PolicyDocument, version: int) -> PolicyRelease:
    entry = get_release(session, document.id, version)
    if entry is None:
        raise NotFoundError(
            f"{document.id} has no version {version}",
            hint=f"versions 1-{document.published_version} exist (see `reviewbot policy versions {document.id}`)",
        )
    return entry


def measure_version(
    session: Session, rules: ImpactSettings, document: PolicyDocument, entry: PolicyRelease, now: datetime
) -> VersionImpact:
    """The effect of one version, with the after-window counted up to now while it is still open."""
    published = entry.published_at
    before_start = published - timedelta(days=rules.before_days)
    after_end = published + timedelta(days=rules.after_days)
    cited = cited_themes(session, entry)
    themes: list[ThemeImpact] = []
    if cited:
        ids = list(cited)
        before_total, before = window_counts(session, ids, before_start, published)
        after_total, after = window_counts(session, ids, published, min(after_end, now))
        for theme_id, (label, refs) in cited.items():
            (x1, neg1), (x2, neg2) = before.get(theme_id, (0, 0)), after.get(theme_id, (0, 0))
            effect = theme_effect(
                x1, neg1, before_total, x2, neg2, after_total, alpha=rules.alpha, min_expected=rules.min_expected
            )
            themes.append(ThemeImpact(theme_id, label, refs, effect))
    overlapping = [
        (e.version, as_utc(e.published_at))
        for e in releases(session, document.id)
        if e.version > entry.version and as_utc(e.published_at) < min(after_end, now)
    ]
    return VersionImpact(
        document.id, document.title, entry.version, published, before_start, after_end, now, themes, overlapping
    )


def cited_themes(session: Session, entry: PolicyRelease) -> dict[int, tuple[str, list[str]]]:
    """theme id -> (label, ticket references) for the tickets a version resolved; themes merged since are
    followed to the theme that now holds their items."""
    tickets = [t for t in resolved_by(session, entry) if t.theme_id is not None]
    current = current_themes(session, [t.theme_id or 0 for t in tickets])
    cited: dict[int, tuple[str, list[str]]] = {}
    for ticket in tickets:
        theme = current[ticket.theme_id or 0]
        if theme is None or theme.id is None:
            continue
        cited.setdefault(theme.id, (theme.label, []))[1].append(ref_of(ticket))
    return cited


def window_counts(
    session: Session, theme_ids: list[int], start: datetime, end: datetime
) -> tuple[int, dict[int, tuple[int, int]]]:
    """All feedback items with text created in [start, end), and (items, negative items) of each theme there.

    Items without text (a survey score alone) are left out of the total: no theme can ever hold them, so a
    survey campaign would otherwise move every theme's share.
    """
    window = (col(FeedbackItem.created_at) >= start, col(FeedbackItem.created_at) < end, FeedbackItem.text != "")
    total = session.exec(select(func.count()).select_from(FeedbackItem).where(*window)).one()
    negative = func.sum(case((col(FeedbackItem.is_negative), 1), else_=0))
    rows = session.exec(
        select(FeedbackItem.theme_id, func.count(), negative)
        .where(*window, col(FeedbackItem.theme_id).in_(theme_ids))
        .group_by(col(FeedbackItem.theme_id))
    )
    return total, {theme_id: (n, int(neg or 0)) for theme_id, n, neg in rows if theme_id is not None}


def ticket_effect(settings: Settings, store: Store, ticket: ReviewTicket) -> tuple[str, dict[str, Any]] | None:
    """For a ticket a version resolved: that version's effect on the ticket's theme, as one line for people and as
    data for --json (None when there is nothing to measure), so the ticket itself answers whether the change
    helped."""
    if ticket.resolved_version is None or ticket.theme_id is None:
        return None
    with store.session() as session:
        document = session.get(PolicyDocument, ticket.document_id)
        entry = get_release(session, ticket.document_id, ticket.resolved_version)
        if document is None or entry is None:
            return None
        impact = measure_version(session, settings.impact, document, entry, utcnow())
    measured = next((t for t in impact.themes if ref_of(ticket) in t.tickets), None)
    if measured is None:
        return None
    line = f"Effect of version {impact.version} ({window_text(impact)}): {describe(measured)}"
    if impact.window_open:
        line += f"; provisional until {impact.after_end:%Y-%m-%d %H:%M} UTC"
    if impact.overlap_note():
        line += f". Note: {impact.overlap_note()}"
    data = {"version": impact.version, "window_open": impact.window_open, **measured.to_dict()}
    return line, {**data, "later_versions_in_window": impact.to_dict()["later_versions_in_window"]}


# --- telling people ------------------------------------------------------------------------------------------


def report_closed_windows(session: Session, settings: Settings, now: datetime) -> int:
    """Queue a tracker comment per resolved ticket and one message for each version whose after-window closed
    since the last sync; returns how many versions were reported. Each version is reported once."""
    reported = 0
    for document in documents(session):
        for entry in releases(session, document.id):
            closes = entry.published_at + timedelta(days=settings.impact.after_days)
            key = f"impact:{document.id}:v{entry.version}"
            if now < closes or _queued(session, key):
                continue
            impact = measure_version(session, settings.impact, document, entry, now)
            if impact.themes:  # a version that resolved no ticket with a theme has nothing to measure
                _tell(session, impact, entry, key)
                reported += 1
    return reported


def _queued(session: Session, key: str) -> bool:
    from reviewbot.models import OutboxMessage

    # The message is queued last, in the same transaction as the comments: its key marks the version reported.
    return session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)).first() is not None


def _tell(session: Session, impact: VersionImpact, entry: PolicyRelease, key: str) -> None:
    # the review workflow (its locks, the feedback store, the PostgreSQL dialect): only a sync that reports needs it
    from reviewbot.workflows.review import comment_on_tracker, notify

    by_theme = {t.theme_id: t for t in impact.themes}
    tickets = resolved_by(session, entry)
    current = current_themes(session, [t.theme_id for t in tickets if t.theme_id])
    for ticket in tickets:
        theme = current[ticket.theme_id] if ticket.theme_id else None
        measured = by_theme.get(theme.id or 0) if theme else None
        if measured is not None:
            note = f"Effect of {impact.name} ({window_text(impact)}): {describe(measured)}"
            comment_on_tracker(session, ticket, f"{key}:{ticket.id}", note)
    lines = [f"Feedback {window_text(impact)}:"]
    lines += [f"- {describe(t)} ({', '.join(t.tickets)})" for t in impact.themes]
    if impact.overlap_note():
        lines.append(f"Note: {impact.overlap_note()}.")
    notify(
        session,
        key,
        "impact",
        f"Effect of {impact.name}: {summary(impact)}",
        "\n".join(lines),
        [],
        document=impact.document_id,
        version=impact.version,
        verdicts=impact.verdicts(),
        tickets=[{"ref": ref, "verdict": t.verdict} for t in impact.themes for ref in t.tickets],
    )
    audit(session, BOT, "impact", f"version {impact.version}: {summary(impact)}", document_id=impact.document_id)


def window_text(impact: VersionImpact) -> str:
    """The windows compared, e.g. "28 days before vs 28 days after publishing on 2026-10-01"."""
    before = (impact.published_at - impact.before_start).days
    after = (impact.after_end - impact.published_at).days
    return f"{before} days before vs {after} days after publishing on {impact.published_at.date().isoformat()}"


def summary(impact: VersionImpact) -> str:
    """The verdicts counted, e.g. "1 improved, 1 no change"."""
    return ", ".join(f"{n} {verdict}" for verdict, n in impact.verdicts().items()) or "nothing to measure"


def describe(theme: ThemeImpact) -> str:
    """One line for people: the verdict, then what the share and the negative share did."""
    share, negative = theme.effect.share, theme.effect.negative
    return (
        f'{theme.verdict}: "{theme.label}" was {percent(share.before)} of all feedback before and '
        f"{percent(share.after)} after ({share.before_count}/{share.before_total} -> "
        f"{share.after_count}/{share.after_total}, {outcome_text(share)}); negative {percent(negative.before)} -> "
        f"{percent(negative.after)} ({outcome_text(negative)})"
    )


def percent(value: float | None) -> str:
    """A share as a percentage, or "-" for an empty window."""
    return "-" if value is None else f"{value:.1%}"


def outcome_text(comparison: Comparison) -> str:
    """The test's result in words: its p-value and outcome."""
    if comparison.p_value is None:
        return "too little data"
    p = "p < 0.001" if comparison.p_value < 0.001 else f"p = {comparison.p_value:.3f}"
    return f"{p}, {comparison.outcome}"
