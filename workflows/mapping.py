"""Sync stage: match every active theme to the policy sections it concerns (or record a coverage gap).

A theme's members vote for sections; each theme keeps the sum of its members' votes, so a sync counts only the
items it placed. The sums are counted again from all members when the sections' words change (a version is
published) or a theme lost members (an edited row, a merge, a split). A sync reading many items lets them teach a
model of the workspace's own words whose votes are counted instead of the members' own
(analysis.mapping.SectionMapper.bootstrap). Owners' corrections teach a second model (the items of corrected
themes as labelled examples) whose votes each theme keeps beside its own, counted again for every theme when a
new correction is made; a theme's vote mixes the two as far as its members' own words are unsure of their section.
A theme an owner corrected stays where the owner put it; other themes like it follow the correction (analysis.mapping).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    mixed_vote,
    typical_sureness,
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
        typical = typical_sureness([votes.sums[theme.id or 0] for theme in themes])
        for theme, theme_fits, usual in zip(themes, fits, typical, strict=True):
            held_by = pinned(held.get(theme.id or 0), mapper)
            theme_id = theme.id or 0
            matches = (
                held_by
                if held_by is not None
                else mapper.match(
                    votes.sums[theme_id], theme.centroid, rules, theme_fits, theme_id in votes.taught, usual
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


@dataclass
class Counted:
    """What a sync counted for some themes' items: their summed votes (`base`); the summed votes of the model owners'
    corrections taught (`taught`, None when none was fitted) and how sure the items' own words' votes were (their
    largest shares summed, `sure`), for the items `taught` was counted over; and which models voted (`voted`:
    `LEARNED`, `TAUGHT`)."""

    base: dict[int, np.ndarray]
    taught: dict[int, np.ndarray] | None
    sure: dict[int, float]
    voted: set[str]


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
    counted).

    Once owners have corrected themes a tally has two layers: the members' votes as they were counted (the model of
    the sync that placed them, or their own words'), and the votes of the model the corrections taught. A new
    correction counts the taught layer again for every theme and leaves the first alone: counted again with one
    sync's model, the older themes' items were voted onto that sync's issues (bench/README.md, issue 16,
    "mapcorr2")."""
    learned_from = corrections(session)
    lesson = lesson_key(learned_from)
    counts = member_counts(session)
    again, relearn = [], []
    for theme in themes:
        theme_id, tally = theme.id or 0, theme.section_votes or {}
        stale = bool(tally) and tally.get("key") != mapper.vote_key
        if recount or stale or tally.get("n", 0) + len(placed.get(theme_id, ())) != counts.get(theme_id, 0):
            again.append(theme_id)
        elif lesson and tally and tally.get(LESSON) != lesson:
            relearn.append(theme_id)
    loaded: dict[int, list[list[str]]] = {}
    for batch in _members(session, again + relearn):
        loaded |= batch
    fresh = [t.id or 0 for t in themes if (t.id or 0) not in again]
    base_docs = {t: loaded.get(t, []) for t in again} | {t: placed[t] for t in fresh if placed.get(t)}
    taught_docs: dict[int, Sequence[Sequence[str]]] = {}
    if lesson:
        taught_docs = {t: loaded.get(t, []) for t in again + relearn}
        taught_docs |= {t: placed[t] for t in fresh if placed.get(t) and t not in taught_docs}
    counted = _counted(mapper, base_docs, taught_docs, examples(session, learned_from) if taught_docs else [], every)
    sums: dict[int, np.ndarray] = {}
    taught_themes: set[int] = set()
    for theme in themes:
        theme_id = theme.id or 0
        tally = {} if theme_id in again else dict(theme.section_votes or {})
        if theme_id in base_docs or theme_id in taught_docs:
            tally = _updated(mapper, tally, counted, theme_id, counts.get(theme_id, 0), lesson, theme_id in relearn)
            theme.section_votes = tally
            session.add(theme)
        sums[theme_id] = _mixed(mapper, tally, lesson)
        if lesson and tally.get(LESSON) == lesson and tally.get(TAUGHT):
            taught_themes.add(theme_id)
    return Votes(sums, len(again), taught_themes)


def _updated(
    mapper: SectionMapper,
    tally: dict[str, Any],
    counted: Counted,
    theme_id: int,
    n: int,
    lesson: str | None,
    relearn: bool,
) -> dict[str, Any]:
    """A theme's stored tally with what this sync counted for it added (`tally` is empty for a theme counted again);
    its taught layer counted anew for `relearn` (a new correction) or a theme whose layer is missing."""
    zeros = np.zeros(len(mapper.targets))
    added = counted.base.get(theme_id, zeros)
    base = mapper.tally(tally.get("sums", {})) + added
    out = {
        "key": mapper.vote_key,
        "n": n,
        "sums": mapper.tally_dict(base),
        # some of the vote is a model's over the workspace's items (see `explain_theme`)
        LEARNED: LEARNED in counted.voted or tally.get(LEARNED, False),
    }
    if lesson is None:
        return out
    anew = relearn or tally.get(LESSON) != lesson
    stored = zeros if anew else mapper.tally(tally.get(TAUGHT_SUMS, {}))
    if counted.taught is None:  # no model taught this sync: the votes as counted stand for its items
        taught, fitted = (base if anew else stored + added), not anew and tally.get(TAUGHT, False)
    else:
        taught, fitted = stored + counted.taught.get(theme_id, zeros), True
    sure = counted.sure.get(theme_id, 0.0) + (0.0 if anew else tally.get(SURE, 0.0))
    return out | {LESSON: lesson, TAUGHT_SUMS: mapper.tally_dict(taught), SURE: round(sure, 6), TAUGHT: fitted}


def _mixed(mapper: SectionMapper, tally: Mapping[str, Any], lesson: str | None) -> np.ndarray:
    """A theme's vote from its stored tally: its members' votes as counted, and where owners' corrections taught a
    model, that model's votes as far as the members' own words are unsure of their section (their mean largest
    share: a theme whose words plainly name a section keeps it)."""
    base = mapper.tally(tally.get("sums", {}))
    n = tally.get("n", 0)
    if lesson is None or tally.get(LESSON) != lesson or not n:
        return base
    return mixed_vote(base, mapper.tally(tally.get(TAUGHT_SUMS, {})), tally.get(SURE, 0.0), n)


def lesson_key(learned_from: Sequence[MappingCorrection]) -> str | None:
    """Which corrections the taught layer of the tallies was counted with (a new one counts that layer again, so
    a correction reaches the themes already there); None without corrections."""
    ids = ",".join(str(c.id) for c in learned_from)
    return hashlib.sha256(ids.encode()).hexdigest()[:8] if ids else None


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


def _counted(
    mapper: SectionMapper,
    base_docs: Mapping[int, Sequence[Sequence[str]]],
    taught_docs: Mapping[int, Sequence[Sequence[str]]],
    taught: Sequence[tuple[Sequence[str], str, str | None]],
    every: Sequence[Sequence[str]] | None,
) -> Counted:
    """The votes of `base_docs` (theme -> items) summed per theme: the workspace model's (SectionMapper.bootstrap,
    over `every` item the sync read when they are enough, else over those items) or, without one, their own words';
    and with owners' examples (`taught`), the votes of the model they teach for `taught_docs` (`_taught`)."""
    base, voted = _base(mapper, base_docs, every)
    themes = [t for t, docs in taught_docs.items() if docs]
    if not taught or not themes:
        return Counted(base, None, {}, voted)
    docs = [doc for t in themes for doc in taught_docs[t]]
    starts = np.cumsum([0] + [len(taught_docs[t]) for t in themes[:-1]])
    own = mapper.vote_rows(docs)
    sure = dict(zip(themes, np.add.reduceat(own.max(axis=1), starts).tolist(), strict=True))
    votes = _taught(mapper, docs, own, taught)
    if votes is None:
        return Counted(base, None, sure, voted)
    return Counted(base, dict(zip(themes, np.add.reduceat(votes, starts, axis=0), strict=True)), sure, voted | {TAUGHT})


def _taught(
    mapper: SectionMapper,
    docs: Sequence[Sequence[str]],
    own: np.ndarray,
    taught: Sequence[tuple[Sequence[str], str, str | None]],
) -> np.ndarray | None:
    """Each item's vote by the model owners' examples teach (SectionMapper.taught), beside the items voting most
    surely for a section. Those are surest by a workspace model fitted on these items themselves (older themes'
    items included: one sync's model knows only that sync's issues), else by their own words (`own`)."""
    model = mapper.bootstrap(docs)
    return mapper.taught(docs, own if model is None else mapper.learned_votes(model, docs), taught)


def _base(
    mapper: SectionMapper, members: Mapping[int, Sequence[Sequence[str]]], every: Sequence[Sequence[str]] | None
) -> tuple[dict[int, np.ndarray], set[str]]:
    """Theme -> its given members' summed votes, and `{LEARNED}` when the workspace's model gave them (see
    `_counted`). Members are counted VOTE_ROWS at a time: a vote row per member of a large import at once was most of
    a sync's memory."""
    themes = [t for t, docs in members.items() if docs]
    if not themes:
        return {}, set()
    # the model learns from the items the sync read, placed in a theme or not, when they are enough; else from the
    # members counted: unplaced items taught it as much as placed ones (on the airline set, fitted on the themed
    # items alone it gained half as much: bench/README.md, "Mapping")
    learn_from_sync = every is not None and len(every) >= MIN_LEARNED
    model = mapper.bootstrap(
        every if every is not None and learn_from_sync else [doc for t in themes for doc in members[t]]
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
    return sums, set() if model is None else {LEARNED}


# a tally's taught layer: the corrections it was counted with, the taught model's summed votes, and the members' own
# words' sureness (their largest shares) summed
LESSON, TAUGHT_SUMS, SURE = "lesson", "taught_sums", "sure"
TAUGHT, LEARNED = "taught", "learned"  # which model voted (see `_counted`), as flags of a stored tally
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
        lesson = lesson_key(corrections(session))
        current = tally.get("key") == mapper.vote_key
        counted = _mixed(mapper, tally, lesson) if current else own
        taught = bool(current and lesson and tally.get(LESSON) == lesson and tally.get(TAUGHT))
        from_items = bool(current and tally.get(LEARNED))
        # how sure the other themes' votes are, as the sync weighed them (`map_themes`)
        others = [_mixed(mapper, t.section_votes or {}, lesson) for t in active_themes(session) if t.id != theme_id]
        usual = typical_sureness([counted, *others])[0]
        explanation = mapper.explain(counted, theme.centroid, rules_of(settings), taught=taught, typical=usual)
        if taught or from_items:
            shares = own / own.sum() if own.sum() > 0 else own
            explanation.taught, explanation.learned = taught, from_items
            explanation.words_alone = mapper.scores_of(shares)
        return theme, explanation, pins(session).get(theme_id)
