"""Password sign-in hardening: failed attempts are limited per name and per client address (counted in the
database, so replicas agree), and a person's sessions end when their password is set again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

from reviewbot.web import create_app
from reviewbot.web.config import WebOptions
from tests.web.conftest import PASSWORD, Console, csrf


def _try(client: Any, person: str, password: str, address: str = "10.0.0.1", **headers: str) -> Any:
    page = client.get("/sign-in").get_data(as_text=True)
    return client.post(
        "/sign-in",
        data={"person": person, "password": password, "csrf_token": csrf(page)},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _app(console: Console, **options: Any) -> Any:
    return create_app(console.settings, console.store, WebOptions(insecure_http=True, **options))


def test_five_failures_lock_the_name_for_the_window_even_with_the_right_password(console: Console) -> None:
    browser = console.client()
    for _ in range(5):
        assert _try(browser, "nina.kowalski", "guess guess guess").status_code == 401
    locked = _try(browser, "nina.kowalski", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins for nina.kowalski: try again in 15 minutes" in locked.get_data(as_text=True)
    assert browser.get("/tickets").status_code == 302  # not signed in
    assert _try(console.client(), "marta.silva", PASSWORD).status_code == 303  # other people are not affected
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=16)):
        assert _try(console.client(), "nina.kowalski", PASSWORD).status_code == 303


def test_tries_refused_during_the_lock_do_not_extend_it(console: Console) -> None:
    start = datetime.now(UTC)
    for _ in range(5):
        assert _try(console.client(), "nina.kowalski", "guess guess guess").status_code == 401
    with time_machine.travel(start + timedelta(minutes=10)):
        for _ in range(6):  # someone keeps trying a locked name: refused, and not counted as failures
            assert _try(console.client(), "nina.kowalski", "guess guess guess").status_code == 429
    with time_machine.travel(start + timedelta(minutes=16)):  # the window of the five real failures is over
        assert _try(console.client(), "nina.kowalski", PASSWORD).status_code == 303


def test_a_success_clears_the_names_failures(console: Console) -> None:
    for _ in range(4):
        _try(console.client(), "nina.kowalski", "guess guess guess")
    assert _try(console.client(), "nina.kowalski", PASSWORD).status_code == 303
    for _ in range(4):
        assert _try(console.client(), "nina.kowalski", "guess guess guess").status_code == 401
    assert _try(console.client(), "nina.kowalski", PASSWORD).status_code == 303


def test_one_address_guessing_many_names_is_refused_others_are_not(console: Console) -> None:
    app = _app(console, max_failures_per_client=3)
    for name in ("nina.kowalski", "marta.silva", "sam.okafor"):
        assert _try(app.test_client(), name, "guess guess guess", "10.0.0.9").status_code == 401
    refused = _try(app.test_client(), "priya.n", PASSWORD, "10.0.0.9")
    assert refused.status_code == 429 and "from your address" in refused.get_data(as_text=True)
    assert _try(app.test_client(), "priya.n", PASSWORD, "10.0.0.10").status_code == 303


def test_replicas_count_the_same_failures(console: Console) -> None:
    first, second = _app(console), _app(console)  # two processes' apps on one database
    for number in range(5):
        app = first if number % 2 else second
        assert _try(app.test_client(), "nina.kowalski", "guess guess guess").status_code == 401
    assert _try(first.test_client(), "nina.kowalski", PASSWORD).status_code == 429
    assert _try(second.test_client(), "nina.kowalski", PASSWORD).status_code == 429


def test_behind_proxies_the_forwarded_address_counts(console: Console) -> None:
    app = _app(console, max_failures_per_client=2, proxy_hops=1)
    for _ in range(2):
        _try(app.test_client(), "mallory", "guess guess guess", "10.0.0.1", **{"X-Forwarded-For": "203.0.113.7"})
    blocked = _try(app.test_client(), "priya.n", PASSWORD, "10.0.0.1", **{"X-Forwarded-For": "203.0.113.7"})
    assert blocked.status_code == 429
    # the proxy's own address is shared by everyone: another client behind it is not refused
    assert (
        _try(app.test_client(), "priya.n", PASSWORD, "10.0.0.1", **{"X-Forwarded-For": "198.51.100.2"}).status_code
        == 303
    )


def test_setting_a_password_again_ends_that_persons_sessions(console: Console) -> None:
    from reviewbot.web.auth import set_password

    nina, marta = console.client(), console.client()
    assert _try(nina, "nina.kowalski", PASSWORD).status_code == 303
    assert _try(marta, "marta.silva", PASSWORD).status_code == 303
    assert nina.get("/tickets").status_code == 200
    set_password(console.store, console.settings, "nina.kowalski", "a brand new passphrase", "dana.ellis")
    assert nina.get("/tickets").status_code == 302  # signed out: back to the sign-in page
    assert marta.get("/tickets").status_code == 200  # nobody else is
    assert _try(nina, "nina.kowalski", PASSWORD).status_code == 401
    assert _try(nina, "nina.kowalski", "a brand new passphrase").status_code == 303
    assert nina.get("/tickets").status_code == 200


def test_changing_ones_own_password_ends_the_other_sessions_only(console: Console) -> None:
    laptop, phone = console.client(), console.client()
    for browser in (laptop, phone):
        assert _try(browser, "marta.silva", PASSWORD).status_code == 303
    form = csrf(laptop.get("/account/password").get_data(as_text=True))
    wrong = laptop.post(
        "/account/password", data={"current": "nope", "new": "x" * 12, "again": "x" * 12, "csrf_token": form}
    )
    assert wrong.status_code == 400 and "the current password is wrong" in wrong.get_data(as_text=True)
    differ = laptop.post(
        "/account/password", data={"current": PASSWORD, "new": "x" * 12, "again": "y" * 12, "csrf_token": form}
    )
    assert differ.status_code == 400 and "the two new passwords differ" in differ.get_data(as_text=True)
    short = laptop.post(
        "/account/password", data={"current": PASSWORD, "new": "short", "again": "short", "csrf_token": form}
    )
    assert "shorter than 12 characters" in short.get_data(as_text=True)
    changed = laptop.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "marta's new passphrase",
            "again": "marta's new passphrase",
            "csrf_token": form,
        },
        follow_redirects=True,
    )
    assert (
        "You can now sign in to the web console with that password; your other sessions have ended"
        in changed.get_data(as_text=True)
    )
    assert laptop.get("/tickets").status_code == 200  # this session goes on
    assert phone.get("/tickets").status_code == 302  # the other one has ended
    assert _try(phone, "marta.silva", "marta's new passphrase").status_code == 303
