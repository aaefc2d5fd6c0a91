"""The built-in tracker: review tickets kept as issues in reviewbot's own database (the default)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import col, func, select

from reviewbot.connectors.registry import Connector, ConnectorContext
from reviewbot.evidence import render_markdown
from reviewbot.models import TrackerComment, TrackerIssue, utcnow
from reviewbot.protocols import TicketDraft, TrackerRef
from reviewbot.store import Store

KEY_PREFIX = "RB"
KEYS_PER_QUERY = 5_000  # well under every database's limit of bound parameters


class BuiltinTracker:
    """Issues keyed RB-1, RB-2, ... in the `tracker_issue` table; comments deduplicated by marker."""

    name = "builtin"

    def __init__(self, store: Store) -> None:
        self.store = store

    def find(self, fingerprint: str) -> TrackerRef | None:
        """The issue filed for this fingerprint, if any."""
        with self.store.session() as session:
            issue = session.exec(select(TrackerIssue).where(TrackerIssue.fingerprint == fingerprint)).first()
            return None if issue is None else TrackerRef(issue.key, issue.status)

    def create(self, draft: TicketDraft) -> TrackerRef:
        """File a new issue (or return the existing one for this fingerprint)."""
        with self.store.session() as session:
            existing = session.exec(select(TrackerIssue).where(TrackerIssue.fingerprint == draft.fingerprint)).first()
            if existing is not None:
                return TrackerRef(existing.key, existing.status)
            number = (session.exec(select(func.max(TrackerIssue.id))).one() or 0) + 1
            issue = TrackerIssue(
                key=f"{KEY_PREFIX}-{number}",
                fingerprint=draft.fingerprint,
                title=draft.title,
                body=render_markdown(draft.title, draft.evidence),
            )
            session.add(issue)
            return TrackerRef(issue.key, issue.status)

    def update(self, ref: str, draft: TicketDraft, marker: str, note: str) -> None:
        """Replace the body with the new evidence and add the note as a comment, once per marker."""
        with self.store.session() as session:
            issue = self._get(session, ref)
            issue.fingerprint = draft.fingerprint  # a ticket moved to another section has a new identity
            issue.title = draft.title
            issue.body = render_markdown(draft.title, draft.evidence)
            issue.updated_at = utcnow()
            session.add(issue)
            seen = session.exec(select(TrackerComment).where(TrackerComment.marker == marker)).first()
            if seen is None:
                session.add(TrackerComment(issue_key=ref, marker=marker, body=note))

    def pull(self, ref: str) -> TrackerRef:
        """The issue's current status."""
        with self.store.session() as session:
            issue = self._get(session, ref)
            return TrackerRef(issue.key, issue.status)

    def pull_many(self, refs: Iterable[str]) -> dict[str, TrackerRef]:
        """Statuses of many issues, in one query."""
        found: dict[str, TrackerRef] = {}
        keys = list(refs)
        with self.store.session() as session:
            for start in range(0, len(keys), KEYS_PER_QUERY):
                chunk = keys[start : start + KEYS_PER_QUERY]
                query = select(TrackerIssue.key, TrackerIssue.status).where(col(TrackerIssue.key).in_(chunk))
                found |= {key: TrackerRef(key, status) for key, status in session.exec(query)}
        return found

    def close(self, ref: str, resolution: str) -> None:
        """Close the issue with a resolution; closing twice changes nothing."""
        with self.store.session() as session:
            issue = self._get(session, ref)
            if issue.status != "closed":
                issue.status, issue.resolution, issue.updated_at = "closed", resolution, utcnow()
                session.add(issue)

    def dismiss(self, ref: str, reason: str) -> None:
        """Close the issue as "won't do", the reason its resolution (cut to the column's 200 characters); an issue
        closed already stays as it is."""
        resolution = f"Won't do: {reason}"
        self.close(ref, resolution if len(resolution) <= 200 else resolution[:199] + "\u2026")

    def reopen(self, ref: str) -> None:
        """Open a closed issue again (its ticket reopened, by growth or by a person), clearing its resolution."""
        with self.store.session() as session:
            issue = self._get(session, ref)
            if issue.status == "closed":
                issue.status, issue.resolution, issue.updated_at = "open", None, utcnow()
                session.add(issue)

    @staticmethod
    def _get(session: Any, ref: str) -> TrackerIssue:
        issue = session.exec(select(TrackerIssue).where(TrackerIssue.key == ref)).first()
        if issue is None:
            raise LookupError(f"no built-in tracker issue {ref}")
        return issue


def make_builtin_tracker(options: dict[str, Any], context: ConnectorContext) -> BuiltinTracker:
    """Build the built-in tracker on the workspace's store."""
    if context.store is None:
        raise ValueError("the built-in tracker needs the store")
    return BuiltinTracker(context.store)


connector = Connector(tracker=make_builtin_tracker)  # declared in pyproject.toml as "builtin"
