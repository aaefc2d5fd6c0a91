"""The three kinds of connector (Source, Tracker, Notifier) and the data that crosses them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

Kind = Literal["complaint", "survey", "agent_note", "suggestion"]


@dataclass(frozen=True)
class RawRecord:
    """One feedback record as a source read it, before redaction and scoring."""

    external_id: str
    text: str
    created_at: datetime
    kind: Kind
    origin: str  # where it came from, e.g. "complaints/export.csv:12"
    customer: str | None = None
    channel: str | None = None
    author: str | None = None
    nps: int | None = None
    csat: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reject:
    """A row that could not be read (line >= 1), or a whole file that could not (line 0)."""

    file: str
    line: int
    reason: str
    raw: str = ""

    @property
    def whole_file(self) -> bool:
        """True when the whole file was refused, not one row."""
        return self.line == 0


@dataclass
class Batch:
    """Records and rejects read together, and the source's cursor once they are stored."""

    records: list[RawRecord] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)
    skipped: int = 0  # rows with nothing to store (no text, no score): counted, not quarantined
    # records read twice in the batch that the source dropped itself, keeping the later copy (Zendesk, to read a
    # ticket's comments once); a repeat left in `records` is counted by the store, which keeps the later one too
    superseded: int = 0
    # files read without a whole-file problem: their earlier whole-file quarantine entries no longer apply
    files_read: list[str] = field(default_factory=list)


@runtime_checkable
class Source(Protocol):
    """Reads feedback incrementally. Fetching again from a saved cursor yields nothing already covered."""

    name: str

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        """Yield batches after `cursor`; each batch's cursor covers it and everything before it."""
        ...


@dataclass(frozen=True)
class Link:
    """A link from a ticket to a web page, e.g. the policy section it concerns."""

    global_id: str  # stable identity: adding the same link again updates it
    url: str
    title: str


@dataclass(frozen=True)
class TicketDraft:
    """What a tracker needs to file or refresh a review ticket."""

    fingerprint: str
    title: str
    evidence: dict[str, Any]
    labels: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class TrackerRef:
    """A ticket as the tracker knows it: its key, its status there, and our state that status means (if any)."""

    ref: str
    status: str
    url: str | None = None
    state: str | None = None
    section: str | None = None  # the policy section the tracker's section field names, where it has one
    assignee: str | None = None  # the person the ticket is assigned to there, where the tracker says


class AmbiguousWrite(Exception):
    """A write may or may not have happened (timeout, dropped connection): find out before writing again."""


@dataclass(frozen=True)
class Check:
    """One line of `reviewbot doctor`: what was checked, whether it is fine, and how to fix it if not."""

    name: str
    ok: bool
    detail: str
    hint: str | None = None


@runtime_checkable
class Tracker(Protocol):
    """Where review tickets live (built-in or Jira). Every call is safe to repeat."""

    name: str

    def find(self, fingerprint: str) -> TrackerRef | None:
        """The ticket carrying this fingerprint, if the tracker has one."""
        ...

    def create(self, draft: TicketDraft) -> TrackerRef:
        """File a new ticket."""
        ...

    def update(self, ref: str, draft: TicketDraft, marker: str, note: str) -> None:
        """Refresh the evidence and add `note` as a comment, once per `marker`."""
        ...

    def pull(self, ref: str) -> TrackerRef:
        """The ticket's current state in the tracker."""
        ...

    def close(self, ref: str, resolution: str) -> None:
        """Close the ticket with a resolution (no-op when already closed)."""
        ...


MessageKind = Literal[
    "digest", "signoff_request", "reminder", "escalation", "announcement", "thank_you", "ack_request", "impact"
]


@dataclass(frozen=True)
class Message:
    """A notification for people: what happened, to whom, with the data a rich notifier can use."""

    kind: MessageKind
    title: str
    body: str
    recipients: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Notifier(Protocol):
    """Tells people things (console by default, Slack later)."""

    name: str

    def send(self, message: Message) -> None:
        """Deliver one message; raise on failure so the outbox retries it."""
        ...
