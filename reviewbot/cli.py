"""The `reviewbot` command: parse arguments, call one library function, print the result."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from reviewbot import __version__
from reviewbot.errors import NotFoundError, ReviewbotError
from reviewbot.settings import Settings, find_workspace, load_settings
from reviewbot.store import Store
from reviewbot.store.migrate import require_current, upgrade

app = typer.Typer(
    help="Keep a customer-service policy alive: feedback in, themes, evidence-backed review tickets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
themes_app = typer.Typer(help="Recurring issues found in the feedback.", no_args_is_help=True)
tickets_app = typer.Typer(help="Review tickets against policy sections.", no_args_is_help=True)
policy_app = typer.Typer(help="Policy documents, versions and sections.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Rows that could not be ingested.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(themes_app, name="themes")
app.add_typer(tickets_app, name="tickets")
app.add_typer(policy_app, name="policy")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


@dataclass
class Globals:
    """Options given before the command."""

    workspace: Path | None = None
    verbose: int = 0


def _version(value: bool) -> None:
    if value:
        out.print(f"reviewbot {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            envvar="REVIEWBOT_WORKSPACE",
            help="Workspace folder (default: found from the current folder upwards).",
        ),
    ] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More detail on standard error (-vv for debug).")
    ] = 0,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Global options."""
    ctx.obj = Globals(workspace=workspace, verbose=verbose)
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, handlers=[RichHandler(console=err, show_path=False)], format="%(message)s", force=True
    )


def _settings(ctx: typer.Context) -> Settings:
    options: Globals = ctx.obj
    return load_settings(find_workspace(explicit=options.workspace))


@contextmanager
def _open_store(ctx: typer.Context) -> Iterator[tuple[Settings, Store]]:
    settings = _settings(ctx)
    store = Store(settings.db_url)
    try:
        store.check_connection()
        require_current(store.engine)
        yield settings, store
    finally:
        store.dispose()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


# --- init, db --------------------------------------------------------------------------------------


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder of the new workspace.")] = Path("."),
    demo: Annotated[bool, typer.Option("--demo", help="Add the demo policy and twelve weeks of feedback.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a workspace: reviewbot.toml, policies/, inbox/ folders, .env.example and a migrated database."""
    from reviewbot.workspace import init_workspace

    result = init_workspace(folder, demo=demo)
    if as_json:
        _print_json({"workspace": str(result.workspace), "created": result.created, "database": result.database})
        return
    out.print(f"Created workspace [bold]{result.workspace}[/] ({len(result.created)} files and folders)")
    out.print(f"Database: {result.database}")
    where = f" -w {folder}" if folder != Path(".") else ""
    out.print(f"Next: [bold]reviewbot{where} sync[/]" + ("" if demo else " after dropping exports into inbox/"))


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database to this version's schema (safe to run again)."""
    settings = _settings(ctx)
    store = Store(settings.db_url)
    try:
        store.check_connection()
        before, after = upgrade(store.engine)
    finally:
        store.dispose()
    out.print(
        "Database already up to date" if before == after else f"Database migrated: {before or 'empty'} -> {after}"
    )


# --- sync -----------------------------------------------------------------------------------------


class _Bar:
    """Adapts workflow progress to a rich progress bar on standard error."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: Any = None

    def start(self, label: str, total: int | None) -> None:
        if self.task is not None:
            self.progress.update(self.task, visible=False)
        self.task = self.progress.add_task(label, total=total)

    def advance(self, amount: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, amount)


@app.command()
def sync(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute and report everything, store and send nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Read new feedback, update themes and section mappings, open or refresh review tickets, notify."""
    from workflows.sync import run_sync

    started = time.monotonic()
    with _open_store(ctx) as (settings, store):
        show_bar = not as_json and err.is_terminal
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=True, disable=not show_bar) as progress:
            report = run_sync(settings, store, dry_run=dry_run, progress=_Bar(progress))
        if as_json:
            _print_json(report.to_dict())
        else:
            _print_sync_summary(store, report, time.monotonic() - started)
    if report.errors:
        raise typer.Exit(1)


def _print_sync_summary(store: Store, report: Any, seconds: float) -> None:
    from rich.table import Table

    from reviewbot.store.themes import active_themes
    from reviewbot.store.tickets import list_tickets, mappings
    from reviewbot.views import themes_table, tickets_table

    title = "Dry run (nothing stored or sent)" if report.dry_run else f"Sync {report.run_id} finished"
    out.print(f"[bold]{title}[/] in {seconds:.1f}s")
    table = Table(title="Sources", title_justify="left")
    for name in ("source", "new", "updated", "unchanged", "quarantined"):
        table.add_column(name, justify="left" if name == "source" else "right")
    for name, c in report.sources.items():
        table.add_row(name, *(str(c[k]) for k in ("new", "updated", "unchanged", "quarantined")))
    out.print(table)
    th, mp, tk, dl = report.themes, report.mapping, report.tickets, report.delivery
    out.print(
        f"Themes: {th.get('active_themes', 0)} active ({th.get('new_themes', 0)} new), "
        f"{th.get('items_placed', 0)} items placed; coverage gaps: {mp.get('gaps', 0)}"
    )
    out.print(
        f"Tickets: {tk.get('created', 0)} created, {tk.get('updated', 0)} updated, {tk.get('unchanged', 0)} unchanged"
    )
    if dl:
        out.print(f"Outbox: {dl.get('sent', 0)} sent, {dl.get('failed', 0)} failed")
    if not report.dry_run:
        with store.session() as session:
            themes = sorted(active_themes(session), key=lambda t: -t.size)
            maps: dict[int, list[Any]] = {}
            for m in mappings(session):
                maps.setdefault(m.theme_id, []).append(m)
            tickets = list_tickets(session)
        refs: dict[int, list[str]] = {}
        for t in tickets:
            refs.setdefault(t.theme_id or 0, []).append(t.tracker_ref or f"#{t.id}")
        out.print(themes_table(themes, maps, refs))
        out.print(tickets_table([t for t in tickets if t.state not in ("closed", "dismissed")]))
    for error in report.errors:
        err.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)


# --- themes ---------------------------------------------------------------------------------------


@themes_app.command("list")
def themes_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List active themes, largest first."""
    from reviewbot.store.themes import active_themes
    from reviewbot.store.tickets import list_tickets, mappings
    from reviewbot.views import theme_dict, themes_table

    with _open_store(ctx) as (_, store), store.session() as session:
        themes = sorted(active_themes(session), key=lambda t: -t.size)
        maps: dict[int, list[Any]] = {}
        for m in mappings(session):
            maps.setdefault(m.theme_id, []).append(m)
        refs: dict[int, list[str]] = {}
        for t in list_tickets(session):
            refs.setdefault(t.theme_id or 0, []).append(t.tracker_ref or f"#{t.id}")
    if as_json:
        _print_json([theme_dict(t, maps.get(t.id or 0, [])) for t in themes])
    else:
        out.print(themes_table(themes, maps, refs))


@themes_app.command("show")
def themes_show(
    ctx: typer.Context,
    theme_id: Annotated[int, typer.Argument(help="Theme id (from `themes list`).")],
    items: Annotated[int, typer.Option("--items", "-n", help="How many member items to show.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Show one theme: statistics, weekly trend, sections, tickets and its most typical items."""
    from sqlmodel import col, select

    from reviewbot.evidence import sparkline
    from reviewbot.models import FeedbackItem, Theme
    from reviewbot.store.tickets import list_tickets, mappings
    from reviewbot.views import items_table, pct, signed, theme_dict

    with _open_store(ctx) as (_, store), store.session() as session:
        theme = session.get(Theme, theme_id)
        if theme is None:
            raise NotFoundError(f"no theme {theme_id}", hint="see `reviewbot themes list`")
        maps = mappings(session, theme_id)
        members = list(
            session.exec(
                select(FeedbackItem)
                .where(FeedbackItem.theme_id == theme_id)
                .order_by(col(FeedbackItem.theme_similarity).desc(), col(FeedbackItem.id))
                .limit(items)
            )
        )
        tickets = [t for t in list_tickets(session) if t.theme_id == theme_id]
    if as_json:
        _print_json(
            {
                **theme_dict(theme, maps),
                "items": [m.model_dump() for m in members],
                "tickets": [t.tracker_ref or t.id for t in tickets],
            }
        )
        return
    out.print(f"[bold]Theme {theme.id}: {theme.label}[/]")
    out.print(f"Terms: {', '.join(theme.terms)}")
    kinds = ", ".join(f"{n} {k}" for k, n in theme.by_kind.items())
    out.print(f"Items: {theme.size} ({theme.unique_size} distinct): {kinds}")
    csat = "-" if theme.csat is None else f"{theme.csat:.0f}%"
    tone = f"mean {theme.mean_polarity:+.2f}, {pct(theme.negative_share)} negative"
    out.print(f"Sentiment: {tone}; NPS {signed(theme.nps)}, CSAT {csat}")
    seen = f"{theme.first_seen:%Y-%m-%d} to {theme.last_seen:%Y-%m-%d}" if theme.first_seen and theme.last_seen else "-"
    out.print(
        f"Seen: {seen}; weekly {sparkline(theme.weekly)} growth x{theme.growth if theme.growth is not None else '-'}"
    )
    for m in maps:
        target = f"section {m.section_id}" if m.section_id else "COVERAGE GAP (no section fits)"
        out.print(f"Maps to: {m.document_id} {target} (confidence {m.confidence:.2f})")
    out.print(f"Tickets: {', '.join(t.tracker_ref or f'#{t.id}' for t in tickets) or '-'}")
    out.print(items_table(members, f"Most typical of {theme.size} items"))


# --- tickets --------------------------------------------------------------------------------------


@tickets_app.command("list")
def tickets_list(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option("--state", help="Only tickets in this state (e.g. open).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List review tickets, newest first."""
    from reviewbot.models.tickets import TICKET_STATES
    from reviewbot.store.tickets import list_tickets
    from reviewbot.views import ticket_dict, tickets_table

    if state is not None and state not in TICKET_STATES:
        raise typer.BadParameter(f"{state!r} is not a ticket state; use one of: {', '.join(TICKET_STATES)}")
    with _open_store(ctx) as (_, store), store.session() as session:
        tickets = list_tickets(session, state)
    if as_json:
        _print_json([ticket_dict(t) for t in tickets])
    else:
        out.print(tickets_table(tickets))


@tickets_app.command("show")
def tickets_show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Ticket number, tracker reference (RB-3) or fingerprint.")],
    as_json: JsonOption = False,
) -> None:
    """Show one ticket with all its evidence."""
    from rich.markdown import Markdown

    from reviewbot.evidence import render_markdown
    from reviewbot.store.tickets import get_ticket
    from reviewbot.views import ticket_dict

    with _open_store(ctx) as (_, store), store.session() as session:
        ticket = get_ticket(session, ref)
    if ticket is None:
        raise NotFoundError(f"no ticket {ref!r}", hint="see `reviewbot tickets list`")
    if as_json:
        _print_json(ticket_dict(ticket))
        return
    out.print(f"{ticket.tracker_ref or '#' + str(ticket.id)} [{ticket.state}] fingerprint {ticket.fingerprint}")
    out.print(Markdown(render_markdown(ticket.title, ticket.evidence)))


# --- policy ---------------------------------------------------------------------------------------


@policy_app.command("list")
def policy_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List policy documents with their current version."""
    from reviewbot.store.policies import documents, sections
    from reviewbot.views import documents_table

    with _open_store(ctx) as (_, store), store.session() as session:
        docs = [(d, len(sections(session, d))) for d in documents(session)]
    if as_json:
        _print_json([{**d.model_dump(), "sections": n} for d, n in docs])
    else:
        out.print(documents_table(docs))


@policy_app.command("show")
def policy_show(
    ctx: typer.Context,
    document_id: Annotated[str, typer.Argument(help="Document id (from `policy list`).")],
    section_id: Annotated[str | None, typer.Argument(help="A section id to print in full.")] = None,
    version: Annotated[int | None, typer.Option("--version", help="An earlier version (default: current).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a document's sections (owners, approvers, review interval), or one section's text."""
    from rich.markdown import Markdown

    from reviewbot.models import PolicyDocument
    from reviewbot.store.policies import sections
    from reviewbot.views import sections_table

    with _open_store(ctx) as (_, store), store.session() as session:
        document = session.get(PolicyDocument, document_id)
        if document is None:
            raise NotFoundError(f"no policy document {document_id!r}", hint="see `reviewbot policy list`")
        rows = sections(session, document, version)
    if not rows:
        raise NotFoundError(
            f"{document_id} has no version {version}", hint=f"versions 1-{document.current_version} exist"
        )
    if section_id is not None:
        match = next((s for s in rows if s.section_id == section_id), None)
        if match is None:
            raise NotFoundError(
                f"no section {section_id!r} in {document_id}", hint="see `reviewbot policy show " + document_id + "`"
            )
        rows = [match]
    if as_json:
        _print_json({"document": document.model_dump(), "sections": [s.model_dump() for s in rows]})
    elif section_id is not None:
        out.print(f"[bold]{rows[0].heading}[/] ({document_id} version {rows[0].version}, section {rows[0].section_id})")
        out.print(Markdown(rows[0].body))
    else:
        out.print(sections_table(document, rows))


# --- quarantine -----------------------------------------------------------------------------------


@quarantine_app.command("list")
def quarantine_list(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """List rejected rows with file, line and reason (newest first)."""
    from reviewbot.store.feedback import list_quarantined
    from reviewbot.views import quarantine_table

    with _open_store(ctx) as (_, store), store.session() as session:
        rows = list_quarantined(session, source, limit)
    if as_json:
        _print_json([r.model_dump() for r in rows])
    else:
        out.print(quarantine_table(rows) if rows else "Quarantine is empty.")


def main() -> None:
    """Entry point: user errors become a message and an exit code, never a traceback."""
    try:
        # Without standalone mode click returns the code of a typer.Exit instead of exiting.
        code = app(standalone_mode=False)
    except ReviewbotError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True, markup=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is not None and hasattr(exc, "show"):
            exc.show()
            sys.exit(code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
