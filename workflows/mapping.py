"""Sync stage: match every active theme to the policy sections it concerns (or record a coverage gap).

A theme's members vote for sections; each theme keeps the sum of its members' votes, so a sync counts only the
items it placed. The sums are counted again from all members when the sections' words change (a version is
published), an owner corrects a theme (the items of corrected themes teach a model that votes for every item), or
a theme lost members (an edited row, a merge, a split). A sync reading many items lets them teach a model of the
workspace's own words whose votes are counted instead of the members' own (analysis.mapping.SectionMapper.bootstrap).
A theme an owner corrected stays where the owner put it; other themes like it follow the correction (analysis.mapping).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session

from reviewbot.analysis.mapping import (
    MIN_LEARNED,
    Correction,
    Explanation,
    MatchRules,
    SectionMapper,
    SectionMatch,
    SectionText,
)
from reviewbot.analysis.themes import MemberTerms
from reviewbot.analysis.vectorize import terms
from reviewbot.errors import NotFoundError
from reviewbot.models import MappingCorrection, Theme, ThemeMapping
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.corrections import corrections, pins
from reviewbot.store.policies import published_sections
from reviewbot.store.themes import active_themes, load_corpus_stats, member_counts, member_texts
from reviewbot.store.tickets import mappings, replace_mappings
from reviewbot.workflows.run_summary import SyncReport

Placed = Mapping[int, Sequence[Sequence[str]]]  # theme id -> terms of the items a sync placed in it


def section_texts(session: Session) -> list[SectionText]:
    """Every section of the published version of every document, as the mapper sees it."""
    rows = published_sections(session)
    headings = {(doc.id, s.section_id): s.heading for doc, s in rows}
    return [
        SectionText(
            document_id=doc.id,
            section_id=s.section_id,
            heading=s.heading,
            body=s.body,
            keywords=tuple(s.keywords),
            parent_heading=headings.get((doc.id, s.parent_id or "")),
            parent_id=s.parent_id,
        )
        for doc, s in rows
    ]


def build_mapper(session: Session) -> SectionMapper:
    """The mapper over the published sections, the workspace's term statistics and its owners' corrections."""
    return SectionMapper(section_texts(session), load_corpus_stats(session), [learned(c) for c in corrections(session)])


def learned(correction: MappingCorrection) -> Correction:
    """A stored correction as the mapper learns from it."""
    where = correction.section_id or "not a policy matter"
    return Correction(
        correction.id or 0,
        correction.document_id,
        correction.section_id,
        correction.centroid,
        f"theme {correction.theme_id or '?'} put on {where} by {correction.actor}",
    )


def rules_of(settings: Settings) -> MatchRules:
    """Match thresholds from `[mapping]`."""
    m = settings.mapping
    return MatchRules(min_confidence=m.min_confidence, also_within=m.also_within, max_sections=m.max_sections)


def map_themes(settings: Settings, store: Store, report: SyncReport, placed: Placed | None = None) -> None:
    """Store each theme's sections; unchanged mappings are left alone. `placed`: what this sync added to themes
    (their votes are added to the themes' tallies; without it every tally is counted again)."""
    changed = gaps = recounted = 0
    with store.session() as session:
        mapper = build_mapper(session)
        themes = active_themes(session)
        every = placed.every() if isinstance(placed, MemberTerms) else None  # what the workspace's model learns from
        votes = _votes(session, mapper, themes, placed or {}, every, recount=placed is None)
        recounted = votes.recounted
        held = pins(session)
        stored: dict[int, list[ThemeMapping]] = {}
        for mapping in mappings(session):  # one query, not one per theme
            stored.setdefault(mapping.theme_id, []).append(mapping)
        rules = rules_of(settings)
        fits = mapper.fits([theme.centroid for theme in themes])  # one product for all themes
        for theme, theme_fits in zip(themes, fits, strict=True):
            held_by = pinned(held.get(theme.id or 0), mapper)
            matches = (
                held_by
                if held_by is not None
                else mapper.match(
                    votes.sums[theme.id or 0], theme.centroid, rules, theme_fits, (theme.id or 0) in votes.taught
                )
            )
            gaps += any(match.is_gap for match in matches)
            changed += replace_mappings(session, theme.id or 0, matches, stored.get(theme.id or 0, []))
    report.mapping = {"themes": len(themes), "changed": changed, "gaps": gaps, "recounted": recounted}


def pinned(correction: MappingCorrection | None, mapper: SectionMapper) -> list[SectionMatch] | None:
    """Where an owner put a theme: [its section], [] for not a policy matter, None when nothing holds it (or the
    section it was put on is gone)."""
    if correction is None:
        return None
    if correction.section_id is None:
        return []
    if (correction.document_id, correction.section_id) not in mapper.targets:
        return None
    return [SectionMatch(correction.document_id, correction.section_id, 1.0)]


@dataclass
class Votes:
    """Each theme's summed member votes, and how many themes were counted from all their members."""

    sums: dict[int, np.ndarray]
    recounted: int
    taught: set[int]  # themes whose vote is (partly) the model's that owners' corrections taught


def _votes(
    session: Session,
    mapper: SectionMapper,
    themes: list[Theme],
    placed: Placed,
    every: Sequence[Sequence[str]] | None,
    *,
    recount: bool,
) -> Votes:
    """Bring every theme's vote tally up to date: add what this sync placed, or count again from all members.
    `every`: the terms of every item the sync read, which the workspace's model learns from (None: the members
    counted)."""
    learned_from = corrections(session)
    key = tally_key(mapper, learned_from)
    counts = member_counts(session)
    sums: dict[int, np.ndarray] = {}
    again: list[int] = []
    for theme in themes:
        tally, added = theme.section_votes or {}, len(placed.get(theme.id or 0, ()))
        if recount or tally.get("key", key) != key or tally.get("n", 0) + added != counts.get(theme.id or 0, 0):
            again.append(theme.id or 0)
        else:
            sums[theme.id or 0] = mapper.tally(tally.get("sums", {}))
    counted = {t: placed[t] for t in sums if placed.get(t)}
    for batch in _members(session, again):
        counted |= batch
    summed, voted = _summed(mapper, counted, examples(session, learned_from) if counted else [], every)
    for theme_id, total in summed.items():
        sums[theme_id] = sums[theme_id] + total if theme_id in sums else total
    for theme in themes:
        theme_id = theme.id or 0
        if theme_id in again or placed.get(theme_id):
            total = sums.setdefault(theme_id, np.zeros(len(mapper.targets)))
            kept = {} if theme_id in again else theme.section_votes or {}
            theme.section_votes = {
                "key": key,
                "n": counts.get(theme_id, 0),
                "sums": mapper.tally_dict(total),
                # some of the vote is a model's over the workspace's items (see `explain_theme`)
                TAUGHT: TAUGHT in voted or kept.get(TAUGHT, False),
                LEARNED: LEARNED in voted or kept.get(LEARNED, False),
            }
            session.add(theme)
    taught_themes = {t.id or 0 for t in themes if (t.section_votes or {}).get(TAUGHT)}
    return Votes(sums, len(again), taught_themes)


def tally_key(mapper: SectionMapper, learned_from: Sequence[MappingCorrection]) -> str:
    """What stored tallies depend on: the sections' words and the corrections the model learns from (a new one
    counts every theme again, so a correction reaches the themes already there)."""
    ids = ",".join(str(c.id) for c in learned_from)
    return f"{mapper.vote_key}:{hashlib.sha256(ids.encode()).hexdigest()[:8]}" if ids else mapper.vote_key


def examples(session: Session, learned_from: Sequence[MappingCorrection]) -> list[tuple[list[str], str, str | None]]:
    """The items of the themes owners moved, labelled with where they put them (a few per theme at most)."""
    where = {c.theme_id: (c.document_id, c.section_id) for c in learned_from if c.theme_id is not None}
    found: list[tuple[list[str], str, str | None]] = []
    taken: dict[int, int] = {}
    for theme_id, text in member_texts(session, list(where)):
        if taken.get(theme_id, 0) < EXAMPLES_PER_CORRECTION:
            taken[theme_id] = taken.get(theme_id, 0) + 1
            found.append((terms(text), *where[theme_id]))
    return found


def _summed(
    mapper: SectionMapper,
    members: Mapping[int, Sequence[Sequence[str]]],
    taught: Sequence[tuple[Sequence[str], str, str | None]] = (),
    every: Sequence[Sequence[str]] | None = None,
) -> tuple[dict[int, np.ndarray], set[str]]:
    """Theme -> its given members' summed votes; and which models voted: `LEARNED` (the items' own words taught
    it: SectionMapper.bootstrap, over `every` item the sync read when they are enough, else over the members),
    `TAUGHT` (the owners' examples taught it, over those votes: analysis.mapping.SectionMapper.taught_votes), neither
    (each member's vote is its own). Without corrections members are counted VOTE_ROWS at a time: a vote row per
    member of a large import at once was most of a sync's memory."""
    themes = [t for t, docs in members.items() if docs]
    if not themes:
        return {}, set()
    # the model learns from the items the sync read, placed in a theme or not, when they are enough; else from the
    # members counted (all of them after a correction): unplaced items taught it as much as placed ones (on the
    # airline set, fitted on the themed items alone it gained half as much: bench/README.md, "Mapping")
    learn_from_sync = every is not None and len(every) >= MIN_LEARNED
    counted = [doc for t in themes for doc in members[t]] if taught or not learn_from_sync else []
    model = mapper.bootstrap(every if every is not None and learn_from_sync else counted)
    voted = set() if model is None else {LEARNED}
    if taught:  # the model learns from the surest voters among all members: they are counted together
        own = mapper.vote_rows(counted) if model is None else mapper.learned_votes(model, counted)
        votes, fitted = mapper.taught_votes(counted, own, taught)
        starts = np.cumsum([0] + [len(members[t]) for t in themes[:-1]])
        return dict(zip(themes, np.add.reduceat(votes, starts, axis=0), strict=True)), voted | (
            {TAUGHT} if fitted else set()
        )
    sums: dict[int, np.ndarray] = {}
    for theme in themes:
        docs = members[theme]
        for start in range(0, len(docs), VOTE_ROWS):
            batch = docs[start : start + VOTE_ROWS]
            votes = mapper.vote_rows(batch) if model is None else mapper.learned_votes(model, batch)
            if theme in sums:
                votes[0] += sums[theme]  # the sum runs on from the previous batch, row by row as in one batch
            sums[theme] = np.add.reduce(votes, axis=0)
    return sums, voted


TAUGHT, LEARNED = "taught", "learned"  # which model voted (see `_summed`), as flags of a stored tally
THEMES_PER_QUERY = 200
VOTE_ROWS = 20_000  # members voted at a time
EXAMPLES_PER_CORRECTION = 2_000  # items of one moved theme the model learns from


def _members(session: Session, theme_ids: list[int]) -> Iterator[dict[int, list[list[str]]]]:
    """Theme -> terms of all its members, a few themes at a time so memory stays flat."""
    for start in range(0, len(theme_ids), THEMES_PER_QUERY):
        batch: dict[int, list[list[str]]] = {}
        for theme_id, text in member_texts(session, theme_ids[start : start + THEMES_PER_QUERY]):
            batch.setdefault(theme_id, []).append(terms(text))
        yield batch


def explain_theme(
    settings: Settings, store: Store, theme_id: int
) -> tuple[Theme, Explanation, MappingCorrection | None]:
    """Why a theme maps where it does: the vote the last sync counted for it (the workspace's model's, when one was
    fitted) beside its members' own words' vote, the corrections that weigh, and the owner's correction holding
    it, if any."""
    with store.session() as session:
        theme = session.get(Theme, theme_id)
        if theme is None or theme.status != "active":
            raise NotFoundError(f"no active theme {theme_id}", hint="see `reviewbot themes list`")
        mapper = build_mapper(session)
        own = np.zeros(len(mapper.targets))
        for batch in _members(session, [theme_id]):
            own += mapper.vote_rows(batch.get(theme_id, [])).sum(axis=0)
        tally = theme.section_votes or {}
        current = tally.get("key") == tally_key(mapper, corrections(session))
        counted = mapper.tally(tally.get("sums", {})) if current else own
        taught, from_items = bool(current and tally.get(TAUGHT)), bool(current and tally.get(LEARNED))
        explanation = mapper.explain(counted, theme.centroid, rules_of(settings), taught=taught)
        if taught or from_items:
            shares = own / own.sum() if own.sum() > 0 else own
            explanation.taught, explanation.learned = taught, from_items
            explanation.words_alone = mapper.scores_of(shares)
        return theme, explanation, pins(session).get(theme_id)
