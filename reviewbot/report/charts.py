"""The data each chart of the report draws, as plain JSON-ready dicts (reviewbot/report/assets/report.js reads
them). A chart with nothing to show gets no entry, and the page shows a sentence instead of an empty canvas."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from reviewbot.models.tickets import SETTLED_STATES, TICKET_STATES
from reviewbot.report.fmt import anchor, short, week_labels
from reviewbot.report.model import Report, Scores, SectionRow, SignOffRow, ThemeRow, TicketRow, VersionRow

TOP_WEEKLY = 8  # lines in the weekly chart: more is unreadable
TOP_TONE = 15  # bars in each tone chart
MAX_SIGNOFFS = 40  # the latest requests in the turnaround chart
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("under a week", 7),
    ("1-4 weeks", 28),
    ("1-3 months", 91),
    ("over 3 months", float("inf")),
)


def chart_payload(report: Report, known: Collection[str]) -> dict[str, Any]:
    """Every chart's data; charts without data are left out, and links to rows the page lacks become None."""
    payload: dict[str, Any] = {}
    entries = {
        "weekly": weekly(report),
        "themeTone": tone([(t.label, anchor("theme", t.id), t.scores) for t in report.themes]),
        "sectionTone": tone([(s.heading, section_anchor(s), s.scores) for s in report.sections]),
        "tickets": tickets(report.tickets),
        "signoffs": signoffs(report.signoffs, report.signoff_sla_days),
        "gaps": gaps(report),
        "effects": [e for e in (effect(v) for v in report.versions) if e],
    }
    for key, value in entries.items():
        if value:
            payload[key] = _keep_known(value, known)
    return payload


def _keep_known(value: Any, known: Collection[str]) -> Any:
    """The same data with every "anchors" list reduced to the anchors the page has (None for the rest)."""
    if isinstance(value, list):
        return [_keep_known(v, known) for v in value]
    if not isinstance(value, dict):
        return value
    return {
        k: [a if a in known else None for a in v] if k == "anchors" else _keep_known(v, known) for k, v in value.items()
    }


def section_anchor(section: SectionRow) -> str:
    """The id of a section's row."""
    return anchor("section", section.document_id, section.section_id)


def effect_id(version: VersionRow) -> str:
    """The id of a version's effect block (its charts are "<id>-share" and "<id>-negative")."""
    return anchor("effect", version.document_id, version.version)


def weekly(report: Report) -> dict[str, Any] | None:
    """Items per week of the largest themes of the period."""
    top: list[ThemeRow] = report.themes[:TOP_WEEKLY]
    if not report.weeks or not top:
        return None
    return {
        "labels": week_labels(report.weeks),
        "series": [{"label": short(f"{t.id} {t.label}", 48), "data": t.weekly} for t in top],
    }


def tone(rows: list[tuple[str, str, Scores]]) -> dict[str, Any] | None:
    """Negative share, and NPS and CSAT where there are survey answers, of the largest groups."""
    rows = sorted((r for r in rows if r[2].items), key=lambda r: -r[2].items)[:TOP_TONE]
    if not rows:
        return None
    data: dict[str, Any] = {
        "labels": [short(label) for label, _, _ in rows],
        "full": [f"{label} ({s.items} items)" for label, _, s in rows],
        "anchors": [target for _, target, _ in rows],
        "negative": [round(100 * (s.negative_share or 0), 1) for _, _, s in rows],
    }
    scored = [r for r in rows if r[2].nps_answers or r[2].csat_answers]
    if scored:
        data["scored"] = {
            "labels": [short(label) for label, _, _ in scored],
            "full": [f"{label} ({s.nps_answers} NPS, {s.csat_answers} CSAT answers)" for label, _, s in scored],
            "anchors": [target for _, target, _ in scored],
            "nps": [s.nps for _, _, s in scored],
            "csat": [s.csat for _, _, s in scored],
        }
    return data


def tickets(rows: list[TicketRow]) -> dict[str, Any] | None:
    """Tickets by state, and the unsettled ones by age and state."""
    if not rows:
        return None
    states = [s for s in TICKET_STATES if any(t.state == s for t in rows)]
    states += sorted({t.state for t in rows} - set(states))  # a state a tracker mapping invented
    data: dict[str, Any] = {"states": {"labels": states, "data": [sum(t.state == s for t in rows) for s in states]}}
    waiting = [t for t in rows if t.state not in SETTLED_STATES]
    if waiting:
        series = []
        for state in (s for s in states if s not in SETTLED_STATES):
            counts = [
                sum(1 for t in waiting if t.state == state and _bucket(t.age_days) == i)
                for i in range(len(AGE_BUCKETS))
            ]
            if any(counts):
                series.append({"label": state, "data": counts})
        data["age"] = {"labels": [label for label, _ in AGE_BUCKETS], "series": series}
    return data


def _bucket(age_days: float) -> int:
    return next(i for i, (_, upper) in enumerate(AGE_BUCKETS) if age_days < upper)


def signoffs(rows: list[SignOffRow], sla_days: float) -> dict[str, Any] | None:
    """Turnaround of the latest sign-off requests (wait so far for pending ones) against the SLA."""
    latest = rows[-MAX_SIGNOFFS:]
    if not latest:
        return None
    return {
        "sla": sla_days,
        "labels": [short(f"{r.ticket} {r.approver}" + (f" r{r.round}" if r.round > 1 else ""), 28) for r in latest],
        "full": [
            f"{r.ticket} · {r.approver} · round {r.round} · " + ("waiting" if r.pending else str(r.decision))
            for r in latest
        ],
        "anchors": [anchor("ticket", r.ticket) for r in latest],
        "days": [r.days for r in latest],
        "pending": [r.pending for r in latest],
        "over": [r.over_sla for r in latest],
    }


def gaps(report: Report) -> dict[str, Any] | None:
    """Coverage gaps by size, split into negative and other items."""
    rows = sorted(report.gaps, key=lambda g: -g.scores.items)[:TOP_TONE]
    if not rows:
        return None
    negative = [round(g.scores.items * (g.scores.negative_share or 0)) for g in rows]
    return {
        "labels": [short(f"{g.theme_id} {g.label}") for g in rows],
        "full": [f"{g.label} (not covered by {g.document_title})" for g in rows],
        "anchors": [anchor("gap", g.document_id, g.theme_id) for g in rows],
        "negative": negative,
        "other": [g.scores.items - n for g, n in zip(rows, negative, strict=True)],
    }


def effect(version: VersionRow) -> dict[str, Any] | None:
    """Share of all feedback and negative share of each theme, before and after a version (in %)."""
    if version.effect is None or not version.effect.themes:
        return None
    themes = version.effect.themes

    def pct(value: float | None) -> float | None:
        return None if value is None else round(100 * value, 2)

    return {
        "id": effect_id(version),
        "labels": [short(f"{t.theme_id} {t.label}") for t in themes],
        "full": [f"{t.label}: {t.verdict}" for t in themes],
        "anchors": [anchor("theme", t.theme_id) for t in themes],
        "share": {
            "before": [pct(t.effect.share.before) for t in themes],
            "after": [pct(t.effect.share.after) for t in themes],
        },
        "negative": {
            "before": [pct(t.effect.negative.before) for t in themes],
            "after": [pct(t.effect.negative.after) for t in themes],
        },
    }
