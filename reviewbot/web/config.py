"""`[web]` in reviewbot.toml: where the console listens and how people sign in."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from reviewbot.errors import ConfigError
from reviewbot.settings import Settings

SECRET_ENV = "REVIEWBOT_WEB_SECRET"
MIN_SECRET_LENGTH = 32


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
