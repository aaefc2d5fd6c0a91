"""Themes as people want them: rename, merge, split. Later syncs keep these decisions: a renamed theme keeps
its name, a merged theme takes no new items, and the parts of a split theme each attract their own."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize
from sqlalchemy import update
from sqlmodel import Session, col, select

from reviewbot.analysis.vectorize import terms, top_terms, weigh_many
from reviewbot.errors import NotFoundError
from reviewbot.models import FeedbackItem, ReviewTicket, Theme, ThemeMapping, utcnow
from reviewbot.models.base import MAX_ROW_ID
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.corrections import follow_merge, follow_split
from reviewbot.store.review import audit
from reviewbot.store.themes import load_corpus_stats
from reviewbot.workflows.locks import one_at_a_time
from reviewbot.workflows.review import CURATORS, RefusedError, curators, dismiss_ticket, require
from reviewbot.workflows.themes import refresh_themes

ACTIVE_TICKETS = ("open", "triaged", "in_review", "changes_requested", "approved")


def _check_curator(session: Session, settings: Settings, actor: str, what: str) -> None:
    require(actor, curators(session, settings), what, CURATORS)


def _theme(session: Session, theme_id: int) -> Theme:
    theme = session.get(Theme, theme_id) if 0 < theme_id <= MAX_ROW_ID else None
    if theme is None or theme.status != "active":
        raise NotFoundError(f"no active theme {theme_id}", hint="see `reviewbot themes list`")
    return theme


@one_at_a_time
def rename(settings: Settings, store: Store, theme_id: int, label: str, actor: str) -> str:
    """Give a theme a name people chose; syncs no longer relabel it."""
    label = " ".join(label.split())
    if not label:
        raise RefusedError("a theme needs a name", hint='e.g. reviewbot themes rename 3 "Refunds slower than promised"')
    with store.session() as session:
        _check_curator(session, settings, actor, f"rename theme {theme_id}")
        theme = _theme(session, theme_id)
        before, theme.label, theme.label_pinned = theme.label, label[:300], True
        session.add(theme)
        audit(session, actor, "theme_rename", f"theme {theme_id}: {before!r} -> {label!r}")
    return f"theme {theme_id} is now {label!r}"


@one_at_a_time
def merge(settings: Settings, store: Store, target_id: int, source_ids: list[int], actor: str) -> str:
    """Fold themes into one: their items move to the target; their open tickets are dismissed as merged."""
    sources = [s for s in dict.fromkeys(source_ids) if s != target_id]
    if not sources:
        raise RefusedError("name at least one theme to merge into the target", hint="reviewbot themes merge 3 7 9")
    with store.session() as session:
        _check_curator(session, settings, actor, f"merge themes into theme {target_id}")
        target = _theme(session, target_id)
        total = {t: w * target.size for t, w in target.centroid.items()}
        for source in (_theme(session, s) for s in sources):
            for term, weight in source.centroid.items():
                total[term] = total.get(term, 0.0) + weight * source.size
            session.execute(
                update(FeedbackItem).where(col(FeedbackItem.theme_id) == source.id).values(theme_id=target_id)
            )
            session.execute(ThemeMapping.__table__.delete().where(ThemeMapping.__table__.c.theme_id == source.id))
            follow_merge(session, source.id or 0, target_id)
            source.status, source.merged_into, source.updated_at = "merged", target_id, utcnow()
            session.add(source)
            for ticket in session.exec(
                select(ReviewTicket).where(
                    ReviewTicket.theme_id == source.id, col(ReviewTicket.state).in_(ACTIVE_TICKETS)
                )
            ):
                why = f"theme {source.id} was merged into theme {target_id}"
                dismiss_ticket(session, ticket, actor, why, f"Dismissed by {actor}: {why}", force=True)
        target.centroid = top_terms(total, settings.themes.top_terms)
        session.add(target)
        refresh_themes(session, settings, {target_id})
        audit(session, actor, "theme_merge", f"themes {', '.join(map(str, sources))} merged into {target_id}")
        size = target.size
    return f"merged {len(sources)} theme(s) into theme {target_id} ({size} items)"


@one_at_a_time
def split(settings: Settings, store: Store, theme_id: int, actor: str, parts: int | None = None) -> str:
    """Divide a theme that holds different issues: the biggest part keeps the id, the others become new themes."""
    with store.session() as session:
        _check_curator(session, settings, actor, f"split theme {theme_id}")
        theme = _theme(session, theme_id)
        members = list(
            session.exec(select(FeedbackItem.id, FeedbackItem.text).where(FeedbackItem.theme_id == theme_id))
        )
        stats = load_corpus_stats(session)
    docs = [(i, text) for i, text in members if text]
    if len(docs) < 2 * settings.themes.min_size:
        raise RefusedError(f"theme {theme_id} has too few items to split ({len(docs)})")
    most = len(docs) // settings.themes.min_size  # each part at least a theme's minimum size
    if parts is not None and not 2 <= parts <= most:
        raise RefusedError(
            f"theme {theme_id} has {len(docs)} items: split it into 2 parts at most"
            if most == 2
            else f"theme {theme_id} has {len(docs)} items: split it into 2 to {most} parts",
            hint=f"each part holds at least themes.min_size = {settings.themes.min_size} items",
        )
    vocab: dict[str, int] = {}
    matrix = weigh_many([terms(text) for _, text in docs], stats, vocab)
    labels = _divide(matrix, parts, settings.themes.min_size)
    groups = sorted((np.flatnonzero(labels == g) for g in np.unique(labels)), key=len, reverse=True)
    names = sorted(vocab, key=vocab.__getitem__)
    with store.session() as session:
        theme = _theme(session, theme_id)
        created = []
        for number, rows in enumerate(groups):
            total = np.asarray(matrix[rows].sum(axis=0)).ravel()
            centroid = top_terms({names[j]: float(total[j]) for j in np.flatnonzero(total)}, settings.themes.top_terms)
            target = theme if number == 0 else Theme(label="(split)", centroid=centroid, size=len(rows))
            target.centroid, target.size = centroid, len(rows)
            session.add(target)
            session.flush()
            ids = [docs[r][0] for r in rows]
            session.execute(update(FeedbackItem).where(col(FeedbackItem.id).in_(ids)).values(theme_id=target.id))
            created.append(target.id or 0)
        theme.label_pinned = False
        follow_split(
            session,
            theme_id,
            {t.id or 0: t.centroid for t in session.exec(select(Theme).where(col(Theme.id).in_(created)))},
        )
        refresh_themes(session, settings, set(created))
        audit(session, actor, "theme_split", f"theme {theme_id} split into {', '.join(map(str, created))}")
    return f"theme {theme_id} split into themes {', '.join(map(str, created))}"


def _divide(matrix: object, parts: int | None, min_size: int) -> np.ndarray:
    """k-means in a small latent space; with no `parts` given, k (2-6, each part a theme's minimum size)
    is chosen by silhouette."""
    n = matrix.shape[0]  # type: ignore[attr-defined]
    dims = max(2, min(50, n - 1, matrix.shape[1] - 1))  # type: ignore[attr-defined]
    points = normalize(TruncatedSVD(n_components=dims, random_state=0).fit_transform(matrix))
    candidates = [parts] if parts else list(range(2, max(2, min(6, n // min_size)) + 1))
    best: tuple[float, np.ndarray] | None = None
    for k in candidates:
        labels = KMeans(n_clusters=k, n_init=5, random_state=0).fit_predict(points)
        quality = silhouette_score(points, labels, metric="cosine") if len(set(labels)) > 1 else -1.0
        if best is None or quality > best[0]:
            best = (quality, labels)
    assert best is not None
    return best[1]
