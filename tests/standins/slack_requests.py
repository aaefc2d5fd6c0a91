"""Correctly signed Slack requests (commands, interactivity, events) sent over HTTP to a Bolt app, and a WSGI server."""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_sdk.signature import SignatureVerifier

from tests.standins.serving import Served

JSON = dict[str, Any]
FORM = "application/x-www-form-urlencoded"
EVENTS = "application/json"
# Fields Slack still sends in every payload; Bolt ignores the deprecated verification token.
VERIFICATION_TOKEN = "legacy-verification-token"
_sequence = itertools.count(1)
# Slack waits this long for the HTTP answer (the ack) to a command, an interaction or an event; a later answer is
# dropped (the person sees "operation_timeout" or "We had some trouble connecting"; a modal's errors are lost).
ACK_SECONDS = 3.0


class AckTooLate(AssertionError):
    """The app answered after Slack's three seconds: Slack would have dropped the answer."""


@dataclass
class Response:
    """What the app answered: status, headers (lower-case names), body text; `payload` is what was sent."""

    status: int
    headers: dict[str, str]
    body: str
    payload: JSON | None = field(default=None, repr=False)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def new_trigger_id() -> str:
    """A fresh trigger_id shaped like Slack's ("<n>.<n>.<hex>"), unique in this process."""
    return f"{next(_sequence)}{int(time.time())}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"


class SlackSender:
    """Sends what Slack would send to a Bolt app's request URL, signed with the app's signing secret."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        team: str = "T0TEST",
        team_domain: str = "example",
        api_app_id: str = "A0REVIEWBOT",
        bot_user: str = "U0BOT",
        response_urls: Callable[..., str] | None = None,
        timeout: float = 10.0,
        ack_seconds: float = ACK_SECONDS,
    ) -> None:
        self.app_url = app_url
        self.verifier = SignatureVerifier(signing_secret)
        self.clock = clock
        self.team = team
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.bot_user = bot_user
        # e.g. SlackApiStandIn.response_url, so respond() in the app lands in the stand-in instead of the internet.
        self.response_urls = response_urls
        self.timeout = timeout
        self.ack_seconds = ack_seconds
        # No proxies: an HTTP(S)_PROXY in the environment must not intercept requests to 127.0.0.1.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- raw

    def sign(self, body: bytes, timestamp: int) -> str:
        """The X-Slack-Signature value for a body: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
        signature = self.verifier.generate_signature(timestamp=str(timestamp), body=body)
        assert signature is not None
        return signature

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Response:
        """POST a raw body; signed for `timestamp` (default now) unless `signature` is given (forgery tests)."""
        stamp = int(self.clock()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": self.sign(body, stamp) if signature is None else signature,
            **(extra_headers or {}),
        }
        request = urllib.request.Request(self.app_url, data=body, headers=headers, method="POST")
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                response = Response(answer.status, _lower(answer.headers), answer.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            with error:
                response = Response(error.code, _lower(error.headers), error.read().decode("utf-8", "replace"))
        took = time.monotonic() - started
        if took > self.ack_seconds:
            raise AckTooLate(f"answered after {took:.1f} s; Slack drops an answer after {self.ack_seconds:g} s")
        return response

    def _form(self, fields: JSON) -> Response:
        """POST form fields (slash commands)."""
        response = self.post(urlencode(fields).encode(), FORM)
        response.payload = fields
        return response

    def _interactive(self, payload: JSON, headers: dict[str, str] | None = None) -> Response:
        """POST an interactivity payload: form-encoded `payload=<json>`."""
        response = self.post(urlencode({"payload": json.dumps(payload)}).encode(), FORM, extra_headers=headers)
        response.payload = payload
        return response

    # -- payload pieces

    def _user(self, user: str) -> JSON:
        """The `user` object of interactivity payloads."""
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team}

    def _team(self) -> JSON:
        """The `team` object of interactivity payloads."""
        return {"id": self.team, "domain": self.team_domain}

    def _response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        """A response_url from the factory, else a hooks.slack.com-shaped placeholder nothing answers on."""
        if self.response_urls is not None:
            return self.response_urls(channel, user, message_ts)
        return f"https://hooks.slack.com/commands/{self.team}/{next(_sequence)}/{secrets.token_hex(12)}"

    def _action_ts(self) -> str:
        """An action_ts / event_ts from the clock."""
        return f"{self.clock():.6f}"

    # -- requests

    def command(
        self,
        command: str,
        text: str,
        *,
        user: str,
        trigger_id: str | None = None,
        channel: str = "C0GENERAL",
        team: str | None = None,
        response_url: str | None = None,
    ) -> Response:
        """A slash command, form-encoded the way Slack sends it."""
        if not command.startswith("/"):
            raise ValueError(f"slash commands start with '/', got {command!r}")
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": team or self.team,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else channel.lower(),
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._response_url(channel, user),
            "trigger_id": trigger_id or new_trigger_id(),
        }
        return self._form(fields)

    def message_shortcut(
        self,
        callback_id: str,
        *,
        user: str,
        message_text: str,
        channel: str,
        message_ts: str,
        trigger_id: str | None = None,
        message_user: str | None = None,
        response_url: str | None = None,
    ) -> Response:
        """A message shortcut (`message_action`) on a message by `message_user` (default: `user`)."""
        payload = {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": self._action_ts(),
            "team": self._team(),
            "user": self._user(user),
            "channel": {"id": channel, "name": channel.lower()},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id or new_trigger_id(),
            "response_url": response_url or self._response_url(channel, user, message_ts),
            "message_ts": message_ts,
            "message": {
                "type": "message",
                "user": message_user or user,
                "ts": message_ts,
                "text": message_text,
                "team": self.team,
            },
        }
        return self._interactive(payload)

    def block_action(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str | None = None,
        message_ts: str | None = None,
        view: JSON | None = None,
        response_url: str | None = None,
        block_id: str = "actions",
        trigger_id: str | None = None,
        message: JSON | None = None,
        text: str = "Button",
        selected: JSON | None = None,
    ) -> Response:
        """A button click in a message (`channel` + `message_ts`) or in a modal / App Home (`view`); with
        `selected` (an option), a choice in a static select instead."""
        if channel is None and view is None:
            raise ValueError("a block action happens in a message (channel=...) or in a view (view=...)")
        payload: JSON = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id or new_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": {"type": "plain_text", "text": text, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": self._action_ts(),
                }
                if selected is None
                else {
                    "action_id": action_id,
                    "block_id": block_id,
                    "selected_option": copy.deepcopy(selected),
                    "placeholder": {"type": "plain_text", "text": text, "emoji": True},
                    "type": "static_select",
                    "action_ts": self._action_ts(),
                }
            ],
        }
        if view is not None:
            shown = copy.deepcopy(view)
            shown.setdefault("state", {"values": {}})
            payload["view"] = shown
            payload["container"] = {"type": "view", "view_id": shown.get("id")}
            payload["state"] = copy.deepcopy(shown["state"])
        if channel is not None:
            ts = message_ts or (message or {}).get("ts")
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel, "name": channel.lower()}
            payload["message"] = copy.deepcopy(message) or {
                "type": "message",
                "user": self.bot_user,
                "ts": ts,
                "text": "",
                "team": self.team,
            }
            payload["response_url"] = response_url or self._response_url(channel, user, ts)
        elif response_url is not None:
            payload["response_url"] = response_url
        return self._interactive(payload)

    def view_submission(
        self,
        callback_id: str,
        values: JSON,
        *,
        user: str,
        view_id: str | None = None,
        private_metadata: str = "",
        view: JSON | None = None,
        trigger_id: str | None = None,
        retry_num: int | None = None,
    ) -> Response:
        """A modal's submit; `values` in Slack's state shape {block_id: {action_id: {"type": ..., ...}}}; with
        `retry_num`, sent again as Slack does when the first answer was slow (X-Slack-Retry-Num)."""
        _check_state_values(values)
        shown: JSON = copy.deepcopy(view) if view is not None else {}
        shown_id = view_id or shown.get("id") or f"V0{next(_sequence):07X}"
        shown.update(
            {
                "id": shown_id,
                "team_id": self.team,
                "type": "modal",
                "callback_id": callback_id,
                "state": {"values": copy.deepcopy(values)},
                "app_id": self.api_app_id,
                "app_installed_team_id": self.team,
            }
        )
        # The view's own private_metadata wins only when the caller did not give one.
        shown["private_metadata"] = private_metadata or shown.get("private_metadata") or ""
        shown.setdefault("blocks", [])
        shown.setdefault("hash", f"{int(self.clock())}.{secrets.token_hex(4)}")
        shown.setdefault("title", {"type": "plain_text", "text": "Modal"})
        shown.setdefault("submit", {"type": "plain_text", "text": "Submit"})
        shown.setdefault("close", None)
        shown.setdefault("clear_on_close", False)
        shown.setdefault("notify_on_close", False)
        shown.setdefault("previous_view_id", None)
        shown.setdefault("root_view_id", shown_id)
        shown.setdefault("external_id", "")
        shown.setdefault("bot_id", "B0BOT")
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id or new_trigger_id(),
            "view": shown,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        headers = None
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self._interactive(payload, headers)

    def options_request(
        self,
        action_id: str,
        typed: str,
        *,
        user: str,
        block_id: str = "section",
        view: JSON | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> Response:
        """What Slack sends for an external_select's options as the person types (`block_suggestion`), from a
        modal (`view`) or a message (`channel`); the app answers with the options as JSON."""
        if (view is None) == (channel is None):
            raise ValueError("an options request comes from a view (view=...) or a message (channel=...)")
        payload: JSON = {
            "type": "block_suggestion",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "action_id": action_id,
            "block_id": block_id,
            "value": typed,
        }
        if view is not None:
            payload["view"] = copy.deepcopy(view)
            payload["container"] = {"type": "view", "view_id": view.get("id")}
        else:
            payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel}
            payload["channel"] = {"id": channel, "name": str(channel).lower()}
        return self._interactive(payload)

    def event(
        self,
        event: JSON,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> Response:
        """An Events API `event_callback`; X-Slack-Retry-Num / -Reason headers when given (Slack's redelivery)."""
        if not event.get("type"):
            raise ValueError("an event needs a type")
        inner = copy.deepcopy(event)
        inner.setdefault("event_ts", self._action_ts())
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team,
            "api_app_id": self.api_app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_sequence):08d}{secrets.token_hex(2).upper()}",
            "event_time": int(self.clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team,
                    "user_id": self.bot_user,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(16)}",
        }
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
        if retry_reason is not None:
            headers["X-Slack-Retry-Reason"] = retry_reason
        response = self.post(json.dumps(payload).encode(), EVENTS, extra_headers=headers)
        response.payload = payload
        return response

    def url_verification(self, challenge: str = "challenge-token") -> Response:
        """The handshake Slack sends when the Events request URL is saved; Bolt echoes the challenge."""
        payload = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        response = self.post(json.dumps(payload).encode(), EVENTS)
        response.payload = payload
        return response


def _lower(headers: Any) -> dict[str, str]:
    """Response headers keyed by lower-case name."""
    return {name.lower(): value for name, value in headers.items()}


def _check_state_values(values: Any) -> None:
    """Fail at the test's line when view_submission values are not {block_id: {action_id: {"type": ...}}}."""
    if not isinstance(values, dict):
        raise ValueError("values must be {block_id: {action_id: {'type': ..., 'value': ...}}}")
    for block_id, actions in values.items():
        if not isinstance(actions, dict) or not actions:
            raise ValueError(f"values[{block_id!r}] must map action ids to element states")
        for action_id, state in actions.items():
            if not isinstance(state, dict) or not isinstance(state.get("type"), str):
                raise ValueError(f"values[{block_id!r}][{action_id!r}] needs a 'type', e.g. 'plain_text_input'")


# --- serving a WSGI app (e.g. slack_bolt.adapter.wsgi.SlackRequestHandler) -----------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server with a thread per request, as a real deployment would overlap requests."""

    daemon_threads = True
    block_on_close = False


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr; TCP_NODELAY because wsgiref writes headers and body separately."""

    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the access log."""


class WsgiServer(Served):
    """A WSGI app served over HTTP on 127.0.0.1:<free port> in a daemon thread."""

    name = "WSGI server"

    def __init__(self, app: Callable[..., Any]) -> None:
        super().__init__()
        self.app = app

    def _bind(self) -> _ThreadingWSGIServer:
        # wsgiref closes each connection after one response: there are no idle connections to cut on stop()
        return make_server("127.0.0.1", 0, self.app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
