"""Commands about the workspace as a whole: init, db upgrade, sync, audit."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from reviewbot.cli.app import (
    JsonOption,
    app,
    err,
    load,
    note,
    open_store,
    out,
    print_json,
    print_table,
    safe,
    sub_app,
    table_width,
)
from reviewbot.cli.tickets import ticket_lines
from reviewbot.models.base import MAX_ROW_ID
from reviewbot.store import Store

if TYPE_CHECKING:  # `reviewbot --help` imports this module; the bars are drawn only by init and sync
    from rich.progress import Progress

db_app = sub_app("db", "The database.")


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder of the new workspace.")] = Path("."),
    demo: Annotated[bool, typer.Option("--demo", help="Add the demo policy and twelve weeks of feedback.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a workspace: reviewbot.toml, policies/, inbox/ folders, .env.example and a migrated database."""
    from reviewbot.cli.identity import os_user
    from reviewbot.workspace import init_workspace

    result = init_workspace(folder, demo=demo, creator=os_user())
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
    if not demo:
        out.print(
            "Next: write your policy (policies/policy-template.md.example shows how; only *.md files are read),"
            " drop exports into inbox/,"
        )
    out.print(f"{'then' if not demo else 'Next:'} [bold]reviewbot{escape(where)} sync[/]")


def _play_demo_history(folder: Path) -> list[str]:
    """The demo's earlier review and version 2, so the whole loop (and its effect) can be seen at once."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from reviewbot.settings import load_settings
    from reviewbot.workflows.demo import play_history

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

    Examples:

    From cron (silent unless something fails): reviewbot -q sync

    After a killed sync, once its lease runs out: reviewbot sync --wait --timeout 180

    What a sync would do, storing and sending nothing: reviewbot sync --dry-run
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from reviewbot.models import utcnow
    from reviewbot.workflows.sync import run_sync

    started, since = time.monotonic(), utcnow()
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
            _print_sync_summary(store, report, since, time.monotonic() - started, ctx.obj.verbose > 0)
    if report.errors:
        raise typer.Exit(1)


def _print_sync_summary(store: Store, report: Any, since: datetime, seconds: float, verbose: bool) -> None:
    """A sync that changed nothing says so in one line; otherwise what changed, with the tickets it touched.
    The full theme and ticket tables only with -v (`themes list` and `tickets list` show them any time)."""
    from reviewbot.models.tickets import SETTLED_STATES
    from reviewbot.store.tickets import list_tickets
    from reviewbot.views import theme_overview, themes_table

    title = "Dry run (nothing stored or sent)" if report.dry_run else f"Sync {report.run_id} finished"
    if report.errors:  # the exit status is 1: the summary says why before the errors are listed
        title += f" with {len(report.errors)} error{'s' if len(report.errors) > 1 else ''}"
    changes = _changes(report)
    if not changes and not verbose:
        out.print(f"{title} in {seconds:.1f}s: nothing new.", highlight=False, markup=False)
    else:
        out.print(f"[bold]{title}[/] in {seconds:.1f}s")
        for line in changes if not verbose else _details(report):
            out.print(line, highlight=False, markup=False)
        if not report.dry_run:
            with store.session() as session:
                tickets = list_tickets(session)
                themes, maps, refs, _ = theme_overview(session) if verbose else ([], {}, {}, [])
            if verbose:
                print_table(themes_table(themes, maps, refs, table_width()), titled=True)
                shown = [t for t in tickets if t.state not in SETTLED_STATES]
                print_table(ticket_lines(shown, "Open review tickets"), titled=True)
            elif any(line.startswith("Tickets:") for line in changes):
                shown = [t for t in tickets if _naive(t.updated_at) >= _naive(since)]
                print_table(ticket_lines(shown, "Tickets this sync changed"), titled=True)
    for line in report.duplicates:
        err.print(f"[yellow]duplicate:[/] {escape(line)}", highlight=False, soft_wrap=True)
    for error in report.errors:
        err.print(f"[red]error:[/] {escape(safe(error))}", highlight=False, soft_wrap=True)


def _naive(moment: datetime) -> datetime:
    """UTC without a zone: SQLite gives naive datetimes back, PostgreSQL aware ones."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _changes(report: Any) -> list[str]:
    """One line per kind of change this sync made; none when it changed nothing."""
    lines = []
    counts = {k: sum(c.get(k, 0) for c in report.sources.values()) for k in ("new", "updated", "quarantined")}
    if any(counts.values()):
        # per source, what it added or changed: an id read again with other content replaces the stored row
        parts = [
            f"{n}: " + ", ".join(f"{c[k]} {k}" for k in ("new", "updated") if c.get(k))
            for n, c in report.sources.items()
            if c.get("new") or c.get("updated")
        ]
        lines.append(
            f"Feedback: {counts['new']} new, {counts['updated']} updated, {counts['quarantined']} quarantined"
            + (f" ({'; '.join(parts)})" if parts else "")
        )
    lines += _skipped(report)
    # an edit of a policy file read for the first time: its sections' tickets go into review, publish makes it law
    for document in report.drafted():
        lines.append(f"Policy: {document} edited, not yet published (`reviewbot policy diff {document}`)")
    if report.untriaged:
        refs = report.untriaged
        which = f"{refs[0]} is still open" if len(refs) == 1 else f"{', '.join(refs)} are still open"
        sections = "its edited section" if len(refs) == 1 else "their edited sections"
        lines.append(
            f"Review: {which}, so nobody is asked to sign {sections}: "
            f"`reviewbot tickets triage {refs[0]}` starts its review"
        )
    th = report.themes
    if th.get("new_themes") or th.get("items_placed"):
        lines.append(f"Themes: {th.get('new_themes', 0)} new, {th.get('items_placed', 0)} items placed")
    tk, rv, dl = report.tickets, report.review, report.delivery
    ticket_counts = {k: tk.get(k, 0) for k in ("created", "updated", "reopened", "refiled")}
    ticket_counts["periodic"] = rv.get("periodic_tickets", 0)
    if any(ticket_counts.values()):
        lines.append("Tickets: " + ", ".join(f"{n} {k}" for k, n in ticket_counts.items() if n))
    review = {
        ("round started", "rounds started"): rv.get("reviews_started", 0),
        ("reminder", "reminders"): rv.get("reminders", 0),
        ("escalation", "escalations"): rv.get("escalations", 0),
    }
    if any(review.values()):
        lines.append("Sign-offs: " + ", ".join(f"{n} {names[n != 1]}" for names, n in review.items() if n))
    if rv.get("ack_reminders"):
        n = rv["ack_reminders"]
        lines.append(f"Acknowledgements: {n} reminder{'' if n == 1 else 's'} sent")
    if dl.get("sent") or dl.get("failed") or dl.get("skipped"):
        skipped = f", {dl['skipped']} not sent (about an issue in another tracker)" if dl.get("skipped") else ""
        lines.append(f"Outbox: {dl.get('sent', 0)} sent, {dl.get('failed', 0)} failed{skipped}")
    return lines


def _skipped(report: Any) -> list[str]:
    """Rows a source skipped for having no text, and records it read twice: counted, not quarantined."""
    lines = []
    for name, c in report.sources.items():
        if c.get("skipped"):
            lines.append(f"{name}: skipped {c['skipped']:,} rows with no text")
        if c.get("superseded"):
            n = c["superseded"]
            lines.append(
                f"{name}: {n:,} record{'' if n == 1 else 's'} came twice in one read (changed meanwhile); "
                f"the later cop{'y is' if n == 1 else 'ies are'} kept"
            )
    return lines


def _details(report: Any) -> list[str]:
    """Every count of the run (-v)."""
    th, mp, tk, rv, dl = report.themes, report.mapping, report.tickets, report.review, report.delivery
    lines = [
        f"{name}: {c.get('new', 0)} new, {c.get('updated', 0)} updated, {c.get('unchanged', 0)} unchanged, "
        f"{c.get('quarantined', 0)} quarantined"
        for name, c in report.sources.items()
    ]
    lines += _skipped(report)
    lines += [
        f"Themes: {th.get('active_themes', 0)} active ({th.get('new_themes', 0)} new), "
        f"{th.get('items_placed', 0)} items placed; coverage gaps: {mp.get('gaps', 0)}",
        f"Sentiment: {_sentiment_line(report.sentiment)}",
        f"Tickets: {tk.get('created', 0)} created, {tk.get('updated', 0)} updated, {tk.get('reopened', 0)} reopened, "
        f"{tk.get('refreshed', 0)} refreshed without a comment, {tk.get('refiled', 0)} refiled in a new tracker; "
        f"periodic reviews due: {rv.get('periodic_tickets', 0)}",
        f"Sign-offs: {rv.get('reviews_started', 0)} rounds started, {rv.get('reminders', 0)} reminders, "
        f"{rv.get('escalations', 0)} escalations; acknowledgement reminders: {rv.get('ack_reminders', 0)}",
    ]
    if dl:
        lines.append(f"Outbox: {dl.get('sent', 0)} sent, {dl.get('failed', 0)} failed")
    return lines


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
    limit: Annotated[int, typer.Option("--limit", help="At most this many events.", min=1, max=MAX_ROW_ID)] = 100,
    as_json: JsonOption = False,
) -> None:
    """Show the audit log: every transition, sign-off, publish and acknowledgement, newest first."""
    from reviewbot.errors import NotFoundError
    from reviewbot.models import PolicyDocument
    from reviewbot.store.review import audit_log
    from reviewbot.store.tickets import get_ticket, list_tickets
    from reviewbot.views import add_text_row, audit_dict

    with open_store(ctx) as (_, store), store.session() as session:
        ticket_id = None
        if ticket is not None:
            found = get_ticket(session, ticket)
            if found is None:
                raise NotFoundError(f"no ticket {ticket!r}", hint="see `reviewbot tickets list`")
            ticket_id = found.id
        events = audit_log(session, ticket_id=ticket_id, document_id=document, limit=limit)
        if document is not None and not events and session.get(PolicyDocument, document) is None:
            # a misspelt id said "The audit log is empty.", as if nothing had happened to the document
            raise NotFoundError(f"no policy document {document!r}", hint="see `reviewbot policy list`")
        refs = {t.id: t.tracker_ref or f"#{t.id}" for t in list_tickets(session)}
    if as_json:
        print_json([audit_dict(e) for e in events])
        return
    if not events:
        note("The audit log is empty.")
        return
    table = Table(title="Audit log", title_justify="left")
    for name in ("when", "who", "action", "ticket", "document", "detail"):
        table.add_column(name, overflow="fold")
    for e in events:
        when = e.at.strftime("%Y-%m-%d %H:%M")
        add_text_row(table, when, e.actor, e.action, refs.get(e.ticket_id, "-"), e.document_id or "-", e.detail)
    print_table(table, "when", "who", "ticket", "document")
