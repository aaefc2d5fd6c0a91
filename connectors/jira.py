"""Jira tracker: review tickets as Jira issues, created exactly once, with their state flowing both ways.

Jira has no idempotency key, its client re-sends POSTs after connection errors, and Jira Cloud search lags
behind writes. So every issue carries a fingerprint label (`reviewbot-<fingerprint>`), the outbox searches for
it before creating, the client runs with its own retries off, and a create is one POST and nothing more
(`prefetch=False`: the client would otherwise GET the new issue, and a failed GET would make the whole call look
failed). Only answers that say the POST was not applied (429, or 503 with Retry-After) send it again; a write
whose outcome is unknown (timeout, dropped connection, gateway error) raises AmbiguousWrite and the outbox
searches again after the search has settled instead of creating again. Comments carry a marker so none is added
twice. Every error says whether it concerns the whole site (`site_wide`: unreachable, 5xx, rate limits, 401/403)
or one issue (a 400 or 404 about it), so one bad ticket does not hold up the others.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar

import requests
from jira import JIRA, JIRAError
from pydantic import BaseModel, ConfigDict, Field

from reviewbot.connectors.jira_markup import fit_comment, render_jira
from reviewbot.connectors.registry import Connector, ConnectorContext, parse_options
from reviewbot.errors import ConfigError
from reviewbot.evidence import impact
from reviewbot.protocols import AmbiguousWrite, Check, Link, TicketDraft, TrackerRef
from reviewbot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
FINGERPRINT_LABEL = "reviewbot-"
PAGE = 50

DEFAULT_STATUSES = {
    "To Do": "open",
    "Open": "open",
    "Backlog": "open",
    "Accepted": "triaged",
    "Selected for Development": "triaged",
    "In Progress": "triaged",
    "In Review": "in_review",
    "Won't Do": "dismissed",
    "Won't Fix": "dismissed",
    "Declined": "dismissed",
    "Rejected": "dismissed",
    "Done": "closed",
    "Closed": "closed",
    "Resolved": "closed",
}


class JiraOptions(BaseModel):
    """Options of `[tracker] type = "jira"` in reviewbot.toml. The token itself comes from the environment."""

    model_config = ConfigDict(extra="forbid")

    server: str = Field(pattern=r"^https?://", description="your Jira's address, starting with https://")
    deployment: Literal["cloud", "datacenter"] = "cloud"
    email: str | None = None  # Cloud: the account the API token belongs to
    token_env: str = "REVIEWBOT_JIRA_TOKEN"
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]+$", description="a Jira project key like POL (upper case)")
    issue_type: str = "Task"
    labels: list[str] = Field(default_factory=lambda: ["reviewbot"])
    # impact of a ticket (high, medium, low) -> Jira priority name; empty to leave priority to Jira
    priorities: dict[str, str] = Field(default_factory=lambda: {"high": "High", "medium": "Medium", "low": "Low"})
    section_field: str | None = None  # "components", or a custom field id such as "customfield_10042"
    # section_field = "components": section id -> component name (else the component named like the section id)
    components: dict[str, str] = Field(default_factory=dict)
    create_components: bool = False  # create a section's missing component instead of failing its ticket
    statuses: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STATUSES))  # Jira status -> our state
    done_transition: str = "Done"  # approve/publish: a transition (or its target status) by name
    done_resolution: str | None = "Done"  # set by that transition; None leaves the resolution to the workflow
    dismiss_transition: str = "Won't Do"  # tickets dismiss / a rejection
    dismiss_resolution: str | None = "Won't Do"
    reopen_transition: str = "To Do"  # a dismissed or closed ticket whose theme grew back
    # person in reviewbot -> Jira user (email, Data Center username, or Cloud accountId); unmapped people are
    # looked up by user search with their own name
    users: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=10, gt=0)
    retries: int = Field(default=3, ge=0)  # for 429/503 answers and failed reads
    max_retry_after: float = Field(default=60, gt=0)
    settle_seconds: float = Field(default=60, ge=0)  # search lag to wait out after a create of unknown outcome


class JiraTracker:
    """The Tracker protocol over the `jira` client."""

    name = "jira"

    def __init__(self, options: JiraOptions, token: str | None, email: str | None) -> None:
        self.options = options
        self.token = token
        self.email = email
        self.settle_seconds = options.settle_seconds
        self.sleep: Callable[[float], None] = time.sleep
        self._client: JIRA | None = None
        self._users: dict[str, dict[str, Any]] = {}  # person -> Jira user, found once per run
        self._assignee_ids: dict[str, str] = {}  # issue key -> accountId/name of its assignee, as last pulled
        self._components: dict[str, str] | None = None  # component name (casefolded) -> name, read once

    # --- the client ------------------------------------------------------------------------------------

    @property
    def client(self) -> JIRA:
        """The `jira` client, made on first use so a configuration without Jira work never connects."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> JIRA:
        o = self.options
        if not self.token:
            raise ConfigError(
                f"no Jira token: set {o.token_env}",
                field="tracker.token_env",
                hint=f"put the {'API token' if o.deployment == 'cloud' else 'personal access token'} in the "
                f"environment or the workspace .env as {o.token_env}",
            )
        auth: dict[str, Any] = {"token_auth": self.token}
        if o.deployment == "cloud":
            if not self.email:
                raise ConfigError(
                    "Jira Cloud needs the account's email",
                    field="tracker.email",
                    hint="set email in [tracker] or REVIEWBOT_JIRA_EMAIL",
                )
            auth = {"basic_auth": (self.email, self.token)}
        # max_retries=0: the client would re-send a POST after a dropped connection and create a duplicate.
        return JIRA(server=o.server, max_retries=0, timeout=o.timeout, **auth)

    def call(self, what: str, call: Callable[[], T], *, write: bool = False) -> T:
        """Run one client call: retry what Jira did not apply (429, 503 with Retry-After) and failed reads; a write
        that may have been applied (dropped connection, timeout, gateway error) is ambiguous, never repeated."""
        o = self.options
        for attempt in range(o.retries + 1):
            try:
                return call()
            except JIRAError as exc:
                if self._not_applied(exc, write) and attempt < o.retries:
                    self.sleep(self._retry_after(exc))
                    continue
                if write and (exc.status_code is None or exc.status_code >= 500) and not self._not_applied(exc, write):
                    raise AmbiguousWrite(
                        f"{what}: Jira answered {exc.status_code or 'nothing'} after the request was sent; "
                        "the outcome is unknown"
                    ) from None
                raise self._error(what, exc) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if write:
                    raise AmbiguousWrite(
                        f"{what}: {type(exc).__name__} after sending; the outcome is unknown"
                    ) from None
                if attempt < o.retries:
                    self.sleep(min(2.0**attempt, o.max_retry_after))
                    continue
                raise TrackerError(f"{what}: Jira at {o.server} is unreachable ({type(exc).__name__})") from None
        raise AssertionError("unreachable")

    def _not_applied(self, exc: JIRAError, write: bool) -> bool:
        """Whether an error answer says Jira did not process the request, so sending it again is safe."""
        if exc.status_code == 429:
            return True
        if exc.status_code == 503:
            # Jira's own overload answer carries Retry-After; a bare 503 on a write may come from a proxy that
            # gave up while Jira went on.
            return not write or self._header(exc, "Retry-After") is not None
        return not write and exc.status_code in (502, 504)

    @staticmethod
    def _header(exc: JIRAError, name: str) -> str | None:
        headers = getattr(exc.response, "headers", None) or exc.headers or {}
        return headers.get(name)

    def _retry_after(self, exc: JIRAError) -> float:
        try:
            seconds = float(self._header(exc, "Retry-After") or 1)
        except (TypeError, ValueError):
            seconds = 1.0
        return max(0.0, min(seconds, self.options.max_retry_after))

    def _error(self, what: str, exc: JIRAError) -> Exception:
        status, text = exc.status_code, (exc.text or "").strip()[:300]
        if status == 401:
            who = f" for {self.email}" if self.email and self.options.deployment == "cloud" else ""
            return ConfigError(
                f"Jira refused the credentials (401) during {what}",
                field="tracker",
                hint=f"check the token in {self.options.token_env}{who}",
            )
        if status == 403:
            return ConfigError(
                f"the Jira account may not do this (403) during {what}: {text}",
                field="tracker",
                # the README's list: a shorter one here left people granting permissions one 403 at a time
                hint=(
                    f"give it, in project {self.options.project}: Browse Projects, Create, Edit, Transition, Link, "
                    "Resolve and Assign Issues, Add Comments (Administer Projects for create_components); and "
                    "Browse users and groups (global)"
                ),
            )
        if status == 400 and "for the field 'project'" in text:
            # Jira's answer to a search in a project it does not know (or the account may not browse): every
            # message would fail the same way, so it is the configuration's fault, not one issue's.
            return ConfigError(
                f"Jira has no project {self.options.project} for this account (400) during {what}: {text}",
                field="tracker",
                hint="check project in [tracker] (a key such as POL) and that the account may browse it; "
                "`reviewbot doctor` checks both",
            )
        return TrackerError(f"{what}: Jira answered {status}: {text or 'no reason given'}", status=status)

    # --- the Tracker protocol --------------------------------------------------------------------------

    def find(self, fingerprint: str) -> TrackerRef | None:
        """The oldest issue labelled with this fingerprint, if search sees one."""
        found = self.search(f'labels = "{FINGERPRINT_LABEL}{fingerprint}" ORDER BY created ASC', "status", limit=1)
        return self._ref(found[0]) if found else None

    def create(self, draft: TicketDraft) -> TrackerRef:
        """Create the issue with one POST (the caller searched first); links follow with `link` once the key is
        saved, so a failed link cannot make a created issue look uncreated."""
        fields = self._fields(draft)  # before the POST: a section without a component fails here, nothing sent
        issue = self.call("create issue", lambda: self.client.create_issue(fields=fields, prefetch=False), write=True)
        return TrackerRef(issue.key, "To Do", self._url(issue.key), self.options.statuses.get("To Do"))

    def link(self, ref: str, links: Iterable[Link]) -> None:
        """Add or refresh the issue's remote links (the same globalId updates a link: safe to repeat)."""
        self._link(ref, links)

    def update(self, ref: str, draft: TicketDraft, marker: str, note: str) -> None:
        """Refresh summary, description, section field and fingerprint label (a ticket moved to another section
        has a new one), upsert links, and add the note as a comment once per marker."""
        issue = self.call("read issue", lambda: self.client.issue(ref, fields="summary,labels"))
        fields: dict[str, Any] = {"summary": draft.title[:255], "description": render_jira(draft.title, draft.evidence)}
        kept = [label for label in issue.fields.labels or [] if not label.startswith(FINGERPRINT_LABEL)]
        fields["labels"] = list(dict.fromkeys([*kept, f"{FINGERPRINT_LABEL}{draft.fingerprint}"]))
        fields |= self._section_value(draft)
        self.call("update issue", lambda: issue.update(fields=fields))
        self._link(ref, draft.links)
        if note:
            self._comment_once(ref, marker, note)

    def pull(self, ref: str) -> TrackerRef:
        """The issue's status, the state it means here, and the section its section field names."""
        issue = self.call("read issue", lambda: self.client.issue(ref, fields=self._pulled_fields))
        return self._ref(issue)

    @property
    def _pulled_fields(self) -> str:
        return ",".join(["status", "assignee", *([self.options.section_field] if self.options.section_field else [])])

    def pull_many(self, refs: Iterable[str]) -> dict[str, TrackerRef]:
        """Statuses of many issues in few requests."""
        keys, found = list(refs), {}
        for start in range(0, len(keys), PAGE):
            chunk = keys[start : start + PAGE]
            try:
                issues = self.search(f"key in ({', '.join(chunk)})", self._pulled_fields)
            except TrackerError as exc:
                if exc.status != 400:
                    raise
                # Jira rejects the whole query when one key no longer exists (an issue deleted there): ask
                # for each, so one deleted issue does not stop every other ticket from following its status.
                found |= {key: ref for key in chunk if (ref := self._pull_if_there(key)) is not None}
                continue
            found |= {issue.key: self._ref(issue) for issue in issues}
        return found

    def _pull_if_there(self, ref: str) -> TrackerRef | None:
        try:
            return self.pull(ref)
        except TrackerError as exc:
            if exc.status == 404:
                return None
            raise

    def close(self, ref: str, resolution: str) -> None:
        """Comment with the resolution and move the issue to done with `done_resolution` (nothing if it is in a
        done status already)."""
        o = self.options
        self._comment_once(ref, f"close:{resolution}", resolution)
        self._transition(ref, o.done_transition, o.done_resolution, "done_transition")

    def dismiss(self, ref: str, reason: str) -> None:
        """Move the issue to the "won't do" transition with `dismiss_resolution` (nothing if it is done already)."""
        o = self.options
        self._transition(ref, o.dismiss_transition, o.dismiss_resolution, "dismiss_transition")

    def reopen(self, ref: str) -> None:
        """Move a done issue back through `reopen_transition` (nothing if it is not done)."""
        self._transition(ref, self.options.reopen_transition, None, "reopen_transition", done=False)

    def _transition(self, ref: str, wanted: str, resolution: str | None, setting: str, *, done: bool = True) -> None:
        """Move the issue through a transition named like `wanted` (or leading to that status), unless it already
        is where that leads: in a done status (`done`), or not in one."""
        issue = self.call("read issue", lambda: self.client.issue(ref, fields="status"))
        if (issue.fields.status.statusCategory.key == "done") == done:
            return
        transitions = self.call("read transitions", lambda: self.client.transitions(issue))
        match = next((t for t in transitions if wanted.lower() in (t["name"].lower(), t["to"]["name"].lower())), None)
        if match is None:
            names = ", ".join(t["name"] for t in transitions) or "none"
            raise TrackerError(
                f"{ref}: no transition {wanted!r} from {issue.fields.status.name} (available: {names}); "
                f"set {setting} in [tracker]",
                status=400,
            )
        fields = {"resolution": {"name": resolution}} if resolution else None
        try:
            self.call("transition issue", lambda: self.client.transition_issue(issue, match["id"], fields=fields))
        except TrackerError as exc:
            if fields is None or exc.status != 400 or "resolution" not in str(exc):
                raise
            # The transition has no screen with the resolution on it: its workflow sets one (or none) itself.
            log.info("%s: transition %s takes no resolution; done without it", ref, match["name"])
            self.call("transition issue", lambda: self.client.transition_issue(issue, match["id"]))

    # --- assignee --------------------------------------------------------------------------------------

    def assign(self, ref: str, person: str | None) -> None:
        """Make the Jira user this person is (see `users`) the issue's assignee; None unassigns it."""
        user = None if person is None else self._user_for(person)
        key = "accountId" if self.options.deployment == "cloud" else "name"
        value = None if user is None else {key: user[key]}
        issue = self.call("read issue", lambda: self.client.issue(ref, fields="assignee"))
        self.call("assign issue", lambda: issue.update(fields={"assignee": value}))

    def same_person(self, ref: TrackerRef, person: str | None) -> bool:
        """Whether the Jira user a pulled issue is assigned to is this reviewbot person."""
        if ref.assignee == person:
            return True
        if person is None or ref.ref not in self._assignee_ids:
            return False
        try:
            user = self._user_for(person)
        except TrackerError:
            return False
        return self._identity(user) == self._assignee_ids[ref.ref]

    def _user_for(self, person: str) -> dict[str, Any]:
        """The Jira user for a person: `users` names them by email, username or accountId, else their own name is
        searched for. Exactly one user must match."""
        if person in self._users:
            return self._users[person]
        wanted = self.options.users.get(person, person)
        cloud = self.options.deployment == "cloud"
        found = self.call(
            "user search",
            lambda: (
                self.client.search_users(query=wanted, maxResults=20)
                if cloud
                else self.client.search_users(user=wanted, maxResults=20)
            ),
        )
        users = [u.raw for u in found if u.raw.get("active", True)]
        exact = [
            u
            for u in users
            if wanted.casefold()
            in {str(u.get(k, "")).casefold() for k in ("accountId", "emailAddress", "name", "displayName")}
        ]
        chosen = exact if exact else users
        if len(chosen) != 1:
            seen = ", ".join(str(u.get("emailAddress") or u.get("displayName")) for u in chosen) or "nobody"
            raise TrackerError(
                f"no single Jira user for {person!r} (searched {wanted!r}, found {seen}); "
                f'map them in [tracker] users, e.g. users = {{ "{person}" = "their.email@example.com" }}',
                status=404,
            )
        self._users[person] = chosen[0]
        return chosen[0]

    def _identity(self, user: dict[str, Any]) -> str:
        return str(user.get("accountId") if self.options.deployment == "cloud" else user.get("name"))

    def _person_of(self, user: Any) -> str | None:
        """The reviewbot person a Jira user is: by `users`, or by an earlier lookup; else Jira's email or name."""
        if user is None:
            return None
        raw = getattr(user, "raw", None) or {}
        ids = {str(raw.get(k, "")).casefold() for k in ("accountId", "emailAddress", "name")} - {""}
        for person, value in self.options.users.items():
            if value.casefold() in ids:
                return person
        for person, known in self._users.items():
            if self._identity(known) == self._identity(raw):
                return person
        return raw.get("emailAddress") or raw.get("name") or raw.get("displayName")

    # --- duplicates ------------------------------------------------------------------------------------

    def duplicates(self) -> dict[str, list[str]]:
        """Fingerprints carried by more than one issue, each with its issues oldest first."""
        by_fingerprint: dict[str, list[str]] = {}
        for issue in self.search('labels = "reviewbot" ORDER BY created ASC', "labels"):
            for label in issue.fields.labels:
                if label.startswith(FINGERPRINT_LABEL):
                    by_fingerprint.setdefault(label[len(FINGERPRINT_LABEL) :], []).append(issue.key)
        return {fp: keys for fp, keys in by_fingerprint.items() if len(keys) > 1}

    def link_duplicate(self, keep: str, duplicate: str) -> bool:
        """Mark `duplicate` as a duplicate of `keep`, once; True when it was not marked before."""
        issue = self.call("read issue", lambda: self.client.issue(duplicate, fields="issuelinks"))
        for link in getattr(issue.fields, "issuelinks", None) or []:
            linked = getattr(link, "outwardIssue", None) or getattr(link, "inwardIssue", None)
            if linked is not None and linked.key == keep:
                return False
        self.call(
            "link duplicate",
            lambda: self.client.create_issue_link("Duplicate", inwardIssue=duplicate, outwardIssue=keep),
            write=True,
        )
        self._comment_once(duplicate, f"duplicate-of:{keep}", f"Duplicate of {keep}, created twice by reviewbot.")
        return True

    # --- doctor (reviewbot.connectors.jira_doctor) -----------------------------------------------------

    def check(self) -> list[Check]:
        """Reach Jira and check credentials, project, issue type, priorities, the section field, and the statuses
        and resolutions the done and won't-do transitions use."""
        from reviewbot.connectors.jira_doctor import checks  # it builds on this module

        return checks(self)

    def check_sections(self, sections: Iterable[str]) -> list[Check]:
        """With section_field = "components": every policy section has its component (or it will be created)."""
        from reviewbot.connectors.jira_doctor import check_sections

        return check_sections(self, sections)

    # --- helpers ---------------------------------------------------------------------------------------

    def search(self, jql: str, fields: str, limit: int | None = None) -> list[Any]:
        """Issues of the project matching `jql` (all, or at most `limit`), with only `fields` read."""
        query = f'project = "{self.options.project}" AND {jql}'
        return list(
            self.call("search", lambda: self.client.search_issues(query, maxResults=limit or False, fields=fields))
        )

    def _fields(self, draft: TicketDraft) -> dict[str, Any]:
        o = self.options
        fields: dict[str, Any] = {
            "project": {"key": o.project},
            "issuetype": {"name": o.issue_type},
            "summary": draft.title[:255],
            "description": render_jira(draft.title, draft.evidence),
            "labels": list(dict.fromkeys([*o.labels, *draft.labels, f"{FINGERPRINT_LABEL}{draft.fingerprint}"])),
        }
        priority = o.priorities.get(impact(draft.evidence))
        if priority:
            fields["priority"] = {"name": priority}
        return fields | self._section_value(draft)

    def _section_value(self, draft: TicketDraft) -> dict[str, Any]:
        """The section field's value for a ticket (nothing when no field is configured or it is a coverage gap)."""
        field, section = self.options.section_field, (draft.evidence.get("section") or {}).get("id")
        if not field or not section:
            return {}
        return {field: [{"name": self.component_for(section)}] if field == "components" else section}

    def component_for(self, section: str) -> str:
        """The project component that stands for a section: mapped in `components`, or named like the section
        (any case); created when `create_components` is on, else a clear error for this ticket alone."""
        o = self.options
        wanted = o.components.get(section, section)
        existing = self.project_components()
        if wanted.casefold() in existing:
            return existing[wanted.casefold()]
        if not o.create_components:
            raise TrackerError(
                f"section {section!r} has no component {wanted!r} in project {o.project}; add it in Jira "
                "(Project settings > Components), map the section in [tracker] components, or set "
                "create_components = true",
                status=400,
            )
        self.call("create component", lambda: self.client.create_component(wanted, o.project), write=True)
        existing[wanted.casefold()] = wanted
        return wanted

    def project_components(self) -> dict[str, str]:
        """The project's components by case-folded name (read once)."""
        if self._components is None:
            found = self.call("components", lambda: self.client.project_components(self.options.project))
            self._components = {c.name.casefold(): c.name for c in found}
        return self._components

    def _section_of(self, issue: Any) -> str | None:
        """The section an issue's section field names (the first component, or the custom field's value)."""
        field = self.options.section_field
        value = getattr(issue.fields, field, None) if field else None
        if isinstance(value, list):
            value = value[0] if value else None
        for attribute in ("name", "value"):  # a component, or a select list option
            value = getattr(value, attribute, value)
        if not isinstance(value, str) or not value:
            return None
        if field == "components":  # the section a component stands for: mapped, or named like it
            mapped = {name.casefold(): section for section, name in self.options.components.items()}
            return mapped.get(value.casefold(), value.casefold())
        return value

    def changed_by(self, ref: str, field: str) -> str | None:
        """Who last changed the issue's "status", "assignee" or "section" (its section field), from its history:
        their email, else their display name (None when Jira does not say)."""
        wanted = self.options.section_field if field == "section" else field
        if not wanted:
            return None
        issue = self.call("read history", lambda: self.client.issue(ref, fields="summary", expand="changelog"))
        for history in reversed(getattr(getattr(issue, "changelog", None), "histories", None) or []):
            if any(wanted in (getattr(i, "fieldId", None), getattr(i, "field", None)) for i in history.items):
                author = history.author
                return getattr(author, "emailAddress", None) or getattr(author, "displayName", None)
        return None

    def unlink(self, ref: str, global_ids: Iterable[str]) -> None:
        """Remove links that no longer apply (to the section a ticket was moved away from)."""
        for global_id in global_ids:
            self.call("unlink", lambda g=global_id: self.client.delete_remote_link(ref, global_id=g))

    def _link(self, ref: str, links: Iterable[Link]) -> None:
        for link in links:
            destination = {"url": link.url, "title": link.title}
            # A globalId makes adding the same link again an update, so this is safe to repeat.
            self.call("link", lambda d=destination, g=link.global_id: self.client.add_remote_link(ref, d, globalId=g))

    def _comment_once(self, ref: str, marker: str, text: str) -> None:
        tag = f"[reviewbot:{hashlib.sha256(marker.encode()).hexdigest()[:12]}]"
        existing = self.call("read comments", lambda: self.client.comments(ref))
        if any(tag in (c.body or "") for c in existing):
            return
        # Notes carry people's words (reasons, comments): escaped, so they read in Jira as they were written.
        self.call("add comment", lambda: self.client.add_comment(ref, fit_comment(text, tag)), write=True)

    def _ref(self, issue: Any) -> TrackerRef:
        status = issue.fields.status.name
        section = self._section_of(issue)
        user = getattr(issue.fields, "assignee", None)
        if user is not None:
            self._assignee_ids[issue.key] = self._identity(getattr(user, "raw", None) or {})
        state = self.options.statuses.get(status)
        return TrackerRef(issue.key, status, self._url(issue.key), state, section, self._person_of(user))

    def _url(self, key: str) -> str:
        return f"{self.options.server.rstrip('/')}/browse/{key}"


class TrackerError(Exception):
    """Jira refused or could not do something; the message says what."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # Jira's HTTP status, when it answered

    @property
    def site_wide(self) -> bool:
        """True when the whole site is in trouble (unreachable, 5xx, rate limited), not one issue (400, 404)."""
        return self.status is None or self.status >= 500 or self.status == 429


def jira_from_settings(options: dict[str, Any], settings: Settings) -> JiraTracker:
    """Build the Jira tracker from `[tracker]` options and secrets from the environment or `.env`."""
    opts = parse_options(JiraOptions, options, ("tracker",), settings)
    email = opts.email or settings.secret("REVIEWBOT_JIRA_EMAIL")
    return JiraTracker(opts, settings.secret(opts.token_env), email)


def make_jira_tracker(options: dict[str, Any], context: ConnectorContext) -> JiraTracker:
    """Build the Jira tracker."""
    return jira_from_settings(options, context.settings)


connector = Connector(tracker=make_jira_tracker)  # declared in pyproject.toml as "jira"
