"""Queries for policy documents, revisions, sections, published versions and acknowledgements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from reviewbot.errors import PolicyError
from reviewbot.models import (
    PolicyAck,
    PolicyDocument,
    PolicyRelease,
    PolicyRevision,
    PolicySection,
    ReviewTicket,
    SectionReview,
    utcnow,
)

if TYPE_CHECKING:  # the parser imports YAML and Markdown: reading versions and tickets needs neither
    from reviewbot.policy.parse import ParsedPolicy, SignOffRule

IMPORTED = "Initial version"


def record_policy(session: Session, parsed: ParsedPolicy) -> tuple[PolicyDocument, bool]:
    """Store a parsed document; a revision is recorded when its content is new or changed.

    The first revision of a document is its version 1 (the policy in force when reviewbot met it), published as of
    the document's `last_reviewed` date (or now), and its sections' review clocks start at their `last_reviewed`
    date, or now. Returns (document, revision added).
    """
    document = session.get(PolicyDocument, parsed.id)
    if document is not None and document.current_revision:
        current = revision(session, document.id, document.current_revision)
        if current is not None and current.content_hash == parsed.content_hash:
            _update_header(session, document, parsed)
            return document, False
    first = document is None
    if document is None:
        document = PolicyDocument(id=parsed.id, title=parsed.title, path=parsed.path)
        _update_header(session, document, parsed)
        session.add(document)  # also when its header is all defaults (no front matter), which _update_header skips
        session.flush()
    number = document.current_revision + 1
    session.add(
        PolicyRevision(document_id=parsed.id, number=number, content_hash=parsed.content_hash, source=parsed.source)
    )
    for position, section in enumerate(parsed.sections):
        session.add(
            PolicySection(
                document_id=parsed.id,
                revision=number,
                section_id=section.id,
                heading=section.heading,
                level=section.level,
                parent_id=section.parent_id,
                position=position,
                line=section.line,
                body=section.body,
                content_hash=section.content_hash,
                owner=section.owner,
                approvers=list(section.approvers),
                sign_off=_rule_text(section.sign_off),
                review_interval_days=section.review_interval_days,
                last_reviewed=section.last_reviewed,
                keywords=list(section.keywords),
            )
        )
    document.current_revision = number
    _update_header(session, document, parsed)
    if first:
        session.flush()
        # the version in force when reviewbot met it took effect when it was last reviewed, if the file says so
        since = _as_datetime(parsed.last_reviewed) if parsed.last_reviewed else None
        release(session, document, number, published_by="reviewbot", changelog=[IMPORTED], published_at=since)
    return document, True


def _update_header(session: Session, document: PolicyDocument, parsed: ParsedPolicy) -> None:
    header = (parsed.title, parsed.path, parsed.owner, list(parsed.approvers), _rule_text(parsed.sign_off))
    if (document.title, document.path, document.owner, document.approvers, document.sign_off) != header:
        document.title, document.path, document.owner, document.approvers, document.sign_off = header
        document.updated_at = utcnow()
        session.add(document)


def release(
    session: Session,
    document: PolicyDocument,
    number: int,
    *,
    published_by: str,
    changelog: list[str],
    forced_reason: str | None = None,
    ack_expected: list[str] | None = None,
    files: list[str] | None = None,
    published_at: datetime | None = None,
) -> PolicyRelease:
    """Publish a revision as the next version (now, or at `published_at`); sections new or changed in it restart
    their review clock."""
    before = {s.section_id: s.content_hash for s in sections(session, document, document.published_revision)}
    now = published_at or utcnow()
    entry = PolicyRelease(
        document_id=document.id,
        version=document.published_version + 1,
        revision=number,
        published_at=now,
        published_by=published_by,
        changelog=changelog,
        forced_reason=forced_reason,
        ack_expected=ack_expected or [],
        files=files or [],
    )
    session.add(entry)
    for section in sections(session, document, number):
        if before.get(section.section_id) != section.content_hash:
            start = _as_datetime(section.last_reviewed) if not before and section.last_reviewed else now
            mark_reviewed(session, document.id, section.section_id, start, f"published in version {entry.version}")
    document.published_version, document.published_revision = entry.version, number
    document.updated_at = now
    session.add(document)
    return entry


def _as_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def mark_reviewed(session: Session, document_id: str, section_id: str, at: datetime, how: str) -> None:
    """Restart a section's review clock."""
    clock = session.get(SectionReview, (document_id, section_id))
    if clock is None:
        clock = SectionReview(document_id=document_id, section_id=section_id, reviewed_at=at, how=how)
    clock.reviewed_at, clock.how = at, how
    session.add(clock)


def review_clocks(session: Session, document_id: str) -> dict[str, SectionReview]:
    """When each section of a document was last reviewed."""
    rows = session.exec(select(SectionReview).where(SectionReview.document_id == document_id))
    return {r.section_id: r for r in rows}


def revision(session: Session, document_id: str, number: int) -> PolicyRevision | None:
    """One revision of a document."""
    return session.exec(
        select(PolicyRevision).where(PolicyRevision.document_id == document_id, PolicyRevision.number == number)
    ).first()


def content_hash(session: Session, document: PolicyDocument, number: int, section_id: str | None) -> str:
    """The content hash of a section (of the whole document for None) in one revision of the document: "" when that
    revision has no such section, or there is no such revision (an unpublished document's published one)."""
    if section_id is None:
        found = revision(session, document.id, number)
        return found.content_hash if found else ""
    match = [s for s in sections(session, document, number) if s.section_id == section_id]
    return match[0].content_hash if match else ""


@dataclass(frozen=True)
class Authority:
    """Who owns a document or section, who approves its changes, and how many of them must ("all" or a number)."""

    owner: str | None
    approvers: tuple[str, ...] = ()
    sign_off: str = "all"


NOBODY = Authority(None)


def document_authority(session: Session, document: PolicyDocument) -> Authority:
    """The owner, approvers and sign-off rule the published version of a document names (the file's, before any
    version was published; nobody when that version cannot be read again).

    `document.owner` and `document.approvers` follow the file as it is now, which whoever may edit the file
    controls; the published version is what the workspace accepted, so rights over the document come from it.
    A change of owner or approvers takes effect when the version naming them is published.
    """
    if not document.published_revision:
        return _file_authority(document)
    published = revision(session, document.id, document.published_revision)
    return _header_authority(published.source, document.path) if published is not None else NOBODY


@lru_cache(maxsize=64)
def _header_authority(source: str, path: str) -> Authority:
    # A published revision never changes, and every permission check reads one (about 10 ms to parse the demo's).
    from reviewbot.policy.parse import parse_policy

    try:
        parsed = parse_policy(source, path)
    except PolicyError:  # a version a later, stricter parser refuses: nobody but the admins
        return NOBODY
    return Authority(parsed.owner, parsed.approvers, _rule_text(parsed.sign_off))


def section_authority(session: Session, document: PolicyDocument, section_id: str) -> Authority:
    """The owner, approvers and sign-off rule of a section as the published version names them; a section new
    since (only in the file) has its document's (`document_authority`), whatever the file says of it."""
    number = document.published_revision or document.current_revision
    section = next((s for s in sections(session, document, number) if s.section_id == section_id), None)
    return authority_of(section) if section is not None else document_authority(session, document)


def authority_of(section: PolicySection) -> Authority:
    """The owner, approvers and sign-off rule a stored section names (its revision's, not necessarily published)."""
    return Authority(section.owner, tuple(section.approvers), section.sign_off)


@dataclass(frozen=True)
class PendingAuthority:
    """A change of owner, approvers or sign-off rule that the policy file makes and no published version has yet:
    `section_id` None is the document's own."""

    section_id: str | None
    field: str  # "owner", "approvers" or "sign_off"
    before: str | list[str] | None
    after: str | list[str] | None

    def text(self) -> str:
        """e.g. "approvers: head-of-cx, compliance-lead -> compliance-lead"."""
        return f"{self.field.replace('_', '-')}: {_shown(self.before)} -> {_shown(self.after)}"

    def to_dict(self) -> dict[str, str | list[str] | None]:
        """For --json."""
        return {"section": self.section_id, "field": self.field, "from": self.before, "to": self.after}


def _shown(value: str | list[str] | None) -> str:
    return (", ".join(value) if isinstance(value, list) else value) or "-"


def pending_authority(session: Session, document: PolicyDocument) -> list[PendingAuthority]:
    """Where the file as last read names other people (or another rule) than the published version, which holds
    authority until the file is published: the document first, then its sections in file order."""
    if not document.has_draft:
        return []
    changes = _authority_changes(None, document_authority(session, document), _file_authority(document))
    published = {s.section_id: authority_of(s) for s in sections(session, document)}
    inherited = document_authority(session, document)  # a section new in the file has its document's people
    for section in sections(session, document, document.current_revision):
        before = published.get(section.section_id, inherited)
        changes += _authority_changes(section.section_id, before, authority_of(section))
    return changes


def _file_authority(document: PolicyDocument) -> Authority:
    return Authority(document.owner, tuple(document.approvers), document.sign_off)


def _authority_changes(section_id: str | None, before: Authority, after: Authority) -> list[PendingAuthority]:
    pairs: list[tuple[str, str | list[str] | None, str | list[str] | None]] = [
        ("owner", before.owner, after.owner),
        ("approvers", list(before.approvers), list(after.approvers)),
        ("sign_off", before.sign_off, after.sign_off),
    ]
    return [PendingAuthority(section_id, name, old, new) for name, old, new in pairs if old != new]


def _rule_text(rule: SignOffRule) -> str:
    return str(rule.count) if rule.mode == "count" else "all"


def documents(session: Session) -> list[PolicyDocument]:
    """All known documents, by id."""
    return list(session.exec(select(PolicyDocument).order_by(col(PolicyDocument.id))))


def sections(session: Session, document: PolicyDocument, revision_number: int | None = None) -> list[PolicySection]:
    """The sections of a revision of a document (the published one by default), in document order."""
    number = revision_number or document.published_revision
    return list(
        session.exec(
            select(PolicySection)
            .where(PolicySection.document_id == document.id, PolicySection.revision == number)
            .order_by(col(PolicySection.position))
        )
    )


def published_sections(session: Session) -> list[tuple[PolicyDocument, PolicySection]]:
    """Every section of the published version of every document."""
    return [(doc, s) for doc in documents(session) for s in sections(session, doc)]


def releases(session: Session, document_id: str) -> list[PolicyRelease]:
    """Published versions of a document, oldest first."""
    query = select(PolicyRelease).where(PolicyRelease.document_id == document_id)
    return list(session.exec(query.order_by(col(PolicyRelease.version))))


RESOLVED = "resolved"  # PolicyRelease.meta key: ids of the tickets the version resolved, recorded when published


def resolved_by(session: Session, entry: PolicyRelease) -> list[ReviewTicket]:
    """The tickets a version resolved, oldest first.

    Recorded with the version when it is published, because a ticket's `resolved_version` names only the latest
    version that resolved it: a ticket reopened and resolved again later stays on the earlier version's list, so
    that version's effect still counts its theme. Versions published before the record was kept fall back to it.
    """
    recorded = (entry.meta or {}).get(RESOLVED)
    if recorded is None:
        where = (ReviewTicket.document_id == entry.document_id, ReviewTicket.resolved_version == entry.version)
    else:
        where = (col(ReviewTicket.id).in_([int(i) for i in recorded]),)
    return list(session.exec(select(ReviewTicket).where(*where).order_by(col(ReviewTicket.id))))


def get_release(session: Session, document_id: str, version: int) -> PolicyRelease | None:
    """One published version."""
    query = select(PolicyRelease).where(PolicyRelease.document_id == document_id, PolicyRelease.version == version)
    return session.exec(query).first()


def add_ack(session: Session, document_id: str, version: int, person: str) -> bool:
    """Record an acknowledgement; False when the person had already acknowledged."""
    query = select(PolicyAck).where(
        PolicyAck.document_id == document_id, PolicyAck.version == version, PolicyAck.person == person
    )
    if session.exec(query).first() is not None:
        return False
    session.add(PolicyAck(document_id=document_id, version=version, person=person))
    return True


def acks(session: Session, document_id: str, version: int) -> list[PolicyAck]:
    """Acknowledgements of a version, oldest first."""
    query = select(PolicyAck).where(PolicyAck.document_id == document_id, PolicyAck.version == version)
    return list(session.exec(query.order_by(col(PolicyAck.acked_at))))
