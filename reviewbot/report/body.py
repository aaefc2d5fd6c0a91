"""The HTML of the report's page: header, summary, chart frames and the evidence tables. Every value from the
database goes through `esc`; links point only at rows the page has."""

from __future__ import annotations

import statistics
from collections.abc import Collection
from typing import Any

from reviewbot.analysis.effect import Comparison
from reviewbot.models.tickets import SETTLED_STATES
from reviewbot.report.charts import effect_id, section_anchor
from reviewbot.report.fmt import (
    anchor,
    day,
    days,
    esc,
    link,
    minute,
    pct,
    percent_score,
    short,
    signed,
    sparkline,
)
from reviewbot.report.model import (
    GapRow,
    Report,
    Scores,
    SectionLink,
    SectionRow,
    ThemeRow,
    TicketRow,
    VersionRow,
)

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


def page_body(report: Report, known: Collection[str], charts: dict[str, Any]) -> str:
    """Everything inside <body> except the scripts."""
    links = Links(report, known)
    parts = [
        _header(report),
        '<nav class="toc" aria-label="Contents">' + "".join(f'<a href="#{k}">{v}</a>' for k, v in NAV) + "</nav>",
        "<main>",
        '<noscript><p class="note">The charts need JavaScript; every figure is also in the tables below.</p>'
        "</noscript>",
        _summary(report),
        _volume(report, charts),
        _tone(charts),
        _tickets_overview(charts),
        _signoffs(report, charts),
        _gaps(report, charts, links),
        _effects(report, charts, links),
        '<h2 id="evidence">Evidence</h2>',
        '<p class="note">Each theme links to the policy sections it maps to and its tickets; each ticket to its '
        "theme, its section and the version that resolved it.</p>",
        _themes_table(report, links),
        _sections_tables(report, links),
        _tickets_table(report, links),
        _versions_table(report, links),
        _footer(report),
        "</main>",
    ]
    return "\n".join(parts)


class Links:
    """Links between the records of one report, to rows the page has."""

    def __init__(self, report: Report, known: Collection[str]) -> None:
        self.known = known
        self.themes = {t.id: t for t in report.themes}
        self.sections = {(s.document_id, s.section_id): s for s in report.sections}
        self.documents = report.documents

    def theme(self, theme_id: int | None, label: str | None = None) -> str:
        """#id and label of a theme, linked to its row."""
        if theme_id is None:
            return "–"
        row = self.themes.get(theme_id)
        text = f"#{theme_id} {label or (row.label if row else '')}".strip()
        return link(anchor("theme", theme_id), text, self.known)

    def section(self, document_id: str, section_id: str) -> str:
        """A section's heading, linked to its row."""
        row = self.sections.get((document_id, section_id))
        text = row.heading if row else section_id
        return link(anchor("section", document_id, section_id), text, self.known, title=f"{document_id} / {section_id}")

    def gap(self, document_id: str, theme_id: int | None) -> str:
        """A coverage gap of a document, linked to its row."""
        title = self.documents.get(document_id, document_id)
        return link(anchor("gap", document_id, theme_id), f"coverage gap: {title}", self.known)

    def mapping(self, theme: ThemeRow, target: SectionLink) -> str:
        """Where a theme maps, with the match confidence."""
        shown = (
            self.gap(target.document_id, theme.id)
            if target.is_gap
            else self.section(target.document_id, target.section_id)
        )
        return f'{shown} <span class="id">{target.confidence:.2f}</span>'

    def tickets(self, refs: list[str]) -> str:
        """Ticket references, each linked to its row."""
        if not refs:
            return "–"
        return '<span class="refs">' + ", ".join(link(anchor("ticket", r), r, self.known) for r in refs) + "</span>"

    def version(self, document_id: str, version: int | None) -> str:
        """A published version, linked to its row."""
        if version is None:
            return "–"
        return link(anchor("version", document_id, version), f"version {version}", self.known)


# --- top of the page ---------------------------------------------------------------------------------------------


def period_text(report: Report) -> str:
    """The period in words, e.g. "from 2026-10-01 (weeks of 28 Sep to 16 Nov 2026)"."""
    span = f"weeks of {report.weeks[0]} to {report.weeks[-1]}" if report.weeks else "no feedback"
    start = f"feedback from {report.since.isoformat()}" if report.since else "all feedback"
    return f"{start} ({span})"


def _header(report: Report) -> str:
    return (
        '<header class="top"><h1>Policy feedback report</h1>'
        f"<p>Workspace <strong>{esc(report.workspace)}</strong> · {esc(period_text(report))} · "
        f"generated {esc(minute(report.generated_at))}</p></header>"
    )


def _card(value: str, label: str, warn: bool = False) -> str:
    kind = "card warn" if warn else "card"
    return f'<div class="{kind}"><div class="value">{value}</div><div class="label">{label}</div></div>'


def _summary(report: Report) -> str:
    t = report.totals
    waiting = sum(1 for x in report.tickets if x.state not in SETTLED_STATES)
    overdue = sum(1 for s in report.signoffs if s.pending and s.over_sla)
    kinds = ", ".join(f"{n} {esc(k.replace('_', ' '))}" for k, n in report.totals_by_kind.items()) or "none"
    cards = [
        _card(str(t.items), "feedback items"),
        _card(pct(t.negative_share), "negative"),
        _card(signed(t.nps), f"NPS ({t.nps_answers} answers)"),
        _card(percent_score(t.csat), f"CSAT ({t.csat_answers} answers)"),
        _card(str(len(report.themes)), "themes with feedback"),
        _card(str(waiting), "tickets awaiting action", waiting > 0),
        _card(str(overdue), f"sign-offs over the {report.signoff_sla_days:g}-day SLA", overdue > 0),
        _card(str(len(report.gaps)), "coverage gaps", bool(report.gaps)),
    ]
    return (
        f'<h2 id="summary">Summary</h2><div class="cards">{"".join(cards)}</div>'
        f'<p class="note">Feedback by kind: {kinds}.</p>'
    )


def figure(canvas_id: str, caption: str, drawn: bool, empty: str, label: str | None = None) -> str:
    """A chart's frame: a canvas when there is data for it, a sentence saying so otherwise."""
    canvas = f'<canvas id="{esc(canvas_id)}" role="img" aria-label="{esc(label or caption)}"></canvas>'
    inner = f'<div class="chart-box">{canvas}</div>' if drawn else f'<p class="empty">{esc(empty)}</p>'
    return f'<figure class="chart"><figcaption>{esc(caption)}</figcaption>{inner}</figure>'


def _volume(report: Report, charts: dict[str, Any]) -> str:
    top = len(charts.get("weekly", {}).get("series", []))
    return (
        '<h2 id="volume">Theme volume by week</h2>'
        f'<p class="note">Items per week of the {top} largest themes of the period; all themes are in the '
        '<a href="#themes">themes table</a>.</p>'
        + figure("chart-weekly", "Items per week, largest themes", "weekly" in charts, "No feedback in this period.")
    )


def _tone(charts: dict[str, Any]) -> str:
    theme, section = charts.get("themeTone") or {}, charts.get("sectionTone") or {}
    figures = [
        figure("chart-theme-negative", "Share negative, by theme", bool(theme), "No themed feedback in this period."),
        figure("chart-theme-scores", "NPS and CSAT, by theme", "scored" in theme, "No survey answers in any theme."),
        figure(
            "chart-section-negative",
            "Share negative, by policy section",
            bool(section),
            "No feedback maps to a section.",
        ),
        figure(
            "chart-section-scores",
            "NPS and CSAT, by policy section",
            "scored" in section,
            "No survey answers map to a section.",
        ),
    ]
    return (
        '<h2 id="tone">Sentiment, NPS and CSAT</h2>'
        '<p class="note">Negative: negative wording, or a detractor or unsatisfied survey answer. NPS runs from -100 '
        "to 100, CSAT is the share of satisfied answers. A section counts the feedback of every theme mapped to it (a "
        "theme mapped to two sections counts in both). Click a bar to see its row.</p>"
        f'<div class="grid">{"".join(figures)}</div>'
    )


def _tickets_overview(charts: dict[str, Any]) -> str:
    data = charts.get("tickets") or {}
    return (
        '<h2 id="tickets-overview">Review tickets</h2>'
        '<p class="note">Tickets opened or changed in the period, and every ticket still awaiting action.</p>'
        '<div class="grid">'
        + figure("chart-ticket-states", "Tickets by state", bool(data), "No tickets in this period.")
        + figure("chart-ticket-age", "Tickets awaiting action, by age", "age" in data, "No ticket is awaiting action.")
        + "</div>"
    )


def _signoffs(report: Report, charts: dict[str, Any]) -> str:
    sla, rows = report.signoff_sla_days, report.signoffs
    answered = sorted(r.days for r in rows if not r.pending)
    within = sum(1 for d in answered if d <= sla)
    pending = [r for r in rows if r.pending]
    late = sum(1 for r in pending if r.over_sla)
    median = statistics.median(answered) if answered else None
    cards = [
        _card(str(len(answered)), "sign-offs given"),
        _card(days(median) if median is not None else "–", "median turnaround"),
        _card(pct(within / len(answered)) if answered else "–", f"within the {sla:g}-day SLA"),
        _card(str(len(pending)), "waiting"),
        _card(str(late), "waiting longer than the SLA", late > 0),
    ]
    return (
        f'<h2 id="signoffs">Sign-off turnaround</h2><div class="cards">{"".join(cards)}</div>'
        f'<p class="note">Days from the request to the approver\'s decision (for requests still waiting: so far), '
        f"against the SLA of {sla:g} days (<code>review.signoff_sla_days</code>). Green: in time; red: late; light "
        "blue: waiting; orange: waiting and late.</p>"
        + figure(
            "chart-signoffs", "Sign-off turnaround", "signoffs" in charts, "No sign-offs were asked for in this period."
        )
    )


# --- coverage gaps and effects -----------------------------------------------------------------------------------


def _scores_cells(scores: Scores) -> str:
    return (
        f'<td class="num">{scores.items}</td><td class="num">{pct(scores.negative_share)}</td>'
        f'<td class="num">{signed(scores.nps)}</td><td class="num">{percent_score(scores.csat)}</td>'
    )


def _head(*names: str) -> str:
    cells = "".join(f"<th{' class=num' if n in NUMERIC else ''}>{n}</th>" for n in names)
    return f"<thead><tr>{cells}</tr></thead>"


NUMERIC = {"Items", "Negative", "NPS", "CSAT", "Match", "Age"}


def _gaps(report: Report, charts: dict[str, Any], links: Links) -> str:
    rows = "".join(_gap_row(g, links) for g in sorted(report.gaps, key=lambda g: -g.scores.items))
    table = (
        f"<table>{_head('Theme', 'Not covered by', 'Items', 'Negative', 'NPS', 'CSAT', 'Match', 'Tickets')}"
        f"<tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    return (
        '<h2 id="gaps">Coverage gaps</h2>'
        '<p class="note">Themes that no section of a policy covers well enough (<code>mapping.min_confidence</code>). '
        "A gap earns a ticket when enough of its feedback is about rules or promises.</p>"
        + figure("chart-gaps", "Coverage gaps by size", "gaps" in charts, "No coverage gaps in this period.")
        + table
    )


def _gap_row(gap: GapRow, links: Links) -> str:
    return (
        f'<tr id="{esc(anchor("gap", gap.document_id, gap.theme_id))}"><td>{links.theme(gap.theme_id, gap.label)}</td>'
        f"<td>{esc(gap.document_title)}</td>{_scores_cells(gap.scores)}"
        f'<td class="num">{gap.confidence:.2f}</td><td>{links.tickets(gap.tickets)}</td></tr>'
    )


def outcome(comparison: Comparison) -> str:
    """A test's result in words: "p = 0.012, fell" or "too little data"."""
    if comparison.p_value is None:
        return "too little data"
    p = "p < 0.001" if comparison.p_value < 0.001 else f"p = {comparison.p_value:.3f}"
    return f"{p}, {comparison.outcome}"


def _share(value: float | None, count: int, total: int) -> str:
    return f'{pct(value, 1)} <span class="id">({count}/{total})</span>' if value is not None else "–"


def _effects(report: Report, charts: dict[str, Any], links: Links) -> str:
    drawn = {e["id"] for e in charts.get("effects", [])}
    blocks = [_effect_block(v, drawn, links) for v in report.versions if v.tickets]
    intro = (
        '<h2 id="effects">Effect of published versions</h2>'
        '<p class="note">For each version that resolved tickets: did the themes they cited fall? Each theme\'s share '
        "of all feedback, and its negative share, in a window before the publish date and one after "
        "(<code>[impact]</code>), each tested for a significant change.</p>"
    )
    if not blocks:
        return intro + '<p class="empty">No published version has resolved a ticket yet.</p>'
    return intro + "".join(blocks)


def _effect_block(version: VersionRow, drawn: set[str], links: Links) -> str:
    block_id = effect_id(version)
    head = (
        f'<section class="effect" id="{esc(block_id)}"><h3>{esc(version.title)} version {version.version}</h3>'
        f'<p class="note">Published {esc(day(version.published_at))} by {esc(version.published_by)}; resolved '
        f"{links.tickets(version.tickets)}.</p>"
    )
    e = version.effect
    if e is None or not e.themes:
        return head + '<p class="empty">Its tickets cited no theme: nothing to measure.</p></section>'
    before = (version.published_at - e.before_start).days
    after = (e.after_end - version.published_at).days
    window = f"{before} days before vs {after} days after publishing on {day(version.published_at)}."
    if e.window_open:
        until = esc(minute(e.after_end))
        window += (
            f' <span class="provisional">Window still open until {until}: the figures so far are provisional.</span>'
        )
    charts = ""
    if block_id in drawn:
        charts = (
            '<div class="grid">'
            + figure(f"{block_id}-share", "Share of all feedback, before and after", True, "")
            + figure(f"{block_id}-negative", "Negative share of the theme, before and after", True, "")
            + "</div>"
        )
    rows = []
    for t in e.themes:
        s, n = t.effect.share, t.effect.negative
        rows.append(
            f"<tr><td>{links.theme(t.theme_id, t.label)}</td><td>{links.tickets(t.tickets)}</td>"
            f'<td class="num">{_share(s.before, s.before_count, s.before_total)}</td>'
            f'<td class="num">{_share(s.after, s.after_count, s.after_total)}</td><td>{esc(outcome(s))}</td>'
            f'<td class="num">{_share(n.before, n.before_count, n.before_total)}</td>'
            f'<td class="num">{_share(n.after, n.after_count, n.after_total)}</td><td>{esc(outcome(n))}</td>'
            f'<td><span class="badge {esc(t.verdict.replace(" ", "-"))}">{esc(t.verdict)}</span></td></tr>'
        )
    table = (
        "<table><thead><tr><th>Theme</th><th>Tickets</th><th class=num>Share before</th><th class=num>Share after</th>"
        "<th>Share test</th><th class=num>Negative before</th><th class=num>Negative after</th><th>Negative test</th>"
        f"<th>Verdict</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return head + f"<p>{window}</p>" + charts + table + "</section>"


# --- evidence tables ---------------------------------------------------------------------------------------------


def _themes_table(report: Report, links: Links) -> str:
    if not report.themes:
        return '<h3 id="themes">Themes</h3><p class="empty">No themed feedback in this period.</p>'
    rows = []
    for t in report.themes:
        maps = "<br>".join(links.mapping(t, m) for m in t.sections) or "–"
        trend = sparkline(t.weekly[-SPARK_WEEKS:])
        quote = f"“{esc(t.quote)}”" if t.quote else ""
        rows.append(
            f'<tr id="{esc(anchor("theme", t.id))}"><td><span class="id">#{t.id}</span> {esc(t.label)}</td>'
            f'{_scores_cells(t.scores)}<td><span class="spark" title="items per week">{trend}</span></td>'
            f'<td>{maps}</td><td>{links.tickets(t.tickets)}</td><td class="quote">{quote}</td></tr>'
        )
    return (
        '<h3 id="themes">Themes</h3><p class="note">Largest first; counts are for the period. The number after a '
        "section is how well the theme matches it.</p>"
        f"<table>{_head('Theme', 'Items', 'Negative', 'NPS', 'CSAT', 'Trend', 'Sections', 'Tickets', 'Typical quote')}"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _sections_tables(report: Report, links: Links) -> str:
    by_document: dict[str, list[SectionRow]] = {}
    for s in report.sections:
        by_document.setdefault(s.document_id, []).append(s)
    if not by_document:
        return '<h3 id="sections">Policy sections</h3><p class="empty">No policy documents yet.</p>'
    tables = []
    for document_id, rows in by_document.items():
        body = "".join(_section_row(s, links) for s in rows)
        tables.append(
            f"<table><caption>{esc(report.documents.get(document_id, document_id))} "
            f'<span class="id">{esc(document_id)}</span></caption>'
            + _head("Section", "Owner", "Themes", "Items", "Negative", "NPS", "CSAT", "Tickets")
            + f"<tbody>{body}</tbody></table>"
        )
    return (
        '<h3 id="sections">Policy sections</h3><p class="note">Sections of the published version, with the feedback '
        "of the themes mapped to them in the period and the tickets filed against them.</p>" + "".join(tables)
    )


def _section_row(s: SectionRow, links: Links) -> str:
    note = "" if s.published else ' <span class="id">(not in the published version)</span>'
    themes = "<br>".join(links.theme(i, short(links.themes[i].label, 32)) for i in s.themes) or "–"
    return (
        f'<tr id="{esc(section_anchor(s))}"><td>{esc(s.heading)}{note}<br>'
        f'<span class="id">{esc(s.section_id)}</span></td><td>{esc(s.owner or "–")}</td><td>{themes}</td>'
        f"{_scores_cells(s.scores)}<td>{links.tickets(s.tickets)}</td></tr>"
    )


def _tickets_table(report: Report, links: Links) -> str:
    if not report.tickets:
        return '<h3 id="tickets">Ticket evidence</h3><p class="empty">No tickets in this period.</p>'
    rows = "".join(_ticket_row(t, links) for t in sorted(report.tickets, key=_ticket_order))
    return (
        '<h3 id="tickets">Ticket evidence</h3><p class="note">Awaiting action first, oldest first. Items and negative '
        "share are from the ticket's evidence as last refreshed.</p>"
        f"<table>{_head('Ticket', 'State', 'Age', 'Theme', 'Section', 'Version', 'Items', 'Negative', 'Evidence')}"
        f"<tbody>{rows}</tbody></table>"
    )


def _ticket_order(ticket: TicketRow) -> tuple[bool, float]:
    return (ticket.state in SETTLED_STATES, -ticket.age_days)


def _ticket_row(t: TicketRow, links: Links) -> str:
    where = links.section(t.document_id, t.section_id) if t.section_id else links.gap(t.document_id, t.theme_id)
    quotes = "".join(f'<li class="quote">“{esc(q)}”</li>' for q in t.quotes)
    evidence = esc(t.reason) + (f'<ul class="plain">{quotes}</ul>' if quotes else "")
    return (
        f'<tr id="{esc(anchor("ticket", t.ref))}"><td><strong>{esc(t.ref)}</strong> {esc(t.title)}'
        f'<br><span class="id">{esc(t.kind)} · opened {esc(day(t.created_at))}'
        + (f" · {esc(t.assignee)}" if t.assignee else "")
        + f'</span></td><td><span class="badge {esc(t.state)}">{esc(t.state.replace("_", " "))}</span></td>'
        f'<td class="num">{days(t.age_days)}</td><td>{links.theme(t.theme_id)}</td><td>{where}</td>'
        f"<td>{links.version(t.document_id, t.resolved_version)}</td>"
        f'<td class="num">{t.items if t.items is not None else "–"}</td><td class="num">{pct(t.negative_share)}</td>'
        f"<td>{evidence}</td></tr>"
    )


def _versions_table(report: Report, links: Links) -> str:
    if not report.versions:
        return '<h3 id="versions">Versions</h3><p class="empty">No version was published in this period.</p>'
    rows = "".join(_version_row(v, links) for v in report.versions)
    return (
        '<h3 id="versions">Versions</h3><p class="note">Published versions, the tickets each resolved, and what they '
        "did to the themes those tickets cited.</p>"
        f"<table>{_head('Version', 'Published', 'Changes', 'Resolved tickets', 'Effect')}<tbody>{rows}</tbody></table>"
    )


def _version_row(v: VersionRow, links: Links) -> str:
    changes = "".join(f"<li>{esc(line)}</li>" for line in v.changelog)
    if v.effect and v.effect.themes:
        found = [t.verdict for t in v.effect.themes]
        summary = ", ".join(f"{found.count(x)} {x}" for x in dict.fromkeys(found))
        effect = link(effect_id(v), summary, links.known) + (" (window open)" if v.effect.window_open else "")
    else:
        effect = "–" if not v.tickets else link(effect_id(v), "nothing to measure", links.known)
    return (
        f'<tr id="{esc(anchor("version", v.document_id, v.version))}"><td>{esc(v.title)} '
        f'<strong>version {v.version}</strong></td><td class="date">{esc(day(v.published_at))}<br>'
        f'<span class="id">by {esc(v.published_by)}</span></td><td><ul class="plain">{changes}</ul></td>'
        f"<td>{links.tickets(v.tickets)}</td><td>{effect}</td></tr>"
    )


def _footer(report: Report) -> str:
    return (
        f"<footer>Generated by reviewbot on {esc(minute(report.generated_at))} for {esc(period_text(report))}. "
        "Charts drawn with Chart.js 4.6.1 (MIT licence), embedded in this file: it opens offline and fetches "
        "nothing.</footer>"
    )
