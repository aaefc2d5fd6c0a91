"""`reviewbot serve set-password` and `sign-in-link`: admins only, checked names, nothing but hashes stored."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from reviewbot.models import WebCredential, WebSignInLink
from reviewbot.settings import load_settings
from reviewbot.store import Store


def _rows(folder: Path, table: type) -> list:  # type: ignore[type-arg]
    from sqlmodel import select

    store = Store(load_settings(folder).db_url)
    try:
        with store.session() as session:
            return list(session.exec(select(table)).all())
    finally:
        store.dispose()


def test_set_password_stores_only_a_hash_and_is_audited(
    demo_folder: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    secret = "a long enough password"
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    result = cli(f"-w {demo_folder} serve set-password marta.silva --password-stdin")
    assert result.code == 0, result.stderr
    assert "marta.silva can now sign in to the web console" in result.stdout
    [row] = _rows(demo_folder, WebCredential)
    assert row.person == "marta.silva" and row.set_by == "dana.ellis"
    assert secret not in row.password_hash and row.password_hash.startswith("scrypt$")
    trail = cli(f"-w {demo_folder} audit --json").stdout
    assert "web console password set for marta.silva" in trail and secret not in trail


def test_set_password_refuses_short_passwords_unknown_people_and_non_admins(
    demo_folder: Path, cli, os_user, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    short = cli(f"-w {demo_folder} serve set-password marta.silva --password-stdin")
    assert short.code == 1 and "shorter than 12 characters" in short.stderr
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    typo = cli(f"-w {demo_folder} serve set-password marta.silvaa --password-stdin")
    assert typo.code == 1 and "marta.silvaa is not a person in this workspace" in typo.stderr
    os_user("someone-else")
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    stranger = cli(f"-w {demo_folder} serve set-password marta.silva --password-stdin")
    assert stranger.code == 1 and "is not an admin" in stranger.stderr
    assert _rows(demo_folder, WebCredential) == []


def test_sign_in_link_prints_a_url_and_stores_its_hash(demo_folder: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(f"-w {demo_folder} serve sign-in-link priya.n --url https://review.example.com/")
    assert result.code == 0, result.stderr
    found = re.fullmatch(r"https://review\.example\.com/sign-in/link/([\w-]+)\n", result.stdout)
    assert found, result.stdout
    assert "works once, for 30 minutes, for priya.n" in result.stderr
    [row] = _rows(demo_folder, WebSignInLink)
    assert row.person == "priya.n" and found.group(1) not in row.token_sha256 and row.used_at is None
    bad = cli(f"-w {demo_folder} serve sign-in-link priya.n --url review.example.com")
    assert bad.code == 2 and "is not an http(s) URL" in bad.stderr


def test_serve_without_a_secret_says_which_variable_to_set(
    demo_folder: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("REVIEWBOT_WEB_SECRET")
    result = cli(f"-w {demo_folder} serve --port 0")
    assert result.code == 2 and "REVIEWBOT_WEB_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr
