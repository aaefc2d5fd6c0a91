"""Commands for admins: doctor and config."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from reviewbot.cli.app import SECRETS, JsonOption, app, load, out, print_json, safe, sub_app

config_app = sub_app("config", "The merged configuration.")


@app.command()
def doctor(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check the configuration, the database, the policies, the sources, and reach the tracker and notifier."""
    from workflows.doctor import run_checks

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
        out.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@config_app.command("show")
def config_show(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Print the settings after merging reviewbot.toml, .env and the environment; secrets are masked."""
    settings = load(ctx)
    data = json.loads(safe(settings.model_dump_json()))
    data["secrets"] = {f"#{i + 1}": f"set ({len(s)} characters)" for i, s in enumerate(SECRETS)}
    if as_json:
        print_json(data)
    else:
        out.print_json(data=data)
