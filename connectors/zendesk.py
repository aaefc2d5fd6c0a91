"""Zendesk source: tickets, satisfaction ratings and (optionally) internal notes, through the incremental export API.

Tickets come from the cursor-based incremental ticket export (/api/v2/incremental/tickets/cursor.json): the first run
starts at `start_date`, every page answers with an `after_cursor`, and the export has caught up when `end_of_stream`
is true. That cursor is the source's bookmark, handed over with the page it covers, so it is saved in the same
transaction as the page's items (Singer style): a run that stops anywhere resumes at the first page not stored, and
the next sync asks only for what changed since. A ticket that changes again is exported again, and its items are
updated, never duplicated: they are keyed by ticket id.

Each exported ticket's comments are read (one request, more for long conversations): the first public comment is the
complaint's text; with `internal_notes`, private comments become agent notes `<ticket>/note/<comment>`. A satisfaction
rating (good or bad, with the customer's comment) becomes the survey answer `<ticket>/rating`. Deleted tickets and
tickets closed by a merge are skipped: a merged ticket's conversation continues in the ticket it was merged into.

Every request is a GET, so retrying is always safe: 429 and 503 answers are retried after their Retry-After, and a
connection lost mid-page (or a timeout) is retried with backoff, a bounded number of times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, Field, field_validator

from reviewbot.connectors.registry import (
    ConfigErrorFactory,
    Connector,
    ConnectorContext,
    parse_options,
    source_errors,
    source_loc,
)
from reviewbot.errors import ConfigError
from reviewbot.intake import FieldError, check_text, parse_datetime
from reviewbot.protocols import Batch, Check, Kind, RawRecord, Reject
from reviewbot.settings import Settings, SourceConfig

log = logging.getLogger(__name__)

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
COMMENT_PAGE = 100
DEFAULT_START_DAYS = 90
EXPORT_DELAY = timedelta(seconds=120)  # Zendesk refuses a start_time within the last minute
RATING_CSAT = {"good": 5, "bad": 1}  # on reviewbot's 1-5 CSAT scale: satisfied and unsatisfied
MERGED_TAG = "closed_by_merge"


class ZendeskOptions(BaseModel):
    """Options of a `type = "zendesk"` source in reviewbot.toml. The API token comes from the environment."""

    model_config = ConfigDict(extra="forbid")

    subdomain: str  # "acme" for https://acme.zendesk.com
    email: str | None = None  # the agent the API token belongs to (or REVIEWBOT_ZENDESK_EMAIL)
    token_env: str = "REVIEWBOT_ZENDESK_TOKEN"
    start_date: date | None = None  # first sync: tickets changed since this day (default: the last 90 days)
    ratings: bool = True  # satisfaction ratings as survey answers
    internal_notes: bool = False  # private comments as agent notes
    page_size: int = Field(default=100, ge=1, le=1000)
    api_url: str | None = Field(default=None, pattern=r"^https?://")  # only for proxies and tests
    timeout: float = Field(default=30, gt=0)
    retries: int = Field(default=5, ge=0)  # for 429/503 answers, timeouts and lost connections
    max_retry_after: float = Field(default=300, gt=0)

    @field_validator("subdomain")
    @classmethod
    def _bare_subdomain(cls, value: str) -> str:
        name = value.strip().lower()
        if not name or not all(c.isalnum() or c == "-" for c in name):
            raise ValueError(
                f"{value!r} is not a Zendesk subdomain; write only the part before .zendesk.com, "
                'e.g. subdomain = "acme" for https://acme.zendesk.com'
            )
        return name

    @field_validator("start_date")
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        if value is not None and value > datetime.now(UTC).date():
            raise ValueError(f"start_date {value} is in the future")
        return value


def pause(seconds: float) -> None:
    """Wait before a retry (a module function, so tests can record waits instead of sleeping)."""
    time.sleep(seconds)


class ZendeskError(Exception):
    """Zendesk could not be read (outage, unexpected answer); the message says what happened."""


class ZendeskClient:
    """GET requests to one Zendesk account with API-token auth, retrying what is safe to retry."""

    def __init__(
        self,
        options: ZendeskOptions,
        email: str,
        token: str,
        config_error: ConfigErrorFactory,
    ) -> None:
        self.options = options
        self.email = email
        self.base = (options.api_url or f"https://{options.subdomain}.zendesk.com").rstrip("/")
        self.config_error = config_error
        self.session = requests.Session()
        self.session.auth = (f"{email}/token", token)
        self.session.headers.update({"Accept": "application/json", "User-Agent": "reviewbot"})
        self.sleep: Callable[[float], None] = pause

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> dict[str, Any] | None:
        """The JSON answer to GET `path`; None for a 404 when `missing_ok` (a record deleted meanwhile)."""
        retries = self.options.retries
        for attempt in range(retries + 1):
            response = self._send(path, params, last=attempt == retries)
            if response is None:  # the connection was lost: nothing changed, so asking again is safe
                self.sleep(min(2.0**attempt, self.options.max_retry_after))
                continue
            if response.status_code in (429, 503) and attempt < retries:
                self.sleep(self._retry_after(response))
                continue
            if response.status_code == 404 and missing_ok and _is_json(response):
                return None
            if response.status_code != 200:
                raise self._error(path, response)
            try:
                return response.json()
            except ValueError:
                raise ZendeskError(f"Zendesk answered {path} with something that is not JSON") from None
        raise AssertionError("unreachable")

    def _send(self, path: str, params: dict[str, Any] | None, *, last: bool) -> requests.Response | None:
        """One GET; None when the connection was lost (even halfway through the answer) and may be retried."""
        try:
            # No redirects: an unused subdomain redirects to Zendesk's website, which is no answer.
            return self.session.get(
                self.base + path, params=params, timeout=self.options.timeout, allow_redirects=False
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            if last:
                raise ZendeskError(f"Zendesk at {self.base} is unreachable ({type(exc).__name__})") from None
            log.info("zendesk: %s on %s, retrying", type(exc).__name__, path)
            return None

    def _retry_after(self, response: requests.Response) -> float:
        try:
            seconds = float(response.headers.get("Retry-After", 1))
        except ValueError:
            seconds = 1.0
        return max(0.0, min(seconds, self.options.max_retry_after))

    def _error(self, path: str, response: requests.Response) -> Exception:
        status, o = response.status_code, self.options
        if status == 401:
            return self.config_error(
                "token_env",
                f"Zendesk refused the credentials (401) of {self.email}",
                f"check the API token in {o.token_env} and that email is the agent it belongs to; token access "
                "must be on in Admin Center > Apps and integrations > APIs > Zendesk API",
            )
        if status == 403:
            return self.config_error(
                "email",
                f"{self.email} may not export tickets from Zendesk (403)",
                "the incremental export API needs an admin: use an admin's email and API token",
            )
        if status in (301, 302, 303, 307, 308) or (status == 404 and not _is_json(response)):
            return self.config_error(
                "subdomain",
                f"there is no Zendesk account at {self.base} ({status})",
                "set subdomain to the part before .zendesk.com in your Zendesk address",
            )
        if status in (429, 503):
            return ZendeskError(f"Zendesk is still busy ({status}) after {o.retries} retries of {path}")
        text = response.text.strip()[:300]
        return ZendeskError(f"Zendesk answered {status} to {path}: {text}")


def _is_json(response: requests.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "")


class ZendeskSource:
    """The Source protocol over Zendesk's incremental ticket export."""

    def __init__(
        self,
        name: str,
        kind: Kind,
        options: ZendeskOptions,
        client: ZendeskClient,
        *,
        max_text_chars: int,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.kind = kind
        self.options = options
        self.client = client
        self.max_text_chars = max_text_chars
        self.now = now
        self.site = f"https://{options.subdomain}.zendesk.com"

    # --- the Source protocol ---------------------------------------------------------------------------

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        """Yield one batch per export page, each with the cursor after that page."""
        params = self._first_request(cursor)
        while True:
            page = self.client.get(EXPORT_PATH, params) or {}
            after = page.get("after_cursor")
            batch = self._page_batch(page.get("tickets") or [])
            if after and after != params.get("cursor"):
                batch.cursor = {"subdomain": self.options.subdomain, "after_cursor": after}
            if batch.records or batch.rejects or batch.cursor:
                yield batch
            if page.get("end_of_stream", True) or not after or after == params.get("cursor"):
                return
            params = {"cursor": after, "per_page": self.options.page_size}

    def _first_request(self, cursor: dict[str, Any]) -> dict[str, Any]:
        """Continue from the saved cursor, or start at start_date (also when the subdomain changed)."""
        params: dict[str, Any] = {"per_page": self.options.page_size}
        if cursor.get("after_cursor") and cursor.get("subdomain") == self.options.subdomain:
            return {**params, "cursor": cursor["after_cursor"]}
        return {**params, "start_time": self.start_time()}

    def start_time(self) -> int:
        """Unix time the first export starts at."""
        now = self.now()
        if self.options.start_date is None:
            start = now - timedelta(days=DEFAULT_START_DAYS)
        else:
            start = datetime.combine(self.options.start_date, datetime.min.time(), tzinfo=UTC)
        return int(min(start, now - EXPORT_DELAY).timestamp())

    # --- tickets to records ----------------------------------------------------------------------------

    def _page_batch(self, tickets: list[dict[str, Any]]) -> Batch:
        # A ticket that changed while the export ran is in it twice, as it was and, later, as it is: the later
        # copy is its newer state, so it wins (a file's repeated id is quarantined instead: there the first row is
        # the export's own and a repeat is a mistake). Counted, and each ticket's comments are read once.
        latest = {ticket.get("id"): ticket for ticket in tickets}
        batch = Batch(superseded=len(tickets) - len(latest))
        if batch.superseded:
            log.info("zendesk: %d ticket(s) exported twice in one page; the later copy kept", batch.superseded)
        for ticket in latest.values():
            if ticket.get("status") == "deleted" or MERGED_TAG in (ticket.get("tags") or []):
                log.debug("zendesk: ticket %s skipped (%s)", ticket.get("id"), ticket.get("status"))
                continue
            records, rejects = self._ticket_items(ticket)
            batch.records += records
            batch.rejects += rejects
        return batch

    def _ticket_items(self, ticket: dict[str, Any]) -> tuple[list[RawRecord], list[Reject]]:
        """The complaint, rating and notes of one ticket, and the items that could not be read."""
        items: list[RawRecord | Reject] = []
        conversation = self._conversation(ticket, items)
        if conversation is None:
            return [], []  # the ticket was deleted while it was being read
        if self.options.ratings:
            self._rating(ticket, items)
        return [i for i in items if isinstance(i, RawRecord)], [i for i in items if isinstance(i, Reject)]

    def _item(self, ticket: dict[str, Any], items: list[RawRecord | Reject], build: Callable[[], RawRecord]) -> None:
        """Add one item, or a reject saying why it cannot be read (text empty or too long, a bad date)."""
        try:
            items.append(build())
        except FieldError as exc:
            items.append(Reject(self._where(ticket), 1, str(exc), str(ticket.get("subject") or "")[:200]))

    def _conversation(self, ticket: dict[str, Any], items: list[RawRecord | Reject]) -> bool | None:
        """Add the complaint (first public comment) and, if wanted, the internal notes; None if the ticket is gone."""
        if not ticket.get("is_public", True) and not self.options.internal_notes:
            return True  # no public comment to read, and notes are not wanted: spare the request
        comments = self._comments(int(ticket["id"]))
        if comments is None:
            return None
        # Notes Zendesk writes when merging quote another ticket's customer: they are not this ticket's words.
        conversation = [c for c in comments if ((c.get("via") or {}).get("source") or {}).get("rel") != "merge"]
        first_public = next((c for c in conversation if c.get("public")), None)
        if first_public is not None:
            self._item(ticket, items, lambda: self._complaint(ticket, first_public))
        if self.options.internal_notes:
            for comment in conversation:
                if not comment.get("public"):
                    self._item(ticket, items, lambda c=comment: self._note(ticket, c))
        return True

    def _comments(self, ticket_id: int) -> list[dict[str, Any]] | None:
        """All comments of a ticket, oldest first, each with its author's name; None if the ticket is gone."""
        params: dict[str, Any] = {"page[size]": COMMENT_PAGE, "include": "users"}
        comments: list[dict[str, Any]] = []
        while True:
            page = self.client.get(f"/api/v2/tickets/{ticket_id}/comments.json", params, missing_ok=True)
            if page is None:
                return None
            names = {u.get("id"): u.get("name") for u in page.get("users") or []}
            comments += [{**c, "author_name": names.get(c.get("author_id"))} for c in page.get("comments") or []]
            meta = page.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return comments
            params = {**params, "page[after]": meta["after_cursor"]}

    def _complaint(self, ticket: dict[str, Any], comment: dict[str, Any]) -> RawRecord:
        ticket_id = int(ticket["id"])
        return RawRecord(
            external_id=str(ticket_id),
            text=self._text(_body(comment)),
            created_at=parse_datetime(str(ticket.get("created_at") or ""), field="created_at"),
            kind=self.kind,
            origin=self._where(ticket),
            customer=_id_text(ticket.get("requester_id")),
            channel=((ticket.get("via") or {}).get("channel") or "zendesk")[:100],
            meta={"ticket_id": ticket_id, "subject": ticket.get("subject") or "", "tags": ticket.get("tags") or []},
        )

    def _note(self, ticket: dict[str, Any], comment: dict[str, Any]) -> RawRecord:
        ticket_id = int(ticket["id"])
        return RawRecord(
            external_id=f"{ticket_id}/note/{comment['id']}",
            text=self._text(_body(comment)),
            created_at=parse_datetime(str(comment.get("created_at") or ""), field="created_at"),
            kind="agent_note",
            origin=self._where(ticket),
            author=comment.get("author_name") or _id_text(comment.get("author_id")),
            channel="zendesk",
            meta={"ticket_id": ticket_id},
        )

    def _rating(self, ticket: dict[str, Any], items: list[RawRecord | Reject]) -> None:
        """Add the ticket's satisfaction rating as a survey answer, if the customer gave one."""
        embedded = ticket.get("satisfaction_rating") or {}
        if embedded.get("score") not in RATING_CSAT or not embedded.get("id"):
            return  # offered, unoffered, or no CSAT on this plan
        # The ticket carries the score; the rating itself says when it was given (stable across ticket updates).
        found = self.client.get(f"/api/v2/satisfaction_ratings/{embedded['id']}.json", missing_ok=True)
        rating = (found or {}).get("satisfaction_rating") or {}
        if rating.get("score") in RATING_CSAT:
            self._item(ticket, items, lambda: self._survey(ticket, rating))

    def _survey(self, ticket: dict[str, Any], rating: dict[str, Any]) -> RawRecord:
        ticket_id = int(ticket["id"])
        meta: dict[str, Any] = {"ticket_id": ticket_id, "rating": rating["score"]}
        if rating.get("reason"):
            meta["reason"] = str(rating["reason"])
        return RawRecord(
            external_id=f"{ticket_id}/rating",
            text=check_text(str(rating.get("comment") or ""), max_chars=self.max_text_chars, has_score=True),
            created_at=parse_datetime(str(rating.get("created_at") or ""), field="rating created_at"),
            kind="survey",
            origin=self._where(ticket),
            customer=_id_text(ticket.get("requester_id")),
            channel="csat",
            csat=RATING_CSAT[rating["score"]],
            meta=meta,
        )

    def _text(self, text: str) -> str:
        return check_text(text, max_chars=self.max_text_chars, has_score=False)

    def _where(self, ticket: dict[str, Any]) -> str:
        return f"{self.site}/agent/tickets/{ticket.get('id')}"

    # --- doctor ----------------------------------------------------------------------------------------

    def check(self) -> list[Check]:
        """Sign in to Zendesk and check the account may use the incremental export (for `reviewbot doctor`)."""
        label = f"source {self.name}"
        try:
            me = (self.client.get("/api/v2/users/me.json") or {}).get("user") or {}
        except ConfigError as exc:
            return [Check(label, False, exc.message, exc.hint)]
        except ZendeskError as exc:
            return [Check(label, False, str(exc), f"check subdomain = {self.options.subdomain!r} and the network")]
        who = f"signed in to {self.site} as {me.get('name')} ({me.get('role')})"
        if me.get("role") != "admin":
            hint = "the incremental export API needs an admin: use an admin's email and API token"
            return [Check(label, False, who, hint)]
        return [Check(label, True, who)]


def _body(comment: dict[str, Any]) -> str:
    return str(comment.get("plain_body") or comment.get("body") or "")


def _id_text(value: Any) -> str | None:
    return None if value is None else str(value)


def zendesk_source(config: SourceConfig, settings: Settings) -> ZendeskSource:
    """Build the Zendesk source of one `[[sources]]` entry, with the token from the environment or `.env`."""
    options = parse_options(ZendeskOptions, config.options, source_loc(config, settings), settings)
    config_error = source_errors(config, settings)

    token = settings.secret(options.token_env)
    if not token:
        raise config_error(
            "token_env",
            f"no Zendesk API token: set {options.token_env}",
            "create one in Zendesk Admin Center > Apps and integrations > APIs > Zendesk API, and put it in the "
            f"environment or the workspace .env as {options.token_env}",
        )
    email = options.email or settings.secret("REVIEWBOT_ZENDESK_EMAIL")
    if not email:
        raise config_error(
            "email",
            "no Zendesk account email for the API token",
            "set email (the agent the token belongs to) in this [[sources]] entry, or REVIEWBOT_ZENDESK_EMAIL",
        )
    client = ZendeskClient(options, email, token, config_error)
    return ZendeskSource(config.name, config.kind, options, client, max_text_chars=settings.enrich.max_text_chars)


def make_zendesk_source(config: SourceConfig, context: ConnectorContext) -> ZendeskSource:
    """Build a ZendeskSource from its `[[sources]]` entry."""
    return zendesk_source(config, context.settings)


connector = Connector(source=make_zendesk_source)  # declared in pyproject.toml as "zendesk"
