"""The Typer application, its global options, and what every command shares."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, ConsoleOptions
from rich.logging import RichHandler
from rich.segment import Segment

from reviewbot import __version__
from reviewbot.models.base import MAX_ROW_ID
from reviewbot.settings import Settings, find_workspace, load_settings, mask, secret_values
from reviewbot.store import Store
from reviewbot.store.migrate import require_current
from reviewbot.terminal import CONTROL, printable

if TYPE_CHECKING:
    from rich.table import Table


class Command(typer.core.TyperCommand):
    """A command whose usage line names its arguments as Click does (`REF`, `[VERSION]`): Typer writes `{ref}`,
    and which takes the global `-v`, `-q` and `-w DIR` after its name too (`reviewbot sync -q` from cron)."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        """Click's parsing of what is left once the global options given after the command are applied."""
        options = ctx.find_object(Globals)
        if options is not None:
            args = _take_global_options(args, options, self._valued_options())
        return super().parse_args(ctx, args)

    def _valued_options(self) -> set[str]:
        """This command's options that take a value (the word after them is that value, never a global option)."""
        return {
            name
            for param in self.params
            if param.param_type_name == "option" and not getattr(param, "is_flag", False) and not param.count
            for name in (*param.opts, *param.secondary_opts)
        }

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        """`[OPTIONS]`, then each argument by its name in capitals, in brackets when optional."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                pieces += param.get_usage_pieces(ctx)
                continue
            name = (param.metavar or param.name or "").upper()
            name = name if param.required else f"[{name}]"
            pieces.append(name + ("..." if param.nargs != 1 else ""))
        return pieces


class Typer(typer.Typer):
    """A Typer application whose commands are `Command`s."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        """Register a command as `typer.Typer.command` does, with `Command` as its class unless told otherwise."""
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)


app = Typer(
    help="Keep a customer-service policy alive: feedback in, themes, evidence-backed review tickets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class SafeConsole(Console):
    """A Rich console that prints others' words without their control characters; its own styles stay."""

    def render(self, renderable: Any, options: ConsoleOptions | None = None) -> Iterator[Segment]:
        """Rich's segments, each text cleaned of control characters (control segments are Rich's own)."""
        for segment in super().render(renderable, options):
            if segment.control or not CONTROL.search(segment.text):
                yield segment
            else:
                yield Segment(printable(segment.text), segment.style)

    def print(self, *objects: Any, **options: Any) -> None:
        """Rich's print; to a file or a pipe, lines are not wrapped at 80 columns: a script, a log or a cron mail
        reads each line whole (`grep` finds a message, a path is not cut in two)."""
        if options.get("soft_wrap") is None and not self.is_terminal:
            options["soft_wrap"] = True
        super().print(*objects, **options)


out = SafeConsole()
err = SafeConsole(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
ThemeId = Annotated[int, typer.Argument(help="Theme id (from `themes list`).", min=1, max=MAX_ROW_ID)]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act for this person (admins only; audited). Default: you, from your OS user or $REVIEWBOT_TOKEN.",
        show_default=False,
    ),
]


def sub_app(name: str, help_text: str) -> typer.Typer:
    """A command group such as `reviewbot tickets ...`."""
    group = Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


SECRETS: list[str] = []  # of the loaded workspace: masked in everything printed or logged


class PlainLogFormatter(logging.Formatter):
    """A log line for a file: ISO 8601 time (not Rich's "[12/07/26 23:26:27]"), level, the message without control
    characters (file names and people's words are in it)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line (a traceback follows it on lines of its own)."""
        return printable(super().format(record))


class MaskSecrets(logging.Filter):
    """Replaces secrets in log records, whatever library wrote them."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record's message in place."""
        if SECRETS:
            record.msg, record.args = mask(record.getMessage(), SECRETS), None
        return True


def safe(text: str) -> str:
    """Text with the workspace's secrets masked."""
    return mask(text, SECRETS)


@dataclass
class Globals:
    """Options given before the command."""

    workspace: Path | None = None
    verbose: int = 0
    quiet: bool = False


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
        int, typer.Option("--verbose", "-v", count=True, help="More detail (-vv for debug logging).")
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing on success (for cron); errors still go to stderr.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Global options."""
    review = sys.modules.get("reviewbot.store.review")
    if review is not None:  # unless imported, nobody set it (importing it would build the audit tables)
        review.ACTING_FOR.set(None)  # a command acts for someone only if its own --as says so
    ctx.obj = Globals(workspace=workspace, verbose=verbose, quiet=quiet)
    configure_output(ctx.obj)


def configure_output(options: Globals) -> None:
    """Quiet or verbose printing and logging, as the global options say."""
    out.quiet = options.quiet
    level = logging.WARNING if options.verbose == 0 else logging.INFO if options.verbose == 1 else logging.DEBUG
    # the scheduler's one line per run shows at the default level (see reviewbot.workflows.schedule), not with -q
    logging.getLogger("reviewbot.schedule").setLevel(logging.ERROR if options.quiet else logging.INFO)
    if options.quiet:
        level = logging.ERROR
    handler: logging.Handler = RichHandler(console=err, show_path=False)
    if not err.is_terminal:  # a log file, journald, `docker compose logs`: one whole line a record, never padded
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(PlainLogFormatter())
    handler.addFilter(MaskSecrets())
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)


FLAGS = re.compile(r"-[vq]+")  # -v, -vv, -q, -vq: the global flags, alone or bundled


def _take_global_options(args: list[str], options: Globals, valued: set[str]) -> list[str]:
    """The arguments without the global options found among them, which are applied to `options`."""
    kept: list[str] = []
    words = iter(args)
    given = False
    for arg in words:
        if arg == "--":  # what follows is arguments, whatever it looks like
            kept += [arg, *words]
            break
        if arg in valued:  # its value is the next word, even one like -q
            kept += [arg, *[word for word in [next(words, None)] if word is not None]]
            continue
        if arg in ("-w", "--workspace") or arg.startswith("--workspace="):
            folder = arg.partition("=")[2] if "=" in arg else next(words, None)
            if not folder:
                kept.append(arg)  # click says the value is missing
                continue
            options.workspace = Path(folder)
        elif arg in ("--verbose", "--quiet") or FLAGS.fullmatch(arg):
            flags = {"--verbose": "v", "--quiet": "q"}.get(arg, arg)
            options.verbose += flags.count("v")
            options.quiet = options.quiet or "q" in flags
        else:
            kept.append(arg)
            continue
        given = True
    if given:
        configure_output(options)
    return kept


def load(ctx: typer.Context) -> Settings:
    """The settings of the workspace the command runs in."""
    options: Globals = ctx.obj
    settings = load_settings(find_workspace(explicit=options.workspace))
    SECRETS[:] = secret_values(settings)
    return settings


@contextmanager
def open_store(ctx: typer.Context) -> Iterator[tuple[Settings, Store]]:
    """Settings and a store whose schema is current; the store is closed afterwards."""
    settings = load(ctx)
    store = Store(settings.db_url)
    try:
        store.check_connection()
        require_current(store.engine)
        yield settings, store
    finally:
        store.dispose()


def actor(settings: Settings, store: Store, name: str | None) -> str:
    """Who an action is recorded for: the person behind the OS user (or REVIEWBOT_TOKEN); with --as NAME, an
    admin acting for NAME (audited as such). Refused for anyone else."""
    from reviewbot.cli.identity import acting_person
    from reviewbot.workflows.review import known_people

    wanted = (name or "").strip()
    if wanted:
        with store.session() as session:
            people = known_people(session, settings)
        return acting_person(settings, wanted, people)
    return acting_person(settings, None, set())


def print_json(data: Any) -> None:
    """Write JSON for scripts to standard output (nothing with -q)."""
    if out.quiet:
        return
    sys.stdout.write(json.dumps(data, indent=2, default=_json_value, ensure_ascii=False) + "\n")


def _json_value(value: Any) -> str:
    """Dates and times in ISO 8601 (`2026-10-12T09:00:00+00:00`), as every --json writes those it formats itself;
    str() wrote "2026-10-12 09:00:00+00:00" in some listings and the T form in others."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def done(message: str) -> None:
    """Confirm what a command did (the message is plain text: names people chose may contain brackets)."""
    out.print(message, highlight=False, markup=False)


def to_terminal() -> bool:
    """Whether standard output is a terminal (a person reads it) rather than a file or a pipe (a script does)."""
    return out.is_terminal


def table_width() -> int | None:
    """The width a listing fits on a terminal; None when it goes to a file or a pipe, where nothing is cut."""
    return out.width if to_terminal() else None


def print_table(table: Table, *whole: str, titled: bool = False) -> None:
    """Print a listing. On a terminal, the table (with its `whole` columns unbroken, see `views.fitted`); to a file
    or a pipe, as `gh` does, one row a line, its fields tab-separated, whole and unpadded, with no header, title or
    colour, so that `cut -f1` and `while read` work. `titled` keeps the title as a plain first line, for a table
    inside a report (the sync's)."""
    from reviewbot.views import fitted, tsv_lines

    if to_terminal():
        out.print(fitted(table, out.width, *whole) if whole else table)
    elif not out.quiet:
        lines = ([str(table.title)] if titled and table.title else []) + tsv_lines(table)
        sys.stdout.write("".join(printable(line) + "\n" for line in lines))


def print_markdown(text: str) -> None:
    """Markdown for people: rendered on a terminal; to a file or a pipe the Markdown itself, as `gh issue view`
    gives it, unwrapped and unpadded, nothing cut; nothing with -q."""
    from rich.markdown import Markdown

    if to_terminal():
        out.print(Markdown(text))
    elif not out.quiet:
        sys.stdout.write(printable(text.rstrip("\n") + "\n"))


def note(message: str) -> None:
    """A remark beside a listing ("no tickets yet", what a publish would change): on standard output for a person,
    on standard error when standard output feeds a script, which reads only rows there; nothing with -q."""
    if not out.quiet:
        (out if to_terminal() else err).print(message, highlight=False, markup=False)
