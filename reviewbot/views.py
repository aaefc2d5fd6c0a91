"""How records look to people (rich tables) and to scripts (plain dicts for --json)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text

from reviewbot.evidence import sparkline

if TYPE_CHECKING:  # only named in annotations: a command listing tickets builds no feedback table
    from sqlmodel import Session, SQLModel

    from reviewbot.models import (
        AuditEvent,
        FeedbackItem,
        MappingCorrection,
        PolicyDocument,
        PolicyRelease,
        PolicySection,
        QuarantinedRow,
        ReviewTicket,
        SyncRun,
        Theme,
        ThemeMapping,
    )


def pct(value: float | None) -> str:
    """0.42 -> "42%"."""
    return "-" if value is None else f"{value:.0%}"


def signed(value: float | None, digits: int = 0) -> str:
    """A score with its sign, or "-"."""
    return "-" if value is None else f"{value:+.{digits}f}"


def theme_overview(
    session: Session,
) -> tuple[list[Theme], dict[int, list[ThemeMapping]], dict[int, list[str]], list[ReviewTicket]]:
    """Active themes largest first, with their mappings, ticket references, and all tickets."""
    from reviewbot.store.themes import active_themes
    from reviewbot.store.tickets import list_tickets, mappings

    themes = sorted(active_themes(session), key=lambda t: -t.size)
    maps: dict[int, list[ThemeMapping]] = {}
    for m in mappings(session):
        maps.setdefault(m.theme_id, []).append(m)
    tickets = list_tickets(session)
    refs: dict[int, list[str]] = {}
    for t in tickets:
        if t.theme_id is not None:
            refs.setdefault(t.theme_id, []).append(t.tracker_ref or f"#{t.id}")
    return themes, maps, refs, tickets


@dataclass(frozen=True)
class ThemeDetail:
    """What `themes show` and the console's theme page show of one theme."""

    theme: Theme
    maps: list[ThemeMapping]
    items: list[FeedbackItem]  # its most typical members
    tickets: list[ReviewTicket]


def theme_detail(session: Session, theme_id: int, items: int) -> ThemeDetail | None:
    """One theme with its mappings, its `items` most typical members and its tickets; None if there is no such theme."""
    from reviewbot.models import Theme
    from reviewbot.store.themes import central_items
    from reviewbot.store.tickets import list_tickets, mappings

    theme = session.get(Theme, theme_id)
    if theme is None:
        return None
    tickets = [t for t in list_tickets(session) if t.theme_id == theme_id]
    return ThemeDetail(theme, mappings(session, theme_id), central_items(session, theme_id, items), tickets)


def row_dict(row: SQLModel, exclude: set[str] | None = None, first: Sequence[str] = ()) -> dict[str, Any]:
    """A table row for --json, its keys in the order of the table's columns: `model_dump` gives them in the order
    SQLAlchemy happened to load them, which moved with changes elsewhere (building fewer tables reordered them).
    `first`: the fields a listing shows as its columns, in their order, ahead of the others."""
    data = row.model_dump(exclude=exclude)
    return ordered(data, [*first, *type(row).model_fields])


def ordered(data: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    """`data` with the keys named in `order` first, in that order, then the rest as they were."""
    keys = dict.fromkeys(name for name in order if name in data) | dict.fromkeys(data)
    return {name: data[name] for name in keys}


def theme_dict(theme: Theme, maps: list[ThemeMapping] | None = None) -> dict[str, Any]:
    """A theme for --json."""
    data = row_dict(theme, exclude={"centroid"})
    if maps is not None:
        data["sections"] = [
            {"document": m.document_id, "section": m.section_id or None, "gap": m.is_gap, "confidence": m.confidence}
            for m in maps
        ]
    return data


def add_text_row(table: Table, *cells: str | Text) -> None:
    """Add a row whose strings are shown as written: labels, titles and feedback may contain [brackets] that
    Rich would otherwise read as markup."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


WHOLE_AT_MOST = 64  # an id, name or path longer than this may still fold: the text columns need room too


def fitted(table: Table, width: int, *whole: str) -> Table | Group:
    """The table with its `whole` columns (ids, names, paths, dates) unbroken, when it fits `width`; else each row as
    a record of "column: value" lines. Rich shrinks every column alike to fit a narrow terminal, which folded
    "customer-service-policy" mid-word at 80 columns and left a word a line for the text."""
    needed = 3 * len(table.columns) + 1  # each column's padding and rule, and the last rule
    for column in table.columns:
        values = [str(column.header), *(str(cell) for cell in column.cells)]
        if column.header in whole:
            column.min_width = min(max(map(cell_len, values)), WHOLE_AT_MOST)
            needed += column.min_width
        else:  # Rich gives a text column at least its longest word
            needed += max((cell_len(word) for value in values for word in value.split()), default=1)
    return table if needed <= width else Group(*_records(table))


_TABS, _BREAKS = re.compile(r"\t+"), re.compile(r"\s*[\r\n]+\s*")


def tsv_lines(table: Table) -> list[str]:
    """The table's rows for scripts: each cell's text whole (markup read, styles dropped, a cell's lines joined by
    "; ", its tabs as spaces), the cells tab-separated; no header, title or padding."""
    cells = [[_plain(cell) for cell in column.cells] for column in table.columns]
    return ["\t".join(row) for row in zip(*cells, strict=True)]


def _plain(cell: object) -> str:
    """A cell's text: a `Text` as it is, a string as Rich reads its markup."""
    text = cell.plain if isinstance(cell, Text) else Text.from_markup(str(cell)).plain
    return _TABS.sub(" ", _BREAKS.sub("; ", text.strip()))


def _records(table: Table) -> list[Text]:
    """Each row as "column: value" lines (a blank line between rows), under the table's title."""
    headers = [str(column.header) for column in table.columns]
    rows = zip(*(list(column.cells) for column in table.columns), strict=True)
    blocks = [Text(str(table.title), style="bold")] if table.title else []
    for row in rows:
        lines = Text()
        for header, cell in zip(headers, row, strict=True):
            lines.append(f"{header}: ", style="bold")
            lines.append(cell if isinstance(cell, Text) else Text(str(cell)))
            lines.append("\n")
        blocks.append(lines)
    return blocks


def line_table(
    title: str,
    names: tuple[str, ...],
    rows: list[tuple[str, ...]],
    width: int | None,
    *,
    caps: dict[str, int] | None = None,
    flex: str,
    right: tuple[str, ...] = (),
    middle: tuple[str, ...] = (),
) -> Table:
    """One line per row at any terminal width: columns are as wide as their content (at most their cap), ids and
    numbers never fold, and the `flex` column gets what is left; what does not fit ends in "...", or for the
    `middle` columns has it in the middle (section ids: "refunds-and-returns/return-window" and ".../refund-timelines"
    differ only at the end).

    Rich would shrink every column alike to fit, folding ids and words mid-way; we size the columns ourselves. With
    no `width` (output to a file or a pipe) nothing is capped or cut.
    """
    caps = (caps or {}) if width is not None else {}
    sizes = {name: max(len(name), *(len(row[i]) for row in rows)) for i, name in enumerate(names)}
    sizes = {name: min(size, caps.get(name, size)) for name, size in sizes.items()}
    fixed = sum(size for name, size in sizes.items() if name != flex) + 2 * (len(names) - 1)
    if width is not None:
        sizes[flex] = max(12, min(sizes[flex], width - fixed))
    table = Table(
        title=title, title_justify="left", box=None, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold"
    )
    for name in names:
        justify = "right" if name in right else "left"
        table.add_column(name, width=sizes[name], no_wrap=True, overflow="ellipsis", justify=justify)
    for row in rows:
        cells = (_middle(cell, sizes[name]) if name in middle else cell for name, cell in zip(names, row, strict=True))
        table.add_row(*(Text(cell, no_wrap=True, overflow="ellipsis") for cell in cells))
    return table


def _middle(text: str, size: int) -> str:
    """`text` cut to `size` characters with the ellipsis in the middle, keeping both its start and its end."""
    if len(text) <= size:
        return text
    head = (size - 1) // 2
    return f"{text[:head]}\u2026{text[len(text) - (size - 1 - head) :]}"


def themes_table(
    themes: list[Theme], maps: dict[int, list[ThemeMapping]], tickets: dict[int, list[str]], width: int | None
) -> Table:
    """One line per theme: size, tone, trend, where it maps, its tickets (all of them whole with no `width`)."""
    # at 80 columns: fewer weeks of trend and shorter sections, so the label keeps its room
    narrow = width is not None and width < 100
    weeks = 6 if narrow else 12
    rows = [
        (
            str(t.id),
            t.label,
            str(t.size),
            pct(t.negative_share),
            signed(t.nps),
            sparkline(t.weekly)[-weeks:],
            ", ".join(m.section_id or "GAP" for m in maps.get(t.id or 0, [])) or "-",
            ", ".join(tickets.get(t.id or 0, [])) or "-",
        )
        for t in themes
    ]
    names = ("id", "label", "items", "neg", "NPS", "trend", "section", "tickets")
    return line_table(
        "Themes",
        names,
        rows,
        width,
        caps={"section": 14 if narrow else 22, "tickets": 7 if narrow else 12},
        flex="label",
        right=names[2:5],
    )


def ticket_dict(ticket: ReviewTicket) -> dict[str, Any]:
    """A ticket for --json."""
    return row_dict(ticket)


def tickets_table(tickets: list[ReviewTicket]) -> Table:
    """One row per ticket."""
    table = Table(title="Review tickets", title_justify="left")
    for name in ("ref", "state", "kind", "section", "theme", "items", "neg", "title"):
        table.add_column(name, overflow="fold")
    for t in tickets:
        counts, sentiment = t.evidence.get("counts", {}), t.evidence.get("sentiment", {})
        add_text_row(table,
            t.tracker_ref or f"#{t.id}", t.state, t.kind, t.section_id or "(whole document)", str(t.theme_id or "-"),
            str(counts.get("total", "-")), pct(sentiment.get("negative_share")), t.title,
        )  # fmt: skip
    return table


def items_table(items: list[FeedbackItem], title: str) -> Table:
    """Feedback items with their scores."""
    table = Table(title=title, title_justify="left")
    for name in ("source", "id", "kind", "date", "polarity", "score", "text"):
        table.add_column(name, overflow="fold")
    for i in items:
        score = " ".join(
            s
            for s in (f"NPS {i.nps}" if i.nps is not None else "", f"CSAT {i.csat}" if i.csat is not None else "")
            if s
        )
        add_text_row(
            table,
            i.source,
            i.external_id,
            i.kind,
            i.created_at.date().isoformat(),
            f"{i.polarity:+.2f}",
            score or "-",
            i.text,
        )
    return table


def quarantine_dict(row: QuarantinedRow) -> dict[str, Any]:
    """A quarantined row for --json: the table's columns first (source, file, line, reason, the row), then the rest."""
    return row_dict(row, first=("source", "file", "line", "reason", "raw"))


def quarantine_table(rows: list[QuarantinedRow]) -> Table:
    """Rejected rows with file, line and reason."""
    table = Table(title="Quarantine", title_justify="left")
    for name in ("source", "file", "line", "reason", "row"):
        table.add_column(name, overflow="fold")
    for r in rows:
        add_text_row(table, r.source, r.file, str(r.line) if r.line else "(file)", r.reason, r.raw[:120])
    return table


def audit_dict(event: AuditEvent) -> dict[str, Any]:
    """An audit event for --json: the table's columns first (when, who, action, ticket, document, detail)."""
    return row_dict(event, first=("at", "actor", "action", "ticket_id", "document_id", "detail"))


def run_dict(run: SyncRun) -> dict[str, Any]:
    """A sync run for --json: the table's columns first (run, started, finished, status, counts, errors)."""
    return row_dict(run, first=("id", "started_at", "finished_at", "status", "counts", "errors"))


def correction_dict(correction: MappingCorrection) -> dict[str, Any]:
    """A mapping correction for --json: the table's columns first (when, by, theme, from, to, reason)."""
    first = ("created_at", "actor", "theme_id", "was_section", "section_id", "reason")
    return row_dict(correction, exclude={"centroid"}, first=first)


def release_dict(release: PolicyRelease) -> dict[str, Any]:
    """A published version for --json: the table's columns first (version, published, by, changes, files)."""
    return row_dict(release, first=("version", "published_at", "published_by", "forced_reason", "changelog", "files"))


def documents_table(docs: list[tuple[PolicyDocument, int, str | None]]) -> Table:
    """Policy documents with their published version, unpublished edits, section count and owner in force."""
    table = Table(title="Policy documents", title_justify="left")
    for name in ("id", "title", "version", "edits", "sections", "owner", "path"):
        table.add_column(name, overflow="fold")
    for doc, count, owner in docs:
        edits = "unpublished" if doc.has_draft else "-"
        add_text_row(table, doc.id, doc.title, str(doc.published_version), edits, str(count), owner or "-", doc.path)
    return table


def sections_table(document: PolicyDocument, sections: list[PolicySection], label: str) -> Table:
    """The sections of one version of a document."""
    table = Table(title=f"{document.title} ({label})", title_justify="left")
    for name in ("section", "heading", "owner", "approvers", "sign-off", "review every"):
        table.add_column(name, overflow="fold")
    for s in sections:
        interval = f"{s.review_interval_days} days" if s.review_interval_days else "-"
        add_text_row(
            table, s.section_id, s.heading, s.owner or "-", ", ".join(s.approvers) or "-", s.sign_off, interval
        )
    return table
