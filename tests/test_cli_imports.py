"""Commands that list and show rows start fast: they import their own command module and no analysis library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Libraries a listing command must not load: each costs a large share of a second (analysis, rendering, Slack),
# or loads lexicons and pattern tables scoring needs and listing does not (VADER, libphonenumber).
HEAVY = {"numpy", "scipy", "sklearn", "nltk", "textblob", "igraph", "jinja2", "slack_sdk", "slack_bolt", "jira"}
HEAVY |= {"vaderSentiment", "phonenumbers", "snowballstemmer"}
# The project's own analysis modules a listing may load: statistics and labels of stored rows, nothing that scores,
# redacts or clusters.
LISTING_ANALYSIS = {"reviewbot.analysis", "reviewbot.analysis.score", "reviewbot.analysis.boilerplate"}
LISTING_ANALYSIS |= {"reviewbot.analysis.effect"}  # a resolved ticket's effect: a z-test on stored counts
# Print which of them a command loaded, after running it the way the console script does.
PROBE = f"""
import sys
HEAVY = {sorted(HEAVY)!r}
from reviewbot.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print("CODE", code, "LOADED", *sorted({{m.split(".")[0] for m in sys.modules}} & set(HEAVY)))
print("ANALYSIS", *sorted(m for m in sys.modules if m.startswith("reviewbot.analysis")))
"""


def run_probed(folder: Path, *args: str) -> tuple[str, list[str], set[str]]:
    """Run `reviewbot -w FOLDER ARGS` in a fresh interpreter; (exit code, heavy libraries it imported, the
    project's analysis modules it imported)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "-w", str(folder), *args], capture_output=True, text=True, check=False
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("CODE "))
    _, code, _, *loaded = line.split()
    analysis = next(line for line in done.stdout.splitlines() if line.startswith("ANALYSIS")).split()[1:]
    return code, loaded, set(analysis)


# RB-2 is a ticket the demo's version 2 resolved: its page shows that version's effect (a statistical test)
@pytest.mark.parametrize(
    "command", [["tickets", "list"], ["themes", "list"], ["tickets", "show", "RB-5"], ["tickets", "show", "RB-2"]]
)
def test_listing_commands_load_no_analysis_library(demo: Path, command: list[str]) -> None:
    code, loaded, analysis = run_probed(demo, *command)
    assert code == "0"
    assert loaded == []
    assert analysis <= LISTING_ANALYSIS, analysis - LISTING_ANALYSIS


@pytest.mark.parametrize(
    ("command", "tables"),
    [
        (["tickets", "list"], {"tickets"}),
        (["themes", "list"], {"themes", "tickets", "feedback"}),  # store.themes, the sync's queries, names items
        (["tickets", "show", "RB-5"], {"tickets", "review"}),  # its sign-offs
        # a resolved ticket's effect: the version, the items counted in its windows, the theme now holding them
        (["tickets", "show", "RB-2"], {"tickets", "review", "policy", "feedback", "themes"}),
    ],
)
def test_listing_commands_build_only_the_tables_they_read(demo: Path, command: list[str], tables: set[str]) -> None:
    # a table class costs pydantic and SQLAlchemy a few milliseconds to build: listing tickets reads tickets only
    # (not the policy and theme tables their foreign keys name: only a write needs those)
    watched = ("reviewbot.models.",)
    probe = PROBE + f"print('ALSO', *sorted(m for m in sys.modules if m.startswith({watched!r})))"
    env = {k: v for k, v in os.environ.items() if k == "REVIEWBOT_DATABASE_URL" or not k.startswith("REVIEWBOT_")}
    done = subprocess.run(
        [sys.executable, "-c", probe, "-w", str(demo), *command], capture_output=True, text=True, env=env
    )
    also = next(line for line in done.stdout.splitlines() if line.startswith("ALSO")).split()[1:]
    assert "CODE 0 " in done.stdout, done.stderr
    assert set(also) == {"reviewbot.models.base", *(f"reviewbot.models.{name}" for name in tables)}


def test_a_resolved_tickets_effect_imports_only_its_queries(demo: Path) -> None:
    # `tickets show` of a ticket a version resolved measures that version's effect: the measuring module and the
    # queries it runs, not the review workflow it reports through after a sync (its locks, the feedback store and
    # SQLAlchemy's PostgreSQL dialect) nor the policy parser (YAML, markdown-it's parser)
    probe = PROBE + "print('ALSO', *sorted(m for m in sys.modules if not m.startswith('__editable__')))"
    env = {k: v for k, v in os.environ.items() if k == "REVIEWBOT_DATABASE_URL" or not k.startswith("REVIEWBOT_")}
    loaded = {}
    for ref in ("RB-5", "RB-2"):
        argv = [sys.executable, "-c", probe, "-w", str(demo), "tickets", "show", ref]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        assert "CODE 0 " in done.stdout, done.stderr
        loaded[ref] = set(next(line for line in done.stdout.splitlines() if line.startswith("ALSO")).split()[1:])
    assert loaded["RB-2"] - loaded["RB-5"] == {
        "reviewbot.workflows",
        "reviewbot.workflows.impact",
        "reviewbot.analysis.effect",
        "reviewbot.analysis.boilerplate",  # store.themes: the themes stage's state
        "reviewbot.store.policies",
        "reviewbot.store.themes",
        "reviewbot.models.policy",
        "reviewbot.models.feedback",
        "reviewbot.models.themes",
    }


# Only the tickets' table built, as a command reading tickets leaves it, then a write: SQLAlchemy orders a flush (and
# a bulk update) by every foreign key of the tables it writes, and failed on a key naming a table nobody had built.
WRITE_PROBE = """
import sys
from pathlib import Path
from sqlalchemy import update
from reviewbot.models import ReviewTicket
from reviewbot.settings import load_settings
from reviewbot.store import Store

store = Store(load_settings(Path(sys.argv[1])).db_url)
with store.session() as session:
    ticket = session.get(ReviewTicket, 1)
    print("BUILT", len(sys.modules["reviewbot.models.base"].metadata.tables))
    if sys.argv[2] == "flush":
        ticket.assignee = "probe.person"
    else:
        session.execute(update(ReviewTicket), [{"id": 1, "assignee": "probe.person"}])
with store.session() as session:
    print("ASSIGNEE", session.get(ReviewTicket, 1).assignee)
"""


@pytest.mark.parametrize("how", ["flush", "bulk"])
def test_a_write_after_reading_one_table_knows_every_table(demo: Path, how: str) -> None:
    env = {k: v for k, v in os.environ.items() if k == "REVIEWBOT_DATABASE_URL" or not k.startswith("REVIEWBOT_")}
    done = subprocess.run(
        [sys.executable, "-c", WRITE_PROBE, str(demo), how], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "BUILT 3" in done.stdout  # the tickets module's tables: the read built no other
    assert "ASSIGNEE probe.person" in done.stdout


def test_help_imports_the_commands_not_what_they_run(tmp_path: Path) -> None:
    # `--help` imports every command module to list them: the workflows, stores and renderers those commands call
    # (the review workflow and its locks, the PostgreSQL dialect, progress bars, the policy tables) wait for a run
    watched = ("reviewbot.", "rich.progress", "sqlalchemy.dialects.postgresql")
    probe = PROBE + f"print('ALSO', *sorted(m for m in sys.modules if m.startswith({watched!r})))"
    done = subprocess.run([sys.executable, "-c", probe, "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert "CODE 0 " in done.stdout, done.stderr
    assert "Usage" in done.stdout and "tickets" in done.stdout
    also = set(next(line for line in done.stdout.splitlines() if line.startswith("ALSO")).split()[1:])
    assert {m for m in also if m.startswith(("reviewbot.workflows", *watched[1:]))} == set()
    assert {m for m in also if m.startswith("reviewbot.models.")} == {
        "reviewbot.models.base",
        "reviewbot.models.tickets",
    }


def test_scoring_code_starts_without_nltk_or_scipy() -> None:
    # what a sync and its workers' fork server import to enrich records: TextBlob's package would bring NLTK and
    # SciPy's statistics (about two seconds of CPU in each of the two processes), which scoring never uses
    probe = "import sys, workflows.collect; print(*sorted({m.split('.')[0] for m in sys.modules} & {'nltk', 'scipy'}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []


def test_every_command_is_found_where_it_is_registered() -> None:
    # a command run on its own imports only the module COMMAND_MODULES names: a new command missing from it
    # would be "No such command" when run, though `--help` lists it
    from reviewbot.cli import COMMAND_MODULES, app, register_commands

    register_commands()
    found = {
        c.name or (c.callback.__name__.replace("_", "-") if c.callback else ""): c.callback
        for c in app.registered_commands
    }
    found |= {
        g.name or "": g.typer_instance.registered_commands[0].callback
        for g in app.registered_groups
        if g.typer_instance.registered_commands
    }
    where = {name: (callback.__module__.rsplit(".", 1)[-1] if callback else "") for name, callback in found.items()}
    assert where == COMMAND_MODULES


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["tickets", "list"], "tickets"),
        (["-w", "tickets", "themes", "list"], "themes"),  # a workspace folder named like a command
        (["-vw", "/tmp/ws", "-q", "policy", "show"], "policy"),
        (["--workspace=/tmp/ws", "--verbose", "sync"], "sync"),
        (["--help"], None),
        (["--", "db", "upgrade"], "db"),
    ],
)
def test_the_command_is_read_after_the_global_options(args: list[str], name: str | None) -> None:
    from reviewbot.cli import command_name

    assert command_name(args) == name


def test_a_command_runs_after_global_options_naming_another(tmp_path: Path) -> None:
    # `-w themes`: the folder's name is not the command; `whoami` must still be found
    folder = tmp_path / "themes"
    done = subprocess.run(
        [sys.executable, "-m", "reviewbot", "-w", str(folder), "whoami", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout


def test_the_models_metadata_holds_every_table() -> None:
    from reviewbot import models

    assert set(models.__all__) == {*models.TABLE_MODULES, "metadata", "utcnow"}
    probe = "from reviewbot.models import metadata; print('TABLES', len(metadata.tables))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["TABLES", str(len(models.TABLE_MODULES))]
