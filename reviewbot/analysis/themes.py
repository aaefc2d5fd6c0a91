"""Keep themes stable across syncs: new items join existing themes when they fit; the rest may form new ones."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.sparse import csr_matrix, vstack

from reviewbot.analysis.boilerplate import Boilerplate
from reviewbot.analysis.cluster import NOISE, TEXT_CHARS, RowsOf, find_clusters
from reviewbot.analysis.embeddings import Encoder
from reviewbot.analysis.vectorize import CorpusStats, terms_of, to_matrix, weigh_counts, words

# A cluster whose centroid is this close to an existing theme's is that theme, seen again.
SAME_THEME_SIMILARITY = 0.5
CHUNK_ROWS = 10_000
WEIGH_ROWS = 50_000  # documents weighed at a time: their term counts are a few arrays as long as their terms


class Doc(NamedTuple):
    """An item to place: its id, its terms (vectorize.terms) and (optionally) text, which sharpens clustering.

    A tuple, not a dataclass: a large import makes one per item."""

    item_id: int
    terms: Sequence[str]
    text: str | None = None


class Docs:
    """Items to place, held compactly: ids, term indexes and UTF-8 texts (the start clustering reads) in flat arrays
    rather than a `Doc` (a tuple, a list of terms and a string) per item, which cost about 0.4 KB an item, 0.4 GB
    at a million. `texts=False`: no texts are held (clustering reads its sample's from the store instead: see
    `plan_themes`' `read_texts`), about 100 MB less at a million short texts, 400 MB at a million letters.

    A row's terms and text may be set again (`set`): a letter's are known only after boilerplate is learned from
    all letters; they are appended, and the row points at them."""

    def __init__(self, texts: bool = True) -> None:
        self.holds_texts = texts
        self._ids = array("q")
        self._term_start, self._term_len = array("q"), array("i")
        self._text_start, self._text_len = array("q"), array("i")  # length -1: no text
        self._term_idx = array("i")  # into self.terms
        self._blob = bytearray()
        self._index: dict[str, int] | None = {}  # term -> its place in `terms`, while rows are added
        self.terms: list[str] = []  # every term the rows use, in order of first use

    @classmethod
    def of(cls, docs: Iterable[Doc]) -> Docs:
        """Docs of `Doc` tuples."""
        out = cls()
        for doc in docs:
            out.append(doc.item_id, doc.terms, doc.text)
        return out

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[Doc]:
        return (self[row] for row in range(len(self)))

    def __getitem__(self, row: int) -> Doc:
        return Doc(self._ids[row], self.terms_at(row), self.text_at(row))

    def append(self, item_id: int, terms: Sequence[str], text: str | None) -> None:
        """Add a row."""
        self._ids.append(item_id)
        self._term_start.append(0)
        self._term_len.append(0)
        self._text_start.append(0)
        self._text_len.append(-1)
        self.set(len(self._ids) - 1, terms, text)

    def set(self, row: int, terms: Sequence[str], text: str | None) -> None:
        """(Re)set a row's terms and text."""
        if self._index is None:
            self._index = {term: i for i, term in enumerate(self.terms)}
        index = self._index
        self._term_start[row], self._term_len[row] = len(self._term_idx), len(terms)
        for term in terms:
            i = index.get(term)
            if i is None:
                i = index[term] = len(self.terms)
                self.terms.append(term)
            self._term_idx.append(i)
        if text is None or not self.holds_texts:
            self._text_len[row] = -1
            return
        encoded = text[:TEXT_CHARS].encode()  # all that clustering reads of a text: long letters' rest is never used
        self._text_start[row], self._text_len[row] = len(self._blob), len(encoded)
        self._blob += encoded

    def seal(self) -> None:
        """Let the index of terms go until a row is added again (it is as large as the vocabulary)."""
        self._index = None

    def extend(self, other: Docs) -> None:
        """Append another set's rows (a pool of a few thousand earlier leftovers)."""
        for doc in other:
            self.append(doc.item_id, doc.terms, doc.text)

    def item_ids(self) -> np.ndarray:
        """Every row's item id."""
        return np.frombuffer(self._ids, dtype=np.int64) if len(self) else np.zeros(0, dtype=np.int64)

    def terms_at(self, row: int) -> list[str]:
        """A row's terms."""
        start = self._term_start[row]
        terms = self.terms
        return [terms[i] for i in self._term_idx[start : start + self._term_len[row]]]

    def text_at(self, row: int) -> str | None:
        """A row's text, its first TEXT_CHARS characters (None: clustered by its terms alone)."""
        n = self._text_len[row]
        return None if n < 0 else self._blob[self._text_start[row] : self._text_start[row] + n].decode()

    def has_texts(self, rows: np.ndarray) -> bool:
        """Whether any of these rows has a text."""
        return bool(len(rows)) and bool((np.frombuffer(self._text_len, dtype=np.int32)[rows] >= 0).any())

    def drop_texts(self) -> None:
        """Let the texts go (clustering was their only use)."""
        self._blob = bytearray()
        self._text_len = array("i", [-1]) * len(self)

    def drop_terms(self) -> None:
        """Let the rows' terms go (weighed, they are read from the matrix: see `TermCounts`); rows added since are
        not possible (the ids stay)."""
        self._term_idx, self._term_start, self._term_len = array("i"), array("q"), array("i")
        self.terms, self._index = [], None

    def term_occurrences(self) -> int:
        """How many terms the rows hold in all (a term twice in a row counts twice)."""
        return int(np.frombuffer(self._term_len, dtype=np.int32).sum()) if len(self) else 0

    def term_rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows start..stop as (term indexes in row order, terms per row)."""
        starts = np.frombuffer(self._term_start, dtype=np.int64)[start:stop]
        lengths = np.frombuffer(self._term_len, dtype=np.int32)[start:stop].astype(np.int64)
        if not len(lengths) or not lengths.sum():
            return np.zeros(0, dtype=np.int64), lengths
        before = np.cumsum(lengths) - lengths  # where each row begins in the output
        positions = np.repeat(starts - before, lengths) + np.arange(int(lengths.sum()))
        return np.frombuffer(self._term_idx, dtype=np.int32)[positions], lengths


class TermCounts:
    """Each row's terms as the weighed matrix holds them (its columns) with a small-integer count per stored value:
    the rows' terms without a term index per occurrence (four bytes each, about 50 MB at a million short texts)
    beside a matrix that already names the columns."""

    def __init__(
        self, ids: np.ndarray, indptr: np.ndarray, columns: np.ndarray, counts: np.ndarray, terms: np.ndarray
    ) -> None:
        self._ids, self._indptr, self._columns, self._counts, self._terms = ids, indptr, columns, counts, terms

    def __len__(self) -> int:
        return len(self._ids)

    def item_ids(self) -> np.ndarray:
        """Every row's item id."""
        return self._ids

    def terms_at(self, row: int) -> list[str]:
        """A row's terms, each as often as the text has it (in column order: the vote counts them, order aside)."""
        start, stop = int(self._indptr[row]), int(self._indptr[row + 1])
        names, counts = self._terms[self._columns[start:stop]].tolist(), self._counts[start:stop].tolist()
        return [name for name, count in zip(names, counts, strict=True) for _ in range(count)]

    def terms_of(self, rows: np.ndarray) -> list[list[str]]:
        """`terms_at` of many rows, gathered at once (the mapping's vote reads a batch of members at a time: row by
        row, the gathering cost 6 microseconds a row, three times a list of term indexes)."""
        starts = self._indptr[rows]
        lengths = self._indptr[rows + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return [[] for _ in range(len(rows))]
        before = np.cumsum(lengths) - lengths  # where each row begins among the gathered values
        at = np.repeat(starts - before, lengths) + np.arange(total)
        counts = self._counts[at].astype(np.int64)
        names = np.repeat(self._terms[self._columns[at]], counts).tolist()  # each term as often as the row has it
        per_row = np.bincount(np.repeat(np.arange(len(rows)), lengths), weights=counts, minlength=len(rows))
        ends = np.cumsum(per_row.astype(np.int64)).tolist()
        return [names[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


class MemberTerms(Mapping[int, Sequence[Sequence[str]]]):
    """Theme -> the terms of the members placed in it (rows of `docs`), read from the documents when asked for: a
    list of terms per placed item is what the mapping stage's vote needs, and about 0.2 KB an item held at once."""

    def __init__(self, docs: Docs | TermCounts, items: np.ndarray, themes: np.ndarray) -> None:
        ids = docs.item_ids()
        by_id = np.argsort(ids, kind="stable")
        rows = by_id[np.searchsorted(ids, items, sorter=by_id)]
        order = np.lexsort((rows, themes))  # each theme's members in the documents' order
        rows, themes = rows[order], themes[order]
        starts = np.flatnonzero(np.diff(themes)) + 1
        self._docs = docs
        self._rows = {int(group[0]): members for group, members in zip(
            np.split(themes, starts), np.split(rows, starts), strict=True
        ) if len(group)}  # fmt: skip

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows)

    def __getitem__(self, theme: int) -> Sequence[Sequence[str]]:
        docs = self._docs
        return RowsOf(docs.terms_at, self._rows[theme], docs.terms_of if isinstance(docs, TermCounts) else None)

    def every(self) -> Sequence[Sequence[str]]:
        """The terms of every item the sync read, placed in a theme or not (the mapping stage's model learns the
        workspace's words from them all)."""
        docs = self._docs
        return RowsOf(docs.terms_at, np.arange(len(docs)), docs.terms_of if isinstance(docs, TermCounts) else None)


def read_docs(
    batches: Iterable[Sequence[tuple[int, str]]], boilerplate: Boilerplate, *, learn: bool = False, texts: bool = True
) -> Docs:
    """Docs of (item id, text) rows, read a batch at a time: terms, and text for clustering, without the wording a
    text shares with many letters (see analysis.boilerplate); `learn` counts the letters' runs of words first.
    Only letters' words are kept until every row is read: a large import is mostly short texts. `texts=False`:
    no texts are held (`clustering_text` gives them again from the stored ones)."""
    docs = Docs(texts)
    letters: dict[int, tuple[list[str], str | None]] = {}
    for batch in batches:
        for item_id, text in batch:
            text_words = words(text)
            if boilerplate.applies(text_words):
                letters[len(docs)] = (text_words, text if texts else None)
                docs.append(item_id, (), None)
            else:
                docs.append(item_id, terms_of(text_words), text)
    if learn:
        boilerplate.add(text_words for text_words, _ in letters.values())
    for row, (text_words, text) in letters.items():
        kept = boilerplate.strip(text_words)
        docs.set(row, terms_of(kept), None if text is None else _letter_text(text, text_words, kept))
    return docs


def _letter_text(text: str, text_words: Sequence[str], kept: Sequence[str]) -> str:
    """What clustering reads of a letter: as written, or its words without the boilerplate when some was cut."""
    return text if len(kept) == len(text_words) else " ".join(kept)


def clustering_text(text: str, boilerplate: Boilerplate) -> str:
    """An item's text as `read_docs` keeps it for clustering (a letter's without boilerplate, the first TEXT_CHARS
    characters), from the text as stored: the same `boilerplate` gives the same text."""
    text_words = words(text)
    if boilerplate.applies(text_words):
        text = _letter_text(text, text_words, boilerplate.strip(text_words))
    return text[:TEXT_CHARS]


def count_terms(stats: CorpusStats, docs: Docs) -> None:
    """Add the rows' terms to the document frequencies, in row order (a batch of lists at a time)."""
    for start in range(0, len(docs), WEIGH_ROWS):
        stats.add([docs.terms_at(row) for row in range(start, min(start + WEIGH_ROWS, len(docs)))])


def make_docs(items: Sequence[tuple[int, str]], boilerplate: Boilerplate, *, learn: bool = False) -> list[Doc]:
    """`read_docs` of one batch, as `Doc` tuples."""
    return list(read_docs([items], boilerplate, learn=learn))


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


class Assignments(Mapping[int, tuple[int, float]]):
    """Where each placed item goes, item id -> (theme key, similarity), held as three arrays sorted by item (a
    dictionary of tuples is about 0.2 KB an item)."""

    def __init__(self, items: np.ndarray, keys: np.ndarray, similarities: np.ndarray) -> None:
        order = np.argsort(items, kind="stable")
        self.item_ids, self.theme_keys, self.similarities = items[order], keys[order], similarities[order]

    @classmethod
    def empty(cls) -> Assignments:
        """No placements."""
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))

    def __len__(self) -> int:
        return len(self.item_ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self.item_ids.tolist())

    def __getitem__(self, item: object) -> tuple[int, float]:
        if not isinstance(item, (int, np.integer)):
            raise KeyError(item)
        at = int(np.searchsorted(self.item_ids, item))
        if at == len(self.item_ids) or self.item_ids[at] != item:
            raise KeyError(item)
        return int(self.theme_keys[at]), float(self.similarities[at])

    def __contains__(self, item: object) -> bool:
        try:
            self[item]
        except KeyError:
            return False
        return True


@dataclass
class ThemePlan:
    """The outcome: where each placed item goes, and the themes that are new or whose centroid moved."""

    assignments: Assignments = field(default_factory=Assignments.empty)
    changed: dict[int, ThemeModel] = field(default_factory=dict)
    terms: TermCounts | None = None  # every row's terms (for the members' votes), kept from the weighing

    @property
    def new_themes(self) -> list[ThemeModel]:
        """Themes this plan creates."""
        return [t for t in self.changed.values() if t.key < 0]


class _Space:
    """Centroids and documents as rows of one sparse matrix over a shared vocabulary (the centroids' terms, then
    the documents' in order of first use)."""

    def __init__(self, themes: Sequence[ThemeModel], docs: Docs, stats: CorpusStats) -> None:
        vocab: dict[str, int] = {}  # not kept: a large import brings hundreds of thousands of once-seen terms
        self.centroids = to_matrix([t.centroid for t in themes], vocab)
        self.docs, self.counts = _weigh(docs, stats, vocab)
        self.centroids.resize((len(themes), self.docs.shape[1]))  # the documents brought terms of their own
        self.terms = np.array(sorted(vocab, key=vocab.__getitem__), dtype=object)

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


def _weigh(docs: Docs, stats: CorpusStats, vocab: dict[str, int]) -> tuple[csr_matrix, np.ndarray]:
    """Unit-length TF-IDF rows of the documents, as `vectorize.weigh_many` computes them (terms new to `vocab` are
    added in order of first use), WEIGH_ROWS rows at a time into one set of arrays: weighing a million documents
    at once made arrays of every term occurrence, several hundred MB. Also how often each stored term occurs in
    its row, in the smallest integer type that holds the counts (the mapping's votes count terms)."""
    docs.seal()
    column = np.array([vocab.get(term, -1) for term in docs.terms], dtype=np.int64)
    idf = array("d", [0.0]) * len(vocab)  # not remembered in `stats`: most of a large import's terms are seen once
    for term, i in vocab.items():
        idf[i] = stats.idf(term, remember=False)
    occurrences = docs.term_occurrences()
    data, indices = np.empty(occurrences), np.empty(occurrences, dtype=np.int32)
    counts = np.empty(occurrences, dtype=np.uint8)  # widened below if a row repeats a term more than 255 times
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    filled = 0
    for start in range(0, len(docs), WEIGH_ROWS):
        local, lengths = docs.term_rows(start, min(start + WEIGH_ROWS, len(docs)))
        fresh = local[column[local] < 0]
        if len(fresh):
            found, first = np.unique(fresh, return_index=True)
            for i in found[np.argsort(first)].tolist():
                column[i] = vocab[docs.terms[i]] = len(vocab)
                idf.append(stats.idf(docs.terms[i], remember=False))
        block = csr_matrix(
            (np.ones(len(local)), column[local].astype(np.int32), np.concatenate([[0], np.cumsum(lengths)])),
            shape=(len(lengths), max(len(vocab), 1)),
        )
        block.sum_duplicates()
        if block.nnz and block.data.max() > np.iinfo(counts.dtype).max:
            counts = counts.astype(np.min_scalar_type(int(block.data.max())))
        counts[filled : filled + block.nnz] = block.data
        block = weigh_counts(block, np.frombuffer(idf))
        data[filled : filled + block.nnz], indices[filled : filled + block.nnz] = block.data, block.indices
        indptr[start + 1 : start + 1 + len(lengths)] = filled + block.indptr[1:]
        filled += block.nnz
    matrix = csr_matrix((data[:filled], indices[:filled], indptr), shape=(len(docs), max(len(vocab), 1)))
    return matrix, counts[:filled].copy()  # a copy: the rest of the array (repeated terms) is let go


def plan_themes(
    existing: Sequence[ThemeModel],
    new_docs: Sequence[Doc] | Docs,
    pool: Sequence[Doc] | Docs,
    stats: CorpusStats,
    settings: PlanSettings,
    read_texts: Callable[[np.ndarray], Sequence[str]] | None = None,
) -> ThemePlan:
    """Place new items in existing themes; cluster the rest with earlier unplaced items into new themes.

    `pool` holds items placed in no theme by earlier syncs, newest first; `stats` weigh every item's terms.
    Nothing is clustered when there are no new items, so running twice on the same data changes nothing.
    `new_docs` given as `Docs` is extended with the pool (a copy of a large import's rows is not needed), and its
    terms are let go once weighed (`plan.terms` holds them). `read_texts` gives items' texts by id, as
    `clustering_text` makes them: only clustering's sample is asked for, so a large import's texts need not be
    held (without it, the texts the documents hold are used).
    """
    plan = ThemePlan()
    if not new_docs:
        return plan
    n_new = len(new_docs)
    docs = new_docs if isinstance(new_docs, Docs) else Docs.of(new_docs)
    docs.extend(pool if isinstance(pool, Docs) else Docs.of(pool))
    space = _Space(existing, docs, stats)
    docs.drop_terms()  # weighed: the matrix's columns and counts name them now
    best, score = _nearest(space.docs, space.centroids)
    fits = score >= settings.assign_threshold
    fits[n_new:] = False  # earlier leftovers only join via clustering, so old decisions stay put
    # every row's theme (0: none) and the step that placed it (0 fitting, 1 + n the n-th cluster, then the rest),
    # which orders a theme's members as they joined: centroids are summed in that order
    owner, step = np.zeros(len(docs), dtype=np.int64), np.zeros(len(docs), dtype=np.int32)
    keys = np.array([t.key for t in existing], dtype=np.int64)
    order: dict[int, None] = {}  # the themes in the order they first gained a member
    _join(owner, step, order, np.flatnonzero(fits), keys[best[fits]] if len(keys) else keys, 0)
    del best, score

    leftover = np.flatnonzero(~fits)
    clustered = leftover  # find_clusters bounds its quadratic part to a sample of max_cluster_items itself
    labels = find_clusters(
        space.docs,
        min_size=settings.min_size,
        similarity=settings.cluster_similarity,
        texts=_texts(docs, clustered, read_texts),
        max_items=settings.max_cluster_items,
        embed=settings.embed,
        rows=None if len(clustered) == len(docs) else clustered,  # an index: the leftover rows are not copied
    )
    docs.drop_texts()
    new_models: list[tuple[ThemeModel, csr_matrix]] = []
    for cluster in range(labels.max(initial=NOISE) + 1):
        rows = clustered[labels == cluster]
        centroid = space.centroid(rows, None, 0, settings.top_terms)
        twin = _twin(centroid, space.centroids)
        if twin is not None:
            _join(owner, step, order, rows, np.full(len(rows), existing[twin].key), 1 + cluster)
            continue
        model = ThemeModel(key=-(len(new_models) + 1), centroid=space.as_dict(centroid), size=len(rows))
        new_models.append((model, centroid))
        _join(owner, step, order, rows, np.full(len(rows), model.key), 1 + cluster)

    _place_rest(space, clustered[labels == NOISE], existing, new_models, owner, step, order, settings)
    by_key = {t.key: (t, space.centroids[i]) for i, t in enumerate(existing)}
    models = {m.key: (m, v) for m, v in new_models}
    placed = np.flatnonzero(owner)
    # members grouped by theme, then by the step that placed them, then by row: the order they joined in
    placed = placed[np.lexsort((placed, step[placed], owner[placed]))]
    groups = np.split(placed, np.flatnonzero(np.diff(owner[placed])) + 1) if len(placed) else []
    members = {int(owner[rows[0]]): rows for rows in groups}
    similarities = np.zeros(len(docs))
    for key in order:
        rows = members[key]
        theme, prior = by_key.get(key, (None, None))
        if theme is not None:
            vector = space.centroid(rows, prior, theme.size, settings.top_terms)
            plan.changed[key] = ThemeModel(key, space.as_dict(vector), theme.size + len(rows))
        else:
            model, vector = models[key]
            model.size = len(rows)
            plan.changed[key] = model
        sims = (space.docs[rows] @ vector.T).toarray().ravel()
        similarities[rows] = [round(sim, 4) for sim in sims.tolist()]
    plan.assignments = Assignments(docs.item_ids()[placed], owner[placed], similarities[placed])
    docs_matrix = space.docs
    plan.terms = TermCounts(docs.item_ids(), docs_matrix.indptr, docs_matrix.indices, space.counts, space.terms)
    return plan


def _texts(docs: Docs, rows: np.ndarray, read_texts: Callable[[np.ndarray], Sequence[str]] | None) -> RowsOf | None:
    """The rows' texts for clustering, read when asked for (clustering reads its sample's only): by `read_texts`
    (a batch of ids at a time) when given, else decoded from the documents; None when there are none."""
    if read_texts is not None and len(rows):
        ids = docs.item_ids()
        return RowsOf(lambda row: read_texts(ids[[row]])[0], rows, lambda some: read_texts(ids[some]))
    return RowsOf(lambda row: docs.text_at(row) or "", rows) if docs.has_texts(rows) else None


def _join(
    owner: np.ndarray, step: np.ndarray, order: dict[int, None], rows: np.ndarray, keys: np.ndarray, at: int
) -> None:
    """Rows join the themes of `keys` at a step; a theme's first member puts it in `order`."""
    owner[rows], step[rows] = keys, at
    if len(keys):
        found, first = np.unique(keys, return_index=True)
        order.update(dict.fromkeys(found[np.argsort(first)].tolist()))


def _nearest(docs: csr_matrix, centroids: csr_matrix, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index of and cosine similarity to the nearest centroid, per document (of `rows`, when given; -1 and 0
    without centroids)."""
    n = docs.shape[0] if rows is None else len(rows)
    best, score = np.full(n, -1), np.zeros(n)
    if centroids.shape[0] == 0:
        return best, score
    for start in range(0, n, CHUNK_ROWS):  # in blocks: rows x themes dense would not fit at 100k rows
        block = docs[start : start + CHUNK_ROWS] if rows is None else docs[rows[start : start + CHUNK_ROWS]]
        sims = (block @ centroids.T).toarray()
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
    pending: np.ndarray,
    existing: Sequence[ThemeModel],
    new_models: list[tuple[ThemeModel, csr_matrix]],
    owner: np.ndarray,
    step: np.ndarray,
    order: dict[int, None],
    settings: PlanSettings,
) -> None:
    """New items in no cluster (or beyond the clustering sample) join the nearest theme if close enough."""
    if len(pending) == 0 or not (existing or new_models):
        return
    keys = np.array([t.key for t in existing] + [m.key for m, _ in new_models], dtype=np.int64)
    candidates = vstack([space.centroids, *(v for _, v in new_models)], format="csr")
    best, score = _nearest(space.docs, candidates, pending)
    close = score >= settings.assign_threshold
    _join(owner, step, order, pending[close], keys[best[close]], np.iinfo(np.int32).max)
