"""The Slack notifier: digests and announcements to a channel, everything personal as a direct message, with
buttons for sign-offs and acknowledgements.

Each message carries its outbox key as Slack message metadata. When a post's answer was lost (dropped
connection, timeout), the post is ambiguous; before trying again, the conversation's recent history is
searched for that key, so a message is never posted twice.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from reviewbot.connectors.registry import ConnectorContext
from reviewbot.connectors.slack.config import (
    CHANNEL_ID,
    SLACK_ID,
    DirectoryError,
    SlackOptions,
    directory,
    people_hint,
    slack_options,
    web_client,
)
from reviewbot.connectors.slack.views import (
    Shown,
    ack_button,
    fallback_text,
    message_blocks,
    move_picker,
    reopen_buttons,
    signoff_buttons,
)
from reviewbot.errors import ConfigError
from reviewbot.protocols import AmbiguousWrite, Check, Message

METADATA_EVENT = "reviewbot_message"
REOPEN_VERDICTS = ("no change", "worse")  # an impact message offers to reopen these tickets


class SlackNotifier:
    """Sends reviewbot's messages through the Slack Web API."""

    name = "slack"

    def __init__(self, options: SlackOptions, client: WebClient | Callable[[], WebClient]) -> None:
        self.options = options
        self._client = client
        self.directory = directory(options, lambda: self.client)

    @property
    def client(self) -> WebClient:
        """The Web API client, made on first use: a missing token only matters when there is something to send."""
        if not isinstance(self._client, WebClient):
            self._client = self._client()
        return self._client

    def send(self, message: Message) -> None:
        """Post the message to each recipient (or the channel), skipping any where it already arrived.

        Everyone who can be reached gets it; those who cannot (no Slack user, Slack refused) are reported together
        afterwards, so the outbox tries again for them only (the others' copies are found in their history)."""
        key = str(message.data.get("outbox_key", ""))
        targets, problems = self._targets(message)
        ambiguous: list[str] = []
        reached = 0
        for target in targets:
            try:
                if not (message.data.get("retry") and key and self._already_posted(target, key)):
                    self._post(target, message, key)
                reached += 1
            except AmbiguousWrite as exc:
                ambiguous.append(str(exc))
            except NotifierError as exc:
                problems.append(str(exc))
            except SlackApiError as exc:  # looking for an earlier copy failed: try this one again next time
                problems.append(f"Slack refused reading {target}'s history: {exc.response.get('error')}")
            except (OSError, http.client.HTTPException) as exc:
                problems.append(f"Slack unreachable reading {target}'s history: {type(exc).__name__}")
        if ambiguous:
            raise AmbiguousWrite("; ".join(ambiguous + problems))
        if problems:
            raise NotifierError(f"reached {reached} of {reached + len(problems)}: " + "; ".join(problems))

    def _targets(self, message: Message) -> tuple[list[str], list[str]]:
        """The conversations to post to, and why anyone cannot be reached."""
        if not message.recipients:
            if not self.options.channel:
                raise ConfigError(
                    "no Slack channel for digests and announcements",
                    field="slack.channel",
                    hint="set channel in [slack]",
                )
            return [self.options.channel], []
        targets, problems = [], []
        for person in dict.fromkeys(message.recipients):
            try:
                user = self.directory.user(person)
            except DirectoryError as exc:
                problems.append(str(exc))
                continue
            if user is None:
                problems.append(self._unknown(person))
            elif user not in targets:
                targets.append(user)
        return targets, problems

    def _unknown(self, person: str) -> str:
        """Why a person has no Slack user, and how to fix it."""
        email = self.directory.email(person)
        if email is None:
            return f"no Slack user for {person}: {people_hint(person)} (or their email), or set email_domain in [slack]"
        return f"no Slack user for {person}: Slack has no user with {email}; {people_hint(person)}"

    def _post(self, target: str, message: Message, key: str) -> None:
        try:
            self.client.chat_postMessage(
                channel=target,
                text=fallback_text(message.title, message.body),
                blocks=message_blocks(message.title, message.body, self._buttons(message), more_hint=_hint(message)),
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}},
                unfurl_links=False,
            )
        except SlackApiError as exc:
            raise NotifierError(f"Slack refused chat.postMessage to {target}: {exc.response.get('error')}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise AmbiguousWrite(
                f"chat.postMessage to {target}: {type(exc).__name__}; it may have been posted"
            ) from None

    @staticmethod
    def _buttons(message: Message) -> list[dict[str, Any]]:
        data = message.data
        sections = data.get("sections") or []
        if message.kind == "signoff_request" and data.get("ref"):
            ref = str(data["ref"])
            shown = Shown(ref, str(data.get("place") or ""), str(data.get("text_hash") or ""))
            return [signoff_buttons(shown), *([move_picker(ref, sections)] if sections else [])]
        if message.kind == "digest" and sections:  # a picker for each new ticket; message_blocks counts any left out
            return [move_picker(str(ticket["ref"]), sections) for ticket in data.get("created", [])]
        if message.kind == "impact":  # a change that did not help (by the tests) can be tried again
            refs = [str(t["ref"]) for t in data.get("tickets", []) if t.get("verdict") in REOPEN_VERDICTS]
            return reopen_buttons(refs)
        if message.kind == "ack_request" and data.get("document"):
            return [ack_button(str(data["document"]), int(data["version"]))]
        return []

    def _already_posted(self, target: str, key: str) -> bool:
        """True when the conversation's recent history holds a message with this outbox key."""
        channel = target
        if SLACK_ID.match(target):  # a user: find the direct-message channel
            channel = self.client.conversations_open(users=target)["channel"]["id"]
        history = self.client.conversations_history(channel=channel, limit=100, include_all_metadata=True)
        for item in history.get("messages", []):
            payload = (item.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == key:
                return True
        return False

    def check(self) -> list[Check]:
        """Reach Slack with the bot token (for `reviewbot doctor`)."""
        try:
            me = self.client.auth_test()
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            return [Check("Slack", False, f"auth.test failed: {error}", self._auth_hint(error))]
        except (OSError, http.client.HTTPException) as exc:
            return [Check("Slack", False, f"unreachable: {exc}", "check the network or api_url in [slack]")]
        checks = [Check("Slack", True, f"signed in as {me.get('user')} in {me.get('team')}")]
        missing = self._missing_scopes(me.headers)
        if missing:
            checks.append(
                Check(
                    "Slack scopes",
                    False,
                    f"the bot token lacks {', '.join(missing)}",
                    "add them at api.slack.com/apps > OAuth & Permissions (or paste the manifest of "
                    "`reviewbot slack manifest` again), reinstall the app and update the token",
                )
            )
        checks.append(self._check_channel())
        return checks

    def _auth_hint(self, error: str) -> str:
        """What to do about a failed auth.test: only some errors are the token's fault."""
        if error == "ratelimited":
            return "Slack is rate-limiting the app: run doctor again in a minute"
        if error in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
            return "Slack could not answer (status.slack.com): run doctor again later"
        if error in ("account_inactive", "token_revoked", "token_expired"):
            return f"the app was uninstalled or its token revoked: reinstall it and update {self.options.bot_token_env}"
        return f"check the token in {self.options.bot_token_env}"

    def _check_channel(self) -> Check:
        """Read the channel's latest message, as the outbox does before posting again: this needs its id (the Web
        API takes no names there) and the bot in the channel, which posting to it needs too. conversations.info
        would say as much but needs channels:read, a scope the app has no other use for."""
        channel = self.options.channel
        if not channel:
            return Check("Slack channel", False, "no channel for digests and announcements", "set channel in [slack]")
        where = "channel details > About, at the bottom"
        if not CHANNEL_ID.match(channel):
            return Check("Slack channel", False, f"{channel!r} is not a channel id", f"set channel to its id ({where})")
        try:
            self.client.conversations_history(channel=channel, limit=1)
        except SlackApiError as exc:
            error = exc.response.get("error")
            hints = {
                "not_in_channel": "invite the app: type /invite @reviewbot in the channel",
                "channel_not_found": f"check the id ({where}); for a private channel, invite the app first",
                "missing_scope": "add the channels:history scope (groups:history for a private channel), reinstall",
            }
            hint = hints.get(str(error), "check the channel in [slack]")
            return Check("Slack channel", False, f"cannot use {channel}: {error}", hint)
        except (OSError, http.client.HTTPException) as exc:
            return Check("Slack channel", False, f"unreachable: {exc}", "check the network or api_url in [slack]")
        return Check("Slack channel", True, f"posting to {channel}")

    def _missing_scopes(self, headers: dict[str, Any]) -> list[str]:
        """Scopes reviewbot needs that the token lacks, by Slack's x-oauth-scopes header (none when it is absent)."""
        granted = {k.lower(): v for k, v in (headers or {}).items()}.get("x-oauth-scopes")
        if granted is None:
            return []
        if isinstance(granted, list):  # slack_sdk keeps each header as a list of values
            granted = ",".join(granted)
        have = {scope.strip() for scope in str(granted).split(",")}
        needed = ["chat:write", "im:write", "im:history", "channels:history", "users:read"]
        if self.options.email_domain or self.directory.emails:
            needed.append("users:read.email")
        return [scope for scope in needed if scope not in have]


def _hint(message: Message) -> str:
    """Where to see or do what a message could not hold."""
    if message.kind == "digest":
        return (
            "See them with `reviewbot tickets list`; move a ticket with `reviewbot tickets move REF --section SECTION`."
        )
    return ""


class NotifierError(Exception):
    """Slack refused a message; the message says why."""


def make_slack_notifier(options: dict[str, Any], context: ConnectorContext) -> SlackNotifier:
    """Build the Slack notifier from `[slack]` (the `[notifier]` table only selects it)."""
    slack = slack_options(context.settings)
    return SlackNotifier(slack, lambda: web_client(context.settings, slack))
