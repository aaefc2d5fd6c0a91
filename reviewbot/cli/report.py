"""`reviewbot report`: one self-contained HTML page with charts and the evidence behind them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from reviewbot.cli.app import JsonOption, app, open_store, out, print_json
from reviewbot.errors import ReviewbotError

DEFAULT_NAME = "report.html"


def size_text(size: int) -> str:
    """A file size for people: "312 KB, 319,488 bytes"."""
    return f"{size / 1024:,.0f} KB, {size:,} bytes" if size >= 1024 else f"{size} bytes"


@app.command()
def report(
    ctx: typer.Context,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help=f"Where to write the page (default: {DEFAULT_NAME} in the workspace)."),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since", formats=["%Y-%m-%d"], help="Count feedback, tickets and sign-offs from this day (YYYY-MM-DD)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write an HTML report: theme volume and tone, tickets, sign-off turnaround, coverage gaps, effect of versions.

    Examples:

    reviewbot report --out /tmp/october.html --since 2026-10-01

    The figures, for scripts: reviewbot report --json
    """
    from reviewbot.report.render import render_report
    from reviewbot.workflows.report_html import build_report, write_html

    if since is not None and since.date() > date.today():
        raise ReviewbotError(f"--since {since.date()} is in the future", hint="give a day up to today (YYYY-MM-DD)")
    with open_store(ctx) as (settings, store):
        data = build_report(settings, store, since.date() if since else None)
    path = (out_path or settings.workspace / DEFAULT_NAME).resolve()
    size = write_html(path, render_report(data))
    if as_json:
        print_json({"path": str(path), "bytes": size, "report": data.to_dict()})
        return
    out.print(f"Wrote {path} ({size_text(size)})", highlight=False, soft_wrap=True, markup=False)
