"""Shared fixtures: a real database per test (SQLite file, or a fresh PostgreSQL schema when
REVIEWBOT_TEST_DATABASE_URL is set), workspaces, and the CLI run in-process."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import create_engine, text

from reviewbot.store import Store
from reviewbot.store.migrate import upgrade

PG_URL = os.environ.get("REVIEWBOT_TEST_DATABASE_URL")


def _schema_url(schema: str) -> str:
    assert PG_URL
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"


@contextmanager
def fresh_database(folder: Path, name: str) -> Iterator[str]:
    """An empty database: file NAME in FOLDER on SQLite, or a new PostgreSQL schema (dropped after) when
    REVIEWBOT_TEST_DATABASE_URL is set."""
    if not PG_URL:
        yield f"sqlite:///{folder / name}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(schema)
    finally:
        with _admin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for this test."""
    with fresh_database(tmp_path, "test.db") as url:
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store on the test database."""
    store = Store(database_url)
    upgrade(store.engine)
    yield store
    store.dispose()


@pytest.fixture
def use_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point reviewbot (settings, CLI) at the test database through REVIEWBOT_DATABASE_URL."""
    monkeypatch.setenv("REVIEWBOT_DATABASE_URL", database_url)
    return database_url


@dataclass
class CliResult:
    """What a CLI run printed and returned."""

    code: int
    stdout: str
    stderr: str


TEST_OS_USER = "reviewbot-test"  # the OS login CLI tests run as (tests/workspaces.py makes it an admin)


@pytest.fixture
def os_user(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set the operating-system user the CLI sees: `os_user("msilva")`; it starts as TEST_OS_USER."""

    def become(login: str) -> None:
        monkeypatch.setattr("reviewbot.cli.identity.os_user", lambda: login)

    become(TEST_OS_USER)
    return become


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, os_user):  # type: ignore[no-untyped-def]
    """Run `reviewbot ARGS` in-process, the way the console script does, and capture its output.

    Runs as the OS user TEST_OS_USER (see the `os_user` fixture), in a 200-column terminal unless `columns` says;
    `tty=False` writes to a file or a pipe instead, as `reviewbot ... > file` does.
    """
    from reviewbot.cli import main
    from reviewbot.cli.app import out
    from reviewbot.store.review import ACTING_FOR

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("REVIEWBOT_TOKEN", raising=False)

    def run(args: str | list[str], columns: int = 200, tty: bool = True) -> CliResult:
        argv = shlex.split(args) if isinstance(args, str) else list(args)
        monkeypatch.setenv("COLUMNS", str(columns))
        monkeypatch.setattr(out, "_force_terminal", tty)  # Rich's own switch: what it tells a terminal by
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["reviewbot", *argv])
        root = logging.getLogger()
        level, handlers = root.level, list(root.handlers)
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            # `-v` reconfigures logging for the process; later tests must not inherit debug logging
            root.setLevel(level)
            root.handlers[:] = handlers
            # nor `--as`: a web request later in this thread would be audited as "ADMIN for PERSON"
            ACTING_FOR.set(None)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def empty_nltk_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """NLTK_DATA pointing at an empty folder: proves nothing needs a downloaded corpus."""
    folder = tmp_path / "nltk_data"
    folder.mkdir()
    monkeypatch.setenv("NLTK_DATA", str(folder))
    return folder


# Browser tests (the report, the web console) drive the system's Chromium through Playwright, which downloads none.
CHROMIUM = Path(os.environ.get("REVIEWBOT_TEST_CHROMIUM", "/usr/bin/chromium"))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must have it (.ci/run installs chromium with apt-get)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from the system (no browser download), started once for the module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set REVIEWBOT_TEST_CHROMIUM)")
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


class WorkspaceTemplates:
    """Workspaces built once per test run and copied into each test that asks for one.

    Playing the demo's history takes seconds (more on PostgreSQL) and some 80 tests start from it; a copy of the
    folder and of the database gives each test the same workspace in a fraction of that.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[str, tuple[Path, str]] = {}
        self.dumps: dict[str, str] = {}

    def copy_into(self, name: str, build: Callable[[Path], None], folder: Path, database_url: str) -> None:
        """Copy template NAME (made by BUILD(folder) on its own database the first time) to FOLDER and DATABASE_URL."""
        if name not in self.built:
            self.built[name] = self._build(name, build, folder.name)
        template_folder, template_url = self.built[name]
        shutil.copytree(template_folder, folder)
        if PG_URL:
            self._copy_schema(name, template_url, database_url)
        else:
            _copy_sqlite(template_url, database_url)

    def _build(self, name: str, build: Callable[[Path], None], basename: str) -> tuple[Path, str]:
        base = self.root / name
        base.mkdir(parents=True)
        if PG_URL:
            schema = f"tmpl_{uuid.uuid4().hex[:12]}"
            with _admin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = _schema_url(schema)
        else:
            url = f"sqlite:///{base / 'template.db'}"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("REVIEWBOT_DATABASE_URL", url)
            build(base / basename)
        return base / basename, url

    def _copy_schema(self, name: str, template_url: str, database_url: str) -> None:
        template, target = _schema_of(template_url), _schema_of(database_url)
        if name not in self.dumps:
            dumped = subprocess.run(
                ["pg_dump", "--schema", template, "--no-owner", "--no-privileges", _libpq(PG_URL)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            self.dumps[name] = dumped.stdout
        # the names are random hex, so the template's name occurs nowhere else in the dump
        script = f'DROP SCHEMA "{target}" CASCADE;\n' + self.dumps[name].replace(template, target)
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", _libpq(PG_URL)],
            input=script, capture_output=True, text=True, check=True,
        )  # fmt: skip

    def drop(self) -> None:
        """Drop the templates' PostgreSQL schemas."""
        if PG_URL and self.built:
            with _admin() as conn:
                for _, url in self.built.values():
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{_schema_of(url)}" CASCADE'))


@contextmanager
def _admin() -> Iterator[Any]:
    engine = create_engine(PG_URL)  # type: ignore[arg-type]
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _schema_of(url: str) -> str:
    return url.rsplit("search_path%3D", 1)[1]


def _libpq(url: str | None) -> str:
    assert url
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _copy_sqlite(source_url: str, target_url: str) -> None:
    # sqlite's backup API copies a consistent database, whatever a cached engine still holds open
    source = closing(sqlite3.connect(source_url.removeprefix("sqlite:///")))
    target = closing(sqlite3.connect(target_url.removeprefix("sqlite:///")))
    with source as source_db, target as target_db:
        source_db.backup(target_db)


@pytest.fixture(scope="session")
def workspace_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceTemplates]:
    """The run's workspace templates (see WorkspaceTemplates)."""
    templates = WorkspaceTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop()


DEMO_DAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def demo(  # type: ignore[no-untyped-def]
    tmp_path: Path, use_database: str, cli, monkeypatch: pytest.MonkeyPatch, workspace_templates: WorkspaceTemplates
) -> Iterator[Path]:
    """The README's demo workspace (`init --demo`, which plays its history), as the current folder, on 2026-11-23."""

    def build(folder: Path) -> None:
        result = cli(f"init --demo {folder}")
        assert result.code == 0, result.stderr

    with time_machine.travel(DEMO_DAY, tick=False):
        folder = tmp_path / "demo"
        workspace_templates.copy_into("demo", build, folder, use_database)
        monkeypatch.chdir(folder)
        yield folder
