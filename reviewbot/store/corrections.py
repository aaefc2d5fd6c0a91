"""Queries for owners' mapping corrections (see MappingCorrection)."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from reviewbot.models import MappingCorrection


def add_correction(session: Session, correction: MappingCorrection) -> MappingCorrection:
    """Record a correction; earlier corrections of the same theme stop counting (the owner changed their mind)."""
    if correction.theme_id is not None:
        session.execute(
            update(MappingCorrection)
            .where(col(MappingCorrection.theme_id) == correction.theme_id, col(MappingCorrection.superseded).is_(False))
            .values(superseded=True)
        )
    session.add(correction)
    session.flush()
    return correction


def corrections(session: Session) -> list[MappingCorrection]:
    """Every correction still counting, oldest first."""
    query = select(MappingCorrection).where(col(MappingCorrection.superseded).is_(False))
    return list(session.exec(query.order_by(col(MappingCorrection.id))))


def pins(session: Session) -> dict[int, MappingCorrection]:
    """Theme -> the correction holding it on a section (or off the policy)."""
    return {c.theme_id: c for c in corrections(session) if c.theme_id is not None}


def follow_merge(session: Session, source_id: int, target_id: int) -> None:
    """A merged theme's corrections hold the theme it joined, unless that one has its own; they teach either way."""
    held = session.exec(
        select(MappingCorrection.id).where(
            MappingCorrection.theme_id == target_id, col(MappingCorrection.superseded).is_(False)
        )
    ).first()
    session.execute(
        update(MappingCorrection)
        .where(col(MappingCorrection.theme_id) == source_id)
        .values(theme_id=None if held is not None else target_id)
    )


def follow_split(session: Session, theme_id: int, parts: dict[int, dict[str, float]]) -> None:
    """A split theme's correction holds the part most like the theme that was corrected (not simply the part that
    kept the id); the other parts are free, and follow the correction only as far as they are like it."""
    held = pins(session).get(theme_id)
    if held is None or not parts:
        return
    held.theme_id = max(parts, key=lambda part: (_cosine(held.centroid, parts[part]), part == theme_id))
    session.add(held)


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    norm = (sum(w * w for w in a.values()) * sum(w * w for w in b.values())) ** 0.5
    return dot / norm if norm else 0.0
