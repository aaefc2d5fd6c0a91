"""Shared fixtures: a real database per test (SQLite file, or a fresh PostgreSQL schema when
REVIEWBOT_TEST_DATABASE_URL is set), workspaces, and the CLI run in-process."""

from __future__ import annotations

import logging
import os
import shlex
import sys
import uuid
from collections.abc import Iterator
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


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for this test."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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

    Runs as the OS user TEST_OS_USER (see the `os_user` fixture), in a 200-column terminal unless `columns` says.
    """
    from reviewbot.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("REVIEWBOT_TOKEN", raising=False)

    def run(args: str | list[str], columns: int = 200) -> CliResult:
        argv = shlex.split(args) if isinstance(args, str) else list(args)
        monkeypatch.setenv("COLUMNS", str(columns))
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


@pytest.fixture
def demo(tmp_path: Path, use_database: str, cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """The README's demo workspace (`init --demo`, which plays its history), as the current folder, on 2026-11-23."""
    with time_machine.travel(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), tick=False):
        folder = tmp_path / "demo"
        result = cli(f"init --demo {folder}")
        assert result.code == 0, result.stderr
        monkeypatch.chdir(folder)
        yield folder
