"""Slack channel source: what people write in a channel such as #policy-feedback, thread replies included.

`conversations.history` lists a channel's top-level messages newest first, and a reply shows up only through
`conversations.replies` of its thread. So each run lists the channel back to the older of its bookmark and the
start of the thread window (`thread_days`), then walks the messages oldest first: a message newer than the bookmark
becomes an item, and a thread whose latest reply is newer than the last reply read has its new replies read. The
bookmark (newest message read, and per recent thread its newest reply read) advances with each batch, in the same
transaction as the batch's items, so a run that stops anywhere resumes without losing or repeating a message.

The Web API client waits out 429 answers (Retry-After) and retries dropped connections: every call here is a read.
"""

from __future__ import annotations

import copy
import html
import http.client
import random
import re
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator

from reviewbot.connectors.registry import (
    ConfigErrorFactory,
    ConnectorContext,
    parse_options,
    register_source,
    source_errors,
    source_loc,
)
from reviewbot.connectors.slack.config import Directory
from reviewbot.errors import ConfigError
from reviewbot.intake import FieldError, check_text
from reviewbot.protocols import Batch, Check, Kind, RawRecord, Reject
from reviewbot.settings import Settings, SourceConfig

BATCH_SIZE = 200
DEFAULT_START_DAYS = 90
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
# Messages people write; everything else (joins, topic changes, bot posts...) is not feedback.
PEOPLE_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}
TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
# What a lost connection looks like from urllib, halfway through a page included.
CONNECTION_ERRORS = [urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException]


class SlackChannelOptions(BaseModel):
    """Options of a `type = "slack"` source in reviewbot.toml. The bot token comes from the environment."""

    model_config = ConfigDict(extra="forbid")

    channel: str  # the channel's id, e.g. "C0123456789"
    token_env: str = "REVIEWBOT_SLACK_BOT_TOKEN"
    threads: bool = True  # thread replies too
    thread_days: int = Field(default=14, ge=0)  # replies to threads started this many days back are picked up
    start_date: date | None = None  # first sync: messages since this day (default: the last 90 days)
    include_bots: bool = False  # posts by bots and integrations
    page_size: int = Field(default=200, ge=1, le=999)
    api_url: str | None = Field(default=None, pattern=r"^https?://")  # default: api_url in [slack]; for tests
    rate_limit_retries: int = Field(default=5, ge=0)
    connection_retries: int = Field(default=3, ge=0)
    retry_backoff: float = Field(default=0.5, ge=0)  # seconds, doubled per retry of a dropped connection

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        if not CHANNEL_ID.match(value):
            raise ValueError(
                f"{value!r} is not a channel id; use the id (like C0123456789): in Slack, open the channel's "
                "details, it is at the bottom of the About tab"
            )
        return value


class SlackSourceError(Exception):
    """Slack could not be read (outage, unexpected answer); the message says what happened."""


@dataclass
class _Bookmark:
    """Where the source left off: the newest top-level message read, and the newest reply read per thread."""

    channel: str
    oldest: str  # a Slack ts; messages after it are new
    start: str  # where the first sync began: older replies are not wanted either
    threads: dict[str, str] = field(default_factory=dict)  # parent ts -> newest reply ts read

    def as_cursor(self) -> dict[str, Any]:
        """The bookmark as the JSON the store keeps."""
        return {"channel": self.channel, "oldest": self.oldest, "start": self.start, "threads": dict(self.threads)}

    def replies_read(self, thread: str) -> str:
        """The ts after which a thread's replies are unread."""
        return self.threads.get(thread, max(thread, self.start, key=_ts_key))


class SlackChannelSource:
    """The Source protocol over one Slack channel's messages and threads."""

    def __init__(
        self,
        name: str,
        kind: Kind,
        options: SlackChannelOptions,
        client: WebClient | Callable[[], WebClient],
        config_error: ConfigErrorFactory,
        *,
        directory: Directory | None = None,
        max_text_chars: int,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.kind = kind
        self.options = options
        self._client = client
        self.config_error = config_error
        self.directory = directory or Directory({})
        self.max_text_chars = max_text_chars
        self.now = now

    @property
    def client(self) -> WebClient:
        """The Web API client, made on first use."""
        if not isinstance(self._client, WebClient):
            self._client = self._client()
        return self._client

    # --- the Source protocol ---------------------------------------------------------------------------

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        """Yield batches of new messages and replies, oldest first, each with the bookmark that covers it."""
        mark = self._bookmark(cursor)
        horizon = _ts(self.now() - timedelta(days=self.options.thread_days))
        since = min(mark.oldest, horizon, key=_ts_key) if self.options.threads else mark.oldest
        batch, start = Batch(), copy.deepcopy(mark)
        for message in sorted(self._history(since), key=lambda m: _ts_key(m["ts"])):
            self._read(message, mark, batch)
            if len(batch.records) + len(batch.rejects) >= BATCH_SIZE:
                batch.cursor = mark.as_cursor()
                yield batch
                batch = Batch()
        # Threads older than the window are not looked at again, so their bookmarks can go.
        mark.threads = {p: r for p, r in mark.threads.items() if _ts_key(p) >= _ts_key(horizon)}
        if batch.records or batch.rejects or mark != start:
            batch.cursor = mark.as_cursor()
            yield batch

    def _bookmark(self, cursor: dict[str, Any]) -> _Bookmark:
        """The saved bookmark, or a new one at start_date (also when the channel changed)."""
        if cursor.get("channel") == self.options.channel and cursor.get("oldest"):
            threads = dict(cursor.get("threads") or {})
            return _Bookmark(self.options.channel, str(cursor["oldest"]), str(cursor.get("start") or "0"), threads)
        if self.options.start_date is None:
            start = _ts(self.now() - timedelta(days=DEFAULT_START_DAYS))
        else:
            start = _ts(datetime.combine(self.options.start_date, datetime.min.time(), tzinfo=UTC))
        return _Bookmark(self.options.channel, start, start)

    def _read(self, message: dict[str, Any], mark: _Bookmark, batch: Batch) -> None:
        """Add a top-level message (if new) and its unread replies to the batch, and move the bookmark past them."""
        ts = message["ts"]
        new = _ts_key(ts) > _ts_key(mark.oldest)
        if new:
            self._add(message, batch)
        known = mark.replies_read(ts)
        if self._has_unread_replies(message, known):
            for reply in self._replies(ts, known):
                self._add(reply, batch, thread=ts)
                known = max(known, reply["ts"], key=_ts_key)
            mark.threads[ts] = known
        if new:
            mark.oldest = ts

    def _has_unread_replies(self, message: dict[str, Any], known: str) -> bool:
        """Whether the thread under `message` has replies after `known` (history tells the latest reply)."""
        if not self.options.threads or not message.get("reply_count"):
            return False
        return _ts_key(str(message.get("latest_reply") or message["ts"])) > _ts_key(known)

    def _add(self, message: dict[str, Any], batch: Batch, thread: str | None = None) -> None:
        """The message as a record, a reject if it cannot be stored, or nothing if it is not someone's words."""
        if message.get("subtype") not in PEOPLE_SUBTYPES:
            return
        if message.get("bot_id") and not self.options.include_bots:
            return
        text = plain_text(str(message.get("text") or ""), self.directory)
        if not text.strip():
            return  # a file or an emoji alone says nothing we could theme
        where = f"#{self.options.channel}/{message['ts']}"
        try:
            batch.records.append(self._record(message, text, where, thread))
        except FieldError as exc:
            batch.rejects.append(Reject(where, 1, str(exc), text[:500]))

    def _record(self, message: dict[str, Any], text: str, where: str, thread: str | None) -> RawRecord:
        user = message.get("user") or message.get("bot_id")
        meta: dict[str, Any] = {"channel": self.options.channel, "ts": message["ts"]}
        if thread:
            meta["thread_ts"] = thread
        return RawRecord(
            external_id=f"{self.options.channel}/{message['ts']}",
            text=check_text(text, max_chars=self.max_text_chars, has_score=False),
            created_at=_moment(message["ts"]),
            kind=self.kind,
            origin=where,
            author=self.directory.person(user) if user else None,
            channel="slack",
            meta=meta,
        )

    # --- Web API calls ---------------------------------------------------------------------------------

    def _history(self, oldest: str) -> list[dict[str, Any]]:
        """Every top-level message after `oldest` (thread replies sent to the channel come with their thread)."""
        messages: list[dict[str, Any]] = []
        for page in self._pages("conversations_history", oldest=oldest):
            for message in page.get("messages") or []:
                if message.get("thread_ts", message["ts"]) == message["ts"]:
                    messages.append(message)
        return messages

    def _replies(self, thread: str, after: str) -> list[dict[str, Any]]:
        """Replies in a thread after `after`, oldest first (Slack puts the parent first: it is not a reply)."""
        replies = []
        for page in self._pages("conversations_replies", ts=thread, oldest=after):
            for message in page.get("messages") or []:
                if message["ts"] != thread and _ts_key(message["ts"]) > _ts_key(after):
                    replies.append(message)
        return sorted(replies, key=lambda m: _ts_key(m["ts"]))

    def _pages(self, method: str, **args: Any) -> Iterator[dict[str, Any]]:
        """Each page of a cursor-paginated method."""
        next_cursor: str | None = None
        while True:
            page = self._call(
                method, channel=self.options.channel, limit=self.options.page_size, cursor=next_cursor, **args
            )
            yield page
            next_cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not next_cursor:
                return

    def _call(self, method: str, **args: Any) -> dict[str, Any]:
        """One Web API call; Slack's refusals become errors that say how to fix them."""
        try:
            return getattr(self.client, method)(**{k: v for k, v in args.items() if v is not None}).data
        except SlackApiError as exc:
            raise self._error(method, exc.response.get("error"), exc.response) from None
        except (OSError, http.client.HTTPException) as exc:
            raise SlackSourceError(f"Slack is unreachable ({type(exc).__name__}) during {method}") from None

    def _error(self, method: str, error: Any, response: Any) -> Exception:
        o = self.options
        if error in TOKEN_ERRORS:
            return self.config_error(
                "token_env", f"Slack refused the bot token ({error})", f"check the token in {o.token_env}"
            )
        if error == "channel_not_found":
            return self.config_error(
                "channel",
                f"Slack has no channel {o.channel} the app can see",
                "check the channel id; for a private channel, invite the app to it first",
            )
        if error == "not_in_channel":
            return self.config_error(
                "channel", f"the app is not in channel {o.channel}", "invite it: type /invite @reviewbot in the channel"
            )
        if error == "missing_scope":
            needed = response.get("needed") or "channels:history (groups:history for a private channel)"
            return self.config_error(
                "token_env",
                f"the Slack app may not read the channel (missing scope {needed})",
                f"add the {needed} bot scope to the app at api.slack.com/apps, reinstall it, update {o.token_env}",
            )
        if error == "ratelimited":
            return SlackSourceError(f"Slack still rate limits {method} after {o.rate_limit_retries} retries")
        return SlackSourceError(f"Slack refused {method}: {error}")

    # --- doctor ----------------------------------------------------------------------------------------

    def check(self) -> list[Check]:
        """Sign in to Slack and read one message of the channel (for `reviewbot doctor`)."""
        label = f"source {self.name}"
        try:
            me = self._call("auth_test")
            self._call("conversations_history", channel=self.options.channel, limit=1)
        except ConfigError as exc:
            return [Check(label, False, exc.message, exc.hint)]
        except SlackSourceError as exc:
            return [Check(label, False, str(exc), "check the network, or api_url")]
        return [Check(label, True, f"reading {self.options.channel} as {me.get('user')} in {me.get('team')}")]


# --- Slack's text and timestamps ---------------------------------------------------------------------------------

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def plain_text(text: str, directory: Directory) -> str:
    """Slack's markup as people read it: <@U1> as the person, <#C1|name> as #name, links by their label."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (label or directory.person(target[1:]))
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])  # <!here>, <!channel>, <!subteam^S1|@team>
        return label or target

    return html.unescape(_LINK.sub(replace, text))


def _ts(moment: datetime) -> str:
    """A Slack timestamp for a moment."""
    micros = round(moment.timestamp() * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _ts_key(ts: str) -> tuple[int, int]:
    """A Slack timestamp ("seconds.micros") as integers, so that ordering is exact."""
    seconds, _, fraction = str(ts).partition(".")
    return int(seconds), int((fraction or "0")[:6].ljust(6, "0"))


def _moment(ts: str) -> datetime:
    """The time of a Slack timestamp."""
    seconds, micros = _ts_key(ts)
    return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=micros)


# --- building it -------------------------------------------------------------------------------------------------


class _Backoff(RetryIntervalCalculator):
    """Exponential backoff with jitter in proportion (slack_sdk's own adds up to a second, even to a zero wait)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        """Seconds to wait before retry number `current_attempt` (0-based)."""
        return self.factor * 2**current_attempt * (1 + random.random() / 2)


def slack_web_client(token: str, options: SlackChannelOptions, api_url: str | None) -> WebClient:
    """A Web API client for reading: waits out 429s and retries lost connections, both safe for reads."""
    kwargs: dict[str, Any] = {"base_url": api_url} if api_url else {}
    return WebClient(
        token=token,
        timeout=30,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=options.rate_limit_retries),
            ConnectionErrorRetryHandler(
                max_retry_count=options.connection_retries,
                interval_calculator=_Backoff(options.retry_backoff),
                error_types=CONNECTION_ERRORS,
            ),
        ],
        **kwargs,
    )


def slack_channel_source(config: SourceConfig, settings: Settings) -> SlackChannelSource:
    """Build the Slack channel source of one `[[sources]]` entry, with the bot token from the environment or `.env`."""
    options = parse_options(SlackChannelOptions, config.options, source_loc(config, settings), settings)
    config_error = source_errors(config, settings)

    token = settings.secret(options.token_env)
    if not token:
        raise config_error(
            "token_env",
            f"no Slack bot token: set {options.token_env}",
            f"put the app's bot token (xoxb-...) in the environment or the workspace .env as {options.token_env}",
        )
    api_url = options.api_url or settings.slack.get("api_url")
    people = settings.slack.get("people")
    return SlackChannelSource(
        config.name,
        config.kind,
        options,
        lambda: slack_web_client(token, options, api_url),
        config_error,
        directory=Directory(people if isinstance(people, dict) else {}),
        max_text_chars=settings.enrich.max_text_chars,
    )


@register_source("slack")
def make_slack_channel_source(config: SourceConfig, context: ConnectorContext) -> SlackChannelSource:
    """Build a SlackChannelSource from its `[[sources]]` entry."""
    return slack_channel_source(config, context.settings)
