"""Slack settings (`[slack]` in reviewbot.toml), the Web API client, and who is who."""

from __future__ import annotations

import http.client
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from reviewbot.connectors.registry import parse_options
from reviewbot.errors import ConfigError
from reviewbot.settings import Settings

log = logging.getLogger(__name__)
SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")  # public (C) or private (G) channel
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SlackOptions(BaseModel):
    """`[slack]`: tokens (by the names of the variables that hold them), where to post, and who is who."""

    model_config = ConfigDict(extra="forbid")

    bot_token_env: str = "REVIEWBOT_SLACK_BOT_TOKEN"
    signing_secret_env: str = "REVIEWBOT_SLACK_SIGNING_SECRET"
    app_token_env: str = "REVIEWBOT_SLACK_APP_TOKEN"  # Socket Mode only
    channel: str | None = None  # digests and announcements: the channel's id, e.g. "C0123456789"
    people: dict[str, str] = Field(default_factory=dict)  # person (as in [roles]) -> Slack user id or email
    email_domain: str | None = None  # anyone else is looked up in Slack as <name>@<email_domain>
    public_url: str | None = Field(default=None, pattern=r"^https://")  # where Slack reaches `slack serve`
    threads: int = Field(default=8, ge=1, le=64)  # requests `slack serve` handles at once
    api_url: str | None = None  # the Web API's base URL; only for proxies and tests
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=0, le=65535)
    path: str = "/slack/events"
    max_suggestion_chars: int = Field(default=3000, ge=10, le=3000)
    rate_limit_retries: int = Field(default=2, ge=0)

    @field_validator("people")
    @classmethod
    def _ids_or_emails(cls, people: dict[str, str]) -> dict[str, str]:
        for person, value in people.items():
            if not SLACK_ID.match(value) and not EMAIL.match(value):
                raise ValueError(
                    f"{person} = {value!r} is neither a Slack user id (U0123ABCD: profile > ... > Copy member ID) "
                    "nor an email address"
                )
        return people


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


def people_hint(person: str, user: str = "U...") -> str:
    """How to map a person to a Slack user, in the inline-table form README shows (`people = { ... }`)."""
    return f"add {json.dumps(person)} = {json.dumps(user)} to people = {{ ... }} in [slack]"


def directory(options: SlackOptions, client: Callable[[], WebClient] | None) -> Directory:
    """The directory `[slack]` describes, asking Slack through `client` about people it does not map."""
    return Directory(options.people, email_domain=options.email_domain, client=client)


class Directory:
    """Maps people (names used in [roles]) to Slack user ids and back.

    A person is found by the Slack id `[slack] people` gives; else by email address (`people` may give one, a name
    may be one, or `email_domain` makes one of the name) with `users.lookupByEmail`. Answers, "no such user"
    included, are kept for `cache_seconds`: a cache only of what Slack says, so two replicas that disagree for a
    while still act the same way on the data (which lives in the store). When Slack cannot answer, nothing is kept.
    """

    def __init__(
        self,
        people: dict[str, str],
        *,
        email_domain: str | None = None,
        client: Callable[[], WebClient] | None = None,
        cache_seconds: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.to_slack = {p: u for p, u in people.items() if SLACK_ID.match(u)}
        self.emails = {p: e.strip().lower() for p, e in people.items() if "@" in e}
        self.to_person = {user: person for person, user in self.to_slack.items()}
        self.email_domain = (email_domain or "").strip().lstrip("@").lower() or None
        self._client = client
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._by_email: dict[str, tuple[float, str | None]] = {}  # email -> (when, user id or None)
        self._by_user: dict[str, tuple[float, str]] = {}  # user id -> (when, person)

    def email(self, person: str) -> str | None:
        """The address to look a person up by, if there is one."""
        if person in self.emails:
            return self.emails[person]
        if "@" in person:
            return person.strip().lower()
        return f"{person.lower()}@{self.email_domain}" if self.email_domain else None

    def user(self, person: str) -> str | None:
        """The Slack user id of a person (a name that already is a Slack id is returned as is), or None when
        Slack has no user with their address or there is no address to ask about.

        Raises DirectoryError when Slack cannot answer (network, missing scope): that is not "no such user"."""
        if person in self.to_slack:
            return self.to_slack[person]
        if SLACK_ID.match(person):
            return person
        email = self.email(person)
        if email is None or self._client is None:
            return None
        cached = self._cached(self._by_email, email)
        if cached is not None:
            return cached[1]
        user = self._lookup(email)
        with self._lock:
            self._by_email[email] = (self._clock(), user)
            if user is not None:
                self._by_user[user] = (self._clock(), person)
        return user

    def person(self, user: str) -> str:
        """The person behind a Slack user id: mapped, found by email before, or by the email Slack shows for
        the user (`users.info`); the id itself when none of these names a person.

        Raises DirectoryError when Slack cannot answer: a guess kept for an hour would lock an approver out."""
        if user in self.to_person:
            return self.to_person[user]
        cached = self._cached(self._by_user, user)
        if cached is not None:
            return cached[1]
        person = self._person_by_email(user)
        with self._lock:
            self._by_user[user] = (self._clock(), person)
        return person

    def _cached(self, cache: dict[str, Any], key: str) -> Any:
        with self._lock:
            hit = cache.get(key)
        if hit is None or self._clock() - hit[0] > self._cache_seconds:
            return None
        return hit

    def _lookup(self, email: str) -> str | None:
        """users.lookupByEmail: the user id, or None when no user has the address."""
        assert self._client is not None
        try:
            answer = self._client().users_lookupByEmail(email=email)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in ("users_not_found", "user_not_found"):
                return None
            hint = " (add the users:read.email scope and reinstall the app)" if error == "missing_scope" else ""
            raise DirectoryError(f"Slack could not look up {email}: {error}{hint}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise DirectoryError(f"Slack could not look up {email}: {type(exc).__name__}") from None
        user = answer.get("user") or {}
        return None if user.get("deleted") else user.get("id")

    def is_mapped(self, user: str, person: str) -> bool:
        """Whether `person` (from `person(user)`) names someone rather than being the Slack id itself."""
        return person != user or user in self.to_person

    def _person_by_email(self, user: str) -> str:
        """The person whose address Slack shows for this user, else the user id."""
        if self._client is None or not (self.emails or self.email_domain):
            return user
        try:
            profile = (self._client().users_info(user=user).get("user") or {}).get("profile") or {}
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "user_not_found":  # an answer: no such user
                return user
            raise DirectoryError(f"Slack could not say who {user} is: {error}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise DirectoryError(f"Slack could not say who {user} is: {type(exc).__name__}") from None
        email = str(profile.get("email") or "").lower()
        for person, address in self.emails.items():
            if address == email:
                return person
        local, _, domain = email.partition("@")
        return local if local and self.email_domain and domain == self.email_domain else user


class DirectoryError(Exception):
    """Slack could not say who someone is (not the same as "no such user"); the message says why."""
