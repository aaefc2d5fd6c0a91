"""What the HTML report shows, as plain data: filled by reviewbot.workflows.report_html, drawn by
reviewbot.report.render, and printed as JSON by `reviewbot report --json`.

Records refer to each other by id (themes), (document, section) and ticket reference, which is what lets the
page link a theme to its sections, its tickets and the version that resolved them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from reviewbot.analysis.effect import Effect, Verdict

if TYPE_CHECKING:
    from reviewbot.store.report import FeedbackCounts


def nps_score(classes: dict[str, int]) -> float | None:
    """Net Promoter Score (-100..100) from answers counted by class, or None without answers."""
    answers = sum(classes.values())
    if not answers:
        return None
    return round(100.0 * (classes.get("promoter", 0) - classes.get("detractor", 0)) / answers, 1)


def csat_score(classes: dict[str, int]) -> float | None:
    """CSAT (% satisfied, 0..100) from answers counted by class, or None without answers."""
    answers = sum(classes.values())
    return round(100.0 * classes.get("satisfied", 0) / answers, 1) if answers else None


@dataclass
class Scores:
    """How much feedback a group has, how negative it is, and how its survey answers scored."""

    items: int
    negative_share: float | None  # of the items; None without items
    nps: float | None  # -100..100; None without answers
    csat: float | None  # % satisfied; None without answers
    nps_answers: int
    csat_answers: int

    @classmethod
    def of(cls, counts: FeedbackCounts) -> Scores:
        """The scores of a set of counts."""
        return cls(
            items=counts.items,
            negative_share=round(counts.negative / counts.items, 4) if counts.items else None,
            nps=nps_score(counts.nps),
            csat=csat_score(counts.csat),
            nps_answers=sum(counts.nps.values()),
            csat_answers=sum(counts.csat.values()),
        )


@dataclass
class SectionLink:
    """Where a theme maps: a section of a document, or the whole document when no section covers it (a gap)."""

    document_id: str
    section_id: str  # "" for a coverage gap
    confidence: float

    @property
    def is_gap(self) -> bool:
        """True when no section covers the theme."""
        return self.section_id == ""


@dataclass
class ThemeRow:
    """A theme with feedback in the period."""

    id: int
    label: str
    scores: Scores
    weekly: list[int]  # items per week of Report.weeks
    by_kind: dict[str, int]
    sections: list[SectionLink]
    tickets: list[str]  # references, e.g. ["RB-1"]
    quote: str


@dataclass
class SectionRow:
    """A policy section with the feedback of the themes mapped to it and the tickets filed against it."""

    document_id: str
    document_title: str
    section_id: str
    heading: str
    owner: str | None
    approvers: list[str]
    published: bool  # False: cited by a ticket or mapping, but not in the published version
    themes: list[int]
    scores: Scores
    tickets: list[str]


@dataclass
class GapRow:
    """A theme that no section of a document covers."""

    theme_id: int
    label: str
    document_id: str
    document_title: str
    confidence: float
    scores: Scores
    tickets: list[str]


@dataclass
class TicketRow:
    """A review ticket with the evidence that links it to its theme, section and version."""

    ref: str
    kind: str  # feedback | gap | periodic
    state: str
    title: str
    theme_id: int | None  # the theme that holds its items now (followed through merges)
    document_id: str
    section_id: str | None  # None for a coverage gap (the whole document)
    created_at: datetime
    updated_at: datetime
    age_days: float
    assignee: str | None
    resolved_version: int | None
    items: int | None  # from the evidence, as last refreshed
    negative_share: float | None
    reason: str
    quotes: list[str]


@dataclass
class SignOffRow:
    """A sign-off asked of an approver: how long it took, or how long it has waited so far."""

    ticket: str
    approver: str
    round: int
    requested_at: datetime
    signed_at: datetime | None  # None while pending
    decision: str | None
    days: float
    over_sla: bool

    @property
    def pending(self) -> bool:
        """True while the approver has not answered."""
        return self.signed_at is None


@dataclass
class ThemeEffect:
    """The effect of a version on one theme its resolved tickets cited."""

    theme_id: int
    label: str
    tickets: list[str]
    effect: Effect

    @property
    def verdict(self) -> Verdict:
        """improved, no change, worse, or too little data."""
        return self.effect.verdict


@dataclass
class VersionEffect:
    """The before and after windows of a version and its effect on each theme."""

    before_start: datetime
    after_end: datetime
    measured_at: datetime
    themes: list[ThemeEffect]
    overlap: str | None = None  # a later version published inside the after-window, whose changes the figures hold

    @property
    def window_open(self) -> bool:
        """True while the after-window has not closed: the figures are provisional."""
        return self.measured_at < self.after_end


@dataclass
class VersionRow:
    """A published version, the tickets it resolved, and its effect on their themes (None: nothing to measure)."""

    document_id: str
    title: str
    version: int
    published_at: datetime
    published_by: str
    changelog: list[str]
    tickets: list[str]
    effect: VersionEffect | None


@dataclass
class Report:
    """Everything the HTML report shows, for one period."""

    workspace: str
    generated_at: datetime
    since: date | None
    signoff_sla_days: float
    weeks: list[str]  # Monday of each ISO week in the period, oldest first, quiet weeks included
    totals: Scores
    totals_by_kind: dict[str, int]
    themes: list[ThemeRow]  # largest in the period first
    sections: list[SectionRow]  # by document, in document order
    gaps: list[GapRow]
    tickets: list[TicketRow]  # oldest first
    signoffs: list[SignOffRow]  # oldest request first
    versions: list[VersionRow]  # by document, oldest first
    documents: dict[str, str] = field(default_factory=dict)  # id -> title

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = _jsonable(asdict(self))
        data["versions"] = [_version_dict(row) for row in self.versions]
        return data


def _version_dict(row: VersionRow) -> dict[str, Any]:
    data: dict[str, Any] = _jsonable({k: v for k, v in asdict(row).items() if k != "effect"})
    if row.effect is None:
        data["effect"] = None
        return data
    e = row.effect
    data["effect"] = {
        "before_start": e.before_start.isoformat(),
        "after_end": e.after_end.isoformat(),
        "measured_at": e.measured_at.isoformat(),
        "window_open": e.window_open,
        "themes": [
            {"theme_id": t.theme_id, "label": t.label, "tickets": t.tickets, **t.effect.to_dict()} for t in e.themes
        ],
    }
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
