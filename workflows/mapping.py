"""Sync stage: match every active theme to the policy sections it concerns (or record a coverage gap)."""

from __future__ import annotations

from reviewbot.analysis.mapping import SectionIndex, SectionText
from reviewbot.models import ThemeMapping
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.policies import published_sections
from reviewbot.store.themes import active_themes
from reviewbot.store.tickets import mappings, replace_mappings
from workflows.report import SyncReport


def section_index(store: Store) -> SectionIndex:
    """An index over every section of the published version of every document."""
    with store.session() as session:
        rows = published_sections(session)
    headings = {(doc.id, s.section_id): s.heading for doc, s in rows}
    return SectionIndex(
        [
            SectionText(
                document_id=doc.id,
                section_id=s.section_id,
                heading=s.heading,
                body=s.body,
                keywords=tuple(s.keywords),
                parent_heading=headings.get((doc.id, s.parent_id or "")),
            )
            for doc, s in rows
        ]
    )


def map_themes(settings: Settings, store: Store, report: SyncReport) -> None:
    """Store each theme's best sections; unchanged mappings are left alone."""
    index = section_index(store)
    m = settings.mapping
    changed = gaps = 0
    with store.session() as session:
        themes = active_themes(session)
        stored: dict[int, list[ThemeMapping]] = {}
        for mapping in mappings(session):  # one query, not one per theme
            stored.setdefault(mapping.theme_id, []).append(mapping)
        for theme in themes:
            matches = index.match(
                theme.centroid, min_confidence=m.min_confidence, also_within=m.also_within, max_sections=m.max_sections
            )
            gaps += any(match.is_gap for match in matches)
            changed += replace_mappings(session, theme.id or 0, matches, stored.get(theme.id or 0, []))
    report.mapping = {"themes": len(themes), "changed": changed, "gaps": gaps}
