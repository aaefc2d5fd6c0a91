"""The `reviewbot` command: parse arguments, call one library function, print the result."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from reviewbot.cli import (  # noqa: F401  (registers commands)
    export,
    feedback,
    mapping,
    operations,
    people,
    policy,
    report,
    serve,
    slack,
    tickets,
    workspace,
)
from reviewbot.cli.app import app, err, safe
from reviewbot.errors import ReviewbotError

__all__ = ["app", "main"]


DRIVERS = {"psycopg": 'pip install "reviewbot[postgres]"', "psycopg2": 'pip install "reviewbot[postgres]"'}


def _missing_driver(exc: ModuleNotFoundError) -> bool:
    """Say which database driver is missing and how to install it, instead of a traceback from SQLAlchemy."""
    name = (exc.name or "").split(".")[0]
    if name in DRIVERS:
        err.print(
            f"[red]error:[/] the PostgreSQL driver ({name}) is not installed\n"
            f"  hint: {escape(DRIVERS[name])}, and use a URL like postgresql+psycopg://user@host:5432/db",
            highlight=False,
            soft_wrap=True,
        )
        return True
    if name in ("MySQLdb", "pymysql", "cx_Oracle", "oracledb", "pyodbc", "pymssql"):
        err.print(
            f"[red]error:[/] reviewbot runs on SQLite or PostgreSQL; the database URL needs {name}\n"
            "  hint: use sqlite:///reviewbot.db or postgresql+psycopg://user@host:5432/db",
            highlight=False,
            soft_wrap=True,
        )
        return True
    return False


def main() -> None:
    """Entry point: user errors become a message and an exit code, never a traceback."""
    try:
        # Without standalone mode click returns the code of a typer.Exit instead of exiting.
        code = app(standalone_mode=False)
    except ReviewbotError as exc:
        err.print(f"[red]error:[/] {escape(safe(str(exc)))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except ModuleNotFoundError as exc:
        if not _missing_driver(exc):
            raise
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        usage_code = getattr(exc, "exit_code", None)
        if usage_code is not None and hasattr(exc, "show"):
            exc.show()
            sys.exit(usage_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
