"""`[web]` in reviewbot.toml: where the console listens and how people sign in."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reviewbot.errors import ConfigError
from reviewbot.settings import Settings
from reviewbot.store import Store

SECRET_ENV = "REVIEWBOT_WEB_SECRET"
MIN_SECRET_LENGTH = 32


OIDC_SECRET_ENV = "REVIEWBOT_OIDC_CLIENT_SECRET"


class OidcOptions(BaseModel):
    """`[web.oidc]`: sign-in through the company's OpenID Connect identity provider."""

    model_config = ConfigDict(extra="forbid")

    issuer: str  # e.g. https://login.acme.com/realms/staff; its /.well-known/openid-configuration is read
    client_id: str = Field(min_length=1)
    client_secret_env: str = OIDC_SECRET_ENV  # the environment variable holding the client secret
    # Which claim of the ID token names the person: their e-mail address or their user name at the provider.
    claim: Literal["email", "preferred_username"] = "email"
    # Claim values that are not the person's name: {"marta@acme.com" = "marta.silva"}. Without an entry, a value
    # that is a person's name is that person, and NAME@email_domain is NAME when email_domain is set.
    people: dict[str, str] = Field(default_factory=dict)
    email_domain: str | None = None
    scopes: str = "openid email profile"
    # Where the provider sends people back, when the console's own idea of its address is wrong (behind a proxy):
    # https://review.acme.com/sign-in/oidc/callback. It must be registered with the provider.
    redirect_url: str | None = None
    label: str = "the company's sign-in"  # the sign-in button says "Sign in with ..."

    @field_validator("issuer", "redirect_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        """https only (plain http is allowed for a provider on this machine, as in tests)."""
        if value is None:
            return value
        parts = urlsplit(value)
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise ValueError(f"{value!r} is not an https URL")
        return value.rstrip("/")


class WebOptions(BaseModel):
    """The validated `[web]` table."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8400, ge=1, le=65535)
    threads: int = Field(default=8, ge=1, le=64)
    # The environment variable holding the key that signs session cookies; every replica must have the same one.
    secret_env: str = SECRET_ENV
    # A header set by a reverse proxy that already signed the person in (e.g. "X-Forwarded-User"). Only honoured
    # when set here: the console must then be reachable only through that proxy, which must strip the header
    # from what clients send.
    trusted_header: str | None = None
    # Session cookies are sent over HTTPS only unless this is true (plain http on localhost, for trying it out).
    insecure_http: bool = False
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    link_minutes: int = Field(default=30, ge=1, le=24 * 60)  # how long a one-time sign-in link works
    # Failed password sign-ins allowed per typed name and per client address within failure_minutes; then refused.
    max_failures: int = Field(default=5, ge=1, le=1000)
    max_failures_per_client: int = Field(default=20, ge=1, le=10000)
    failure_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # How many reverse proxies in front of the console set X-Forwarded-For/-Proto (0: none; the client address
    # is then the connection's). Set it only when there are such proxies, or clients could pick their address.
    proxy_hops: int = Field(default=0, ge=0, le=5)
    oidc: OidcOptions | None = None


def web_options(settings: Settings) -> WebOptions:
    """The `[web]` table, checked: an unknown or malformed setting is a ConfigError with its line."""
    from reviewbot.connectors.registry import parse_options

    return parse_options(WebOptions, settings.web, ("web",), settings)


def session_secret(settings: Settings, options: WebOptions) -> str:
    """The session signing key from the environment or `.env`; never made up per process, or replicas would
    reject each other's cookies and a restart would sign everyone out."""
    value = settings.secret(options.secret_env) or ""
    if len(value) < MIN_SECRET_LENGTH:
        what = "is not set" if not value else f"is shorter than {MIN_SECRET_LENGTH} characters"
        raise ConfigError(
            f"{options.secret_env} {what}: the web console signs its session cookies with it",
            field="web.secret_env",
            hint=f'put a long random value in the environment or .env, e.g. {options.secret_env}="$(python3 -c '
            "'import secrets; print(secrets.token_urlsafe(48))')\" (the same on every replica)",
        )
    return value


def oidc_secret(settings: Settings, oidc: OidcOptions) -> str:
    """The OpenID Connect client secret from the environment or `.env` (never in reviewbot.toml)."""
    value = settings.secret(oidc.client_secret_env) or ""
    if not value:
        raise ConfigError(
            f"{oidc.client_secret_env} is not set: the web console needs the OpenID Connect client secret",
            field="web.oidc.client_secret_env",
            hint="copy the client secret from the identity provider into the environment or .env",
        )
    return value


def workspace() -> tuple[Settings, Store, WebOptions]:
    """The settings, store and options of the app handling this request (views and hooks read them here)."""
    from flask import current_app

    return current_app.extensions["reviewbot"]
