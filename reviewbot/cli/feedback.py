"""Commands about the feedback: themes and quarantine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from reviewbot.cli.app import (
    ActorOption,
    JsonOption,
    ThemeId,
    actor,
    done,
    note,
    open_store,
    out,
    print_json,
    print_table,
    sub_app,
    table_width,
)
from reviewbot.errors import NotFoundError
from reviewbot.models.base import MAX_ROW_ID

if TYPE_CHECKING:
    from reviewbot.store import Store

themes_app = sub_app("themes", "Recurring issues found in the feedback.")
ThemeJsonOption = Annotated[
    bool, typer.Option("--json", help="Print the resulting themes as `themes list --json` gives them, in a list.")
]
quarantine_app = sub_app("quarantine", "Rows that could not be ingested.")


@themes_app.command("list")
def themes_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List active themes, largest first."""
    from reviewbot.views import theme_dict, theme_overview, themes_table

    with open_store(ctx) as (_, store), store.session() as session:
        themes, maps, refs, _ = theme_overview(session)
    if as_json:
        print_json([theme_dict(t, maps.get(t.id or 0, [])) for t in themes])
    elif not themes:
        note("No themes yet: `reviewbot sync` finds them in the feedback.")
    else:
        print_table(themes_table(themes, maps, refs, table_width()))


@themes_app.command("show")
def themes_show(
    ctx: typer.Context,
    theme_id: ThemeId,
    items: Annotated[
        int, typer.Option("--items", "-n", help="How many member items to show.", min=0, max=MAX_ROW_ID)
    ] = 10,
    as_json: JsonOption = False,
) -> None:
    """Show one theme: statistics, weekly trend, sections, tickets and its most typical items."""
    from reviewbot.evidence import sparkline
    from reviewbot.views import items_table, pct, row_dict, signed, theme_detail, theme_dict

    with open_store(ctx) as (_, store), store.session() as session:
        detail = theme_detail(session, theme_id, items)
    if detail is None:
        raise NotFoundError(f"no theme {theme_id}", hint="see `reviewbot themes list`")
    theme, maps, members, tickets = detail.theme, detail.maps, detail.items, detail.tickets
    refs = [t.tracker_ref or f"#{t.id}" for t in tickets]
    if as_json:
        print_json({**theme_dict(theme, maps), "items": [row_dict(m) for m in members], "tickets": refs})
        return
    out.print(f"[bold]Theme {theme.id}: {escape(theme.label)}[/]")
    out.print(f"Terms: {', '.join(theme.terms)}", markup=False)
    kinds = ", ".join(f"{n} {k}" for k, n in theme.by_kind.items())
    out.print(f"Items: {theme.size} ({theme.unique_size} distinct): {kinds}")
    csat = "-" if theme.csat is None else f"{theme.csat:.0f}%"
    tone = f"mean {theme.mean_polarity:+.2f}, {pct(theme.negative_share)} negative"
    out.print(f"Sentiment: {tone}; NPS {signed(theme.nps)}, CSAT {csat}")
    seen = f"{theme.first_seen:%Y-%m-%d} to {theme.last_seen:%Y-%m-%d}" if theme.first_seen and theme.last_seen else "-"
    growth = "-" if theme.growth is None else theme.growth
    out.print(f"Seen: {seen}; weekly {sparkline(theme.weekly)} growth x{growth}")
    for m in maps:
        target = f"section {m.section_id}" if m.section_id else "COVERAGE GAP (no section fits)"
        out.print(f"Maps to: {m.document_id} {target} (confidence {m.confidence:.2f})", markup=False)
    out.print(f"Tickets: {', '.join(refs) or '-'}", markup=False)
    print_table(items_table(members, f"Most typical of {theme.size} items"), titled=True)


@themes_app.command("rename")
def themes_rename(
    ctx: typer.Context,
    theme_id: ThemeId,
    label: Annotated[str, typer.Argument(help="The new name; syncs keep it.")],
    as_: ActorOption = None,
    as_json: ThemeJsonOption = False,
) -> None:
    """Name a theme; later syncs keep the name."""
    from reviewbot.workflows.curate import rename

    with open_store(ctx) as (settings, store):
        _curated(store, rename(settings, store, theme_id, label, actor(settings, store, as_)), [theme_id], as_json)


def _active_ids(store: Store) -> set[int]:
    from reviewbot.store.themes import active_themes

    with store.session() as session:
        return {t.id or 0 for t in active_themes(session)}


def _curated(store: Store, message: str, theme_ids: list[int], as_json: bool) -> None:
    """What a curation did: a sentence, or with --json the themes it left as `themes list --json` gives them."""
    from reviewbot.views import theme_dict, theme_overview

    if not as_json:
        done(message)
        return
    with store.session() as session:
        themes, maps, _, _ = theme_overview(session)
    by_id = {t.id: t for t in themes}
    print_json([theme_dict(by_id[i], maps.get(i, [])) for i in theme_ids if i in by_id])


@themes_app.command("merge")
def themes_merge(
    ctx: typer.Context,
    target: Annotated[int, typer.Argument(help="The theme that stays.", min=1, max=MAX_ROW_ID)],
    sources: Annotated[list[int], typer.Argument(help="Themes to fold into it.", min=1, max=MAX_ROW_ID)],
    as_: ActorOption = None,
    as_json: ThemeJsonOption = False,
) -> None:
    """Merge themes that are the same issue; their open tickets are dismissed as merged."""
    from reviewbot.workflows.curate import merge

    with open_store(ctx) as (settings, store):
        _curated(store, merge(settings, store, target, sources, actor(settings, store, as_)), [target], as_json)


@themes_app.command("split")
def themes_split(
    ctx: typer.Context,
    theme_id: Annotated[int, typer.Argument(help="The theme to split.", min=1, max=MAX_ROW_ID)],
    into: Annotated[
        int | None, typer.Option("--into", help="How many parts (default: chosen from the data, 2-6).")
    ] = None,
    as_: ActorOption = None,
    as_json: ThemeJsonOption = False,
) -> None:
    """Split a theme that mixes different issues; the biggest part keeps its id."""
    from reviewbot.workflows.curate import split

    with open_store(ctx) as (settings, store):
        before = _active_ids(store)
        message = split(settings, store, theme_id, actor(settings, store, as_), into)
        _curated(store, message, [theme_id, *sorted(_active_ids(store) - before)], as_json)


@quarantine_app.command("list")
def quarantine_list(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.", min=1, max=MAX_ROW_ID)] = 200,
    as_json: JsonOption = False,
) -> None:
    """List rejected rows with file, line and reason (newest first)."""
    from reviewbot.store.feedback import list_quarantined
    from reviewbot.views import quarantine_dict, quarantine_table

    with open_store(ctx) as (settings, store), store.session() as session:
        rows = list_quarantined(session, source, limit)
    names = [s.name for s in settings.sources]
    if source is not None and not rows and source not in names:  # a misspelt name said "Quarantine is empty."
        raise NotFoundError(
            f"no source {source!r}", hint=f"the sources of reviewbot.toml: {', '.join(names) or 'none'}"
        )
    if as_json:
        print_json([quarantine_dict(r) for r in rows])
    elif not rows:
        note("Quarantine is empty.")
    else:
        print_table(quarantine_table(rows), "source", "file", "line")


@quarantine_app.command("clear")
def quarantine_clear(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The source whose quarantined rows to forget.")],
    file: Annotated[
        str | None, typer.Option("--file", help="Only this file's rows (as `quarantine list` names it).")
    ] = None,
    as_: ActorOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"source", "file", "cleared": rows forgotten} instead of a sentence.')
    ] = False,
) -> None:
    """Forget quarantined rows once their export is fixed or no longer wanted (admins; audited)."""
    from reviewbot.workflows.quarantine import clear_quarantine

    with open_store(ctx) as (settings, store):
        before = _quarantined(store, source, file)
        message = clear_quarantine(settings, store, source, file, actor(settings, store, as_))
        if as_json:
            print_json({"source": source, "file": file, "cleared": before - _quarantined(store, source, file)})
        else:
            done(message)


def _quarantined(store: Store, source: str, file: str | None) -> int:
    """How many rows of `source` (of its `file`, when given) are in quarantine."""
    from sqlmodel import col, func, select

    from reviewbot.models import QuarantinedRow

    where = [col(QuarantinedRow.source) == source] + ([col(QuarantinedRow.file) == file] if file else [])
    with store.session() as session:
        return session.exec(select(func.count()).select_from(QuarantinedRow).where(*where)).one()
