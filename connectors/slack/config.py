"""Slack settings (`[slack]` in reviewbot.toml), the Web API client, and who is who."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from connectors.registry import parse_options
from reviewbot.errors import ConfigError
from reviewbot.settings import Settings

SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class SlackOptions(BaseModel):
    """`[slack]`: tokens (by the names of the variables that hold them), where to post, and who is who."""

    model_config = ConfigDict(extra="forbid")

    bot_token_env: str = "REVIEWBOT_SLACK_BOT_TOKEN"
    signing_secret_env: str = "REVIEWBOT_SLACK_SIGNING_SECRET"
    app_token_env: str = "REVIEWBOT_SLACK_APP_TOKEN"  # Socket Mode only
    channel: str | None = None  # digests and announcements, e.g. "C0123456789" or "#policy-updates"
    people: dict[str, str] = Field(default_factory=dict)  # person (as in [roles]) -> Slack user id
    api_url: str | None = None  # the Web API's base URL; only for proxies and tests
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=0, le=65535)
    path: str = "/slack/events"
    max_suggestion_chars: int = Field(default=3000, ge=10, le=3000)
    rate_limit_retries: int = Field(default=2, ge=0)


def slack_options(settings: Settings) -> SlackOptions:
    """The validated `[slack]` table."""
    return parse_options(SlackOptions, settings.slack, ("slack",), settings)


def secret(settings: Settings, name: str, what: str) -> str:
    """A Slack secret from the environment or `.env`, or a ConfigError naming the variable."""
    value = settings.secret(name)
    if not value:
        raise ConfigError(
            f"no Slack {what}: set {name}", field="slack", hint=f"put it in the environment or .env as {name}"
        )
    return value


def web_client(settings: Settings, options: SlackOptions) -> WebClient:
    """A Web API client that waits out 429s (Retry-After) but never re-sends after a dropped connection.

    A post whose answer was lost is reported as ambiguous instead, and the outbox looks for it before posting again.
    """
    kwargs: dict[str, Any] = {"base_url": options.api_url} if options.api_url else {}
    return WebClient(
        token=secret(settings, options.bot_token_env, "bot token"),
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=options.rate_limit_retries)],
        timeout=10,
        **kwargs,
    )


class Directory:
    """Maps people (names used in [roles]) to Slack user ids and back."""

    def __init__(self, people: dict[str, str]) -> None:
        self.to_slack = dict(people)
        self.to_person = {user: person for person, user in people.items()}

    def user(self, person: str) -> str | None:
        """The Slack user id of a person; a name that already is a Slack id is returned as is."""
        if person in self.to_slack:
            return self.to_slack[person]
        return person if SLACK_ID.match(person) else None

    def person(self, user: str) -> str:
        """The person behind a Slack user id (the id itself when unmapped)."""
        return self.to_person.get(user, user)
