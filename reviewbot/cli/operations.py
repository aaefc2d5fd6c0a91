"""Commands for admins: doctor, config, schedule, runs, status."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from reviewbot.cli.app import (
    SECRETS,
    JsonOption,
    app,
    done,
    load,
    note,
    open_store,
    out,
    print_json,
    print_table,
    safe,
    sub_app,
)
from reviewbot.models.base import MAX_ROW_ID

config_app = sub_app("config", "The merged configuration.")


@app.command()
def doctor(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check the configuration, the database, the policies, the sources, and reach the tracker and notifier."""
    from reviewbot.workflows.doctor import run_checks

    checks = run_checks(load(ctx))
    if as_json:
        print_json([{**c.__dict__, "detail": safe(c.detail)} for c in checks])
    else:
        table = Table(title="reviewbot doctor", title_justify="left")
        for name in ("", "check", "result", "how to fix"):
            table.add_column(name, overflow="fold")
        for c in checks:
            mark = "[green]ok[/]" if c.ok else "[red]FAIL[/]"
            table.add_row(mark, escape(c.name), escape(safe(c.detail)), escape(c.hint or "") if not c.ok else "")
        print_table(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@config_app.command("show")
def config_show(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Print the settings after merging reviewbot.toml, .env and the environment; secrets are masked."""
    from reviewbot.settings import mask_config

    settings = load(ctx)
    # Secrets known by value (the environment, .env), then any written under a secret's name or in a secret's
    # shape, wherever they are: reviewbot.toml, a connector's options, the environment.
    data = mask_config(json.loads(safe(settings.model_dump_json())))
    data["secrets"] = {f"#{i + 1}": f"set ({len(s)} characters)" for i, s in enumerate(SECRETS)}
    if as_json:
        print_json(data)
    else:
        out.print_json(data=data)


@app.command()
def schedule(
    ctx: typer.Context,
    list_jobs: Annotated[
        bool, typer.Option("--list", help="Show the jobs and their next run times, then exit.")
    ] = False,
) -> None:
    """Run the scheduled jobs of reviewbot.toml (sync, reminders, cadence, digest) in the foreground until stopped."""
    from reviewbot.workflows.schedule import build_scheduler, default_jobs, next_runs, run_forever

    with open_store(ctx) as (settings, store):
        jobs = default_jobs(settings, store)
        if list_jobs:
            table = Table(title=f"Scheduled jobs ({settings.schedule.timezone})", title_justify="left")
            for name in ("job", "cron", "next run"):
                table.add_column(name)
            for job_id, expression, when in next_runs(settings, jobs):
                table.add_row(job_id, expression, when.strftime("%Y-%m-%d %H:%M %Z") if when else "-")
            print_table(table)
            return
        zone = settings.schedule.timezone
        run_forever(
            build_scheduler(settings, jobs), lambda: done(f"scheduler running ({zone}); SIGTERM or Ctrl-C stops it")
        )


@app.command()
def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", help="At most this many runs.", min=1, max=MAX_ROW_ID)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Recent syncs: when, how long, what each stage did, and what failed."""
    from reviewbot.store.operations import recent_runs
    from reviewbot.views import run_dict

    with open_store(ctx) as (_, store), store.session() as session:
        rows = recent_runs(session, limit)
    if as_json:
        print_json([run_dict(r) for r in rows])
        return
    if not rows:
        note("No sync has run yet.")
        return
    table = Table(title="Sync runs", title_justify="left")
    for name in ("run", "started", "took", "status", "new items", "tickets", "errors"):
        table.add_column(name, overflow="fold")
    for r in rows:
        took = f"{(r.finished_at - r.started_at).total_seconds():.1f}s" if r.finished_at else "-"
        new = sum(c.get("new", 0) for c in (r.counts.get("sources") or {}).values())
        tickets = r.counts.get("tickets") or {}
        made = f"{tickets.get('created', 0)} new, {tickets.get('updated', 0)} updated" if tickets else "-"
        table.add_row(
            str(r.id),
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            took,
            _status(r.status, r.counts),
            str(new),
            made,
            escape(safe("; ".join(r.errors))) or "-",
        )
    print_table(table, "run", "started", "took", "status")


def _status(status: str, counts: dict[str, Any]) -> str:
    """A run's status; for one that never finished, the stage it was in ("interrupted in themes")."""
    stage = counts.get("stage")
    return f"{status} in {stage}" if stage and status in ("running", "interrupted", "failed") else status


@app.command()
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Sources and their cursors, the last run, open tickets by state, overdue sign-offs, pending messages."""
    from reviewbot.store.operations import workspace_status

    with open_store(ctx) as (settings, store), store.session() as session:
        data = workspace_status(session, settings)
    if as_json:
        print_json(data)
        return
    last = data["last_run"]
    out.print(
        f"Last sync: {last['id']} {last['status']} at {last['started_at']}" if last else "Last sync: never",
        markup=False,
    )
    table = Table(title="Sources", title_justify="left")
    for name in ("source", "items", "files read", "last read"):
        table.add_column(name)
    for source in data["sources"]:
        table.add_row(source["name"], str(source["items"]), str(source["files"]), source["updated_at"] or "-")
    print_table(table, titled=True)
    states = ", ".join(f"{n} {s}" for s, n in data["tickets"].items()) or "none"
    out.print(f"Open tickets: {states}")
    out.print(f"Overdue sign-offs: {data['overdue_signoffs']}; outbox messages waiting: {data['outbox_pending']}")
    if data["lock"]:
        out.print(f"Running now: {data['lock']}", markup=False)
