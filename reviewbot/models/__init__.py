"""Tables of the reviewbot store (SQLModel). Import from here so every table is registered on the metadata."""

from reviewbot.models.base import metadata, utcnow
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
from reviewbot.models.review import AuditEvent, SignOff, SignOffRequest
from reviewbot.models.themes import MappingCorrection, SentimentCalibration, Theme, ThemeMapping, VectorizerState
from reviewbot.models.tickets import ReviewTicket, TrackerComment, TrackerIssue
from reviewbot.models.web import WebCredential, WebSignInFailure, WebSignInLink

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
