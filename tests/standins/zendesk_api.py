"""A local Zendesk Support API stand-in on 127.0.0.1, driven by reviewbot's Zendesk source over real HTTP; stdlib only.

It speaks the parts of the wire format the source uses: the cursor-based incremental ticket export (start_time, then
cursor; after_cursor, end_of_stream; changes of the last minute held back; deleted tickets with status "deleted"),
ticket comments with cursor pagination and sideloaded users, satisfaction ratings, and users/me. Authentication is
API-token basic auth (`{email}/token:{token}`). Faults are injected per request path: 429 or 503 with Retry-After,
a connection dropped before answering, or one dropped halfway through the body.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.standins.serving import Served, TrackedHandler, TrackingServer

JSON = dict[str, Any]

FAULT_KINDS = ("429", "503", "drop_before", "drop_mid_body")
EXPORT_DELAY = 60  # Zendesk leaves out changes made in the minute before an incremental export request
MAX_EXPORT_PAGE = 1000
MAX_COMMENT_PAGE = 100
NOT_AUTHENTICATED = {"error": "Couldn't authenticate you"}
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
# What a subdomain nobody uses answers: an HTML page, not JSON.
NO_ACCOUNT_PAGE = "<html><body><h1>Oops! The page you were looking for doesn't exist.</h1></body></html>"


@dataclass
class ZendeskFault:
    """One injected failure for requests whose path matches `path` (a regex); used `times` times, then gone."""

    path: str
    kind: Literal["429", "503", "drop_before", "drop_mid_body"]
    retry_after: int = 1  # seconds, sent as Retry-After on 429 and 503
    times: int = 1

    def __post_init__(self) -> None:
        """Fail at the test's line, not as a fault that silently never fires."""
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.times < 1:
            raise ValueError("times must be >= 1")
        re.compile(self.path)


@dataclass
class _Response:
    """What the handler writes back: status, body (dict as JSON, str as HTML), headers, and whether to cut it."""

    status: int
    body: JSON | str
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False  # send the headers and half the body, then hang up


def _iso(moment: float) -> str:
    """Zendesk's timestamp format, e.g. 2026-09-14T09:32:00Z."""
    return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode_cursor(position: JSON) -> str:
    """An opaque cursor, as Zendesk's are."""
    return base64.urlsafe_b64encode(json.dumps(position, sort_keys=True).encode()).decode()


def _decode_cursor(token: str) -> JSON | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


# --- HTTP plumbing ------------------------------------------------------------------------------------------------


class _Handler(TrackedHandler):
    """Reads one request, lets the stand-in answer it, writes the answer (or drops the connection)."""

    server_version = "zendesk-standin"

    def do_GET(self) -> None:
        """Serve GET (the source only reads)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # unread data would make the close a RST instead of a clean EOF
        try:
            response = self.server.standin._answer(self.path, self.headers.get("Authorization"))
        except Exception as exc:  # a stand-in bug must not look like a network fault to the client under test
            self.server.standin.errors.append(f"{self.path}: {exc!r}")
            response = _Response(500, {"error": "InternalError"})
        if response is None:
            self.close_connection = True
            return
        if isinstance(response.body, str):
            payload, content_type = response.body.encode(), "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(response.body).encode(), "application/json; charset=utf-8"
        self.send_response(response.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.truncate:
            # The full length was promised; half arrives, then the connection is gone, as when a proxy dies mid-page.
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)


# --- the stand-in -------------------------------------------------------------------------------------------------


class ZendeskApiStandIn(Served):
    """One Zendesk account's tickets, comments, ratings and users, served over HTTP on 127.0.0.1."""

    def __init__(
        self,
        *,
        email: str = "bot@example.com",
        token: str = "zendesk-test-token",
        role: str = "admin",
        account_exists: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.email = email
        self.token = token
        self.role = role
        self.account_exists = account_exists  # False: every request answers like an unused subdomain
        self.clock = clock
        self.offset = 0.0  # seconds added to the clock; see advance()
        self.tickets: dict[int, JSON] = {}
        self.stale_copies: list[JSON] = []  # tickets as they were, still in the stream; see changed_during_export()
        self.comments: dict[int, list[JSON]] = {}
        self.ratings: dict[int, JSON] = {}  # rating id -> rating
        self.users: dict[int, JSON] = {}
        self.faults: list[ZendeskFault] = []
        self.hooks: list[list[Any]] = []  # [path regex, action, requests to go]; see on_request()
        self.calls: list[tuple[str, JSON]] = []  # (path, query) of every request, faulted ones included
        self.errors: list[str] = []  # unexpected exceptions inside the stand-in (answered with 500)
        super().__init__()
        self._lock = threading.RLock()
        self._sequence = 0  # order of changes: the export stream's order
        self._next_id = 100
        self.agent_id = self.add_user("Sam Agent", role="agent")
        self.me_id = self.add_user("Reviewbot", role=role, email=email)

    # -- lifecycle

    name = "Zendesk stand-in"

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>: the source's api_url."""
        return self.root

    def _bind(self) -> TrackingServer:
        return TrackingServer(self, _Handler)

    # -- helpers for tests: what people do in Zendesk

    def now(self) -> float:
        """The stand-in's time (the clock plus advance())."""
        return self.clock() + self.offset

    def advance(self, seconds: float) -> None:
        """Let time pass, e.g. past the minute an export holds recent changes back."""
        self.offset += seconds

    def add_user(self, name: str, *, role: str = "end-user", email: str | None = None) -> int:
        """A user; returns the id."""
        with self._lock:
            user_id = self._new_id()
            slug = re.sub(r"\W+", ".", name.lower())
            self.users[user_id] = {"id": user_id, "name": name, "email": email or f"{slug}@example.com", "role": role}
            return user_id

    def add_ticket(
        self,
        text: str,
        *,
        subject: str = "Help",
        requester: str = "Ana Customer",
        channel: str = "email",
        tags: list[str] | None = None,
        public: bool = True,
        age: float = 3600,
    ) -> int:
        """A customer (or, with public=False, an agent's internal note) opens a ticket `age` seconds ago."""
        with self._lock:
            requester_id = self.add_user(requester)
            ticket_id = self._new_id()
            moment = self.now() - age
            self.tickets[ticket_id] = {
                "id": ticket_id,
                "url": f"{self.url}/api/v2/tickets/{ticket_id}.json",
                "external_id": None,
                "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
                "created_at": _iso(moment),
                "type": None,
                "subject": subject,
                "raw_subject": subject,
                "description": text,
                "priority": None,
                "status": "new",
                "requester_id": requester_id,
                "submitter_id": requester_id if public else self.agent_id,
                "assignee_id": None,
                "organization_id": None,
                "group_id": None,
                "tags": list(tags or []),
                "satisfaction_rating": {"score": "unoffered"},
                "is_public": public,
            }
            self.comments[ticket_id] = []
            author = requester_id if public else self.agent_id
            self._comment(ticket_id, text, public=public, author=author, moment=moment)
            self._touch(ticket_id, moment)
            return ticket_id

    def add_comment(self, ticket_id: int, text: str, *, public: bool = True, author: int | None = None) -> int:
        """An agent replies (public) or adds an internal note (public=False); the ticket changes."""
        with self._lock:
            moment = self.now() - EXPORT_DELAY - 1
            comment = self._comment(
                ticket_id, text, public=public, author=author or self.agent_id, moment=moment, rel=None
            )
            if public:
                self.tickets[ticket_id]["is_public"] = True
            self._touch(ticket_id, moment)
            return comment["id"]

    def rate(self, ticket_id: int, score: Literal["good", "bad"], comment: str = "", reason: str = "") -> int:
        """The requester answers the satisfaction survey (again: the same rating changes)."""
        with self._lock:
            ticket = self.tickets[ticket_id]
            moment = self.now() - EXPORT_DELAY - 1
            rating_id = ticket["satisfaction_rating"].get("id") or self._new_id()
            previous = self.ratings.get(rating_id)
            self.ratings[rating_id] = {
                "id": rating_id,
                "url": f"{self.url}/api/v2/satisfaction_ratings/{rating_id}.json",
                "assignee_id": ticket["assignee_id"],
                "group_id": ticket["group_id"],
                "requester_id": ticket["requester_id"],
                "ticket_id": ticket_id,
                "score": score,
                "comment": comment,
                "reason": reason or None,
                "created_at": previous["created_at"] if previous else _iso(moment),
                "updated_at": _iso(moment),
            }
            ticket["satisfaction_rating"] = {"id": rating_id, "score": score, "comment": comment}
            self._touch(ticket_id, moment)
            return rating_id

    def changed_during_export(self, ticket_id: int, subject: str) -> None:
        """The ticket changes (its subject) while an export runs: as Zendesk documents, the export then holds it
        twice, as it was at its old place in the stream and as it is now at the end."""
        with self._lock:
            self.stale_copies.append(copy.deepcopy(self.tickets[ticket_id]))
            self.tickets[ticket_id]["subject"] = self.tickets[ticket_id]["raw_subject"] = subject
            self._touch(ticket_id, self.now() - EXPORT_DELAY - 1)

    def solve(self, ticket_id: int) -> None:
        """An agent solves the ticket (a change that leaves the conversation as it was)."""
        with self._lock:
            self.tickets[ticket_id]["status"] = "solved"
            self._touch(ticket_id, self.now() - EXPORT_DELAY - 1)

    def delete(self, ticket_id: int) -> None:
        """An agent deletes the ticket: the export shows it with status "deleted", its comments are gone."""
        with self._lock:
            self.tickets[ticket_id]["status"] = "deleted"
            self._touch(ticket_id, self.now() - EXPORT_DELAY - 1)

    def merge(self, source_id: int, target_id: int) -> None:
        """An agent merges one ticket into another, as Zendesk does it: the source is closed with a tag and a
        private note, and the target gets a note quoting it."""
        with self._lock:
            source, moment = self.tickets[source_id], self.now() - EXPORT_DELAY - 1
            last = self.comments[source_id][-1]["plain_body"]
            self._comment(
                target_id,
                f'Request #{source_id} "{source["subject"]}" was closed and merged into this request. '
                f"Last comment in request #{source_id}:\n\n{last}",
                public=False,
                author=self.agent_id,
                moment=moment,
                rel="merge",
            )
            self._comment(
                source_id,
                f"This request was closed and merged into request #{target_id}.",
                public=False,
                author=self.agent_id,
                moment=moment,
                rel="merge",
            )
            source["status"] = "closed"
            source["tags"] = [*source["tags"], "closed_by_merge"]
            self._touch(source_id, moment)
            self._touch(target_id, moment)

    def on_request(self, path: str, action: Callable[[], None], *, nth: int = 1) -> None:
        """Run `action` when the nth request whose path matches `path` arrives, before it is answered: someone
        changing Zendesk while the source reads it (the action may also add a fault for that very request)."""
        re.compile(path)
        with self._lock:
            self.hooks.append([path, action, nth])

    def export_calls(self) -> list[JSON]:
        """Queries of the incremental ticket export requests received."""
        with self._lock:
            return [query for path, query in self.calls if "/incremental/tickets/cursor" in path]

    # -- internals

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _touch(self, ticket_id: int, moment: float) -> None:
        """A change: the ticket moves to the end of the export stream."""
        self._sequence += 1
        ticket = self.tickets[ticket_id]
        ticket["_sequence"] = self._sequence
        ticket["_changed"] = moment
        ticket["updated_at"] = _iso(moment)
        ticket["generated_timestamp"] = int(moment)

    def _comment(
        self, ticket_id: int, text: str, *, public: bool, author: int, moment: float, rel: str | None = None
    ) -> JSON:
        comment = {
            "id": self._new_id(),
            "type": "Comment",
            "author_id": author,
            "body": text,
            "html_body": f"<div class='zd-comment'><p>{text}</p></div>",
            "plain_body": text,
            "public": public,
            "attachments": [],
            "audit_id": self._new_id(),
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": rel}},
            "created_at": _iso(moment),
            "metadata": {"system": {}, "custom": {}},
        }
        self.comments[ticket_id].append(comment)
        return comment

    # -- request handling

    def _answer(self, target: str, authorization: str | None) -> _Response | None:
        """Log, apply faults, authenticate and route one request; None means hang up without answering."""
        parts = urlsplit(target)
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.calls.append((parts.path, query))
            self._run_hooks(parts.path)
            fault = self._take_fault(parts.path)
        if fault is not None and fault.kind in ("429", "503"):
            body = {"error": "TooManyRequests"} if fault.kind == "429" else {"error": "ServiceUnavailable"}
            return _Response(int(fault.kind), body, {"Retry-After": str(fault.retry_after)})
        if fault is not None and fault.kind == "drop_before":
            return None
        if not self.account_exists:
            return _Response(404, NO_ACCOUNT_PAGE)
        if not self._authenticated(authorization):
            return _Response(401, NOT_AUTHENTICATED, {"WWW-Authenticate": 'Basic realm="Web Password"'})
        with self._lock:
            response = self._route(parts.path, query)
        if fault is not None and fault.kind == "drop_mid_body":
            response.truncate = True
        return response

    def _run_hooks(self, path: str) -> None:
        for hook in list(self.hooks):
            if re.search(hook[0], path):
                hook[2] -= 1
                if hook[2] == 0:
                    self.hooks.remove(hook)
                    hook[1]()

    def _take_fault(self, path: str) -> ZendeskFault | None:
        """The first live fault matching this path, with one use spent."""
        for fault in self.faults:
            if re.search(fault.path, path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _authenticated(self, authorization: str | None) -> bool:
        """API token basic auth: base64 of `{email}/token:{token}`."""
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(decoded, f"{self.email}/token:{self.token}")

    def _route(self, path: str, query: JSON) -> _Response:
        path = path.removesuffix(".json")
        if path == "/api/v2/incremental/tickets/cursor":
            return self._export(query)
        if path == "/api/v2/users/me":
            return _Response(200, {"user": copy.deepcopy(self.users[self.me_id])})
        match = re.fullmatch(r"/api/v2/tickets/(\d+)/comments", path)
        if match:
            return self._list_comments(int(match.group(1)), query)
        match = re.fullmatch(r"/api/v2/satisfaction_ratings/(\d+)", path)
        if match:
            rating = self.ratings.get(int(match.group(1)))
            if rating is None or self.tickets[rating["ticket_id"]]["status"] == "deleted":
                return _Response(404, NOT_FOUND)
            return _Response(200, {"satisfaction_rating": copy.deepcopy(rating)})
        return _Response(404, {"error": "InvalidEndpoint", "description": "Not found"})

    # -- incremental export

    def _export(self, query: JSON) -> _Response:
        """Cursor-based incremental ticket export: start_time (first request) or cursor, per_page, exclude_deleted."""
        if self.role != "admin":
            return _Response(403, {"error": "Forbidden", "description": "You do not have access to this page."})
        try:
            per_page = min(int(query.get("per_page") or MAX_EXPORT_PAGE), MAX_EXPORT_PAGE)
        except ValueError:
            return _Response(400, {"error": "InvalidValue", "description": "per_page must be a number"})
        if "cursor" in query:
            position = _decode_cursor(query["cursor"])
            if position is None:
                return _Response(422, {"error": "InvalidPaginationParameter", "description": "Invalid cursor"})
        elif "start_time" in query:
            try:
                start = int(query["start_time"])
            except ValueError:
                return _Response(400, {"error": "InvalidValue", "description": "start_time must be a number"})
            if start > self.now() - EXPORT_DELAY:
                description = "Too recent start_time. Use a start_time older than one minute"
                return _Response(400, {"error": "InvalidValue", "description": description})
            position = {"after": 0, "start": start}
        else:
            return _Response(400, {"error": "InvalidValue", "description": "start_time or cursor is required"})
        exclude_deleted = str(query.get("exclude_deleted", "")).lower() == "true"
        page, more = self._export_page(position, per_page, exclude_deleted)
        if page:
            position = {**position, "after": page[-1]["_sequence"]}
        after = _encode_cursor(position)
        body = {
            "tickets": [self._public_ticket(t) for t in page],
            "after_url": f"{self.url}/api/v2/incremental/tickets/cursor.json?{urlencode({'cursor': after})}",
            "after_cursor": after,
            "before_url": None,
            "before_cursor": None,
            "end_of_stream": not more,
        }
        return _Response(200, body)

    def _export_page(self, position: JSON, per_page: int, exclude_deleted: bool) -> tuple[list[JSON], bool]:
        """Tickets changed after the cursor's position, in order of change, and whether more are ready."""
        cutoff = self.now() - EXPORT_DELAY
        stream = sorted(
            (t for t in [*self.tickets.values(), *self.stale_copies] if t["_sequence"] > position["after"]),
            key=lambda t: t["_sequence"],
        )
        page: list[JSON] = []
        for ticket in stream:
            if ticket["_changed"] > cutoff:
                return page, False  # held back, and everything after it too, so the cursor never passes it
            if len(page) == per_page:
                return page, True
            if ticket["generated_timestamp"] < position["start"]:
                continue
            if exclude_deleted and ticket["status"] == "deleted":
                continue
            page.append(ticket)
        return page, False

    def _public_ticket(self, ticket: JSON) -> JSON:
        """A ticket as the API shows it (internal bookkeeping removed)."""
        return {k: copy.deepcopy(v) for k, v in ticket.items() if not k.startswith("_")}

    # -- comments

    def _list_comments(self, ticket_id: int, query: JSON) -> _Response:
        """Ticket comments oldest first; cursor pagination with page[size] and page[after]; include=users."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None or ticket["status"] == "deleted":
            return _Response(404, NOT_FOUND)
        comments = self.comments[ticket_id]
        try:
            size = min(int(query.get("page[size]") or MAX_COMMENT_PAGE), MAX_COMMENT_PAGE)
        except ValueError:
            return _Response(400, {"error": "InvalidPaginationParameter", "description": "page[size] must be a number"})
        start = 0
        if query.get("page[after]"):
            position = _decode_cursor(query["page[after]"])
            if position is None or "index" not in position:
                return _Response(400, {"error": "InvalidPaginationParameter", "description": "Invalid cursor"})
            start = int(position["index"])
        page = comments[start : start + size]
        has_more = start + size < len(comments)
        after = _encode_cursor({"index": start + len(page)}) if page else None
        before = _encode_cursor({"index": start}) if page else None
        base = f"{self.url}/api/v2/tickets/{ticket_id}/comments.json"
        body: JSON = {
            "comments": copy.deepcopy(page),
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
            "links": {
                "next": f"{base}?{urlencode({'page[size]': size, 'page[after]': after})}" if has_more else None,
                "prev": None,
            },
        }
        if "users" in str(query.get("include", "")).split(","):
            authors = sorted({c["author_id"] for c in page})
            body["users"] = [copy.deepcopy(self.users[a]) for a in authors if a in self.users]
        return _Response(200, body)
