"""Sync stage: place new items in themes, then refresh the statistics and labels of the themes they changed."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
from sqlmodel import Session

from reviewbot.analysis.boilerplate import Boilerplate
from reviewbot.analysis.embeddings import load_encoder
from reviewbot.analysis.score import ThemeAggregate, pick_quote, theme_label, theme_stats
from reviewbot.analysis.themes import (
    MemberTerms,
    PlanSettings,
    clustering_text,
    count_terms,
    plan_themes,
    read_docs,
)
from reviewbot.analysis.vectorize import surface_forms
from reviewbot.models import Theme
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store import themes as theme_store
from reviewbot.workflows.run_summary import ProgressSink, SyncReport

MIN_POOL = 1_000
RELABEL_GROWTH = 1.25
MAX_LISTED_THEMES = 500  # more themes to refresh than this: aggregate them all rather than list their ids


def plan_settings(settings: Settings) -> PlanSettings:
    """Placement thresholds from `[themes]`."""
    t = settings.themes
    return PlanSettings(
        min_size=t.min_size,
        assign_threshold=t.assign_threshold,
        cluster_similarity=t.cluster_similarity,
        max_cluster_items=t.max_cluster_items,
        top_terms=t.top_terms,
        embed=load_encoder(t.embedding_model, settings.workspace) if t.backend == "embeddings" else None,
    )


def _pool_size(new: int, settings: Settings) -> int:
    """How many earlier unplaced items to cluster again with the new ones: the newest, as many as there are new
    items (at least MIN_POOL), so a small sync into a large store costs what its new items cost."""
    return min(settings.themes.max_cluster_items, max(new, MIN_POOL)) if new else 0


def update_themes(
    settings: Settings, store: Store, report: SyncReport, progress: ProgressSink
) -> Mapping[int, Sequence[Sequence[str]]]:
    """Place unplaced items and refresh statistics; returns the terms of the items placed, by theme (the mapping
    stage adds their votes to the themes' tallies). New items are read, and placements written, a batch at a
    time; what is held of every item is a few arrays (analysis.themes.Docs), not objects per item, and not its text:
    clustering reads its sample's texts from the store again."""
    with store.session() as session:
        boilerplate = theme_store.load_boilerplate(session)
        new_items = read_docs(theme_store.unplaced_batches(session), boilerplate, learn=True, texts=False)
        leftovers = theme_store.leftover_items(session, _pool_size(len(new_items), settings))
        existing = theme_store.active_themes(session)
        stats = theme_store.load_corpus_stats(session)
    progress.start("finding themes", len(new_items) or None)
    count_terms(stats, new_items)
    seen = new_items.item_ids().copy()
    pool = read_docs([leftovers], boilerplate, texts=False)
    del leftovers
    docs = new_items  # plan_themes adds the pool's rows to it
    models = theme_store.theme_models(existing)
    plan = plan_themes(models, docs, pool, stats, plan_settings(settings), _stored_texts(store, boilerplate))
    progress.advance(len(seen))

    with store.session() as session:
        ids = {m.key: theme_store.create_theme(session, m).id if m.key < 0 else m.key for m in plan.changed.values()}
        theme_store.set_centroids(session, [m for m in plan.changed.values() if m.key > 0])
        placements = plan.assignments
        keys, at = np.unique(placements.theme_keys, return_inverse=True)
        themes = np.array([ids[k] for k in keys.tolist()], dtype=np.int64)[at]  # theme keys become ids
        theme_store.place_items(session, placements.item_ids, themes, placements.similarities, seen)
        del seen
        theme_store.save_corpus_stats(session, stats)
        theme_store.save_boilerplate(session, boilerplate)
        touched = set(ids.values())
        before = {t.id: t.size for t in existing}
        # labels and quotes are worth recomputing for new themes and ones that grew a lot: a label that changes on
        # every sync confuses people, and relabelling hundreds of themes per small sync costs seconds
        relabel = {
            ids[m.key] for m in plan.changed.values() if m.key < 0 or m.size >= RELABEL_GROWTH * before.get(m.key, 0)
        }
        # after a rescoring every item's tone may have changed, so every theme's statistics with it
        rescored = report.sentiment.get("rescored")
        refresh_themes(session, settings, relabel, None if rescored else touched, placements.item_ids)
        unplaced = theme_store.count_leftovers(session)
    report.themes = {
        "items_placed": len(placements),
        "new_themes": len(plan.new_themes),
        "active_themes": len(existing) + len(plan.new_themes),
        "unplaced": unplaced,
    }
    return MemberTerms(docs if plan.terms is None else plan.terms, placements.item_ids, themes)


def _stored_texts(store: Store, boilerplate: Boilerplate) -> Callable[[np.ndarray], list[str]]:
    """Items' texts by id, as clustering reads them, from the store (clustering asks for its sample's only; an item
    deleted since reads as no text)."""

    def read(ids: np.ndarray) -> list[str]:
        with store.session() as session:
            return [clustering_text(text, boilerplate) for text in theme_store.texts_by_id(session, ids)]

    return read


def refresh_themes(
    session: Session,
    settings: Settings,
    relabel: set[int],
    changed: set[int] | None = None,
    placed: Collection[int] = (),
) -> None:
    """Recompute the statistics of the themes that gained items (`changed`, the `placed` items; every active
    theme when None), lost items (an edited row leaves its theme) or whose weekly trend ends before the latest
    week; relabel the given ones (unless a person named them). Statistics depend only on a theme's members and
    the latest week, so the rest are current; and a theme that only gained members adds them to its stored
    tally, so a small sync into a long history costs what its new items cost."""
    latest = theme_store.latest_week(session)
    themes = theme_store.active_themes(session)
    aggregates: dict[int, ThemeAggregate] = {}
    if changed is not None:
        held = theme_store.member_counts(session)
        themes = [
            t
            for t in themes
            if t.id in changed or t.id in relabel or held.get(t.id or 0, 0) != t.size or _trend_end(t) != latest
        ]
        aggregates = _carried_forward(session, themes, held, changed, placed)
    recount = [t.id or 0 for t in themes if t.id not in aggregates]
    wanted = None if changed is None or len(recount) > MAX_LISTED_THEMES else recount
    aggregates |= {k: v for k, v in theme_store.aggregates(session, wanted).items() if k not in aggregates}
    window = max(1, settings.tickets.recent_days // 7)
    members = theme_store.central_members(session, [t.id or 0 for t in themes if t.id in relabel])
    for theme in themes:
        agg = aggregates.get(theme.id or 0)
        if agg is None:
            continue
        theme.tally = agg.to_tally()
        theme_store.save_stats(session, theme, theme_stats(agg, latest, window))
        if theme.id in relabel:
            _relabel(theme, members.get(theme.id or 0, []))


def _carried_forward(
    session: Session, themes: list[Theme], held: dict[int, int], changed: set[int], placed: Collection[int]
) -> dict[int, ThemeAggregate]:
    """Aggregates of the themes whose stored tally is still right, plus their `placed` new members.

    A tally stays right while a theme only gains members by placement: it holds exactly as many items as its
    size says. Anything else (an edited row leaving, a merge, a rescoring) recounts it from the items."""
    current = [t for t in themes if t.tally is not None and held.get(t.id or 0, 0) == t.size]
    grown = [t.id or 0 for t in current if t.id in changed]
    items = np.sort(np.asarray(placed if isinstance(placed, np.ndarray) else list(placed), dtype=np.int64))
    added = theme_store.added_aggregates(session, items) if grown else {}
    # distinct texts are not additive (a repeat may join): a small sync checks its own texts against the themes',
    # a large one recounts the grown themes
    few = len(items) <= theme_store.IDS_PER_QUERY
    unique = theme_store.unique_counts(session, grown) if grown and not few else {}
    texts = theme_store.added_texts(session, items) if grown and few else {}
    aggregates = {}
    for theme in current:
        agg = ThemeAggregate.from_tally(theme.tally or {})
        if theme.id in added:
            agg.add(added[theme.id or 0])
        agg.unique = unique.get(theme.id or 0, agg.unique + texts.get(theme.id or 0, 0))
        aggregates[theme.id or 0] = agg
    return aggregates


def _trend_end(theme: Theme) -> str | None:
    """The last week of a theme's stored weekly counts (they run to the latest week of the last refresh)."""
    return max(theme.weekly) if theme.weekly else None


def _relabel(theme: Theme, members: list[tuple[int, str, float]]) -> None:
    """Name a theme after its heaviest terms (unless a person named it) and quote its most central member."""
    forms = surface_forms((text for _, text, _ in members), wanted=theme.centroid.keys())
    label, display = theme_label(theme.centroid, forms)
    theme.terms = display
    if not theme.label_pinned:  # a name a person gave stays
        theme.label = label[:300]
    quote = pick_quote(members, theme.centroid)
    if quote is not None:
        theme.representative_item_id, theme.quote = quote
