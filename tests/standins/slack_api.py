"""A local Slack Web API stand-in on 127.0.0.1 for the real `slack_sdk.WebClient(base_url=...)`; stdlib only."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from tests.standins.serving import Served, TrackedHandler, TrackingServer

JSON = dict[str, Any]

DOMAIN = "example"  # workspace subdomain used in auth.test and permalinks
BOT_ID = "B0BOT"
APP_ID = "A0REVIEWBOT"
# Slack's documented limits; exceeding them is a classic production-only failure, so the stand-in enforces them.
MAX_TEXT = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_PRIVATE_METADATA = 3000
MAX_TITLE = 24
MAX_ID_LENGTH = 255
MAX_SECTION_TEXT = 3000
MAX_HEADER = 150
MAX_OPTIONS = 100  # per static select, per option group, and per options-load answer
MAX_OPTION_GROUPS = 100
MAX_OPTION_TEXT = 75  # an option's text, an option group's label
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
RESPONSE_URL_USES = 5  # a response_url takes at most five posts
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
FAULT_KINDS = ("429", "drop_after_write", "drop_before", "error")


@dataclass
class SlackFault:
    """One injected failure for calls to `method` (a Web API method name, "response_url", or "*")."""

    method: str
    kind: Literal["429", "drop_after_write", "drop_before", "error"]
    retry_after: int = 1  # seconds, sent as Retry-After on a 429
    error: str = "internal_error"  # for kind "error": answered as 200 {"ok": false, "error": error}
    times: int = 1

    def __post_init__(self) -> None:
        """Fail at the test's line, not as a fault that silently never fires."""
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.times < 1:
            raise ValueError("times must be >= 1")
        # slack_sdk does int() on Retry-After, so only whole seconds are meaningful.
        if not isinstance(self.retry_after, int) or self.retry_after < 0:
            raise ValueError("retry_after must be a whole number of seconds >= 0")


@dataclass
class Call:
    """One request the stand-in received: method name, parsed arguments (token removed) and bearer token."""

    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class _Response:
    """What the handler writes back: status, body (dict as JSON, str as text) and extra headers."""

    status: int
    body: JSON | str
    headers: dict[str, str] = field(default_factory=dict)


class _SlackError(Exception):
    """An `{"ok": false, "error": ...}` answer raised from inside a method."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.body: JSON = {"ok": False, "error": error}
        if messages:
            # Slack explains schema failures this way, e.g. for invalid_arguments / invalid_blocks.
            self.body["response_metadata"] = {"messages": list(messages)}


def _truthy(value: Any) -> bool:
    """Slack booleans: JSON true, or "1"/"true" in forms (slack_sdk sends True as "1")."""
    return value is True or (isinstance(value, (str, int)) and str(value).lower() in ("1", "true"))


def _structured(args: JSON, name: str, error: str) -> Any:
    """An argument that is a list/dict in JSON bodies but a JSON-encoded string in form bodies."""
    value = args.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise _SlackError(error, f"[ERROR] {name} must be valid JSON [json-pointer:/{name}]") from None
    return value


def _ts_text(micros: int) -> str:
    """A Slack message timestamp, "seconds.micros" with six digits."""
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _ts_value(ts: Any) -> int | None:
    """Microseconds from a ts string, or None when it is not one."""
    if not isinstance(ts, (str, int, float)):
        return None
    match = re.fullmatch(r"(\d+)(?:\.(\d{1,6}))?", str(ts).strip())
    if match is None:
        return None
    return int(match.group(1)) * 1_000_000 + int((match.group(2) or "0").ljust(6, "0"))


def _time_window(args: JSON) -> Callable[[str], bool]:
    """The `oldest`, `latest` and `inclusive` arguments of conversations.history and .replies, as a test of a ts."""
    oldest = _ts_value(args.get("oldest") or "0")
    latest = _ts_value(args["latest"]) if args.get("latest") else None
    if oldest is None or (args.get("latest") and latest is None):
        raise _SlackError("invalid_ts_oldest" if oldest is None else "invalid_ts_latest")
    inclusive = _truthy(args.get("inclusive"))

    def in_range(ts: str) -> bool:
        value = _ts_value(ts) or 0
        after = value >= oldest if inclusive else value > oldest
        return after and (latest is None or (value <= latest if inclusive else value < latest))

    return in_range


def _page(args: JSON, *, default: int, most: int) -> tuple[int, int]:
    """(offset, limit) from the `cursor` and `limit` arguments; Slack clamps the limit rather than failing."""
    try:
        limit = max(1, min(int(args.get("limit") or default), most))
    except (TypeError, ValueError):
        raise _SlackError("invalid_limit") from None
    if not args.get("cursor"):
        return 0, limit
    try:
        return int(base64.b64decode(str(args["cursor"]), validate=True).decode().removeprefix("offset:")), limit
    except (ValueError, binascii.Error):
        raise _SlackError("invalid_cursor") from None


def _with_next_page(result: JSON, end: int, total: int) -> JSON:
    """A page's result with has_more, and the cursor of the next page when there is one."""
    result["has_more"] = end < total
    if result["has_more"]:
        result["response_metadata"] = {"next_cursor": base64.b64encode(f"offset:{end}".encode()).decode()}
    return result


def shown_text(mrkdwn: str) -> str:
    """What people read from mrkdwn: `<target|label>` as the label (`<target>` as the target, `<@U1>` as @U1,
    `<!here>` as @here), and only then `&lt;`, `&gt;`, `&amp;` as the characters; so unescaped text is garbled."""

    def link(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith(("@", "!")):
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        return label or target

    return re.sub(r"<([^<>]*)>", link, mrkdwn).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- Block Kit limits (docs.slack.dev/reference/block-kit), checked on every message and view --------------------


def _too_long(value: Any, limit: int, where: str) -> list[str]:
    """A problem when a string is over `limit` characters."""
    if isinstance(value, str) and len(value) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}]"]
    return []


def _text_problems(obj: Any, limit: int, where: str, *, plain: bool = False) -> list[str]:
    """A text object: the right type, not empty, within `limit`."""
    if not isinstance(obj, dict) or obj.get("type") not in (("plain_text",) if plain else ("plain_text", "mrkdwn")):
        return [f"[ERROR] must be a {'plain_text' if plain else 'text'} object [json-pointer:{where}]"]
    if not isinstance(obj.get("text"), str) or not obj["text"]:
        return [f"[ERROR] must be at least 1 character [json-pointer:{where}/text]"]
    return _too_long(obj["text"], limit, f"{where}/text")


def _option_problems(option: Any, where: str) -> list[str]:
    """An option: plain_text of at most 75 characters, a value of at most 150."""
    if not isinstance(option, dict):
        return [f"[ERROR] must be an option object [json-pointer:{where}]"]
    return _text_problems(option.get("text"), MAX_OPTION_TEXT, f"{where}/text", plain=True) + _too_long(
        option.get("value"), MAX_OPTION_VALUE, f"{where}/value"
    )


def _select_problems(element: JSON, where: str) -> list[str]:
    """static_select: options or option_groups (not both), 100 at most, and an initial_option among them."""
    options, groups = element.get("options"), element.get("option_groups")
    if element["type"] != "static_select":
        return []
    if (options is None) == (groups is None):
        return [f"[ERROR] must provide exactly one of options or option_groups [json-pointer:{where}]"]
    problems: list[str] = []
    every: list[Any] = []
    if options is not None:
        if not options or len(options) > MAX_OPTIONS:
            problems.append(f"[ERROR] must provide 1 to {MAX_OPTIONS} items [json-pointer:{where}/options]")
        every = list(options)
    else:
        if not groups or len(groups) > MAX_OPTION_GROUPS:
            problems.append(f"[ERROR] must provide 1 to {MAX_OPTION_GROUPS} items [json-pointer:{where}/option_groups]")
        for g, group in enumerate(groups or []):
            at = f"{where}/option_groups/{g}"
            problems += _text_problems(group.get("label"), MAX_OPTION_TEXT, f"{at}/label", plain=True)
            group_options = group.get("options") or []
            if not group_options or len(group_options) > MAX_OPTIONS:
                problems.append(f"[ERROR] must provide 1 to {MAX_OPTIONS} items [json-pointer:{at}/options]")
            every += group_options
    for o, option in enumerate(every):
        problems += _option_problems(option, f"{where}/options/{o}")
    initial = element.get("initial_option")
    if initial is not None and not any(isinstance(o, dict) and o.get("value") == initial.get("value") for o in every):
        problems.append(f"[ERROR] initial_option must be one of the options [json-pointer:{where}/initial_option]")
    return problems


def _element_problems(element: Any, where: str) -> list[str]:
    """An interactive element: buttons and selects within their limits."""
    if not isinstance(element, dict) or not element.get("type"):
        return [f"[ERROR] must be an element [json-pointer:{where}]"]
    problems = _too_long(element.get("action_id"), MAX_ID_LENGTH, f"{where}/action_id")
    if element["type"] == "button":
        problems += _text_problems(element.get("text"), MAX_BUTTON_TEXT, f"{where}/text", plain=True)
        problems += _too_long(element.get("value"), MAX_BUTTON_VALUE, f"{where}/value")
    elif element["type"].endswith("_select"):
        problems += _text_problems(element.get("placeholder"), MAX_PLACEHOLDER, f"{where}/placeholder", plain=True)
        problems += _select_problems(element, where)
    return problems


def _block_problems(block: JSON, where: str) -> list[str]:
    """One block against Slack's documented limits (the kinds reviewbot sends)."""
    kind = block["type"]
    problems = _too_long(block.get("block_id"), MAX_ID_LENGTH, f"{where}/block_id")
    if kind == "section":
        if block.get("text") is None and not block.get("fields"):
            problems.append(f"[ERROR] must provide text or fields [json-pointer:{where}]")
        if block.get("text") is not None:
            problems += _text_problems(block["text"], MAX_SECTION_TEXT, f"{where}/text")
        if len(block.get("fields") or []) > 10:
            problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{where}/fields]")
        if block.get("accessory") is not None:
            problems += _element_problems(block["accessory"], f"{where}/accessory")
    elif kind == "header":
        problems += _text_problems(block.get("text"), MAX_HEADER, f"{where}/text", plain=True)
    elif kind == "context":
        elements = block.get("elements") or []
        if not elements or len(elements) > 10:
            problems.append(f"[ERROR] must provide 1 to 10 items [json-pointer:{where}/elements]")
        for e, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
                problems += _text_problems(element, MAX_SECTION_TEXT, f"{where}/elements/{e}")
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > 25:
            problems.append(f"[ERROR] must provide 1 to 25 items [json-pointer:{where}/elements]")
        for e, element in enumerate(elements):
            problems += _element_problems(element, f"{where}/elements/{e}")
    elif kind == "input":
        problems += _text_problems(block.get("label"), 2000, f"{where}/label", plain=True)
        problems += _element_problems(block.get("element"), f"{where}/element")
    return problems


# --- HTTP plumbing ------------------------------------------------------------------------------------------------


class _Handler(TrackedHandler):
    """Reads one request, lets the stand-in answer it, writes the answer (or drops the connection)."""

    server_version = "slack-standin"

    def do_GET(self) -> None:
        """Serve GET (Slack accepts GET with query arguments for any method)."""
        self._serve()

    def do_POST(self) -> None:
        """Serve POST."""
        self._serve()

    def _serve(self) -> None:
        """Read the body, get the answer, write it or hang up without a byte."""
        length = int(self.headers.get("Content-Length") or 0)
        # Read the body even for a drop: closing with unread data sends RST instead of the clean EOF a proxy gives.
        raw = self.rfile.read(length) if length else b""
        try:
            response = self.server.standin._answer(self.path, self.headers, raw)
        except Exception as exc:  # a stand-in bug must not look like a network fault to the client under test
            self.server.standin.errors.append(f"{self.path}: {exc!r}")
            response = _Response(500, {"ok": False, "error": "fatal_error"})
        if response is None:
            self.close_connection = True
            return
        if isinstance(response.body, str):
            payload = response.body.encode()
            content_type = "text/html"
        else:
            payload = json.dumps(response.body).encode()
            content_type = "application/json; charset=utf-8"
        self.send_response(response.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-slack-req-id", secrets.token_hex(16))
        if self.server.standin.scopes is not None:  # as Slack does on every Web API answer
            self.send_header("x-oauth-scopes", ",".join(self.server.standin.scopes))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


# --- the stand-in -------------------------------------------------------------------------------------------------


class SlackApiStandIn(Served):
    """The Slack Web API methods reviewbot uses, plus response_url hooks, over HTTP on 127.0.0.1."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        team: str = "T0TEST",
        bot_user: str = "U0BOT",
        users: dict[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        scopes: list[str] | None = None,
        rate_limits: dict[str, int] | None = None,
        channels: dict[str, list[str]] | None = None,
    ) -> None:
        self.bot_token = bot_token
        # channel id -> its members; None: every channel id exists with the bot in it. With a dict, an unknown id is
        # channel_not_found and a channel without the bot is not_in_channel for posting and reading, as in Slack.
        self.channels = channels
        # method -> calls allowed per conversation per second (of `clock`); more are answered 429, Retry-After: 1
        self.rate_limits = dict(rate_limits or {})
        self._recent_calls: dict[tuple[str, str], list[float]] = {}
        # The bot token's scopes, sent as x-oauth-scopes; None sends no header.
        self.scopes = scopes
        self.team = team
        self.bot_user = bot_user
        # With no directory every well-formed user id exists; with one, unknown ids fail as in a real workspace.
        self.open_directory = users is None
        self.users: dict[str, str] = dict(users or {})
        self.clock = clock
        self.calls: list[Call] = []
        self.faults: list[SlackFault] = []
        self.messages: list[JSON] = []
        self.views: dict[str, JSON] = {}
        self.home: dict[str, JSON] = {}
        self.errors: list[str] = []  # unexpected exceptions inside the stand-in (answered with 500 fatal_error)
        super().__init__()
        self._lock = threading.RLock()
        self._last_ts = 0
        self._sequence = 0
        self._used_triggers: set[str] = set()
        self._expired_triggers: set[str] = set()
        self._external_ids: dict[str, str] = {}  # external_id -> view id
        self._home_ids: dict[str, str] = {}  # user id -> that user's App Home view id
        self._hooks: dict[str, JSON] = {}  # response_url token -> {"channel", "user", "message_ts", "uses"}
        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    # -- lifecycle

    name = "Slack stand-in"

    @property
    def url(self) -> str:
        """The base_url for WebClient: http://127.0.0.1:<port>/api/ (the trailing slash matters to slack_sdk)."""
        return f"{self.root}/api/"

    def _bind(self) -> TrackingServer:
        return TrackingServer(self, _Handler)

    # -- helpers for tests

    def calls_to(self, method: str) -> list[Call]:
        """Calls received for one method name (faulted ones included)."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def dm_channel(self, user: str) -> str:
        """The bot's DM channel id with a user (stable: D + the user id without its first letter)."""
        return "D" + user[1:]

    def channel_messages(self, channel: str) -> list[JSON]:
        """Stored messages visible in a channel (no ephemerals), oldest first, thread replies included."""
        with self._lock:
            return [m for m in self.messages if m["channel"] == channel and not m["ephemeral"]]

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str,
        thread_ts: str | None = None,
        subtype: str | None = None,
        bot_id: str | None = None,
    ) -> str:
        """A person (or, with bot_id, an integration) posted in a channel; returns its ts.

        `subtype` marks system messages such as "channel_join", or "thread_broadcast" for a reply also sent to the
        channel.
        """
        with self._lock:
            extra = {k: v for k, v in (("subtype", subtype), ("bot_id", bot_id)) if v}
            message = self._store(
                channel, text=text, blocks=None, metadata=None, user=user, thread_ts=thread_ts, **extra
            )
            return message["ts"]

    def expire_trigger(self, trigger_id: str) -> None:
        """Make a trigger_id stale, as after Slack's 3 seconds: views.open/push answer expired_trigger_id."""
        with self._lock:
            self._expired_triggers.add(trigger_id)

    def response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        """A response_url for an interaction in `channel` by `user` (on message `message_ts`, for replace/delete)."""
        with self._lock:
            token = f"{self._next():06d}/{secrets.token_hex(12)}"
            self._hooks[token] = {"channel": channel, "user": user, "message_ts": message_ts, "uses": 0}
        return f"{self.root}/hooks/commands/{self.team}/{token}"

    # -- request handling

    def _answer(self, target: str, headers: Any, raw: bytes) -> _Response | None:
        """Log, apply faults, authenticate and route one request; None means hang up without answering."""
        parts = urlsplit(target)
        args = self._parse_args(headers.get("Content-Type") or "", raw, parts.query)
        token = None
        scheme, _, credentials = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            token = credentials.strip()
        # Slack also takes the token as an argument; never keep it in the recorded args.
        body_token = args.pop("token", None)
        if token is None and isinstance(body_token, str) and body_token:
            token = body_token
        hook = re.fullmatch(r"/hooks/commands/[^/]+/(.+)", parts.path)
        if hook is not None:
            method = "response_url"
        elif parts.path.startswith("/api/"):
            method = parts.path[len("/api/") :]
        else:
            return _Response(404, "Not Found")
        with self._lock:
            self.calls.append(Call(method, args, None if hook else token))
            fault = self._take_fault(method)
            if fault is None and not hook and self._over_rate_limit(method, args):
                fault = SlackFault(method, "429", retry_after=1)
        if fault is not None and fault.kind == "429":
            # Rate limited calls are not processed at all; Slack says so with a 429 and Retry-After.
            body: JSON | str = "rate_limited" if hook else {"ok": False, "error": "ratelimited"}
            return _Response(429, body, {"Retry-After": str(fault.retry_after)})
        if fault is not None and fault.kind == "drop_before":
            return None
        if fault is not None and fault.kind == "error":
            return _Response(500, fault.error) if hook else _Response(200, {"ok": False, "error": fault.error})
        with self._lock:
            response = self._respond_hook(hook.group(1), args) if hook else self._call(method, args, token)
        if fault is not None and fault.kind == "drop_after_write":
            return None
        return response

    def _over_rate_limit(self, method: str, args: JSON) -> bool:
        """Whether this call goes over `rate_limits`: more calls of the method to one channel within a second
        of the clock than allowed (Slack's chat.postMessage allows about one per second per channel)."""
        allowed = self.rate_limits.get(method)
        if allowed is None:
            return False
        now = self.clock()
        key = (method, str(args.get("channel") or args.get("user_id") or args.get("email") or ""))
        recent = [t for t in self._recent_calls.get(key, []) if now - t < 1.0]
        if len(recent) >= allowed:
            self._recent_calls[key] = recent
            return True
        self._recent_calls[key] = [*recent, now]
        return False

    def _take_fault(self, method: str) -> SlackFault | None:
        """The first live fault matching this method, with one use spent."""
        for fault in self.faults:
            if fault.times > 0 and fault.method in ("*", method):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _parse_args(content_type: str, raw: bytes, query: str) -> JSON:
        """Arguments from the query string plus a JSON or form body (last value wins, as Slack does)."""
        args: JSON = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
        if not raw:
            return args
        mime = content_type.split(";")[0].strip().lower()
        if mime == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                return {**args, "__invalid_json__": True}
            if isinstance(body, dict):
                args.update(body)
            return args
        if mime == "application/x-www-form-urlencoded":
            form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            args.update({key: values[-1] for key, values in form.items()})
        return args

    def _call(self, method: str, args: JSON, token: str | None) -> _Response:
        """Authenticate and dispatch a Web API method; Slack answers HTTP 200 with ok=false for API errors."""
        try:
            if args.pop("__invalid_json__", False):
                raise _SlackError("invalid_json")
            if method not in self._methods:
                raise _SlackError("unknown_method")
            if token is None:
                raise _SlackError("not_authed")
            if token != self.bot_token:
                raise _SlackError("invalid_auth")
            return _Response(200, {"ok": True, **self._methods[method](args)})
        except _SlackError as error:
            return _Response(200, error.body)

    # -- ids and storage

    def _next(self) -> int:
        """A fresh sequence number for ids."""
        self._sequence += 1
        return self._sequence

    def _new_ts(self) -> str:
        """A message ts from the clock, strictly increasing even when the clock stands still."""
        self._last_ts = max(int(self.clock() * 1_000_000), self._last_ts + 1)
        return _ts_text(self._last_ts)

    def _known_user(self, user: str) -> bool:
        """Whether a user id exists in this workspace."""
        return user == self.bot_user or user in self.users or (self.open_directory and bool(USER_ID.fullmatch(user)))

    def _channel(self, value: Any) -> str:
        """A conversation id from a `channel` argument; a user id means the bot's DM with that user."""
        if isinstance(value, str) and CHANNEL_ID.fullmatch(value):
            return value
        if isinstance(value, str) and USER_ID.fullmatch(value) and self._known_user(value):
            return self.dm_channel(value)
        # Names like "#general" or "alice" are not ids; reviewbot must post to ids.
        raise _SlackError("channel_not_found")

    def _joined(self, value: Any) -> str:
        """A channel the bot may post to and read (direct messages always): its id, else Slack's error."""
        channel = self._channel(value)
        if self.channels is None or channel.startswith("D"):
            return channel
        if channel not in self.channels:
            raise _SlackError("channel_not_found")
        if self.bot_user not in self.channels[channel]:
            raise _SlackError("not_in_channel")
        return channel

    def _store(
        self, channel: str, *, text: str, blocks: Any, metadata: Any, user: str, thread_ts: str | None, **extra: Any
    ) -> JSON:
        """Append a message record; `user` is the author (the recipient, for ephemerals)."""
        message: JSON = {
            "channel": channel,
            "ts": self._new_ts(),
            "text": text,
            # Copies, so a test editing a stored message cannot rewrite the recorded call (or the reverse).
            "blocks": copy.deepcopy(blocks),
            "metadata": copy.deepcopy(metadata),
            "user": user,
            "thread_ts": thread_ts,
            "ephemeral": False,
            **extra,
        }
        self.messages.append(message)
        return message

    def _find(self, channel: str, ts: Any) -> JSON:
        """A visible message by channel and ts, else message_not_found."""
        for message in self.messages:
            if message["channel"] == channel and message["ts"] == ts and not message["ephemeral"]:
                return message
        raise _SlackError("message_not_found")

    def _render(self, message: JSON, *, metadata: bool = True) -> JSON:
        """A stored message as the Web API shows it (bot posts carry bot_id/app_id and bot_profile)."""
        out: JSON = {"type": "message", "user": message["user"], "text": message["text"], "ts": message["ts"]}
        if message["user"] == self.bot_user:
            out["bot_id"] = BOT_ID
            out["app_id"] = APP_ID
            out["bot_profile"] = {"id": BOT_ID, "app_id": APP_ID, "name": "reviewbot", "team_id": self.team}
        out["team"] = self.team
        if message.get("subtype"):
            out["subtype"] = message["subtype"]
        if message.get("bot_id"):
            out["bot_id"] = message["bot_id"]
        if message["blocks"]:
            out["blocks"] = copy.deepcopy(message["blocks"])
        if message.get("edited"):
            out["edited"] = dict(message["edited"])
        if message["thread_ts"]:
            out["thread_ts"] = message["thread_ts"]
        replies = [m for m in self.messages if m["thread_ts"] == message["ts"] and m is not message]
        if replies and not message["thread_ts"]:
            out["thread_ts"] = message["ts"]
            out["reply_count"] = len(replies)
            out["latest_reply"] = replies[-1]["ts"]
        if metadata and message["metadata"] is not None:
            out["metadata"] = copy.deepcopy(message["metadata"])
        return out

    def _message_content(self, args: JSON, *, required: bool = True) -> tuple[str, Any, Any]:
        """Validated text, blocks and metadata from chat.* arguments."""
        text = args.get("text")
        text = "" if text is None else str(text)
        blocks = _structured(args, "blocks", "invalid_blocks_format")
        if blocks is not None:
            if not isinstance(blocks, list) or not all(isinstance(b, dict) and b.get("type") for b in blocks):
                raise _SlackError("invalid_blocks_format")
            if len(blocks) > MAX_MESSAGE_BLOCKS:
                raise _SlackError("invalid_blocks", f"[ERROR] no more than {MAX_MESSAGE_BLOCKS} items allowed")
            self._check_block_ids(blocks, "invalid_blocks")
        attachments = _structured(args, "attachments", "invalid_attachments")
        if required and not text and not blocks and not attachments:
            raise _SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise _SlackError("msg_too_long")
        metadata = _structured(args, "metadata", "invalid_metadata_format")
        if metadata is not None and (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not metadata["event_type"]
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise _SlackError("invalid_metadata_format")
        return text, blocks, metadata

    @staticmethod
    def _check_block_ids(blocks: list[JSON], error: str) -> None:
        """Slack rejects two blocks with the same block_id, and any block or element over its documented limits."""
        seen: set[str] = set()
        problems: list[str] = []
        for index, block in enumerate(blocks):
            block_id = block.get("block_id")
            problems += _block_problems(block, f"/blocks/{index}")
            if block_id is None:
                continue
            if block_id in seen:
                raise _SlackError(error, f"[ERROR] duplicate block_id {block_id!r} [json-pointer:/blocks/{index}]")
            seen.add(block_id)
        if problems:
            raise _SlackError(error, *problems)

    # -- methods: auth, users

    def _auth_test(self, args: JSON) -> JSON:
        """auth.test: who the token belongs to."""
        return {
            "url": f"https://{DOMAIN}.slack.com/",
            "team": "Example",
            "user": "reviewbot",
            "team_id": self.team,
            "user_id": self.bot_user,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _user_record(self, user: str) -> JSON:
        """users.info's user object."""
        display = "reviewbot" if user == self.bot_user else self.users.get(user, user.lower())
        name = re.sub(r"\s+", ".", display.strip().lower()) or user.lower()
        record: JSON = {
            "id": user,
            "team_id": self.team,
            "name": name,
            "deleted": False,
            "real_name": display,
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": {
                "real_name": display,
                "real_name_normalized": display,
                "display_name": display,
                "display_name_normalized": display,
                "team": self.team,
            },
            "is_admin": False,
            "is_owner": False,
            "is_bot": user == self.bot_user,
            "is_app_user": False,
            "updated": 1700000000,
        }
        if user == self.bot_user:
            record["profile"]["bot_id"] = BOT_ID
        else:
            record["profile"]["email"] = f"{name}@example.com"
        return record

    def _users_info(self, args: JSON) -> JSON:
        """users.info: user_not_found for ids not in the workspace."""
        user = args.get("user")
        if not isinstance(user, str) or not self._known_user(user):
            raise _SlackError("user_not_found")
        return {"user": self._user_record(user)}

    def _users_lookup_by_email(self, args: JSON) -> JSON:
        """users.lookupByEmail: matches the <name>@example.com address users.info shows."""
        email = str(args.get("email") or "").strip().lower()
        for user in self.users:
            record = self._user_record(user)
            if record["profile"].get("email") == email:
                return {"user": record}
        raise _SlackError("users_not_found")

    # -- methods: chat

    def _chat_post_message(self, args: JSON) -> JSON:
        """chat.postMessage: to a channel id the bot is in, or to a user id (answered with the DM's D channel)."""
        channel = self._joined(args.get("channel"))
        text, blocks, metadata = self._message_content(args)
        thread_ts = args.get("thread_ts") or None
        message = self._store(
            channel, text=text, blocks=blocks, metadata=metadata, user=self.bot_user, thread_ts=thread_ts
        )
        return {"channel": channel, "ts": message["ts"], "message": self._render(message)}

    def _chat_post_ephemeral(self, args: JSON) -> JSON:
        """chat.postEphemeral: seen only by `user`; never in history."""
        channel = self._channel(args.get("channel"))
        user = args.get("user")
        if not isinstance(user, str) or not user:
            raise _SlackError("user_not_in_channel")
        if not self._known_user(user):
            raise _SlackError("user_not_found")
        text, blocks, _ = self._message_content(args)
        message = self._store(
            channel,
            text=text,
            blocks=blocks,
            metadata=None,
            user=user,
            thread_ts=args.get("thread_ts") or None,
            ephemeral=True,
        )
        return {"message_ts": message["ts"]}

    def _chat_update(self, args: JSON) -> JSON:
        """chat.update: only the bot's own messages; absent fields keep their value."""
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("ts"))
        if message["user"] != self.bot_user:
            raise _SlackError("cant_update_message")
        text, blocks, metadata = self._message_content(args, required=False)
        if "text" in args:
            message["text"] = text
        if "blocks" in args:
            message["blocks"] = copy.deepcopy(blocks)
        if "metadata" in args:
            message["metadata"] = copy.deepcopy(metadata)
        message["edited"] = {"user": self.bot_user, "ts": self._new_ts()}
        return {"channel": channel, "ts": message["ts"], "text": message["text"], "message": self._render(message)}

    def _chat_get_permalink(self, args: JSON) -> JSON:
        """chat.getPermalink: https://<domain>.slack.com/archives/<channel>/p<ts without the dot>."""
        channel = self._channel(args.get("channel"))
        message = self._find(channel, args.get("message_ts"))
        permalink = f"https://{DOMAIN}.slack.com/archives/{channel}/p{message['ts'].replace('.', '')}"
        if message["thread_ts"] and message["thread_ts"] != message["ts"]:
            permalink += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": permalink}

    # -- methods: conversations

    def _conversations_open(self, args: JSON) -> JSON:
        """conversations.open: one user -> the DM's D id; several -> a group DM's G id."""
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            if args.get("channel"):
                return {"channel": {"id": self._channel(args["channel"])}, "no_op": True, "already_open": True}
            raise _SlackError("users_list_not_supplied")
        for user in users:
            if not self._known_user(user):
                raise _SlackError("user_not_found")
        channel_id = self.dm_channel(users[0]) if len(users) == 1 else "G" + "".join(u[1:] for u in sorted(users))
        channel: JSON = {"id": channel_id}
        if _truthy(args.get("return_im")):
            channel.update({"created": 1700000000, "is_im": len(users) == 1, "is_org_shared": False})
            if len(users) == 1:
                channel["user"] = users[0]
        return {"channel": channel}

    def _conversations_history(self, args: JSON) -> JSON:
        """conversations.history: top-level messages newest first; metadata only with include_all_metadata."""
        channel = self._joined(args.get("channel"))
        in_range = _time_window(args)
        offset, limit = _page(args, default=100, most=999)
        top_level = [
            m
            for m in self.channel_messages(channel)
            if (not m["thread_ts"] or m["thread_ts"] == m["ts"] or m.get("subtype") == "thread_broadcast")
            and in_range(m["ts"])
        ]
        top_level.reverse()
        page = top_level[offset : offset + limit]
        with_metadata = _truthy(args.get("include_all_metadata"))
        result: JSON = {
            "messages": [self._render(m, metadata=with_metadata) for m in page],
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        return _with_next_page(result, offset + limit, len(top_level))

    def _conversations_replies(self, args: JSON) -> JSON:
        """conversations.replies: a thread oldest first, its parent always first on the first page; `oldest` and
        `latest` bound the replies; cursor pagination through response_metadata.next_cursor."""
        channel = self._joined(args.get("channel"))
        parent = self._find(channel, args.get("ts"))
        if parent["thread_ts"] and parent["thread_ts"] != parent["ts"]:
            parent = self._find(channel, parent["thread_ts"])  # the ts of a reply reaches its thread too
        in_range = _time_window(args)
        offset, limit = _page(args, default=1000, most=1000)
        replies = [
            m
            for m in self.channel_messages(channel)
            if m["thread_ts"] == parent["ts"] and m is not parent and in_range(m["ts"])
        ]
        # The parent leads the first page whatever `oldest` says, as Slack does; replies follow in order.
        thread = [parent, *replies]
        page = thread[offset : offset + limit]
        return _with_next_page({"messages": [self._render(m) for m in page]}, offset + limit, len(thread))

    # -- methods: views

    def _take_trigger(self, args: JSON) -> None:
        """A trigger_id works once, and not after it expired."""
        trigger_id = args.get("trigger_id")
        if not isinstance(trigger_id, str) or not trigger_id.strip():
            raise _SlackError("invalid_trigger_id")
        if trigger_id in self._expired_triggers:
            raise _SlackError("expired_trigger_id")
        if trigger_id in self._used_triggers:
            raise _SlackError("exchanged_trigger_id")
        self._used_triggers.add(trigger_id)

    def _check_view(self, args: JSON, kind: Literal["modal", "home"]) -> JSON:
        """The `view` argument, validated against the limits Slack enforces; invalid_arguments otherwise."""
        view = _structured(args, "view", "invalid_arguments")
        if not isinstance(view, dict):
            raise _SlackError("invalid_arguments", "[ERROR] missing required field: view")
        problems: list[str] = []
        if view.get("type") != kind:
            problems.append(f"[ERROR] must be '{kind}' here [json-pointer:/view/type]")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or not all(isinstance(b, dict) and b.get("type") for b in blocks):
            problems.append("[ERROR] missing required field: blocks [json-pointer:/view/blocks]")
            blocks = []
        elif len(blocks) > MAX_VIEW_BLOCKS:
            problems.append(f"[ERROR] no more than {MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]")
        if kind == "modal":
            for name in ("title", "submit", "close"):
                element = view.get(name)
                if element is None and name != "title":
                    continue
                if not isinstance(element, dict) or element.get("type") != "plain_text" or not element.get("text"):
                    problems.append(f"[ERROR] must be a plain_text element [json-pointer:/view/{name}]")
                elif len(element["text"]) > MAX_TITLE:
                    problems.append(f"[ERROR] must be less than {MAX_TITLE + 1} characters [json-pointer:/view/{name}]")
            if any(b.get("type") == "input" for b in blocks) and view.get("submit") is None:
                problems.append("[ERROR] submit is required when an input block is present [json-pointer:/view]")
        if len(str(view.get("private_metadata") or "")) > MAX_PRIVATE_METADATA:
            problems.append(
                f"[ERROR] must be less than {MAX_PRIVATE_METADATA + 1} characters [json-pointer:/view/private_metadata]"
            )
        for name in ("callback_id", "external_id"):
            if len(str(view.get(name) or "")) > MAX_ID_LENGTH:
                problems.append(f"[ERROR] must be less than {MAX_ID_LENGTH + 1} characters [json-pointer:/view/{name}]")
        if problems:
            raise _SlackError("invalid_arguments", *problems)
        self._check_block_ids(blocks, "invalid_arguments")
        return view

    def _build_view(self, view: JSON, view_id: str, *, root: str | None = None, previous: str | None = None) -> JSON:
        """A stored view as Slack returns it: the given definition plus id, hash, state and app fields."""
        built: JSON = {
            "id": view_id,
            "team_id": self.team,
            "type": view["type"],
            "blocks": copy.deepcopy(view["blocks"]),
            "private_metadata": str(view.get("private_metadata") or ""),
            "callback_id": str(view.get("callback_id") or ""),
            "state": {"values": {}},
            # A new hash on every change lets views.update's `hash` argument detect races.
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root or view_id,
            "previous_view_id": previous,
            "app_id": APP_ID,
            "external_id": str(view.get("external_id") or ""),
            "app_installed_team_id": self.team,
            "bot_id": BOT_ID,
        }
        if view["type"] == "modal":
            built["title"] = copy.deepcopy(view["title"])
            built["close"] = copy.deepcopy(view.get("close"))
            built["submit"] = copy.deepcopy(view.get("submit"))
        return built

    def _claim_external_id(self, view: JSON, view_id: str) -> None:
        """external_id must be unique in the team."""
        external_id = view.get("external_id")
        if not external_id:
            return
        owner = self._external_ids.get(external_id)
        if owner is not None and owner != view_id:
            raise _SlackError("duplicate_external_id")
        self._external_ids[external_id] = view_id

    def _new_view_id(self) -> str:
        """A fresh view id like V00000A1."""
        return f"V0{self._next():07X}"

    def _views_open(self, args: JSON) -> JSON:
        """views.open: a modal, with a trigger_id that works once."""
        view = self._check_view(args, "modal")
        self._take_trigger(args)
        view_id = self._new_view_id()
        self._claim_external_id(view, view_id)
        self.views[view_id] = self._build_view(view, view_id)
        return {"view": copy.deepcopy(self.views[view_id])}

    def _views_push(self, args: JSON) -> JSON:
        """views.push: like views.open (the stand-in does not track the stack, so no push_limit_reached)."""
        return self._views_open(args)

    def _views_update(self, args: JSON) -> JSON:
        """views.update: by view_id or external_id; a stale `hash` answers hash_conflict."""
        view_id = args.get("view_id") or self._external_ids.get(str(args.get("external_id") or ""))
        if not args.get("view_id") and not args.get("external_id"):
            raise _SlackError("invalid_arguments", "[ERROR] view_id or external_id is required")
        current = self.views.get(str(view_id))
        if current is None:
            raise _SlackError("not_found")
        view = self._check_view(args, current["type"])
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        self._claim_external_id(view, current["id"])
        updated = self._build_view(view, current["id"], root=current["root_view_id"])
        updated["previous_view_id"] = current["previous_view_id"]
        self.views[current["id"]] = updated
        if current["type"] == "home":
            for user, home_id in self._home_ids.items():
                if home_id == current["id"]:
                    self.home[user] = updated
        return {"view": copy.deepcopy(updated)}

    def _views_publish(self, args: JSON) -> JSON:
        """views.publish: a user's App Home; the same view id on every publish for that user."""
        user = args.get("user_id")
        if not isinstance(user, str) or not self._known_user(user):
            raise _SlackError("user_not_found" if user else "invalid_arguments")
        view = self._check_view(args, "home")
        view_id = self._home_ids.get(user) or self._new_view_id()
        current = self.views.get(view_id)
        if args.get("hash") and current is not None and args["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        self._home_ids[user] = view_id
        published = self._build_view(view, view_id)
        self.views[view_id] = published
        self.home[user] = published
        return {"view": copy.deepcopy(published)}

    # -- response_url

    def _respond_hook(self, token: str, body: JSON) -> _Response:
        """A post to a response_url: ephemeral by default, in_channel, or replace/delete the original message."""
        hook = self._hooks.get(token)
        if hook is None:
            return _Response(404, "no_active_hooks")
        if hook["uses"] >= RESPONSE_URL_USES:
            return _Response(404, "used_url")
        hook["uses"] += 1
        channel, user, message_ts = hook["channel"], hook["user"], hook["message_ts"]
        try:
            text, blocks, metadata = self._message_content(body)
        except _SlackError as error:
            if not _truthy(body.get("delete_original")):
                return _Response(400, error.body["error"])
            text, blocks, metadata = "", None, None
        delete, replace = _truthy(body.get("delete_original")), _truthy(body.get("replace_original"))
        if (delete or replace) and message_ts:
            try:
                original = self._find(channel, message_ts)
            except _SlackError:
                return _Response(404, "message_not_found")
            if delete:
                self.messages.remove(original)
            else:
                original.update(
                    text=text, blocks=copy.deepcopy(blocks), edited={"user": self.bot_user, "ts": self._new_ts()}
                )
                if metadata is not None:
                    original["metadata"] = copy.deepcopy(metadata)
            return _Response(200, "ok")
        if delete:
            # Nothing to delete when the interaction did not come from a message (a slash command, a modal).
            return _Response(200, "ok")
        if body.get("response_type") == "in_channel":
            self._store(channel, text=text, blocks=blocks, metadata=metadata, user=self.bot_user, thread_ts=None)
        else:
            self._store(channel, text=text, blocks=blocks, metadata=None, user=user, thread_ts=None, ephemeral=True)
        return _Response(200, "ok")
