"""`reviewbot export`: items, themes or tickets as CSV or JSON Lines, for spreadsheets and other tools."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import typer

from reviewbot.cli.app import app, err, open_store
from reviewbot.errors import ReviewbotError
from reviewbot.terminal import PrintableWriter


@app.command()
def export(
    ctx: typer.Context,
    what: Annotated[Literal["items", "themes", "tickets"], typer.Argument(help="What to export.")],
    fmt: Annotated[
        Literal["csv", "jsonl"], typer.Option("--format", "-f", help="csv (spreadsheets) or jsonl (one JSON a line).")
    ] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: standard output).")
    ] = None,
) -> None:
    """Export every feedback item (with its theme, section, sentiment and extra columns), theme or ticket.

    CSV cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) get a
    leading apostrophe. Records are read and written in batches, so any size fits in memory.
    """
    from reviewbot.workflows.export import write_export

    with open_store(ctx) as (_, store):
        if output is None:
            # a terminal shows the data: escape sequences in someone's text must not drive it; a pipe gets it all
            stream = PrintableWriter(sys.stdout) if sys.stdout.isatty() else sys.stdout
            written = write_export(store, what, fmt, stream)
            sys.stdout.flush()
            return
        written = _write_file(output, lambda fh: write_export(store, what, fmt, fh))
    if not ctx.obj.quiet:
        err.print(f"Wrote {written} {what} to {output}", highlight=False, markup=False, soft_wrap=True)


def _write_failed(path: Path, exc: OSError) -> ReviewbotError:
    """A failed write of the export (no space, no permission), with the OS's reason and what to do."""
    return ReviewbotError(
        f"cannot write the export: {exc.strerror or exc}",
        file=path,
        hint="choose another --output, or free space where it is",
    )


def _write_file(path: Path, write) -> int:  # type: ignore[no-untyped-def]
    """Write through a temporary file renamed into place: an export that fails leaves no half-written file."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ReviewbotError(
            f"no folder {folder} to write {path.name} in", hint="create it, or choose another --output"
        )
    if path.is_dir():  # the export was written whole into the folder above it, then failed with a traceback
        raise ReviewbotError(f"{path} is a folder", hint=f"give --output a file name, e.g. {path / 'export.csv'}")
    try:
        handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _write_failed(path, exc) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as fh:
            written = write(fh)
        os.replace(temp, path)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _write_failed(path, exc) from None
        raise
    return int(written)
