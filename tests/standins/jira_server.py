"""A local Jira REST (v2) stand-in on 127.0.0.1, driven by the real `jira` client in tests; stdlib only."""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from tests.standins.serving import Served, TrackedHandler, TrackingServer

JSON = dict[str, Any]

DEFAULT_WORKFLOW: dict[str, list[str]] = {
    "To Do": ["In Progress", "Accepted", "Won't Do", "Done"],
    "In Progress": ["To Do", "Done", "Won't Do"],
    "Accepted": ["In Progress", "Done", "Won't Do"],
    "Won't Do": ["To Do"],
    "Done": ["To Do"],
}
# Statuses with these names land in the "done" category (and get a resolution), as in Jira's default schemes.
DONE_STATUSES = frozenset({"Done", "Won't Do", "Closed", "Resolved", "Cancelled", "Rejected"})
# Well-known ids for the default statuses, so payloads look like a fresh Jira site; others are numbered from 10100.
KNOWN_STATUS_IDS = {"To Do": "10000", "In Progress": "3", "Done": "10001", "Accepted": "10002", "Won't Do": "10003"}
CATEGORIES: dict[str, JSON] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
ISSUE_TYPES = [("10001", "Task"), ("10002", "Bug"), ("10003", "Story")]
PRIORITIES = [("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest")]
RESOLUTIONS = [("10000", "Done"), ("10001", "Won't Do"), ("10002", "Duplicate"), ("10003", "Cannot Reproduce")]
COMPONENTS = [("10000", "Refunds"), ("10001", "Returns"), ("10002", "Shipping")]
IMPACT_OPTIONS = [("10100", "Low"), ("10101", "Medium"), ("10102", "High")]
LINK_TYPES = [
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
]
POLICY_SECTION = "customfield_10042"
IMPACT = "customfield_10043"
# Fields a client may set on create or edit; everything else is "not on the appropriate screen", as Jira says.
# Jira's limit on a text field (a description, a comment body), in characters
TEXT_LIMIT = 32_767
TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
SETTABLE = frozenset({"summary", "description", "labels", "priority", "components", "assignee", POLICY_SECTION, IMPACT})
NOT_SETTABLE = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
API = r"/rest/api/(?:2|latest)"
# Verbatim from Jira Cloud since Atlassian removed the classic search there (CHANGE-2046).
REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


# Answers a fault gives without processing the request, as Jira (or the proxy in front of it) words them.
FAULT_STATUSES: dict[str, str] = {
    "400": "The request was malformed.",
    "401": NOT_AUTHENTICATED,
    "403": "You do not have the permission to see the specified issue.",
    "404": "Issue does not exist or you do not have permission to see it.",
    "409": "The issue is being edited by someone else.",
    "429": "Rate limit exceeded.",
    "500": "Internal server error",
    "502": "Bad Gateway",
    "503": "Service Unavailable",
    "504": "Gateway Timeout",
}


@dataclass
class Fault:
    """One injected failure for requests matching method + path regex; `times` how often, then it is used up.

    Kinds: an HTTP status from FAULT_STATUSES (answered without processing, e.g. a 429 or a 404 on the GET that
    follows a create), "drop_before" (hang up unprocessed), "drop_after_write" (process, then hang up), or
    "status_after_write:NNN" (process, then answer NNN: a proxy that timed out on a request Jira did apply).
    """

    method: str
    path: str
    kind: str
    retry_after: float = 1.0
    times: int = 1

    def __post_init__(self) -> None:
        """Fail at the test's line, not as a fault that silently never fires."""
        after = self.kind.removeprefix("status_after_write:")
        if self.kind not in ("drop_after_write", "drop_before") and after not in FAULT_STATUSES:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.times < 1:
            raise ValueError("times must be >= 1")
        re.compile(self.path)


@dataclass
class _Response:
    """What the handler writes back: status, JSON body (None = no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _ApiError(Exception):
    """A Jira-shaped error response (errorMessages + errors) raised from inside an endpoint."""

    def __init__(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None) -> None:
        super().__init__(status, messages, errors)
        self.response = _Response(status, {"errorMessages": messages or [], "errors": errors or {}})


def _same_component(a: Any, b: Any) -> bool:
    """Whether two values are the same component (dicts with equal ids)."""
    return isinstance(a, dict) and isinstance(b, dict) and a.get("id") == b.get("id")


def _as_text(value: Any) -> str | None:
    """A field value as Jira's changelog writes it (component names joined, lists of labels space-separated)."""
    if value is None:
        return None
    if isinstance(value, list):
        return " ".join(str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("displayName") or value.get("name") or value.get("value") or value)
    return str(value)


def _now() -> str:
    """The current time in Jira's timestamp format."""
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


# --- JQL subset -------------------------------------------------------------------------------------------------

JQL_FIELDS = {
    "project": "project",
    "labels": "labels",
    "key": "key",
    "issuekey": "key",
    "status": "status",
    "issuetype": "issuetype",
    "type": "issuetype",
}
JQL_ORDER_FIELDS = {"created": "created", "key": "key", "issuekey": "key"}
_TOKEN = re.compile(
    r"""\s*(?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>(?:[^'\\]|\\.)*)'|(?P<op>!=|!~|<=|>=|[=~<>(),])|(?P<word>[^\s=!~<>(),"']+))"""
)
_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")


@dataclass(frozen=True)
class JqlClause:
    """`field = value` or `field in (values)`; field is one of project, labels, key, status, issuetype."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class JqlQuery:
    """Clauses joined by AND, plus ORDER BY terms as (field, descending)."""

    clauses: tuple[JqlClause, ...]
    order: tuple[tuple[str, bool], ...]


def _jql_error(message: str) -> _ApiError:
    """A 400 the way Jira reports a JQL problem."""
    return _ApiError(400, [f"Error in the JQL Query: {message}"])


def _tokenize(jql: str) -> list[tuple[str, str]]:
    """Split JQL into (kind, text) tokens; kind is "str" (quoted), "op" or "word"."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(jql):
        if not jql[pos:].strip():
            break
        match = _TOKEN.match(jql, pos)
        if not match or match.end() == pos:
            raise _jql_error(f"The character {jql[pos:].lstrip()[:1]!r} at position {pos} is not expected.")
        if match.group("dq") is not None or match.group("sq") is not None:
            text = match.group("dq") if match.group("dq") is not None else match.group("sq")
            tokens.append(("str", re.sub(r"\\(.)", r"\1", text)))
        elif match.group("op") is not None:
            tokens.append(("op", match.group("op")))
        else:
            tokens.append(("word", match.group("word")))
        pos = match.end()
    return tokens


def parse_jql(jql: str) -> JqlQuery:
    """Parse the supported subset; anything else raises a 400 naming what is unsupported."""
    tokens = _tokenize(jql)
    pos = 0

    def peek(offset: int = 0) -> tuple[str, str] | None:
        return tokens[pos + offset] if pos + offset < len(tokens) else None

    def is_word(token: tuple[str, str] | None, *words: str) -> bool:
        return token is not None and token[0] == "word" and token[1].upper() in words

    def take(what: str) -> tuple[str, str]:
        nonlocal pos
        token = peek()
        if token is None:
            raise _jql_error(f"Expecting {what} but reached the end of the query.")
        pos += 1
        return token

    def value() -> str:
        kind, text = take("a value")
        if kind == "op" or (kind == "word" and text.upper() in {"AND", "OR", "NOT", "ORDER", "EMPTY", "NULL"}):
            raise _jql_error(f"Expecting a value but got '{text}'.")
        return text

    clauses: list[JqlClause] = []
    order: list[tuple[str, bool]] = []
    if peek() is not None and not is_word(peek(), "ORDER"):
        while True:
            kind, name = take("a field name")
            if (kind, name) == ("op", "("):
                raise _jql_error("Parenthesised groups are not supported by this Jira stand-in.")
            if kind == "op":
                raise _jql_error(f"Expecting a field name but got '{name}'.")
            if kind == "word" and name.upper() in {"NOT", "OR"}:
                raise _jql_error(f"'{name}' is not supported by this Jira stand-in.")
            field_name = JQL_FIELDS.get(name.lower())
            if field_name is None:
                supported = ", ".join(sorted(set(JQL_FIELDS)))
                raise _jql_error(f"Field '{name}' is not supported by this Jira stand-in (supported: {supported}).")
            op_kind, op = take("an operator")
            if op_kind == "op" and op == "=":
                values: tuple[str, ...] = (value(),)
            elif op_kind == "word" and op.upper() == "IN":
                if take("'('") != ("op", "("):
                    raise _jql_error(f"Expecting '(' after 'in' for field '{name}'.")
                items = [value()]
                while peek() == ("op", ","):
                    take("','")
                    items.append(value())
                if take("')'") != ("op", ")"):
                    raise _jql_error(f"Expecting ')' to close the list for field '{name}'.")
                values = tuple(items)
            else:
                raise _jql_error(f"Operator '{op}' is not supported by this Jira stand-in (supported: =, in).")
            clauses.append(JqlClause(field_name, values))
            if is_word(peek(), "AND"):
                take("'AND'")
                continue
            break
    if (extra := peek()) is not None:
        if not (is_word(extra, "ORDER") and is_word(peek(1), "BY")):
            raise _jql_error(f"Expecting 'AND' or 'ORDER BY' but got '{extra[1]}'; only AND is supported.")
        take("ORDER")
        take("BY")
        while True:
            _, name = take("a field to order by")
            order_field = JQL_ORDER_FIELDS.get(name.lower())
            if order_field is None:
                raise _jql_error(f"Ordering by '{name}' is not supported by this Jira stand-in (use created or key).")
            descending = False
            if is_word(peek(), "ASC", "DESC"):
                descending = take("ASC or DESC")[1].upper() == "DESC"
            order.append((order_field, descending))
            if peek() == ("op", ","):
                take("','")
                continue
            if (extra := peek()) is not None:
                raise _jql_error(f"Unexpected '{extra[1]}' after ORDER BY.")
            break
    return JqlQuery(tuple(clauses), tuple(order))


# --- HTTP plumbing ------------------------------------------------------------------------------------------------


class _Handler(TrackedHandler):
    """Reads one request, lets the stand-in answer it, writes the answer (or drops the connection)."""

    server_version = "jira-standin"

    def do_GET(self) -> None:
        """Serve GET."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Serve POST."""
        self._serve("POST")

    def do_PUT(self) -> None:
        """Serve PUT."""
        self._serve("PUT")

    def do_DELETE(self) -> None:
        """Serve DELETE."""
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        """Read the body, get the answer, write it or hang up without a byte."""
        length = int(self.headers.get("Content-Length") or 0)
        # Read the body even when the answer is a drop: closing with unread data makes the kernel send RST, which
        # can surface as a different error on the client than the clean EOF a dropped proxy connection gives.
        raw = self.rfile.read(length) if length else b""
        response = self.server.standin._answer(method, self.path, self.headers.get("Authorization"), raw)
        if response is None:
            self.close_connection = True
            return
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        if response.status != 204:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)


# --- the stand-in -------------------------------------------------------------------------------------------------


class JiraStandIn(Served):
    """A Jira Cloud or Server/Data Center REST v2 API over HTTP on 127.0.0.1, with fault injection."""

    def __init__(
        self,
        *,
        deployment: Literal["Cloud", "Server"] = "Cloud",
        project: str = "POL",
        email: str = "bot@example.com",
        token: str = "secret-token",
        search_lag: int = 0,
        search_lag_seconds: float = 0,
        workflow: dict[str, list[str]] | None = None,
        resolution_on_done: bool = True,
        transition_screen: bool = True,
        site_statuses: list[str] | None = None,
        transition_names: dict[str, str] | None = None,
    ) -> None:
        if deployment not in ("Cloud", "Server"):
            raise ValueError(f"deployment must be 'Cloud' or 'Server', not {deployment!r}")
        if search_lag < 0 or search_lag_seconds < 0:
            raise ValueError("search_lag and search_lag_seconds must be >= 0")
        self.deployment = deployment
        self.project_key = project.upper()
        self.email = email
        self.token = token
        self.search_lag = search_lag
        # Jira Cloud's search lags behind writes by time: a new issue is invisible to search this long.
        self.search_lag_seconds = search_lag_seconds
        # A done status without a resolution set by the transition gets one (Jira's default post function) ...
        self.resolution_on_done = resolution_on_done
        # ... and a transition without a screen refuses fields such as resolution, as Jira does.
        self.transition_screen = transition_screen
        self.components: list[tuple[str, str]] = list(COMPONENTS)  # the project's (id, name); admins add more
        # People Jira knows, found by user search (by email, name or display name) and assignable.
        self.users: list[JSON] = [
            {"name": "dana", "displayName": "Dana Whitfield", "emailAddress": "dana@example.com"},
            {"name": "maria", "displayName": "Maria Lopez", "emailAddress": "maria@example.com"},
            {"name": "sam.okafor", "displayName": "Sam Okafor", "emailAddress": "sam@example.com"},
        ]
        self.workflow = {status: list(targets) for status, targets in (workflow or DEFAULT_WORKFLOW).items()}
        if not self.workflow:
            raise ValueError("workflow needs at least one status")
        # Every status named anywhere, in first-seen order; transition ids (11, 21, ...) follow this order.
        self.statuses: list[str] = []
        for status, targets in self.workflow.items():
            for name in (status, *targets):
                if name not in self.statuses:
                    self.statuses.append(name)
        self.initial_status = next(iter(self.workflow))
        # Statuses of other projects' workflows: GET status lists them, the project's workflow has none of them.
        self.site_statuses = [s for s in site_statuses or [] if s not in self.statuses]
        # A transition's name when it is not its target status's ("Resolve" into Done), as workflows often say.
        self.transition_names = dict(transition_names or {})
        # Jira caps maxResults server-side and says so in the response; tests lower this to force client paging.
        self.max_results_cap = 100
        self.issues: dict[str, JSON] = {}
        self.comments: dict[str, list[JSON]] = {}
        self.remote_links: dict[str, list[JSON]] = {}
        self.histories: dict[str, list[JSON]] = {}  # issue key -> changelog entries, oldest first
        self.links: list[JSON] = []
        self.requests: list[tuple[str, str, JSON | None]] = []
        self.faults: list[Fault] = []
        self.errors: list[str] = []  # unexpected exceptions inside the stand-in (answered with 500)
        super().__init__()
        self._lock = threading.RLock()
        self._next_id = {"issue": 10000, "comment": 10000, "remotelink": 10000, "issuelink": 10000, "history": 10000}
        self._next_number = 1
        self._hidden: dict[str, int] = {}  # issue key -> searches it still stays invisible for
        self._hidden_until: dict[str, datetime] = {}  # issue key -> when search starts to see it
        self._routes = self._build_routes()

    # -- lifecycle

    name = "Jira stand-in"

    @property
    def url(self) -> str:
        """Base URL, http://127.0.0.1:<port>; set by start() and kept after stop()."""
        return self.root

    @property
    def api(self) -> str:
        """Base of REST v2 URLs, as used in `self` links."""
        return f"{self.url}/rest/api/2"

    def _bind(self) -> TrackingServer:
        return TrackingServer(self, _Handler)

    # -- helpers for tests

    def set_status(self, key: str, status: str, *, by: str = "Maria Lopez", email: str = "maria@example.com") -> None:
        """A person changed the status in Jira's UI (any status, no transition check); the history records who."""
        with self._lock:
            issue = self._issue(key)
            if status not in self.statuses:
                raise ValueError(f"unknown status {status!r}; known: {self.statuses}")
            self._record_history(issue, {"status": self._status(status)}, self._person(by, email))
            self._set_status(issue, status)
            self._sync_links()

    def edit_field(
        self, key: str, name: str, value: Any, *, by: str = "Maria Lopez", email: str = "maria@example.com"
    ) -> None:
        """A person edited a field in Jira's UI (a component list, or the policy section's text); the issue's
        history records who."""
        with self._lock:
            issue = self._issue(key)
            errors: dict[str, str] = {}
            parsed = self._parse_field(name, value, errors)
            if errors:
                raise ValueError(errors)
            self._record_history(issue, {name: parsed}, self._person(by, email))
            issue["fields"][name] = parsed
            issue["fields"]["updated"] = _now()

    def set_assignee(
        self, key: str, name: str | None, *, by: str = "Maria Lopez", email: str = "maria@example.com"
    ) -> None:
        """A person assigned the issue in Jira's UI (by the user's name; None unassigns it); the history records
        who."""
        with self._lock:
            issue = self._issue(key)
            user = None if name is None else self._user_json(next(u for u in self.users if u["name"] == name))
            self._record_history(issue, {"assignee": user}, self._person(by, email))
            issue["fields"]["assignee"] = user
            issue["fields"]["updated"] = _now()

    def assignee(self, key: str) -> str | None:
        """The name of the user the issue is assigned to, if any."""
        with self._lock:
            user = self._issue(key)["fields"].get("assignee")
            return None if user is None else str(self._find_user(user)["name"])

    def created(self, method: str = "POST", path: str = r"/rest/api/2/issue$") -> int:
        """How many requests matching method and path regex were received (by default: issue creates)."""
        with self._lock:
            return sum(
                1
                for seen_method, target, _ in self.requests
                if (method == "*" or seen_method == method.upper()) and re.search(path, urlsplit(target).path)
            )

    # -- request handling

    def _answer(self, method: str, target: str, authorization: str | None, raw: bytes) -> _Response | None:
        """Log, apply faults, authenticate and route one request; None means hang up without answering."""
        parts = urlsplit(target)
        body: Any = None
        body_error: str | None = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                body_error = f"Unexpected character in the request body: {exc}"
        with self._lock:
            self.requests.append((method, target, body if isinstance(body, dict) else None))
            fault = self._take_fault(method, parts.path)
        if fault is not None and fault.kind in FAULT_STATUSES:
            return self._fault_response(fault, fault.kind)
        if fault is not None and fault.kind == "drop_before":
            return None
        query = parse_qs(parts.query, keep_blank_values=True)
        response = self._process(method, parts.path, query, authorization, body, body_error)
        if fault is not None and fault.kind == "drop_after_write":
            return None
        if fault is not None and fault.kind.startswith("status_after_write:"):
            return self._fault_response(fault, fault.kind.split(":", 1)[1])
        return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        """The first live fault matching this request, with one use spent."""
        for fault in self.faults:
            if fault.times <= 0:
                continue
            if (fault.method == "*" or fault.method.upper() == method) and re.search(fault.path, path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _fault_response(self, fault: Fault, status: str) -> _Response:
        """An injected error answer; Retry-After (whole seconds: the client does int() on it) on 429 and 503."""
        retry_after = str(max(0, math.ceil(fault.retry_after)))
        body = {"errorMessages": [FAULT_STATUSES[status]], "errors": {}}
        if status == "503":
            return _Response(503, body, {"Retry-After": retry_after})
        if status != "429":
            return _Response(int(status), body)
        headers = {
            "Retry-After": retry_after,
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-FillRate": "10",
            "X-RateLimit-Interval-Seconds": "1",
            "X-RateLimit-Reset": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
        }
        if self.deployment == "Cloud":
            headers["RateLimit-Reason"] = "jira-burst-based"
        return _Response(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers)

    def _authenticated(self, authorization: str | None) -> bool:
        """Cloud: HTTP Basic (email, API token). Server/DC: Bearer personal access token."""
        if not authorization:
            return False
        scheme, _, credentials = authorization.partition(" ")
        if self.deployment == "Server":
            return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip(), self.token)
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(decoded, f"{self.email}:{self.token}")

    def _process(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        authorization: str | None,
        body: Any,
        body_error: str | None,
    ) -> _Response:
        """Authenticate and dispatch to the endpoint; Jira-shaped errors for everything that goes wrong."""
        if not self._authenticated(authorization):
            if self.deployment == "Cloud":
                headers = {"WWW-Authenticate": 'Basic realm="protected-area"'}
            else:
                headers = {"WWW-Authenticate": 'OAuth realm="jira"', "X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
            return _Response(401, {"errorMessages": [NOT_AUTHENTICATED], "errors": {}}, headers)
        allowed: list[str] = []
        for route_method, pattern, endpoint in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            if body_error is not None:
                return _Response(400, {"errorMessages": [body_error], "errors": {}})
            try:
                with self._lock:
                    return endpoint(*match.groups(), query=query, body=body)
            except _ApiError as exc:
                return exc.response
            except Exception as exc:  # a stand-in bug must answer, not hang the client
                self.errors.append(f"{method} {path}: {exc!r}")
                return _Response(500, {"errorMessages": [f"Jira stand-in error: {exc!r}"], "errors": {}})
        if allowed:
            body = {"errorMessages": [f"Method {method} is not allowed here."], "errors": {}}
            return _Response(405, body, {"Allow": ", ".join(sorted(set(allowed)))})
        return _Response(404, {"message": f"null for uri: {self.url}{path}", "status-code": 404})

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., _Response]]]:
        """Method, full-match path pattern and endpoint for every supported call."""
        table: list[tuple[str, str, Callable[..., _Response]]] = [
            ("GET", f"{API}/serverInfo", self._server_info),
            ("GET", f"{API}/myself", self._myself),
            ("GET", f"{API}/field", self._fields),
            ("GET", f"{API}/project", self._projects),
            ("GET", f"{API}/project/([^/]+)", self._project),
            ("GET", f"{API}/project/([^/]+)/statuses", self._project_statuses),
            ("GET", f"{API}/project/([^/]+)/components", self._project_components),
            ("GET", f"{API}/issuetype", self._issue_types),
            ("GET", f"{API}/priority", self._priorities),
            ("GET", f"{API}/resolution", self._resolutions),
            ("GET", f"{API}/status", self._statuses),
            ("POST", f"{API}/issue", self._create_issue),
            ("GET", f"{API}/issue/([^/]+)", self._get_issue),
            ("PUT", f"{API}/issue/([^/]+)", self._edit_issue),
            ("GET", f"{API}/search", self._search_classic),
            ("POST", f"{API}/search", self._search_classic),
            ("GET", f"{API}/search/jql", self._search_jql),
            ("POST", f"{API}/search/jql", self._search_jql),
            ("GET", f"{API}/issue/([^/]+)/comment", self._list_comments),
            ("POST", f"{API}/issue/([^/]+)/comment", self._add_comment),
            ("GET", f"{API}/issue/([^/]+)/transitions", self._list_transitions),
            ("POST", f"{API}/issue/([^/]+)/transitions", self._do_transition),
            ("GET", f"{API}/issue/([^/]+)/remotelink", self._list_remote_links),
            ("POST", f"{API}/issue/([^/]+)/remotelink", self._upsert_remote_link),
            ("DELETE", f"{API}/issue/([^/]+)/remotelink", self._delete_remote_link_by_global_id),
            ("GET", f"{API}/issue/([^/]+)/remotelink/([^/]+)", self._get_remote_link),
            ("DELETE", f"{API}/issue/([^/]+)/remotelink/([^/]+)", self._delete_remote_link),
            ("POST", f"{API}/issueLink", self._create_issue_link),
            ("GET", f"{API}/user/search", self._search_users),
            ("POST", f"{API}/component", self._create_component),
            ("PUT", f"{API}/issue/([^/]+)/assignee", self._assign),
            ("GET", f"{API}/issueLinkType", self._issue_link_types),
            ("GET", r"/rest/applinks/latest/listApplicationlinks", self._application_links),
        ]
        return [(method, re.compile(pattern), endpoint) for method, pattern, endpoint in table]

    # -- JSON building blocks

    def _user(self) -> JSON:
        """The authenticated bot user as Jira embeds users (accountId on Cloud, name/key on Server)."""
        avatars = {size: f"{self.url}/secure/useravatar?size={size}" for size in ("48x48", "24x24", "16x16", "32x32")}
        if self.deployment == "Cloud":
            account_id = "557058:0b1e6a3c-1d7e-4c52-9a5e-2c9f3b7a1d42"
            return {
                "self": f"{self.api}/user?accountId={account_id}",
                "accountId": account_id,
                "accountType": "atlassian",
                "emailAddress": self.email,
                "avatarUrls": avatars,
                "displayName": "Review Bot",
                "active": True,
                "timeZone": "Etc/UTC",
            }
        name = self.email.split("@", 1)[0]
        return {
            "self": f"{self.api}/user?username={name}",
            "name": name,
            "key": "JIRAUSER10000",
            "emailAddress": self.email,
            "avatarUrls": avatars,
            "displayName": "Review Bot",
            "active": True,
            "timeZone": "Etc/UTC",
        }

    def _person(self, display_name: str, email: str) -> JSON:
        """Someone working in Jira's UI, as a changelog entry names its author."""
        return {
            **self._user(),
            "displayName": display_name,
            "emailAddress": email,
            "accountId": f"557058:{display_name}",
        }

    def _user_json(self, person: JSON) -> JSON:
        """A known person as Jira embeds users: accountId on Cloud, name/key on Server."""
        base = {"emailAddress": person["emailAddress"], "displayName": person["displayName"], "active": True}
        if self.deployment == "Cloud":
            account_id = f"557058:{person['name']}"
            return {"self": f"{self.api}/user?accountId={account_id}", "accountId": account_id, **base}
        return {
            "self": f"{self.api}/user?username={person['name']}",
            "name": person["name"],
            "key": person["name"],
            **base,
        }

    def _find_user(self, ref: Any) -> JSON:
        """The person a user reference names: {"accountId"} on Cloud, {"name"} on Server; KeyError if none."""
        if isinstance(ref, dict):
            for person in self.users:
                user = self._user_json(person)
                if (self.deployment == "Cloud" and ref.get("accountId") == user["accountId"]) or (
                    self.deployment == "Server" and ref.get("name") == person["name"]
                ):
                    return person
        raise KeyError(ref)

    def _status_id(self, name: str) -> str:
        """Stable status id: Jira's usual ids for the default statuses, 10100+ for others."""
        return KNOWN_STATUS_IDS.get(name) or str(10100 + [*self.statuses, *self.site_statuses].index(name))

    def _category(self, name: str) -> str:
        """Status category key: done for done-like names, new for the initial status, else indeterminate."""
        if name in DONE_STATUSES:
            return "done"
        return "new" if name == self.initial_status else "indeterminate"

    def _status(self, name: str) -> JSON:
        """Status JSON with its statusCategory."""
        category = CATEGORIES[self._category(name)]
        return {
            "self": f"{self.api}/status/{self._status_id(name)}",
            "description": "",
            "iconUrl": f"{self.url}/images/icons/statuses/generic.png",
            "name": name,
            "id": self._status_id(name),
            "statusCategory": {"self": f"{self.api}/statuscategory/{category['id']}", **category},
        }

    def _issue_type(self, type_id: str, name: str) -> JSON:
        """Issue type JSON."""
        return {
            "self": f"{self.api}/issuetype/{type_id}",
            "id": type_id,
            "description": f"A {name.lower()}.",
            "iconUrl": f"{self.url}/images/icons/issuetypes/{name.lower()}.svg",
            "name": name,
            "subtask": False,
        }

    def _priority(self, priority_id: str, name: str) -> JSON:
        """Priority JSON."""
        return {
            "self": f"{self.api}/priority/{priority_id}",
            "iconUrl": f"{self.url}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": priority_id,
        }

    def _resolution(self, resolution_id: str, name: str) -> JSON:
        """Resolution JSON."""
        return {"self": f"{self.api}/resolution/{resolution_id}", "id": resolution_id, "description": "", "name": name}

    def _component(self, component_id: str, name: str) -> JSON:
        """Component JSON."""
        return {"self": f"{self.api}/component/{component_id}", "id": component_id, "name": name}

    def _impact(self, option_id: str, value: str) -> JSON:
        """Option JSON for the Impact select field."""
        return {"self": f"{self.api}/customFieldOption/{option_id}", "value": value, "id": option_id}

    def _project_ref(self) -> JSON:
        """The project as embedded in an issue."""
        return {
            "self": f"{self.api}/project/10000",
            "id": "10000",
            "key": self.project_key,
            "name": f"{self.project_key} policy reviews",
            "projectTypeKey": "software",
            "simplified": False,
        }

    def _is_project(self, id_or_key: str) -> bool:
        """Whether id_or_key names the one project (key compared case-insensitively, as Jira does)."""
        return id_or_key == "10000" or id_or_key.upper() == self.project_key

    def _issue(self, id_or_key: str) -> JSON:
        """The stored issue for an id or key, or a Jira-like 404."""
        wanted = id_or_key.upper()
        for key, issue in self.issues.items():
            if key == wanted or issue["id"] == id_or_key:
                return issue
        raise _ApiError(404, ["Issue does not exist or you do not have permission to see it."])

    def _new_id(self, kind: str) -> int:
        """Next numeric id of a kind."""
        value = self._next_id[kind]
        self._next_id[kind] += 1
        return value

    @staticmethod
    def _select_fields(fields: JSON, requested: list[str] | None) -> JSON:
        """Apply a `fields` parameter: names, *all / *navigable, and -name exclusions; None means all."""
        if requested is None:
            return copy.deepcopy(fields)
        tokens = [token.strip() for item in requested for token in str(item).split(",") if token.strip()]
        chosen = set(fields) if {"*all", "*navigable"} & set(tokens) else {t for t in tokens if t in fields}
        chosen -= {token[1:] for token in tokens if token.startswith("-")}
        return {name: copy.deepcopy(value) for name, value in fields.items() if name in chosen}

    def _render(self, issue: JSON, requested: list[str] | None) -> JSON:
        """Issue JSON as GET /issue and search return it, restricted to the requested fields."""
        return {
            "expand": ISSUE_EXPAND,
            "id": issue["id"],
            "self": issue["self"],
            "key": issue["key"],
            "fields": self._select_fields(issue["fields"], requested),
        }

    # -- field validation and application (create, edit, transition)

    def _parse_field(self, name: str, value: Any, errors: dict[str, str]) -> Any:
        """Validate one settable field value and return what is stored; adds to errors when invalid."""
        if name == "summary":
            if not isinstance(value, str) or not value.strip():
                errors[name] = "You must specify a summary of the issue."
            elif "\n" in value or "\r" in value:
                errors[name] = "The summary is invalid because it contains newline characters."
            elif len(value) > 255:
                errors[name] = "Summary must be less than 255 characters."
            return value
        if name == "description":
            if value is not None and not isinstance(value, str):
                errors[name] = "Operation value must be a string"
            elif value is not None and len(value) > TEXT_LIMIT:
                errors[name] = TOO_LONG
            return value
        if name == "labels":
            return self._parse_labels(value, errors)
        if name == "priority":
            for priority_id, priority_name in PRIORITIES:
                if isinstance(value, dict) and (value.get("id") == priority_id or value.get("name") == priority_name):
                    return self._priority(priority_id, priority_name)
            errors[name] = "Specify a valid 'id' or 'name' for Priority"
            return None
        if name == "components":
            if not isinstance(value, list):
                errors[name] = "data was not an array"
                return []
            return [component for item in value if (component := self._parse_component(item, errors)) is not None]
        if name == "assignee":
            if value is None:
                return None
            try:
                return self._user_json(self._find_user(value))
            except KeyError:
                wanted = "accountId" if self.deployment == "Cloud" else "name"
                errors[name] = f"User '{value.get(wanted) if isinstance(value, dict) else value}' does not exist."
                return None
        if name == POLICY_SECTION:
            if value is not None and not isinstance(value, str):
                errors[name] = "Operation value must be a string"
            return value
        if name == IMPACT:
            if value is None:
                return None
            if not isinstance(value, dict):
                errors[name] = "Could not find valid 'id' or 'value' in the Parent Option object."
                return None
            for option_id, option_value in IMPACT_OPTIONS:
                if value.get("id") == option_id or value.get("value") == option_value:
                    return self._impact(option_id, option_value)
            errors[name] = f"Option value '{value.get('value', value.get('id'))}' is not valid"
            return None
        errors[name] = NOT_SETTABLE.format(name)
        return None

    @staticmethod
    def _parse_labels(value: Any, errors: dict[str, str]) -> list[str]:
        """Labels: a list of strings without spaces (Jira rejects spaces)."""
        if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
            errors["labels"] = "data was not an array of strings"
            return []
        for label in value:
            if not label or " " in label:
                errors["labels"] = f"The label '{label}' contains spaces which is invalid."
            elif len(label) > 255:
                errors["labels"] = "The label must not exceed 255 characters."
        return list(dict.fromkeys(value))

    def _parse_component(self, item: Any, errors: dict[str, str]) -> JSON | None:
        """A component reference by id or name."""
        for component_id, component_name in self.components:
            if isinstance(item, dict) and (item.get("id") == component_id or item.get("name") == component_name):
                return self._component(component_id, component_name)
        if isinstance(item, dict) and "id" in item:
            errors["components"] = f"Component with id '{item['id']}' does not exist."
        else:
            name = item.get("name") if isinstance(item, dict) else item
            errors["components"] = f"Component name '{name}' is not valid"
        return None

    def _apply_update(self, fields: JSON, changes: JSON, update: Any, errors: dict[str, str]) -> list[str]:
        """Fold `update` verbs (add/remove/set; comment add) into `changes`; returns comment bodies to add."""
        comments: list[str] = []
        if update is None:
            return comments
        if not isinstance(update, dict):
            raise _ApiError(400, ["'update' must be an object of field operations."])
        for name, operations in update.items():
            if not isinstance(operations, list) or not all(isinstance(op, dict) and len(op) == 1 for op in operations):
                errors[name] = (
                    f"Can not deserialize the update for field '{name}': expected a list of operations like "
                    '[{"add": value}].'
                )
                continue
            if name == "comment":
                for operation in operations:
                    body = operation.get("add", {}).get("body") if isinstance(operation.get("add"), dict) else None
                    if not isinstance(body, str) or not body.strip():
                        errors["comment"] = "Comment body can not be empty!"
                    else:
                        comments.append(body)
                continue
            if name not in SETTABLE:
                errors[name] = NOT_SETTABLE.format(name)
                continue
            for operation in operations:
                verb, value = next(iter(operation.items()))
                if verb == "set":
                    changes[name] = self._parse_field(name, value, errors)
                elif verb in ("add", "remove") and name in ("labels", "components"):
                    current = list(changes.get(name, fields.get(name, [])))
                    if name == "labels":
                        items: list[Any] = self._parse_labels([value], errors)
                    else:
                        items = [c for c in [self._parse_component(value, errors)] if c is not None]
                    for entry in items:
                        # Components compare by id (their JSON carries a self URL), labels by value.
                        present = any(old == entry or _same_component(old, entry) for old in current)
                        if verb == "add" and not present:
                            current.append(entry)
                        elif verb == "remove":
                            current = [old for old in current if old != entry and not _same_component(old, entry)]
                    changes[name] = current
                else:
                    errors[name] = f"Operation '{verb}' is not supported for field '{name}'."
        return comments

    def _record_history(self, issue: JSON, changes: JSON, author: JSON) -> None:
        """Add a changelog entry for the fields whose values change, as Jira shows them (names, ids, strings)."""
        items = []
        for name, new in changes.items():
            old = issue["fields"].get(name)
            if old == new or name in ("description",):
                continue
            label = {
                "components": "Component",
                "labels": "labels",
                "summary": "summary",
                POLICY_SECTION: "Policy section",
            }
            items.append(
                {
                    "field": label.get(name, name),
                    "fieldtype": "custom" if name.startswith("customfield_") else "jira",
                    "fieldId": name,
                    "from": None,
                    "fromString": _as_text(old),
                    "to": None,
                    "toString": _as_text(new),
                }
            )
        if items:
            entry = {"id": str(self._new_id("history")), "author": author, "created": _now(), "items": items}
            self.histories.setdefault(issue["key"], []).append(entry)

    def _set_status(self, issue: JSON, status: str) -> None:
        """Move an issue to a status; done-category statuses get a resolution, others lose it."""
        fields = issue["fields"]
        now = _now()
        old_category = fields["status"]["statusCategory"]["key"]
        fields["status"] = self._status(status)
        if self._category(status) == "done":
            if fields.get("resolution") is None and self.resolution_on_done:
                name = "Won't Do" if status == "Won't Do" else "Done"
                fields["resolution"] = self._resolution(*next(r for r in RESOLUTIONS if r[1] == name))
                fields["resolutiondate"] = now
        else:
            fields["resolution"] = None
            fields["resolutiondate"] = None
        if old_category != self._category(status):
            fields["statuscategorychangedate"] = now
        fields["updated"] = now

    def _sync_comments(self, issue: JSON) -> None:
        """Keep the issue's `comment` field in step with the comment list."""
        comments = self.comments.get(issue["key"], [])
        issue["fields"]["comment"] = {
            "comments": copy.deepcopy(comments),
            "self": f"{self.api}/issue/{issue['id']}/comment",
            "maxResults": len(comments),
            "total": len(comments),
            "startAt": 0,
        }

    def _sync_links(self) -> None:
        """Recompute every issue's `issuelinks`, each side showing the other issue as Jira does."""
        for issue in self.issues.values():
            issue["fields"]["issuelinks"] = []
        for link in self.links:
            link_type = next(t for t in LINK_TYPES if t[1] == link["type"])
            type_json = self._link_type(*link_type)
            inward, outward = self.issues[link["inward"]], self.issues[link["outward"]]
            base = {"id": link["id"], "self": f"{self.api}/issueLink/{link['id']}", "type": type_json}
            inward["fields"]["issuelinks"].append({**base, "outwardIssue": self._linked_issue(outward)})
            outward["fields"]["issuelinks"].append({**base, "inwardIssue": self._linked_issue(inward)})

    def _linked_issue(self, issue: JSON) -> JSON:
        """The short issue form used inside issue links."""
        fields = issue["fields"]
        return {
            "id": issue["id"],
            "key": issue["key"],
            "self": issue["self"],
            "fields": {name: copy.deepcopy(fields[name]) for name in ("summary", "status", "priority", "issuetype")},
        }

    def _link_type(self, type_id: str, name: str, inward: str, outward: str) -> JSON:
        """Issue link type JSON."""
        return {
            "id": type_id,
            "name": name,
            "inward": inward,
            "outward": outward,
            "self": f"{self.api}/issueLinkType/{type_id}",
        }

    # -- endpoints: metadata

    def _server_info(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET serverInfo; the client calls this from JIRA() to learn deploymentType and version."""
        version = [1001, 0, 0] if self.deployment == "Cloud" else [9, 12, 0]
        info: JSON = {
            "baseUrl": self.url,
            "displayUrl": self.url,
            "version": ".".join(map(str, version)) + ("-SNAPSHOT" if self.deployment == "Cloud" else ""),
            "versionNumbers": version,
            "deploymentType": self.deployment,
            "buildNumber": 100290 if self.deployment == "Cloud" else 9120000,
            "buildDate": "2026-01-05T00:00:00.000+0000",
            "serverTime": _now(),
            "scmInfo": "0000000000000000000000000000000000000000",
            "serverTitle": "Jira",
            "defaultLocale": {"locale": "en_US"},
        }
        return _Response(200, info)

    def _myself(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET myself."""
        user = self._user()
        user.update(
            {
                "locale": "en_US",
                "groups": {"size": 1, "items": []},
                "applicationRoles": {"size": 1, "items": []},
                "expand": "groups,applicationRoles",
            }
        )
        return _Response(200, user)

    def _fields(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET field: system fields plus the two custom fields, with clauseNames the client caches."""

        def system(field_id: str, name: str, schema: JSON | None, clauses: list[str], orderable: bool = True) -> JSON:
            entry: JSON = {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": False,
                "orderable": orderable,
                "navigable": True,
                "searchable": True,
                "clauseNames": clauses,
            }
            if schema is not None:
                entry["schema"] = schema
            return entry

        def custom(number: int, name: str, kind: str, plugin: str) -> JSON:
            field_id = f"customfield_{number}"
            return {
                "id": field_id,
                "key": field_id,
                "name": name,
                "untranslatedName": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]", name],
                "schema": {
                    "type": kind,
                    "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}",
                    "customId": number,
                },
            }

        fields = [
            system("issuekey", "Key", None, ["id", "issue", "issuekey", "key"], orderable=False),
            system("summary", "Summary", {"type": "string", "system": "summary"}, ["summary"]),
            system("description", "Description", {"type": "string", "system": "description"}, ["description"]),
            system("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}, ["labels"]),
            system("status", "Status", {"type": "status", "system": "status"}, ["status"], orderable=False),
            system("priority", "Priority", {"type": "priority", "system": "priority"}, ["priority"]),
            system("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, ["issuetype", "type"]),
            system("project", "Project", {"type": "project", "system": "project"}, ["project"]),
            system(
                "components",
                "Components",
                {"type": "array", "items": "component", "system": "components"},
                ["component"],
            ),
            system("resolution", "Resolution", {"type": "resolution", "system": "resolution"}, ["resolution"]),
            system("created", "Created", {"type": "datetime", "system": "created"}, ["created", "createdDate"], False),
            system("updated", "Updated", {"type": "datetime", "system": "updated"}, ["updated", "updatedDate"], False),
            system("reporter", "Reporter", {"type": "user", "system": "reporter"}, ["reporter"]),
            system("assignee", "Assignee", {"type": "user", "system": "assignee"}, ["assignee"]),
            system("comment", "Comment", {"type": "comments-page", "system": "comment"}, ["comment"]),
            system(
                "issuelinks",
                "Linked Issues",
                {"type": "array", "items": "issuelinks", "system": "issuelinks"},
                ["issueLink"],
            ),
            custom(10042, "Policy section", "string", "textfield"),
            custom(10043, "Impact", "option", "select"),
        ]
        return _Response(200, fields)

    def _project_json(self) -> JSON:
        """Full project JSON with components and issue types."""
        return {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            **self._project_ref(),
            "description": "Review tickets filed by reviewbot.",
            "lead": self._user(),
            "components": [{**self._component(*c), "isAssigneeTypeValid": False} for c in self.components],
            "issueTypes": [self._issue_type(*t) for t in ISSUE_TYPES],
            "assigneeType": "UNASSIGNED",
            "versions": [],
            "roles": {},
            "isPrivate": False,
            "style": "classic",
            "properties": {},
        }

    def _require_project(self, id_or_key: str) -> None:
        """404 the way Jira answers an unknown project."""
        if not self._is_project(id_or_key):
            raise _ApiError(404, [f"No project could be found with key '{id_or_key}'."])

    def _projects(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET project (list)."""
        return _Response(200, [self._project_json()])

    def _project(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET project/{idOrKey}."""
        self._require_project(id_or_key)
        return _Response(200, self._project_json())

    def _project_statuses(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET project/{idOrKey}/statuses: statuses per issue type."""
        self._require_project(id_or_key)
        statuses = [self._status(name) for name in self.statuses]
        return _Response(
            200,
            [{**self._issue_type(*t), "statuses": copy.deepcopy(statuses)} for t in ISSUE_TYPES],
        )

    def _project_components(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET project/{idOrKey}/components."""
        self._require_project(id_or_key)
        return _Response(200, [self._component(*c) for c in self.components])

    def _issue_types(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET issuetype."""
        return _Response(200, [self._issue_type(*t) for t in ISSUE_TYPES])

    def _priorities(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET priority."""
        return _Response(200, [self._priority(*p) for p in PRIORITIES])

    def _resolutions(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET resolution."""
        return _Response(200, [self._resolution(*r) for r in RESOLUTIONS])

    def _statuses(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET status."""
        return _Response(200, [self._status(name) for name in [*self.statuses, *self.site_statuses]])

    def _application_links(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET /rest/applinks/latest/listApplicationlinks; add_remote_link asks for it first."""
        return _Response(200, {"list": []})

    # -- endpoints: issues

    def _create_issue(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """POST issue: validate like Jira (400 with `errors`), store, answer {id, key, self} with 201."""
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            raise _ApiError(400, ["Issue must be given as an object with 'fields'."])
        given: JSON = body["fields"]
        errors: dict[str, str] = {}
        project = given.get("project")
        if not (
            isinstance(project, dict)
            and (self._is_project(str(project.get("id", ""))) or self._is_project(str(project.get("key", ""))))
        ):
            errors["project"] = "valid project is required"
        issue_type = given.get("issuetype")
        type_match = [
            t
            for t in ISSUE_TYPES
            if isinstance(issue_type, dict) and (str(issue_type.get("id")) == t[0] or issue_type.get("name") == t[1])
        ]
        if not type_match:
            errors["issuetype"] = "valid issue type is required"
        if "summary" not in given:
            errors["summary"] = "You must specify a summary of the issue."
        values: JSON = {}
        for name, value in given.items():
            if name in ("project", "issuetype"):
                continue
            values[name] = self._parse_field(name, value, errors)
        comments = self._apply_update({}, values, body.get("update"), errors)
        if errors:
            raise _ApiError(400, [], errors)

        issue_id = str(self._new_id("issue"))
        key = f"{self.project_key}-{self._next_number}"
        self._next_number += 1
        now = _now()
        fields: JSON = {
            "summary": values["summary"],
            "description": values.get("description"),
            "labels": values.get("labels", []),
            "status": self._status(self.initial_status),
            "priority": values.get("priority") or self._priority("3", "Medium"),
            "issuetype": self._issue_type(*type_match[0]),
            "project": self._project_ref(),
            "components": values.get("components", []),
            "created": now,
            "updated": now,
            "statuscategorychangedate": now,
            "reporter": self._user(),
            "creator": self._user(),
            "assignee": values.get("assignee"),
            "resolution": None,
            "resolutiondate": None,
            "issuelinks": [],
            POLICY_SECTION: values.get(POLICY_SECTION),
            IMPACT: values.get(IMPACT),
        }
        issue = {"expand": ISSUE_EXPAND, "id": issue_id, "self": f"{self.api}/issue/{issue_id}", "key": key}
        issue["fields"] = fields
        self.issues[key] = issue
        self.comments[key] = []
        self.remote_links[key] = []
        for comment_body in comments:
            self._store_comment(issue, comment_body)
        self._sync_comments(issue)
        if self.search_lag:
            self._hidden[key] = self.search_lag
        if self.search_lag_seconds:
            self._hidden_until[key] = datetime.now(UTC) + timedelta(seconds=self.search_lag_seconds)
        return _Response(201, {"id": issue_id, "key": key, "self": issue["self"]})

    def _get_issue(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET issue/{idOrKey}; reads by key are consistent at once, unlike search."""
        issue = self._issue(id_or_key)
        rendered = self._render(issue, query.get("fields"))
        if "changelog" in ",".join(query.get("expand", [])).split(","):
            histories = copy.deepcopy(self.histories.get(issue["key"], []))
            rendered["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }
        return _Response(200, rendered)

    def _edit_issue(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """PUT issue/{idOrKey}: `fields` (replace) and `update` verbs; 204 like Jira."""
        issue = self._issue(id_or_key)
        if not isinstance(body, dict):
            raise _ApiError(400, ["Edit must be given as an object with 'fields' and/or 'update'."])
        errors: dict[str, str] = {}
        changes: JSON = {}
        for name, value in (body.get("fields") or {}).items():
            if name in (body.get("update") or {}):
                errors[name] = f"Field '{name}' cannot be set in both 'fields' and 'update'."
                continue
            changes[name] = self._parse_field(name, value, errors)
        comments = self._apply_update(issue["fields"], changes, body.get("update"), errors)
        if errors:
            raise _ApiError(400, [], errors)
        self._record_history(issue, changes, self._user())
        issue["fields"].update(changes)
        for comment_body in comments:
            self._store_comment(issue, comment_body)
        issue["fields"]["updated"] = _now()
        self._sync_comments(issue)
        self._sync_links()
        return _Response(204)

    # -- endpoints: search

    @staticmethod
    def _param(query: dict[str, list[str]], body: Any, name: str) -> Any:
        """A search parameter from the JSON body (POST) or the query string (GET)."""
        if isinstance(body, dict):
            return body.get(name)
        values = query.get(name)
        if not values:
            return None
        return values if name in ("fields", "reconcileIssues") else values[-1]

    def _max_results(self, raw: Any) -> int:
        """maxResults: default 50, capped at max_results_cap; 400 when not a non-negative integer."""
        if raw is None:
            return min(50, self.max_results_cap)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise _ApiError(400, [f"The value '{raw}' is not valid for maxResults."]) from None
        if value < 0:
            raise _ApiError(400, ["The maxResults parameter must not be negative."])
        return min(value, self.max_results_cap)

    def _fields_param(self, raw: Any) -> list[str] | None:
        """Normalise `fields` (list or comma string) to a list, or None when absent."""
        if raw is None:
            return None
        return [str(item) for item in raw] if isinstance(raw, list) else [str(raw)]

    def _run_query(self, jql: Any, strict: bool, reconcile: set[str], bounded: bool) -> tuple[list[JSON], list[str]]:
        """Evaluate JQL over the issues visible to this search request; returns (issues, warnings)."""
        if jql is None:
            jql = ""
        if not isinstance(jql, str):
            raise _ApiError(400, ["The JQL query must be a string."])
        query = parse_jql(jql)
        if bounded and not query.clauses:
            raise _ApiError(
                400, ["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."]
            )
        warnings: list[str] = []
        problems = self._check_values(query)
        if problems and strict:
            raise _ApiError(400, problems)
        warnings.extend(problems)

        # Eventual consistency: this request sees only issues whose lag has run out (or that it reconciles).
        hidden = {key for key, left in self._hidden.items() if left > 0 and self.issues[key]["id"] not in reconcile}
        now = datetime.now(UTC)
        hidden |= {k for k, t in self._hidden_until.items() if t > now and self.issues[k]["id"] not in reconcile}
        for key in list(self._hidden):
            self._hidden[key] -= 1
            if self._hidden[key] <= 0:
                del self._hidden[key]

        matches = [
            issue
            for key, issue in self.issues.items()
            if key not in hidden and all(self._matches(issue, clause) for clause in query.clauses)
        ]
        order = query.order or (("created", True),)
        for order_field, descending in reversed(order):
            if order_field == "created":
                matches.sort(key=lambda issue: (issue["fields"]["created"], int(issue["id"])), reverse=descending)
            else:
                matches.sort(key=lambda issue: int(issue["key"].rsplit("-", 1)[1]), reverse=descending)
        return matches, warnings

    def _check_values(self, query: JqlQuery) -> list[str]:
        """Jira's value checks: unknown project, status or issue key is an error in strict validation."""
        problems: list[str] = []
        for clause in query.clauses:
            for value in clause.values:
                if clause.field == "project" and not (self._is_project(value) or value == self._project_ref()["name"]):
                    problems.append(f"The value '{value}' does not exist for the field 'project'.")
                elif clause.field == "status" and not any(
                    value.casefold() == name.casefold() or value == self._status_id(name) for name in self.statuses
                ):
                    problems.append(f"The value '{value}' does not exist for the field 'status'.")
                elif clause.field == "key":
                    if not (_KEY.fullmatch(value.upper()) or value.isdigit()):
                        problems.append(f"The issue key '{value}' for field 'key' is invalid.")
                    elif not any(value.upper() == key or value == i["id"] for key, i in self.issues.items()):
                        problems.append(f"An issue with key '{value}' does not exist for field 'key'.")
        return problems

    def _matches(self, issue: JSON, clause: JqlClause) -> bool:
        """Whether an issue satisfies one clause."""
        fields = issue["fields"]
        if clause.field == "project":  # the issue's own project (after a rename of the key, only new issues have it)
            own = fields["project"]
            return any(v.upper() == own["key"] or v in (own["id"], own["name"]) for v in clause.values)
        if clause.field == "labels":
            return any(v in fields["labels"] for v in clause.values)
        if clause.field == "key":
            return any(v.upper() == issue["key"] or v == issue["id"] for v in clause.values)
        if clause.field == "issuetype":
            kind = fields["issuetype"]
            return any(v.casefold() == kind["name"].casefold() or v == kind["id"] for v in clause.values)
        status = fields["status"]
        return any(v.casefold() == status["name"].casefold() or v == status["id"] for v in clause.values)

    def _search_classic(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET/POST search: startAt/maxResults/total paging (Server/DC; removed from Cloud, hence 410 there)."""
        if self.deployment == "Cloud":
            raise _ApiError(410, [REMOVED_SEARCH])
        validate = self._param(query, body, "validateQuery")
        strict = validate is None or str(validate).lower() in ("true", "strict")
        matches, warnings = self._run_query(self._param(query, body, "jql"), strict, set(), bounded=False)
        try:
            start_at = int(self._param(query, body, "startAt") or 0)
        except ValueError:
            raise _ApiError(400, ["startAt must be a number."]) from None
        max_results = self._max_results(self._param(query, body, "maxResults"))
        requested = self._fields_param(self._param(query, body, "fields"))
        page = matches[max(start_at, 0) : max(start_at, 0) + max_results]
        result: JSON = {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(matches),
            "issues": [self._render(issue, requested) for issue in page],
        }
        if warnings:
            result["warningMessages"] = warnings
        return _Response(200, result)

    def _search_jql(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET/POST search/jql: Cloud's enhanced search with nextPageToken paging and isLast, no total."""
        if self.deployment == "Server":
            raise _ApiError(404, ["null for uri: search/jql (Jira Server/Data Center has no enhanced search)"])
        jql = self._param(query, body, "jql")
        offset = 0
        token = self._param(query, body, "nextPageToken")
        if token:
            offset = self._read_token(str(token), jql)
        reconcile = {str(item) for item in (self._param(query, body, "reconcileIssues") or [])}
        matches, _ = self._run_query(jql, True, reconcile, bounded=True)
        max_results = self._max_results(self._param(query, body, "maxResults"))
        requested = self._fields_param(self._param(query, body, "fields"))
        page = matches[offset : offset + max_results]
        if requested is None:
            # Enhanced search returns only ids unless fields are asked for.
            issues = [{"id": issue["id"]} for issue in page]
        else:
            issues = [self._render(issue, requested) for issue in page]
        result: JSON = {"issues": issues, "isLast": offset + len(page) >= len(matches)}
        if page and not result["isLast"]:
            # Like Cloud, the last page carries no token at all (not even null).
            result["nextPageToken"] = self._make_token(offset + len(page), jql)
        return _Response(200, result)

    @staticmethod
    def _make_token(offset: int, jql: Any) -> str:
        """An opaque page token bound to the query."""
        return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": jql}).encode()).decode()

    @staticmethod
    def _read_token(token: str, jql: Any) -> int:
        """Offset from a page token; 400 when it is not ours or belongs to another query."""
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset, token_jql = int(data["o"]), data["q"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise _ApiError(400, ["The provided next page token is invalid or expired."]) from None
        if token_jql != jql:
            raise _ApiError(400, ["The provided next page token does not belong to this query."])
        return offset

    # -- endpoints: comments

    def _store_comment(self, issue: JSON, text: str) -> JSON:
        """Append a comment to an issue and return its JSON."""
        comment_id = str(self._new_id("comment"))
        now = _now()
        comment: JSON = {
            "self": f"{self.api}/issue/{issue['id']}/comment/{comment_id}",
            "id": comment_id,
            "author": self._user(),
            "body": text,
            "updateAuthor": self._user(),
            "created": now,
            "updated": now,
        }
        if self.deployment == "Cloud":
            comment["jsdPublic"] = True
        self.comments[issue["key"]].append(comment)
        issue["fields"]["updated"] = now
        return comment

    def _list_comments(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET issue/{key}/comment: startAt, maxResults (default 5000), orderBy [+-]created."""
        issue = self._issue(id_or_key)
        comments = list(self.comments[issue["key"]])
        order_by = (query.get("orderBy") or [""])[-1]
        if order_by not in ("", "created", "+created", "-created"):
            raise _ApiError(400, [f"Ordering by '{order_by}' is not supported."])
        if order_by == "-created":
            comments.reverse()
        try:
            start_at = int((query.get("startAt") or ["0"])[-1])
            max_results = int((query.get("maxResults") or ["5000"])[-1])
        except ValueError:
            raise _ApiError(400, ["startAt and maxResults must be numbers."]) from None
        page = comments[start_at : start_at + max_results]
        return _Response(
            200, {"startAt": start_at, "maxResults": max_results, "total": len(comments), "comments": page}
        )

    def _add_comment(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """POST issue/{key}/comment: 201 with the comment."""
        issue = self._issue(id_or_key)
        text = body.get("body") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, [], {"comment": "Comment body can not be empty!"})
        if len(text) > TEXT_LIMIT:
            raise _ApiError(400, [], {"comment": TOO_LONG})
        comment = self._store_comment(issue, text)
        self._sync_comments(issue)
        return _Response(201, copy.deepcopy(comment))

    # -- endpoints: transitions

    def _transition_id(self, status: str) -> str:
        """Global transition id per target status: 11, 21, 31, ... in status order, like Jira's defaults."""
        return str(11 + 10 * self.statuses.index(status))

    def _available(self, issue: JSON) -> list[str]:
        """Target statuses reachable from the issue's current status."""
        return self.workflow.get(issue["fields"]["status"]["name"], [])

    def _list_transitions(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET issue/{key}/transitions: what the workflow allows from here, each with its `to` status."""
        issue = self._issue(id_or_key)
        only = (query.get("transitionId") or [None])[-1]
        transitions = [
            {
                "id": self._transition_id(target),
                "name": self.transition_names.get(target, target),
                "to": self._status(target),
                "hasScreen": False,
                "isGlobal": False,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
            for target in self._available(issue)
            if only is None or self._transition_id(target) == only
        ]
        return _Response(200, {"expand": "transitions", "transitions": transitions})

    def _do_transition(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """POST issue/{key}/transitions: apply by id; 400 when not available from the current status."""
        issue = self._issue(id_or_key)
        transition = body.get("transition") if isinstance(body, dict) else None
        if not isinstance(transition, dict) or transition.get("id") in (None, ""):
            raise _ApiError(400, ["Missing 'transition' identifier"])
        wanted = str(transition["id"])
        target = next((t for t in self._available(issue) if self._transition_id(t) == wanted), None)
        if target is None:
            raise _ApiError(400, [f"Transition id '{wanted}' is not valid for this issue."])
        errors: dict[str, str] = {}
        changes: JSON = {}
        resolution: JSON | None = None
        for name, value in (body.get("fields") or {}).items():
            if not self.transition_screen:
                errors[name] = NOT_SETTABLE.format(name)
                continue
            if name == "resolution":
                match = [
                    r
                    for r in RESOLUTIONS
                    if isinstance(value, dict) and (value.get("id") == r[0] or value.get("name") == r[1])
                ]
                if not match:
                    errors[name] = "Specify a valid 'id' or 'name' for Resolution"
                else:
                    resolution = self._resolution(*match[0])
                continue
            changes[name] = self._parse_field(name, value, errors)
        comments = self._apply_update(issue["fields"], changes, body.get("update"), errors)
        if errors:
            raise _ApiError(400, [], errors)
        issue["fields"].update(changes)
        self._record_history(issue, {"status": self._status(target)}, self._user())
        self._set_status(issue, target)
        if resolution is not None and self._category(target) == "done":
            issue["fields"]["resolution"] = resolution
        for comment_body in comments:
            self._store_comment(issue, comment_body)
        self._sync_comments(issue)
        self._sync_links()
        return _Response(204)

    # -- endpoints: remote links

    def _remote_link_json(self, issue: JSON, link_id: int, body: JSON) -> JSON:
        """Stored remote link JSON as Jira returns it."""
        link: JSON = {
            "id": link_id,
            "self": f"{self.api}/issue/{issue['key']}/remotelink/{link_id}",
            "application": copy.deepcopy(body.get("application") or {}),
            "object": {"icon": {}, "status": {"icon": {}}, **copy.deepcopy(body["object"])},
        }
        if body.get("globalId") is not None:
            link["globalId"] = body["globalId"]
        if body.get("relationship") is not None:
            link["relationship"] = body["relationship"]
        return link

    def _list_remote_links(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET issue/{key}/remotelink, or the single link for ?globalId= (404 if none)."""
        issue = self._issue(id_or_key)
        links = self.remote_links[issue["key"]]
        global_id = (query.get("globalId") or [None])[-1]
        if global_id is None:
            return _Response(200, copy.deepcopy(links))
        for link in links:
            if link.get("globalId") == global_id:
                return _Response(200, copy.deepcopy(link))
        raise _ApiError(404, [f"No remote link with globalId '{global_id}' found."])

    def _upsert_remote_link(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """POST issue/{key}/remotelink: a known globalId updates that link (200), else a new one (201)."""
        issue = self._issue(id_or_key)
        obj = body.get("object") if isinstance(body, dict) else None
        errors: dict[str, str] = {}
        if not isinstance(obj, dict):
            errors["object"] = "'object' is required."
        else:
            if not obj.get("url"):
                errors["url"] = "'url' is required."
            if not obj.get("title"):
                errors["title"] = "'title' is required."
        if errors:
            raise _ApiError(400, [], errors)
        links = self.remote_links[issue["key"]]
        global_id = body.get("globalId")
        for index, existing in enumerate(links):
            if global_id is not None and existing.get("globalId") == global_id:
                links[index] = self._remote_link_json(issue, existing["id"], body)
                issue["fields"]["updated"] = _now()
                return _Response(200, {"id": existing["id"], "self": existing["self"]})
        link = self._remote_link_json(issue, self._new_id("remotelink"), body)
        links.append(link)
        issue["fields"]["updated"] = _now()
        return _Response(201, {"id": link["id"], "self": link["self"]})

    def _get_remote_link(self, id_or_key: str, link_id: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET issue/{key}/remotelink/{id}."""
        issue = self._issue(id_or_key)
        for link in self.remote_links[issue["key"]]:
            if str(link["id"]) == link_id:
                return _Response(200, copy.deepcopy(link))
        raise _ApiError(404, [f"No remote link with id '{link_id}' found."])

    def _delete_remote_link(self, id_or_key: str, link_id: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """DELETE issue/{key}/remotelink/{id}."""
        issue = self._issue(id_or_key)
        links = self.remote_links[issue["key"]]
        kept = [link for link in links if str(link["id"]) != link_id]
        if len(kept) == len(links):
            raise _ApiError(404, [f"No remote link with id '{link_id}' found."])
        self.remote_links[issue["key"]] = kept
        return _Response(204)

    def _delete_remote_link_by_global_id(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """DELETE issue/{key}/remotelink?globalId=..."""
        issue = self._issue(id_or_key)
        global_id = (query.get("globalId") or [None])[-1]
        if global_id is None:
            raise _ApiError(400, ["globalId is required."])
        links = self.remote_links[issue["key"]]
        kept = [link for link in links if link.get("globalId") != global_id]
        if len(kept) == len(links):
            raise _ApiError(404, [f"No remote link with globalId '{global_id}' found."])
        self.remote_links[issue["key"]] = kept
        return _Response(204)

    # -- endpoints: issue links

    def _issue_link_types(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET issueLinkType."""
        return _Response(200, {"issueLinkTypes": [self._link_type(*t) for t in LINK_TYPES]})

    def _create_issue_link(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """POST issueLink: type by name or id; 201 with an empty body; a comment goes on the outward issue."""
        if not isinstance(body, dict):
            raise _ApiError(400, ["Issue link must be given as an object."])
        wanted = body.get("type") or {}
        link_type = next(
            (
                t
                for t in LINK_TYPES
                if isinstance(wanted, dict) and (wanted.get("name") == t[1] or wanted.get("id") == t[0])
            ),
            None,
        )
        if link_type is None:
            name = wanted.get("name", wanted.get("id")) if isinstance(wanted, dict) else wanted
            raise _ApiError(404, [f"No issue link type with name '{name}' found."])
        ends: list[JSON] = []
        for side in ("inwardIssue", "outwardIssue"):
            ref = body.get(side)
            if not isinstance(ref, dict) or not (ref.get("key") or ref.get("id")):
                raise _ApiError(400, [f"'{side}' is required."])
            ends.append(self._issue(str(ref.get("key") or ref.get("id"))))
        inward, outward = ends
        link = {
            "id": str(self._new_id("issuelink")),
            "type": link_type[1],
            "inward": inward["key"],
            "outward": outward["key"],
        }
        self.links.append(link)
        comment = body.get("comment")
        if isinstance(comment, dict) and isinstance(comment.get("body"), str) and comment["body"].strip():
            self._store_comment(outward, comment["body"])
            self._sync_comments(outward)
        now = _now()
        inward["fields"]["updated"] = outward["fields"]["updated"] = now
        self._sync_links()
        return _Response(201)

    # -- endpoints: users

    def _search_users(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """GET user/search: `query` (Cloud) or `username` (Server) matched against name, email and display name."""
        wanted = ((query.get("query") or query.get("username") or [""])[-1]).casefold()
        if not wanted:
            raise _ApiError(400, ["The query parameter 'query' is required."])
        found = [
            self._user_json(person)
            for person in self.users
            if any(wanted in str(person[k]).casefold() for k in ("name", "emailAddress", "displayName"))
        ]
        return _Response(200, found)

    def _assign(self, id_or_key: str, *, query: dict[str, list[str]], body: Any) -> _Response:
        """PUT issue/{key}/assignee: {"accountId"} on Cloud, {"name"} on Server; null unassigns."""
        issue = self._issue(id_or_key)
        errors: dict[str, str] = {}
        value = None if not isinstance(body, dict) or body.get("accountId", body.get("name")) is None else body
        user = self._parse_field("assignee", value, errors)
        if errors:
            raise _ApiError(404 if value else 400, [errors["assignee"]])
        self._record_history(issue, {"assignee": user}, self._user())
        issue["fields"]["assignee"] = user
        issue["fields"]["updated"] = _now()
        return _Response(204)

    def _create_component(self, *, query: dict[str, list[str]], body: Any) -> _Response:
        """POST component: {name, project}; 400 when the name is taken in the project (any case), as Jira does."""
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise _ApiError(400, [], {"name": "The component name specified is invalid."})
        self._require_project(str(body.get("project", "")))
        if any(existing.casefold() == name.casefold() for _, existing in self.components):
            raise _ApiError(400, [], {"name": "A component with the name " + name + " already exists in this project."})
        component_id = str(10000 + len(self.components))
        self.components.append((component_id, name))
        return _Response(201, {**self._component(component_id, name), "project": self.project_key})
