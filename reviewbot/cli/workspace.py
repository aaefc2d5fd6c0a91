"""Commands about the workspace as a whole: init, db upgrade, sync, audit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from reviewbot.cli.app import JsonOption, app, err, load, open_store, out, print_json, safe, sub_app
from reviewbot.store import Store

db_app = sub_app("db", "The database.")


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder of the new workspace.")] = Path("."),
    demo: Annotated[bool, typer.Option("--demo", help="Add the demo policy and twelve weeks of feedback.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a workspace: reviewbot.toml, policies/, inbox/ folders, .env.example and a migrated database."""
    from reviewbot.workspace import init_workspace

    result = init_workspace(folder, demo=demo)
    history = _play_demo_history(result.workspace) if demo else []
    if as_json:
        print_json(
            {
                "workspace": str(result.workspace),
                "created": result.created,
                "database": result.database,
                "history": history,
            }
        )
        return
    out.print(f"Created workspace [bold]{escape(str(result.workspace))}[/] ({len(result.created)} files and folders)")
    out.print(f"Database: {result.database}", markup=False)
    for line in history:
        out.print(line, highlight=False)
    where = f" -w {folder}" if folder != Path(".") else ""
    out.print(f"Next: [bold]reviewbot{where} sync[/]" + ("" if demo else " after dropping exports into inbox/"))


def _play_demo_history(folder: Path) -> list[str]:
    """The demo's earlier review and version 2, so the whole loop (and its effect) can be seen at once."""
    from reviewbot.settings import load_settings
    from workflows.demo import play_history

    settings = load_settings(folder)
    store = Store(settings.db_url)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True) as progress:
            progress.add_task("playing the demo's history (sync, review, version 2)...")
            return play_history(settings, store)
    finally:
        store.dispose()


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database to this version's schema (safe to run again)."""
    from reviewbot.store.migrate import upgrade

    store = Store(load(ctx).db_url)
    try:
        store.check_connection()
        before, after = upgrade(store.engine)
    finally:
        store.dispose()
    out.print(
        "Database already up to date" if before == after else f"Database migrated: {before or 'empty'} -> {after}"
    )


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
    wait: Annotated[
        bool, typer.Option("--wait", help="If another sync runs, wait for it instead of exiting (3).")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="With --wait: give up after this many seconds.")] = 3600,
    as_json: JsonOption = False,
) -> None:
    """Read new feedback, update themes and section mappings, open or refresh review tickets, follow up, notify.

    Only one sync runs at a time; a second one exits with status 3 (or waits, with --wait).
    """
    from workflows.sync import run_sync

    started = time.monotonic()
    with open_store(ctx) as (settings, store):
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=True, disable=as_json or not err.is_terminal) as progress:
            report = run_sync(settings, store, dry_run=dry_run, progress=_Bar(progress), wait=timeout if wait else None)
        if as_json:
            print_json(report.to_dict())
        else:
            _print_sync_summary(store, report, time.monotonic() - started)
    if report.errors:
        raise typer.Exit(1)


def _print_sync_summary(store: Store, report: Any, seconds: float) -> None:
    from reviewbot.models.tickets import SETTLED_STATES
    from reviewbot.views import theme_overview, themes_table, tickets_table

    title = "Dry run (nothing stored or sent)" if report.dry_run else f"Sync {report.run_id} finished"
    out.print(f"[bold]{title}[/] in {seconds:.1f}s")
    table = Table(title="Sources", title_justify="left")
    for name in ("source", "new", "updated", "unchanged", "quarantined"):
        table.add_column(name, justify="left" if name == "source" else "right")
    for name, c in report.sources.items():
        table.add_row(name, *(str(c[k]) for k in ("new", "updated", "unchanged", "quarantined")))
    out.print(table)
    for name, c in report.sources.items():
        if c.get("skipped"):
            out.print(f"{name}: skipped {c['skipped']:,} rows with no text")
    th, mp, tk, rv, dl = report.themes, report.mapping, report.tickets, report.review, report.delivery
    out.print(
        f"Themes: {th.get('active_themes', 0)} active ({th.get('new_themes', 0)} new), "
        f"{th.get('items_placed', 0)} items placed; coverage gaps: {mp.get('gaps', 0)}"
    )
    out.print(f"Sentiment: {_sentiment_line(report.sentiment)}")
    out.print(
        f"Tickets: {tk.get('created', 0)} created, {tk.get('updated', 0)} updated, {tk.get('reopened', 0)} reopened, "
        f"{tk.get('refreshed', 0)} refreshed without a comment; "
        f"periodic reviews due: {rv.get('periodic_tickets', 0)}"
    )
    out.print(
        f"Sign-offs: {rv.get('reviews_started', 0)} rounds started, {rv.get('reminders', 0)} reminders, "
        f"{rv.get('escalations', 0)} escalations"
    )
    if dl:
        out.print(f"Outbox: {dl.get('sent', 0)} sent, {dl.get('failed', 0)} failed")
    if not report.dry_run:
        with store.session() as session:
            themes, maps, refs, tickets = theme_overview(session)
        out.print(themes_table(themes, maps, refs))
        out.print(tickets_table([t for t in tickets if t.state not in SETTLED_STATES]))
    for line in report.duplicates:
        err.print(f"[yellow]duplicate:[/] {escape(line)}", highlight=False, soft_wrap=True)
    for error in report.errors:
        err.print(f"[red]error:[/] {escape(safe(error))}", highlight=False, soft_wrap=True)


def _sentiment_line(info: dict[str, Any]) -> str:
    """How items were scored this run, and what a calibration fit did."""
    scorer = {
        "model": "TextBlob calibrated by a model learned from your survey answers",
        "lexicon": "TextBlob and VADER with the complaint lexicon and the source",
        "off": "TextBlob as it is (calibration off)",
    }.get(info.get("scorer", ""), "-")
    if "fit" in info:
        scorer += f"; fitted on {info['answers']} answers: {info['fit']}"
        if info.get("rescored"):
            scorer += f", {info['rescored']} items rescored"
    elif info.get("scorer") == "lexicon":
        scorer += f" ({info.get('answers', 0)} survey answers with text so far)"
    return scorer


@app.command()
def audit(
    ctx: typer.Context,
    ticket: Annotated[str | None, typer.Option("--ticket", help="Only this ticket (RB-3, a number, ...).")] = None,
    document: Annotated[str | None, typer.Option("--document", help="Only this policy document.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many events.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Show the audit log: every transition, sign-off, publish and acknowledgement, newest first."""
    from reviewbot.store.review import audit_log
    from reviewbot.store.tickets import get_ticket, list_tickets
    from reviewbot.views import add_text_row

    with open_store(ctx) as (_, store), store.session() as session:
        ticket_id = None
        if ticket is not None:
            found = get_ticket(session, ticket)
            if found is None:
                from reviewbot.errors import NotFoundError

                raise NotFoundError(f"no ticket {ticket!r}", hint="see `reviewbot tickets list`")
            ticket_id = found.id
        events = audit_log(session, ticket_id=ticket_id, document_id=document, limit=limit)
        refs = {t.id: t.tracker_ref or f"#{t.id}" for t in list_tickets(session)}
    if as_json:
        print_json([e.model_dump() for e in events])
        return
    table = Table(title="Audit log", title_justify="left")
    for name in ("when", "who", "action", "ticket", "document", "detail"):
        table.add_column(name, overflow="fold")
    for e in events:
        when = e.at.strftime("%Y-%m-%d %H:%M")
        add_text_row(table, when, e.actor, e.action, refs.get(e.ticket_id, "-"), e.document_id or "-", e.detail)
    out.print(table if events else "The audit log is empty.")
