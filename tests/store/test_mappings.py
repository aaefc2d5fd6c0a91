"""Theme-to-section mappings are rewritten when a move shows, not for every drift of a theme's centroid."""

from __future__ import annotations

from reviewbot.analysis.mapping import SectionMatch
from reviewbot.models import PolicyDocument, Theme
from reviewbot.store import Store
from reviewbot.store.tickets import mappings, replace_mappings


def _stored(store: Store, theme_id: int) -> list[tuple[str, float, int]]:
    with store.session() as session:
        return [(m.section_id, round(m.confidence, 4), m.rank) for m in mappings(session, theme_id)]


def _replace(store: Store, theme_id: int, matches: list[SectionMatch]) -> bool:
    with store.session() as session:
        return replace_mappings(session, theme_id, matches, mappings(session, theme_id))


def test_a_confidence_drift_nobody_can_see_keeps_the_stored_mapping(store: Store) -> None:
    with store.session() as session:
        session.add(PolicyDocument(id="policy", title="Policy", path="policy.md"))
        theme = Theme(label="refund delays", centroid={"refund": 1.0}, size=10)
        session.add(theme)
        session.flush()
        theme_id = theme.id or 0
    first = [SectionMatch("policy", "3", 0.62), SectionMatch("policy", "4", 0.41)]
    assert _replace(store, theme_id, first)
    assert _stored(store, theme_id) == [("3", 0.62, 0), ("4", 0.41, 1)]

    drift = [SectionMatch("policy", "3", 0.6249), SectionMatch("policy", "4", 0.4071)]
    assert not _replace(store, theme_id, drift)
    assert _stored(store, theme_id) == [("3", 0.62, 0), ("4", 0.41, 1)]

    moved = [SectionMatch("policy", "3", 0.63), SectionMatch("policy", "4", 0.41)]
    assert _replace(store, theme_id, moved)
    assert _stored(store, theme_id) == [("3", 0.63, 0), ("4", 0.41, 1)]

    other_section = [SectionMatch("policy", "3", 0.63), SectionMatch("policy", "5", 0.41)]
    assert _replace(store, theme_id, other_section)
    assert _stored(store, theme_id) == [("3", 0.63, 0), ("5", 0.41, 1)]
