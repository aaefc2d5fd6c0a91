"""The web console on the demo workspace: people with passwords, a Flask test client, signing in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine

from reviewbot.settings import Settings, load_settings
from reviewbot.store import Store
from tests.conftest import DEMO_DAY

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery staple"
PEOPLE = ("dana.ellis", "nina.kowalski", "marta.silva", "sam.okafor", "priya.n")
EDIT = (
    "WhatsApp Business, monitored during phone opening hours.",
    "WhatsApp Business, monitored seven days a week from 8am to 8pm; every direct message gets a reply within 4 hours.",
)


@dataclass
class Console:
    """A demo workspace served by the console."""

    folder: Path
    settings: Settings
    store: Store
    app: Any

    def client(self) -> Any:
        """A browser of its own: its own cookies."""
        return self.app.test_client()


@pytest.fixture
def demo_folder(tmp_path: Path, use_database: str, cli, monkeypatch: pytest.MonkeyPatch, workspace_templates) -> Path:  # type: ignore[no-untyped-def]
    """The demo workspace after its first sync (tickets RB-1.. exist; RB-5 is open on communication-channels)."""

    def build(folder: Path) -> None:
        assert cli(f"init --demo {folder}").code == 0
        assert cli(f"-w {folder} sync").code == 0

    folder = tmp_path / "demo"
    with time_machine.travel(DEMO_DAY, tick=False):
        workspace_templates.copy_into("demo-synced", build, folder, use_database)
    monkeypatch.setenv("REVIEWBOT_WEB_SECRET", SECRET)
    return folder


def set_web_toml(folder: Path, lines: str) -> None:
    """Append a [web] table to the workspace's reviewbot.toml."""
    path = folder / "reviewbot.toml"
    path.write_text(path.read_text(encoding="utf-8") + f"\n[web]\n{lines}\n", encoding="utf-8")


@pytest.fixture
def console(demo_folder: Path) -> Iterator[Console]:
    """The console on the demo, on plain http (test clients speak http), everyone in PEOPLE with PASSWORD."""
    from reviewbot.web import create_app
    from reviewbot.web.auth import set_password

    set_web_toml(demo_folder, "insecure_http = true")
    settings = load_settings(demo_folder)
    store = Store(settings.db_url)
    for person in PEOPLE:
        set_password(store, settings, person, PASSWORD, "dana.ellis")
    app = create_app(settings, store)
    yield Console(demo_folder, settings, store, app)
    store.dispose()


def csrf(html: str) -> str:
    """The CSRF token in a page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: Any, person: str, password: str = PASSWORD) -> Any:
    """Sign in through the form, as a browser would; returns the response to the POST."""
    page = client.get("/sign-in").get_data(as_text=True)
    return client.post("/sign-in", data={"person": person, "password": password, "csrf_token": csrf(page)})


def post(client: Any, path: str, data: dict[str, str] | None = None, page: str | None = None) -> str:
    """Submit a form from `page` (default: `path` without its last part) and return the page it leads to."""
    source = page or path.rsplit("/", 1)[0]
    token = csrf(client.get(source).get_data(as_text=True))
    response = client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def ticket_id(console: Console, ref: str) -> int:
    """The number behind a tracker reference."""
    from reviewbot.store.tickets import get_ticket

    with console.store.session() as session:
        found = get_ticket(session, ref)
        assert found is not None and found.id is not None
        return found.id
