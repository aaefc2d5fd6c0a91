"""Keep themes stable across syncs: new items join existing themes when they fit; the rest may form new ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.sparse import csr_matrix, vstack

from reviewbot.analysis.boilerplate import Boilerplate
from reviewbot.analysis.cluster import NOISE, find_clusters
from reviewbot.analysis.embeddings import Encoder
from reviewbot.analysis.vectorize import CorpusStats, terms_of, to_matrix, weigh_many, words

# A cluster whose centroid is this close to an existing theme's is that theme, seen again.
SAME_THEME_SIMILARITY = 0.5
CHUNK_ROWS = 10_000


class Doc(NamedTuple):
    """An item to place: its id, its terms (vectorize.terms) and (optionally) text, which sharpens clustering.

    A tuple, not a dataclass: a large import makes one per item."""

    item_id: int
    terms: Sequence[str]
    text: str | None = None


def make_docs(items: Sequence[tuple[int, str]], boilerplate: Boilerplate, *, learn: bool = False) -> list[Doc]:
    """Docs of (item id, text): terms, and text for clustering, without the wording a text shares with many letters
    (see analysis.boilerplate); `learn` counts the texts' runs of words first. Only long texts' words are kept
    between the two passes: a large import is mostly short texts, and their words would double its memory."""
    docs: list[Doc | None] = []
    letters: dict[int, list[str]] = {}
    for position, (item_id, text) in enumerate(items):
        text_words = words(text)
        if boilerplate.applies(text_words):
            letters[position] = text_words
            docs.append(None)
        else:
            docs.append(Doc(item_id, terms_of(text_words), text))
    if learn:
        boilerplate.add(letters.values())
    for position, text_words in letters.items():
        item_id, text = items[position]
        kept = boilerplate.strip(text_words)
        docs[position] = Doc(item_id, terms_of(kept), text if len(kept) == len(text_words) else " ".join(kept))
    return [d for d in docs if d is not None]


@dataclass
class ThemeModel:
    """What placement needs to know of a theme: its centroid (term -> weight) and size."""

    key: int  # the theme id; negative for themes created by this plan
    centroid: dict[str, float]
    size: int


@dataclass(frozen=True)
class PlanSettings:
    """Thresholds of theme placement (see ThemeSettings in reviewbot.settings)."""

    min_size: int = 5
    assign_threshold: float = 0.2
    cluster_similarity: float = 0.25
    max_cluster_items: int = 10_000
    top_terms: int = 60
    embed: Encoder | None = None  # sentence embeddings for finding new themes (the optional backend)


@dataclass
class ThemePlan:
    """The outcome: where each placed item goes, and the themes that are new or whose centroid moved."""

    assignments: dict[int, tuple[int, float]] = field(default_factory=dict)  # item -> (theme key, similarity)
    changed: dict[int, ThemeModel] = field(default_factory=dict)

    @property
    def new_themes(self) -> list[ThemeModel]:
        """Themes this plan creates."""
        return [t for t in self.changed.values() if t.key < 0]


class _Space:
    """Centroids and documents as rows of one sparse matrix over a shared vocabulary."""

    def __init__(self, themes: Sequence[ThemeModel], docs: Sequence[Doc], stats: CorpusStats) -> None:
        self.vocab: dict[str, int] = {}
        self.centroids = to_matrix([t.centroid for t in themes], self.vocab)
        self.docs = weigh_many([d.terms for d in docs], stats, self.vocab)
        self.centroids.resize((len(themes), self.docs.shape[1]))  # the documents brought terms of their own
        self.terms = np.array(sorted(self.vocab, key=self.vocab.__getitem__), dtype=object)

    def centroid(self, rows: np.ndarray, prior: csr_matrix | None, prior_weight: int, top: int) -> csr_matrix:
        """Unit-length mean of some document rows (plus a weighted prior centroid), cut to `top` terms. Summed
        sparse: a vocabulary-long dense row per theme costs seconds per sync with hundreds of themes."""
        total = csr_matrix(np.ones((1, len(rows)))) @ self.docs[rows]
        if prior is not None:
            total = total + prior_weight * prior
        total = total.tocsr()
        total.sum_duplicates()
        weights, columns = total.data, total.indices
        if len(weights) > top:
            keep = np.sort(np.argpartition(weights, -top)[-top:])
            weights, columns = weights[keep], columns[keep]
        norm = float(np.sqrt(np.dot(weights, weights)))
        data = weights / norm if norm else weights
        return csr_matrix((data, columns, [0, len(columns)]), shape=(1, self.docs.shape[1]))

    def as_dict(self, centroid: csr_matrix) -> dict[str, float]:
        """A centroid row as term -> weight, rounded for storage."""
        return {str(self.terms[i]): round(float(v), 6) for i, v in zip(centroid.indices, centroid.data, strict=True)}


def plan_themes(
    existing: Sequence[ThemeModel],
    new_docs: Sequence[Doc],
    pool: Sequence[Doc],
    stats: CorpusStats,
    settings: PlanSettings,
) -> ThemePlan:
    """Place new items in existing themes; cluster the rest with earlier unplaced items into new themes.

    `pool` holds items placed in no theme by earlier syncs, newest first; `stats` weigh every item's terms.
    Nothing is clustered when there are no new items, so running twice on the same data changes nothing.
    """
    plan = ThemePlan()
    if not new_docs:
        return plan
    docs = [*new_docs, *pool]
    space = _Space(existing, docs, stats)
    best, score = _nearest(space.docs, space.centroids)
    fits = score >= settings.assign_threshold
    fits[len(new_docs) :] = False  # earlier leftovers only join via clustering, so old decisions stay put
    members: dict[int, list[int]] = {}
    for row in np.flatnonzero(fits):
        members.setdefault(existing[best[row]].key, []).append(int(row))

    leftover = np.flatnonzero(~fits)
    clustered = leftover  # find_clusters bounds its quadratic part to a sample of max_cluster_items itself
    texts = [docs[r].text for r in clustered]
    labels = find_clusters(
        space.docs if len(clustered) == len(docs) else space.docs[clustered],  # a first import: no copy
        min_size=settings.min_size,
        similarity=settings.cluster_similarity,
        texts=[t or "" for t in texts] if any(t is not None for t in texts) else None,
        max_items=settings.max_cluster_items,
        embed=settings.embed,
    )
    new_models: list[tuple[ThemeModel, csr_matrix]] = []
    for cluster in range(labels.max(initial=NOISE) + 1):
        rows = clustered[labels == cluster]
        centroid = space.centroid(rows, None, 0, settings.top_terms)
        twin = _twin(centroid, space.centroids)
        if twin is not None:
            members.setdefault(existing[twin].key, []).extend(int(r) for r in rows)
            continue
        model = ThemeModel(key=-(len(new_models) + 1), centroid=space.as_dict(centroid), size=len(rows))
        new_models.append((model, centroid))
        members[model.key] = [int(r) for r in rows]

    _place_rest(space, leftover, labels, clustered, existing, new_models, members, settings)
    by_key = {t.key: (t, space.centroids[i]) for i, t in enumerate(existing)}
    for key, rows in members.items():
        theme, prior = by_key.get(key, (None, None))
        if theme is not None:
            vector = space.centroid(np.array(rows), prior, theme.size, settings.top_terms)
            plan.changed[key] = ThemeModel(key, space.as_dict(vector), theme.size + len(rows))
        else:
            model, vector = next((m, v) for m, v in new_models if m.key == key)
            model.size = len(rows)
            plan.changed[key] = model
        sims = (space.docs[np.array(rows)] @ vector.T).toarray().ravel()
        for row, sim in zip(rows, sims, strict=True):
            plan.assignments[docs[row].item_id] = (key, round(float(sim), 4))
    return plan


def _nearest(docs: csr_matrix, centroids: csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Index of and cosine similarity to the nearest centroid, per document (-1 and 0 without centroids)."""
    best, score = np.full(docs.shape[0], -1), np.zeros(docs.shape[0])
    if centroids.shape[0] == 0:
        return best, score
    for start in range(0, docs.shape[0], CHUNK_ROWS):  # in blocks: rows x themes dense would not fit at 100k rows
        sims = (docs[start : start + CHUNK_ROWS] @ centroids.T).toarray()
        best[start : start + len(sims)], score[start : start + len(sims)] = sims.argmax(axis=1), sims.max(axis=1)
    return best, score


def _twin(centroid: csr_matrix, centroids: csr_matrix) -> int | None:
    """The existing theme a freshly found cluster duplicates, if any."""
    if centroids.shape[0] == 0:
        return None
    sims = (centroids @ centroid.T).toarray().ravel()
    best = int(np.argmax(sims))
    return best if sims[best] >= SAME_THEME_SIMILARITY else None


def _place_rest(
    space: _Space,
    leftover: np.ndarray,
    labels: np.ndarray,
    clustered: np.ndarray,
    existing: Sequence[ThemeModel],
    new_models: list[tuple[ThemeModel, csr_matrix]],
    members: dict[int, list[int]],
    settings: PlanSettings,
) -> None:
    """New items in no cluster (or beyond the clustering sample) join the nearest theme if close enough."""
    in_cluster = set(clustered[labels != NOISE].tolist())
    pending = np.array([r for r in leftover if r not in in_cluster], dtype=np.int64)
    if len(pending) == 0 or not (existing or new_models):
        return
    keys = [t.key for t in existing] + [m.key for m, _ in new_models]
    candidates = vstack([space.centroids, *(v for _, v in new_models)], format="csr")
    best, score = _nearest(space.docs[pending], candidates)
    for row, b, s in zip(pending, best, score, strict=True):
        if s >= settings.assign_threshold:
            members.setdefault(keys[b], []).append(int(row))
