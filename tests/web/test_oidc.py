"""OpenID Connect sign-in against a stand-in provider (tests/web/oidc_provider.py): the ID token's e-mail or user
name maps to a person of the workspace; unknown people, and tokens with a wrong nonce, issuer, audience,
signature or expiry, are refused; any replica can finish a sign-in another began."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey

from reviewbot.errors import ConfigError
from reviewbot.web import create_app
from reviewbot.web.config import OidcOptions, WebOptions
from tests.web.conftest import Console, csrf, set_web_toml
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, StandInProvider


@pytest.fixture
def provider(console: Console, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInProvider]:
    monkeypatch.setenv("REVIEWBOT_OIDC_CLIENT_SECRET", CLIENT_SECRET)
    with StandInProvider() as running:
        yield running


def _app(console: Console, provider: StandInProvider, **oidc: Any) -> Any:
    options = {"issuer": provider.issuer, "client_id": CLIENT_ID, "email_domain": "northwind.example", **oidc}
    return create_app(console.settings, console.store, WebOptions(insecure_http=True, oidc=OidcOptions(**options)))


def _start(browser: Any) -> str:
    """Press "Sign in with ..." and let the provider answer: the callback URL it sends the browser back to."""
    page = browser.get("/sign-in").get_data(as_text=True)
    assert 'id="oidc"' in page
    start = browser.post("/sign-in/oidc", data={"csrf_token": csrf(page)})
    assert start.status_code == 302 and start.headers["Location"].startswith(
        f"{browser.application.extensions['reviewbot'][2].oidc.issuer}/authorize"
    )
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    return answer.headers["Location"]


def _finish(browser: Any, callback: str) -> Any:
    parts = urlsplit(callback)
    return browser.get(f"{parts.path}?{parts.query}")


def _sign_in(app: Any) -> tuple[Any, Any]:
    browser = app.test_client()
    return browser, _finish(browser, _start(browser))


def _who(browser: Any) -> int:
    return browser.get("/tickets").status_code


def test_an_email_at_the_company_domain_signs_its_person_in(console: Console, provider: StandInProvider) -> None:
    browser, done = _sign_in(_app(console, provider))
    assert done.status_code == 303 and done.headers["Location"] == "/tickets"
    inbox = browser.get("/tickets").get_data(as_text=True)
    assert 'id="who">dana.ellis<' in inbox


def test_mapped_emails_and_user_names(console: Console, provider: StandInProvider) -> None:
    provider.user = {"sub": "u-2", "email": "M.Silva@Corp.example", "email_verified": True}
    browser, done = _sign_in(_app(console, provider, people={"m.silva@corp.example": "marta.silva"}))
    assert done.status_code == 303 and 'id="who">marta.silva<' in browser.get("/tickets").get_data(as_text=True)

    provider.user = {"sub": "u-3", "preferred_username": "sam.okafor"}
    browser, done = _sign_in(_app(console, provider, claim="preferred_username"))
    assert done.status_code == 303 and 'id="who">sam.okafor<' in browser.get("/tickets").get_data(as_text=True)


@pytest.mark.parametrize(
    ("user", "says"),
    [
        ({"sub": "u-9", "email": "mallory@northwind.example", "email_verified": True}, "is not a person of this"),
        ({"sub": "u-9", "email": "dana.ellis@elsewhere.example", "email_verified": True}, "is not a person of this"),
        ({"sub": "u-9", "email": "dana.ellis@northwind.example", "email_verified": False}, "has not verified"),
        ({"sub": "u-9"}, "the identity provider sent no email"),
    ],
)
def test_people_who_are_not_of_the_workspace_are_refused(
    console: Console, provider: StandInProvider, user: dict[str, Any], says: str
) -> None:
    provider.user = user
    browser, done = _sign_in(_app(console, provider))
    assert done.status_code == 403 and says in done.get_data(as_text=True)
    assert _who(browser) == 302  # not signed in


@pytest.mark.parametrize(
    "tamper",
    [
        {"nonce": "not-the-nonce-we-sent"},
        {"iss": "https://impostor.example"},
        {"aud": "another-client"},
        {"aud": "another-client", "azp": CLIENT_ID},  # azp alone must not let a token for another client in
        {"exp": 1_000_000},
    ],
    ids=["nonce", "issuer", "audience", "audience-with-azp", "expired"],
)
def test_a_token_with_a_wrong_claim_is_refused(
    console: Console, provider: StandInProvider, tamper: dict[str, Any]
) -> None:
    provider.tamper = tamper
    browser, done = _sign_in(_app(console, provider))
    assert done.status_code == 401 and "Sign-in with the identity provider failed" in done.get_data(as_text=True)
    assert _who(browser) == 302


def test_a_token_signed_with_another_key_is_refused(console: Console, provider: StandInProvider) -> None:
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    browser, done = _sign_in(_app(console, provider))
    assert done.status_code == 401 and _who(browser) == 302


def test_a_callback_this_browser_did_not_start_is_refused(console: Console, provider: StandInProvider) -> None:
    app = _app(console, provider)
    victim_callback = _start(app.test_client())  # begun in someone else's browser (login CSRF)
    attacker = app.test_client()
    attacker.get("/sign-in")
    done = _finish(attacker, victim_callback)
    assert done.status_code == 401 and _who(attacker) == 302


def test_another_replica_can_finish_a_sign_in(console: Console, provider: StandInProvider) -> None:
    first, second = _app(console, provider), _app(console, provider)
    browser = first.test_client()
    callback = _start(browser)
    other = second.test_client()  # the same browser's next request lands on the other replica
    other.set_cookie("reviewbot_session", browser.get_cookie("reviewbot_session").value)
    assert _finish(other, callback).status_code == 303
    assert 'id="who">dana.ellis<' in other.get("/tickets").get_data(as_text=True)


def test_configuration_mistakes_are_config_errors(demo_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.web.config import web_options

    set_web_toml(demo_folder, 'insecure_http = true\n[web.oidc]\nissuer = "http://login.acme.example"\nclient_id = "x"')
    with pytest.raises(ConfigError, match="is not an https URL"):
        web_options(load_settings(demo_folder))
    toml = demo_folder / "reviewbot.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("http://login", "https://login"), encoding="utf-8")
    settings = load_settings(demo_folder)
    assert web_options(settings).oidc is not None
    monkeypatch.delenv("REVIEWBOT_OIDC_CLIENT_SECRET", raising=False)
    store = Store(settings.db_url)
    with pytest.raises(ConfigError, match="REVIEWBOT_OIDC_CLIENT_SECRET is not set"):
        create_app(settings, store)
    store.dispose()
