"""What the report's page shows, computed from a Report: the links between its rows, the summary figures, the
order of the tables. No markup here: templates/report.html.j2 lays it out, with autoescaping on, so every value
from the database is escaped by Jinja2; links point only at rows the page has."""

from __future__ import annotations

import statistics
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from reviewbot.analysis.effect import Comparison
from reviewbot.models.tickets import SETTLED_STATES
from reviewbot.report.charts import effect_id, section_anchor
from reviewbot.report.fmt import anchor
from reviewbot.report.model import Report, SectionLink, SectionRow, ThemeRow, TicketRow, VersionRow

NAV = (
    ("summary", "Summary"),
    ("volume", "Volume"),
    ("tone", "Sentiment"),
    ("tickets-overview", "Tickets"),
    ("signoffs", "Sign-offs"),
    ("gaps", "Coverage gaps"),
    ("effects", "Effect of versions"),
    ("themes", "Themes"),
    ("sections", "Sections"),
    ("tickets", "Ticket evidence"),
    ("versions", "Versions"),
)
SPARK_WEEKS = 26  # the trend column shows the last half year of the period


def known_anchors(report: Report) -> set[str]:
    """The ids of every row the page will have, so links and chart clicks never point nowhere."""
    known = {anchor("theme", t.id) for t in report.themes}
    known |= {section_anchor(s) for s in report.sections}
    known |= {anchor("gap", g.document_id, g.theme_id) for g in report.gaps}
    known |= {anchor("ticket", t.ref) for t in report.tickets}
    known |= {anchor("version", v.document_id, v.version) for v in report.versions}
    known |= {effect_id(v) for v in report.versions if v.tickets}
    return known


def page_context(report: Report, known: Collection[str], charts: dict[str, Any]) -> dict[str, Any]:
    """The values the page's template shows, besides the report itself."""
    by_document: dict[str, list[SectionRow]] = {}
    for section in report.sections:
        by_document.setdefault(section.document_id, []).append(section)
    return {
        "r": report,
        "nav": NAV,
        "period": period_text(report),
        "sla": f"{report.signoff_sla_days:g}",
        "summary": _summary(report),
        "signoffs": _signoffs(report),
        "charts": charts,
        "links": Links(report, known),
        "gaps": sorted(report.gaps, key=lambda g: -g.scores.items),
        "effect_versions": [v for v in report.versions if v.tickets],
        "drawn_effects": {e["id"] for e in charts.get("effects", [])},
        "sections_by_document": by_document,
        "tickets": sorted(report.tickets, key=_ticket_order),
        "spark_weeks": SPARK_WEEKS,
    }


@dataclass(frozen=True)
class Ref:
    """A reference to a row of the page: linked when the page has the row (target set), plain text otherwise."""

    target: str | None
    text: str
    title: str | None = None


class Links:
    """Links between the records of one report, to rows the page has."""

    def __init__(self, report: Report, known: Collection[str]) -> None:
        self.known = known
        self.themes = {t.id: t for t in report.themes}
        self.sections = {(s.document_id, s.section_id): s for s in report.sections}
        self.documents = report.documents

    def to(self, target: str, text: str, title: str | None = None) -> Ref:
        """A reference that links only when the page has its target (no dead links)."""
        return Ref(target if target in self.known else None, text, title)

    def theme(self, theme_id: int | None, label: str | None = None) -> Ref | None:
        """#id and label of a theme; None when there is no theme."""
        if theme_id is None:
            return None
        row = self.themes.get(theme_id)
        return self.to(anchor("theme", theme_id), f"#{theme_id} {label or (row.label if row else '')}".strip())

    def section(self, document_id: str, section_id: str) -> Ref:
        """A section's heading, with its document and id as the title."""
        row = self.sections.get((document_id, section_id))
        text = row.heading if row else section_id
        return self.to(anchor("section", document_id, section_id), text, f"{document_id} / {section_id}")

    def gap(self, document_id: str, theme_id: int | None) -> Ref:
        """A coverage gap of a document."""
        title = self.documents.get(document_id, document_id)
        return self.to(anchor("gap", document_id, theme_id), f"coverage gap: {title}")

    def mapping(self, theme: ThemeRow, target: SectionLink) -> Ref:
        """Where a theme maps: a section, or the gap of a document."""
        if target.is_gap:
            return self.gap(target.document_id, theme.id)
        return self.section(target.document_id, target.section_id)

    def tickets(self, refs: list[str]) -> list[Ref]:
        """Ticket references."""
        return [self.to(anchor("ticket", r), r) for r in refs]

    def version(self, document_id: str, version: int | None) -> Ref | None:
        """A published version; None when there is none."""
        if version is None:
            return None
        return self.to(anchor("version", document_id, version), f"version {version}")

    def effect(self, version: VersionRow, text: str) -> Ref:
        """A version's block in "Effect of published versions"."""
        return self.to(effect_id(version), text)


# --- figures ------------------------------------------------------------------------------------------------------


def period_text(report: Report) -> str:
    """The period in words, e.g. "from 2026-10-01 (weeks of 28 Sep to 16 Nov 2026)"."""
    span = f"weeks of {report.weeks[0]} to {report.weeks[-1]}" if report.weeks else "no feedback"
    start = f"feedback from {report.since.isoformat()}" if report.since else "all feedback"
    return f"{start} ({span})"


@dataclass(frozen=True)
class Summary:
    """The summary's figures that are not in the report as they stand."""

    waiting: int  # tickets awaiting action
    overdue: int  # sign-offs waiting longer than the SLA
    kinds: list[tuple[str, int]]  # feedback items by kind, in words


def _summary(report: Report) -> Summary:
    return Summary(
        waiting=sum(1 for x in report.tickets if x.state not in SETTLED_STATES),
        overdue=sum(1 for s in report.signoffs if s.pending and s.over_sla),
        kinds=[(k.replace("_", " "), n) for k, n in report.totals_by_kind.items()],
    )


@dataclass(frozen=True)
class SignOffs:
    """Sign-off turnaround against the SLA."""

    answered: int
    within_share: float | None  # of the answered ones, within the SLA
    median: float | None  # days, of the answered ones
    pending: int
    late: int  # pending and over the SLA


def _signoffs(report: Report) -> SignOffs:
    answered = sorted(r.days for r in report.signoffs if not r.pending)
    pending = [r for r in report.signoffs if r.pending]
    within = sum(1 for d in answered if d <= report.signoff_sla_days)
    return SignOffs(
        answered=len(answered),
        within_share=within / len(answered) if answered else None,
        median=statistics.median(answered) if answered else None,
        pending=len(pending),
        late=sum(1 for r in pending if r.over_sla),
    )


def outcome(comparison: Comparison) -> str:
    """A test's result in words: "p = 0.012, fell" or "too little data"."""
    if comparison.p_value is None:
        return "too little data"
    p = "p < 0.001" if comparison.p_value < 0.001 else f"p = {comparison.p_value:.3f}"
    return f"{p}, {comparison.outcome}"


def effect_summary(version: VersionRow) -> str:
    """The verdicts on a version's themes, counted: "2 fell, 1 no change"."""
    found = [t.verdict for t in version.effect.themes] if version.effect else []
    return ", ".join(f"{found.count(x)} {x}" for x in dict.fromkeys(found))


def _ticket_order(ticket: TicketRow) -> tuple[bool, float]:
    return (ticket.state in SETTLED_STATES, -ticket.age_days)
