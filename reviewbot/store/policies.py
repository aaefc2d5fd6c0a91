"""Queries for policy documents, their versions and sections."""

from __future__ import annotations

from sqlmodel import Session, col, select

from reviewbot.models import PolicyDocument, PolicySection, PolicyVersion, utcnow
from reviewbot.policy.parse import ParsedPolicy


def record_policy(session: Session, parsed: ParsedPolicy) -> tuple[PolicyDocument, bool]:
    """Store a parsed document; a new version is recorded when its content is new or changed.

    Returns the document and whether a version was added.
    """
    document = session.get(PolicyDocument, parsed.id)
    if document is not None and document.current_version:
        current = current_version(session, document)
        if current is not None and current.content_hash == parsed.content_hash:
            if document.path != parsed.path or document.title != parsed.title or document.owner != parsed.owner:
                document.path, document.title, document.owner = parsed.path, parsed.title, parsed.owner
                session.add(document)
            return document, False
    if document is None:
        document = PolicyDocument(id=parsed.id, title=parsed.title, path=parsed.path, owner=parsed.owner)
    number = document.current_version + 1
    session.add(
        PolicyVersion(document_id=parsed.id, number=number, content_hash=parsed.content_hash, source=parsed.source)
    )
    for position, section in enumerate(parsed.sections):
        session.add(
            PolicySection(
                document_id=parsed.id,
                version=number,
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
                sign_off=str(section.sign_off.count) if section.sign_off.mode == "count" else "all",
                review_interval_days=section.review_interval_days,
                keywords=list(section.keywords),
            )
        )
    document.title, document.path, document.owner = parsed.title, parsed.path, parsed.owner
    document.current_version, document.updated_at = number, utcnow()
    session.add(document)
    return document, True


def current_version(session: Session, document: PolicyDocument) -> PolicyVersion | None:
    """The newest version of a document."""
    return session.exec(
        select(PolicyVersion).where(
            PolicyVersion.document_id == document.id, PolicyVersion.number == document.current_version
        )
    ).first()


def documents(session: Session) -> list[PolicyDocument]:
    """All known documents, by id."""
    return list(session.exec(select(PolicyDocument).order_by(col(PolicyDocument.id))))


def sections(session: Session, document: PolicyDocument, version: int | None = None) -> list[PolicySection]:
    """The sections of a version of a document (the current one by default), in document order."""
    return list(
        session.exec(
            select(PolicySection)
            .where(
                PolicySection.document_id == document.id, PolicySection.version == (version or document.current_version)
            )
            .order_by(col(PolicySection.position))
        )
    )


def current_sections(session: Session) -> list[tuple[PolicyDocument, PolicySection]]:
    """Every section of the current version of every document."""
    return [(doc, s) for doc in documents(session) for s in sections(session, doc)]
