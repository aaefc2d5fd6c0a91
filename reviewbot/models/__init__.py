"""Tables of the reviewbot store (SQLModel). Import them from here; `metadata` here holds every table.

A table's module is imported when one of its names is first asked for (`from reviewbot.models import Theme`):
building a table class costs pydantic and SQLAlchemy a few milliseconds, and a command that lists tickets reads
only some of the 26. Reading needs no other table; writing does: SQLAlchemy orders a flush (or a bulk insert or
update) by every foreign key of the tables it writes, and fails on one naming a table nobody built. So the first
write of a process builds them all (`_build_every_table_before_writing`), and a read-only command builds only what
it reads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from reviewbot.models.base import utcnow

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from reviewbot.models.feedback import FeedbackItem, QuarantinedRow, SourceState
    from reviewbot.models.locks import JobLock
    from reviewbot.models.ops import OutboxMessage, SyncRun
    from reviewbot.models.policy import (
        PolicyAck,
        PolicyDocument,
        PolicyRelease,
        PolicyRevision,
        PolicySection,
        SectionReview,
    )
    from reviewbot.models.review import AuditEvent, MappingCorrection, SignOff, SignOffRequest
    from reviewbot.models.themes import SentimentCalibration, Theme, ThemeMapping, VectorizerState
    from reviewbot.models.tickets import ReviewTicket, TrackerComment, TrackerIssue
    from reviewbot.models.web import WebCredential, WebSignInFailure, WebSignInLink

    metadata: MetaData

# The module defining each table class.
TABLE_MODULES = {
    "FeedbackItem": "feedback", "QuarantinedRow": "feedback", "SourceState": "feedback",
    "JobLock": "locks",
    "OutboxMessage": "ops", "SyncRun": "ops",
    "PolicyAck": "policy", "PolicyDocument": "policy", "PolicyRelease": "policy", "PolicyRevision": "policy",
    "PolicySection": "policy", "SectionReview": "policy",
    "AuditEvent": "review", "MappingCorrection": "review", "SignOff": "review", "SignOffRequest": "review",
    "SentimentCalibration": "themes", "Theme": "themes", "ThemeMapping": "themes", "VectorizerState": "themes",
    "ReviewTicket": "tickets", "TrackerComment": "tickets", "TrackerIssue": "tickets",
    "WebCredential": "web", "WebSignInFailure": "web", "WebSignInLink": "web",
}  # fmt: skip


def load_all() -> None:
    """Import every table's module (what Alembic and a schema comparison need: the whole metadata)."""
    for module in sorted(set(TABLE_MODULES.values())):
        importlib.import_module(f"{__name__}.{module}")


def _build_every_table_before_writing(session: Session, *_: Any) -> None:
    """Before a flush: every table on the metadata (what orders the flush's writes); at once if they are."""
    load_all()


def _build_every_table_before_bulk_writes(state: ORMExecuteState) -> None:
    """Before an ORM insert, update or delete statement (bulk ones order their tables as a flush does)."""
    if state.is_insert or state.is_update or state.is_delete:
        _build_every_table_before_writing(state.session)


event.listen(Session, "before_flush", _build_every_table_before_writing)
event.listen(Session, "do_orm_execute", _build_every_table_before_bulk_writes)


def __getattr__(name: str) -> Any:
    """A table class, imported with its module on first use; `metadata` with every table on it."""
    if name == "metadata":
        load_all()
        from reviewbot.models.base import metadata as value
    elif name in TABLE_MODULES:
        value = getattr(importlib.import_module(f"{__name__}.{TABLE_MODULES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # found directly from now on
    return value


__all__ = [
    "AuditEvent",
    "FeedbackItem",
    "JobLock",
    "MappingCorrection",
    "OutboxMessage",
    "PolicyAck",
    "PolicyDocument",
    "PolicyRelease",
    "PolicyRevision",
    "PolicySection",
    "QuarantinedRow",
    "ReviewTicket",
    "SectionReview",
    "SentimentCalibration",
    "SignOff",
    "SignOffRequest",
    "SourceState",
    "SyncRun",
    "Theme",
    "ThemeMapping",
    "TrackerComment",
    "TrackerIssue",
    "VectorizerState",
    "WebCredential",
    "WebSignInFailure",
    "WebSignInLink",
    "metadata",
    "utcnow",
]
