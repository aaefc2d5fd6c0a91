"""The `reviewbot` command: parse arguments, call one library function, print the result."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import typer
from rich.markup import escape

from reviewbot.cli.app import app, err, safe
from reviewbot.errors import ReviewbotError

__all__ = ["app", "main", "register_commands"]

# The module that registers each command or command group. A command imports only its own module, so that
# `tickets list` does not pay for the policy renderer, the web console or Slack; help and unknown names get all.
COMMAND_MODULES = {
    "init": "workspace", "sync": "workspace", "audit": "workspace", "db": "workspace",
    "themes": "feedback", "quarantine": "feedback", "tickets": "tickets", "signoffs": "tickets",
    "policy": "policy", "mapping": "mapping", "export": "export", "report": "report", "whoami": "people",
    "doctor": "operations", "schedule": "operations", "runs": "operations", "status": "operations",
    "config": "operations", "serve": "serve", "slack": "slack",
}  # fmt: skip
MODULES = tuple(sorted(set(COMMAND_MODULES.values())))  # registered in this order: it is the order of `--help`
_VALUED = {"-w", "--workspace"}  # global options that take a value


def command_name(argv: Sequence[str]) -> str | None:
    """The command (or group) named in the arguments, after the global options; None if there is none."""
    args = iter(argv)
    for arg in args:
        if arg == "--":
            return next(args, None)
        if not arg.startswith("-") or arg == "-":
            return arg
        if arg in _VALUED or (not arg.startswith("--") and arg.endswith("w")):  # `-w DIR`, `-vw DIR`
            next(args, None)
    return None


def register_commands(argv: Sequence[str] | None = None) -> None:
    """Register the command these arguments run (all commands when they name none we know, or when None)."""
    name = None if argv is None else command_name(argv)
    for module in (COMMAND_MODULES[name],) if name in COMMAND_MODULES else MODULES:
        importlib.import_module(f"reviewbot.cli.{module}")


DRIVERS = {"psycopg": 'pip install "reviewbot[postgres]"', "psycopg2": 'pip install "reviewbot[postgres]"'}
INTERRUPTED = 130  # the exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it


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
        register_commands(sys.argv[1:])
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
        sys.exit(INTERRUPTED)
    except Exception as exc:  # click usage errors carry their own exit code
        usage_code = getattr(exc, "exit_code", None)
        if usage_code is not None and hasattr(exc, "show"):
            exc.show()
            sys.exit(usage_code)
        raise
    if code == INTERRUPTED:  # typer turns Ctrl-C into this exit code, silently
        err.print("interrupted")
    sys.exit(code if isinstance(code, int) else 0)
