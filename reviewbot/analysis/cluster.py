"""Find groups of similar texts without being told how many there are."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import igraph
import numpy as np
from scipy.sparse import csr_matrix, hstack, triu
from scipy.special import xlogy
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import normalize

from reviewbot.analysis.embeddings import Encoder
from reviewbot.analysis.vectorize import without_addresses

T = TypeVar("T")

NOISE = -1
# Modularity splits a topic that fills most of a small graph of term vectors, so small sets are grouped by
# average linkage, which is exact and cheap below this size; the graph method takes over for large imports.
# Sentence embeddings link a small set well enough for the graph method at every size (BANKING77 at 1,000
# items: NMI 0.75 by graph, 0.70 by average linkage, which also left 5-43% of CFPB and tweets in no theme).
LINKAGE_ROWS = 2_000
NEIGHBOURS = 5  # few neighbours keep topics apart; more merge near-duplicates of different intents
# Modularity resolution: higher splits finer. 3 suits thousands of rows (BANKING77: ~95 clusters for 77 intents);
# small sets hold few topics, each a large share of the graph, which a high resolution would cut up, so below
# RESOLUTION_ROWS it falls with the square root of the number of rows, to plain modularity (1) at the least.
RESOLUTION = 3.0
RESOLUTION_ROWS = 5_000
# Sentence embeddings keep small topics apart as well in 1,000 rows as in 10,000, so their resolution falls only
# below EMBEDDING_RESOLUTION_ROWS (BANKING77 at 1,000 / 2,000 / 10,003 rows: NMI 0.755 / 0.776 / 0.803 falling as
# above, 0.800 / 0.810 / 0.809 at 4; 3 and 5 gave 0.796-0.813, see bench/README.md). A handful of rows about two
# things would be cut into pieces at 4 (each topic is half the graph), so there it falls to plain modularity too.
EMBEDDING_RESOLUTION = 4.0
EMBEDDING_RESOLUTION_ROWS = 500  # BANKING77 at 500 rows: 0.772 with 1,000 here, 0.795 with 500
# ... and link more neighbours as the set grows: a k-nearest-neighbour graph needs k to grow with log(n) to keep
# each topic connected. k = log2(rows / 125), at least 3: 3 at 1,000 rows, 4 at 2,000, 6 at 10,000 (BANKING77 NMI
# 0.805 / 0.814 / 0.819 in a direct run, against 0.800 / 0.810 / 0.809 with 5 at every size).
EMBEDDING_NEIGHBOURS_ROWS = 125
CHUNK_ROWS = 1_000  # rows per block of similarity products, so memory stays linear in the number of rows
PRODUCT_ROWS = 2_500  # rows per block of a product spread over threads (_times_dense)
COLUMN_GROUP = 64  # columns per group when looking for a row's largest values
TEXT_CHARS = 500  # character features read only the start of long texts: the words carry those well enough
MAX_DIMENSIONS = 100
ROWS_PER_DIMENSION = 20  # small corpora need few latent dimensions to generalise across wordings
MIN_LINK = 0.05  # neighbours less similar than this share next to nothing: no link
# Communities are refined by a naive Bayes model of their features (BANKING77 NMI 0.66 -> 0.71): at most
# REFINE_ROUNDS rounds, fewer once under REFINE_SETTLED of the rows change cluster in a round. On real text about 1%
# go back and forth to the last round and the rounds still pay there (cutting them lost BANKING77 or airline up to
# 0.007-0.010 NMI); the 100k sync's sample settles in a few: at 1% it runs 4 rounds, not the 7 it ran at 0.2% (when a
# round that emptied a cluster never counted as settled), _refine 1.7 CPU s instead of 3.0; see bench/README.md.
# Features in fewer than REFINE_MIN_ROWS rows are left out: they describe single texts, and long texts have so many
# that they drew rows into a few broad clusters (CFPB: 10 themes for 24 issues with them, 36 without).
REFINE_ROUNDS = 10
REFINE_SETTLED = 0.01
REFINE_MIN_ROWS = 10
REFINE_SMOOTHING = 0.01  # additive smoothing of feature weights; the features are unit-length TF-IDF rows
# The model weighs every feature alike, and the clusters it settles on split texts by whatever words they share
# ("not working", "pending"), not always by what they ask. So the rounds run again with each feature weighted by
# the square root of its mutual information with the clusters found, and those weights are taken again from the
# result (BANKING77 NMI of the refined clusters, three Leiden seeds: 0.723 unweighted; 0.744 after one pass, 0.748
# after two; power 0.25 / 0.75: 0.737 / 0.741 after two, power 1 on one seed 0.735). End to end: BANKING77 0.722 ->
# 0.738, airline reasons 0.184 -> 0.222, CFPB issues 0.214 -> 0.219 (mean of four row orders); see bench/README.md.
REWEIGHT_PASSES = 2
INFORMATION_POWER = 0.5
# Pairs of adjacent words in at least PAIR_MIN_ROWS of the sampled texts are one more block of the latent space, and
# so of the neighbour graph ("top up" and "up top", "card arrive" and "arrive card" do not ask the same); in the
# naive Bayes rounds they changed nothing. Only texts of at most PAIR_MAX_WORDS words (a sentence or two, a tweet)
# give pairs: there a pair is the phrase of the request, while a long narrative's pairs are its register (CFPB: "xx
# xx", "i was", "the loan", "consumer reporting", "customer service"; 45 per text against 8 in a short one), which
# drew complaints together by how they are written: pairs from every text cost the dev set's mapping 0.022, from
# short texts only BANKING77 NMI 0.745 -> 0.752 (mean of five row orders), airline reasons 0.222 -> 0.230, CFPB and the
# dev mapping level or better; see bench/README.md (branch pairs).
PAIR_MIN_ROWS = 5
PAIR_MAX_WORDS = 40
# In a small latent space (or by character n-grams alone) unrelated texts can meet; a member must share words.
MIN_SHARED = 0.05
# A cluster of over GRAB_BAG_SHARE of the rows whose members are less alike than the median cluster's is a grab bag
# ("month / called / customer service" on CFPB) and is split into the communities of its own part of the neighbour
# graph, at a low resolution (SPLIT_RESOLUTION) so that it breaks into a few parts, not dozens. In four row orders of
# CFPB: grab bags (over 5% of items, under 30% one issue) 0 in each instead of 0-1, NMI 0.214 against 0.211 (mean),
# 41-58 themes instead of 33-36; resolution 1 gave NMI 0.218 with 46-77 themes, 0.3 left one grab bag. BANKING77 has
# no grab bag (NMI 0.718 both). The split is repeated, with the median of the clusters it made, until it splits
# nothing: a large cluster just more alike than the first median's is a grab bag beside the parts of a looser one
# (with word pairs in the graph one CFPB order kept a theme of 9% of the items, 28% one issue; bench/README.md,
# branch themes3).
SPLIT_RESOLUTION = 0.5
GRAB_BAG_SHARE = 0.05
CHANCE_PAIRS = 5_000  # random pairs whose median similarity is the chance level of a set of embeddings
CHANCE_ROWS = 50
WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?")  # a text's wording: its words, in order ...
WORDING_WORDS = 40  # ... from its start: a long text pasted again with other line breaks is cut elsewhere
WORDING_ROWS = 10_000  # texts read at a time for their wording: a sync reads them from the store, not one by one


def find_clusters(
    matrix: csr_matrix,
    *,
    min_size: int,
    similarity: float,
    texts: Sequence[str] | None = None,
    max_items: int | None = None,
    embed: Encoder | None = None,
    seed: int = 0,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster the rows of a TF-IDF matrix (those of `rows` when given, an index: a large import's matrix is not
    copied to cluster part of it); returns a label per row, NOISE for rows in no cluster.

    Features are the given terms plus, when `texts` are given and the set is large, all words (stop words
    tell intents apart: "why" vs "how") and character n-grams (word forms, typos), projected to a latent
    semantic space (LSA) so that texts sharing context but no word still come close. Up to LINKAGE_ROWS rows
    are grouped by average linkage until the mean similarity inside a group would fall below `similarity`.
    Larger sets are sampled (a fixed-seed sample of at most `max_items` rows, the only quadratic step); each
    sampled row is linked to its few nearest neighbours, and the graph is split into communities by modularity
    (Leiden). A few rounds of a naive Bayes model of each community's features then move the rows that the
    graph, seeing only a row's neighbours, misplaced; a row stays in its community only if at least
    `similarity` close to its centroid. Rows outside the sample stay NOISE for the caller to place against
    the themes found (plan_themes does, by term similarity), which keeps the cost of a large import linear.
    Either way the number of clusters follows from the data. Members that share no words with the rest of their
    cluster, and clusters smaller than `min_size`, are noise. Labels are numbered by size, largest first.
    Rows with the same terms (a complaint pasted again, a templated answer) are clustered once and share a
    label, so sizes here count distinct rows: a thousand copies of one text are not a theme on their own.
    With embeddings, rows are copies only if their texts also start with the same words (`_distinct_wordings`);
    with terms, a clustered row's copies worded otherwise are placed by its clusters' words (`_place_wordings`).
    With `embed` (and `texts`), rows of any number are compared by the texts' sentence embeddings instead of LSA
    and grouped by the graph method (at a resolution that does not fall with size), and a sampled row stays in
    its community if at least `similarity` above the set's chance level close to its centroid (no refinement).
    """
    distinct, copies = _distinct_rows(matrix if rows is None else matrix[rows])  # the copy ends in there
    if embed is not None and texts is not None:
        distinct, copies = _distinct_wordings(distinct, copies, texts)
    labels, model = _cluster_distinct(
        matrix,
        distinct if rows is None else rows[distinct],  # the distinct rows as an index into the matrix, not a copy
        min_size=min_size,
        similarity=similarity,
        # read for the sample only, in one batch when the texts can be read so
        texts=None if texts is None else RowsOf(texts.__getitem__, distinct, lambda at: take(texts, at)),
        max_items=max_items,
        embed=embed if texts is not None else None,
        seed=seed,
    )
    labels = labels[copies]
    if model is not None and texts is not None:
        labels = _place_wordings(model, matrix, np.arange(len(copies)) if rows is None else rows, copies, labels, texts)
    return labels


class RowsOf(Sequence[T]):
    """Some rows of a larger whole, each read when asked for (a slice or `take` reads a batch, through `read_many`
    when given): a large import's rows are not copied, nor its texts held, to use a sample of them."""

    def __init__(
        self, read: Callable[[int], T], rows: np.ndarray, read_many: Callable[[np.ndarray], Sequence[T]] | None = None
    ) -> None:
        self._read, self._rows, self._read_many = read, rows, read_many

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return self.take(np.arange(len(self._rows))[i])
        return self._read(int(self._rows[i]))

    def take(self, at: np.ndarray) -> list[T]:
        """The rows at these positions, in their order."""
        rows = self._rows[at]
        if self._read_many is not None:
            return list(self._read_many(rows))
        return [self._read(row) for row in rows.tolist()]


def take(values: Sequence[T], at: np.ndarray) -> list[T]:
    """values[i] for each position in `at`: one batch read for a `RowsOf` (a sample's texts read from the store in
    a few queries rather than one per text)."""
    return values.take(at) if isinstance(values, RowsOf) else [values[i] for i in at.tolist()]


def _distinct_rows(matrix: csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct row, index into those for every row).

    Rows are compared by two random projections of their (rounded) weights: equal rows project equally, and
    different rows colliding on both is as likely as two random 64-bit floats being equal twice."""
    return _by_first_appearance(_projections(matrix))


def _distinct_wordings(distinct: np.ndarray, copies: np.ndarray, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """`_distinct_rows` split again by the texts' first words (case, digits, punctuation, addresses aside), for
    sentence embeddings.

    Terms leave out stop words and word order, which embeddings read: "Why won't the ATM give me cash?" and "The
    ATM didn't give me all my cash" have the same terms and two intents (on BANKING77, 56 of 1,000 rows shared
    their terms with another, 23 of them across intents). Only rows whose terms are shared are read."""
    shared = np.flatnonzero(np.bincount(copies)[copies] > 1)
    if len(shared) == 0:
        return distinct, copies
    groups = copies.copy()
    groups[shared] = len(distinct) + _wording_groups(shared, copies, texts)  # a group per terms and wording
    return _by_first_appearance(groups)


def _wording_groups(rows: np.ndarray, copies: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """Per row of `rows`, a number for its terms (`copies`) and its first words together, 0.. in order of first
    appearance. The texts are read a batch at a time (a sync reads the store's)."""
    groups = np.empty(len(rows), dtype=np.int64)
    wordings: dict[tuple[int, str], int] = {}
    for start in range(0, len(rows), WORDING_ROWS):
        part = rows[start : start + WORDING_ROWS]
        for i, (row, text) in enumerate(zip(part.tolist(), take(texts, part), strict=True)):
            groups[start + i] = wordings.setdefault((int(copies[row]), _wording(text)), len(wordings))
    return groups


def _wording(text: str) -> str:
    """A text's first WORDING_WORDS words, lower case (digits, punctuation and addresses aside)."""
    return " ".join(WORDS.findall(without_addresses(text[:TEXT_CHARS]).lower())[:WORDING_WORDS])


def _place_wordings(
    model: _WordModel,
    matrix: csr_matrix,
    index: np.ndarray,
    copies: np.ndarray,
    labels: np.ndarray,
    texts: Sequence[str],
) -> np.ndarray:
    """The labels, with each clustered row's copies that are worded otherwise (same terms, other first words) moved
    to the cluster their own words fit best.

    Terms leave out stop words, so texts asking different things share them ("Where is my card?" / "When will my
    card be here?"): BANKING77's 10,003 texts are 8,002 distinct rows by terms, 9,972 by wording, and 126 groups of
    copies mix intents. Clustering them once keeps a thousand copies of a text from being a theme of their own;
    placing the other wordings by their words puts a differently asked question where it belongs. Only copies of
    rows in a cluster are read (`index` maps rows to the matrix's)."""
    sizes = np.bincount(copies)
    candidates = np.flatnonzero((sizes[copies] > 1) & (labels != NOISE))
    if len(candidates) == 0:
        return labels
    firsts, group_of = _by_first_appearance(_wording_groups(candidates, copies, texts))
    # the first row of a group of copies is the one clustered; its wording keeps the label
    clustered = np.zeros(len(copies), dtype=bool)
    clustered[np.unique(copies, return_index=True)[1]] = True
    group_clustered = np.zeros(len(firsts), dtype=bool)
    group_clustered[group_of[clustered[candidates]]] = True
    others = np.flatnonzero(~group_clustered)
    if len(others) == 0:
        return labels
    rows = candidates[firsts[others]]
    placed = model.place(matrix[index[rows]], take(texts, rows), labels[rows])
    moved = np.full(len(firsts), NOISE, dtype=np.int64)
    moved[others] = placed
    result = labels.copy()
    result[candidates] = np.where(moved[group_of] != NOISE, moved[group_of], labels[candidates])
    return result


def _by_first_appearance(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct key, index into those for every row), distinct keys numbered in order of first
    appearance (rows are keys when `keys` is 2-D)."""
    _, firsts, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(firsts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return firsts[order].astype(np.int64), rank[inverse.ravel()].astype(np.int64)


def _projections(matrix: csr_matrix) -> np.ndarray:
    """Two random projections of the rows' rounded weights (the copies it makes end here, before the sort: a
    large import's matrix is hundreds of MB)."""
    if not matrix.has_sorted_indices:  # equal rows must sum their terms in the same order to project equally
        matrix = matrix.sorted_indices()
    rounded = csr_matrix((np.round(matrix.data, 6), matrix.indices, matrix.indptr), shape=matrix.shape)
    return rounded @ np.random.default_rng(0).random((matrix.shape[1], 2))


def _cluster_distinct(
    matrix: csr_matrix,
    distinct: np.ndarray,
    *,
    min_size: int,
    similarity: float,
    texts: Sequence[str] | None,
    max_items: int | None,
    embed: Encoder | None,
    seed: int,
) -> tuple[np.ndarray, _WordModel | None]:
    """find_clusters on the `distinct` rows of the matrix (all different): a label per distinct row, and (for the
    graph method on terms and texts) what places other rows by the clusters' words."""
    n = len(distinct)
    labels = np.full(n, NOISE, dtype=np.int64)
    usable = np.flatnonzero(np.diff(matrix.indptr)[distinct] > 0)
    space = None
    if len(usable) < max(min_size, 2):
        return labels, None
    found = np.full(n, NOISE, dtype=np.int64)
    if len(usable) <= LINKAGE_ROWS and embed is None:
        # words and character n-grams of the raw texts blur the few topics of a small set: terms only
        points = _latent(_features(matrix[distinct[usable]], None), seed)
        placed = np.linalg.norm(points, axis=1) > 0  # a text the model knows no word of has no direction
        if placed.sum() >= 2:
            found[usable[placed]] = _average_linkage(points[placed], similarity)
    else:
        rows = usable
        if max_items is not None and len(usable) > max_items:
            rows = np.sort(np.random.default_rng(seed).choice(usable, max_items, replace=False))
        features = None
        if embed:
            points = _embedded(embed, texts, rows)
        else:
            space = _FeatureSpace(matrix[distinct[rows]], None if texts is None else take(texts, rows))
            features = space.features
            # word pairs in the latent space only: in the naive Bayes rounds they changed nothing (bench/README.md)
            points = _latent(space.with_word_pairs(), seed)
        if features is None:
            graph = _neighbour_graph(points, _embedding_neighbours(len(rows)))
            groups = communities(graph, _resolution(len(rows), EMBEDDING_RESOLUTION, EMBEDDING_RESOLUTION_ROWS), seed)
        else:
            graph = _neighbour_graph(points, NEIGHBOURS)
            groups = communities(graph, _resolution(len(rows)), seed)
        keep = np.bincount(groups)[groups] >= min_size
        if not keep.any():
            return labels, None
        if features is None:
            # a row stays in its community if close enough to its centroid: moving every row to the nearest
            # centroid instead lost 0.003-0.012 NMI on BANKING77 at every size (embeddings link paraphrases well)
            found[rows] = _close_members(points, groups, above_chance(points, similarity, seed))
        else:
            # a row's few neighbours misplace it more often than the words of whole communities would
            refined = _refine(features, groups)
            refined = _split_grab_bags(points, refined, graph, min_size, seed)
            found[rows] = _close_members(points, refined, similarity)
    if embed is None:  # paraphrases sharing no word are what embeddings are for; LSA needs the check
        members = np.flatnonzero(found != NOISE)  # only members are checked: a copy of every row is not needed
        found[members] = _drop_strangers(matrix[distinct[members]], found[members])
    labels = _by_size(found, min_size)
    if space is None or space.heads is None:
        return labels, None
    return labels, _WordModel(space, labels[rows])


def above_chance(points: np.ndarray, similarity: float, seed: int = 0) -> float:
    """`similarity` as a share of the way from what two random rows have in common to identity.

    Term vectors of unrelated texts share nothing (cosine about 0), so a threshold means the same on every set;
    sentence embeddings of unrelated complaints are still about 0.3 alike (same language, same register), which
    would make a threshold meant for terms merge everything. The chance level is the median cosine of random
    pairs of rows; a handful of rows tells no chance level (they may all be one topic), so below CHANCE_ROWS the
    threshold is taken as given."""
    n = points.shape[0]
    if n < CHANCE_ROWS:
        return similarity
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, CHANCE_PAIRS), rng.integers(0, n, CHANCE_PAIRS)
    distinct = a != b
    chance = float(np.median(np.einsum("ij,ij->i", points[a[distinct]], points[b[distinct]])))
    return chance + similarity * (1.0 - chance) if chance > 0 else similarity


def _embedded(embed: Encoder, texts: Sequence[str] | None, rows: np.ndarray) -> np.ndarray:
    """Unit-length sentence embeddings of some rows' texts."""
    assert texts is not None  # find_clusters passes embed only with texts
    return normalize(np.asarray(embed([text[:TEXT_CHARS] for text in take(texts, rows)]), dtype=np.float32))


def _features(matrix: csr_matrix, texts: Sequence[str] | None) -> csr_matrix:
    """Unit-length rows: the terms, plus (given texts) all words and character n-grams, equally weighted."""
    return _FeatureSpace(matrix, texts).features


def _heads(texts: Sequence[str]) -> list[str]:
    """What the word and character features read of each text: its start, lower case, without addresses."""
    return [without_addresses(text[:TEXT_CHARS]).lower() for text in texts]


class _FeatureSpace:
    """The features of some rows (`_features`), and the same features of other rows (`transform`)."""

    def __init__(self, matrix: csr_matrix, texts: Sequence[str] | None) -> None:
        self.heads = None if texts is None else _heads(texts)
        self._words: TfidfVectorizer | None = None
        self._chars: _CharNgrams | None = None
        blocks = [normalize(matrix.astype(np.float32))]
        if self.heads is not None:
            words = TfidfVectorizer(token_pattern=r"[a-z][a-z']*", sublinear_tf=True, dtype=np.float32)
            try:
                blocks.append(words.fit_transform(self.heads))
                self._words = words
            except ValueError:  # no word occurs
                pass
            try:
                chars = _CharNgrams(self.heads)
                blocks.append(chars.fitted)
                self._chars = chars
            except ValueError:  # no n-gram occurs often enough
                pass
        self.blocks = len(blocks)
        self.features = normalize(hstack(blocks, format="csr", dtype=np.float32))

    def transform(self, matrix: csr_matrix, texts: Sequence[str]) -> csr_matrix:
        """Other rows' features, in this space's columns (words and n-grams it has not seen are left out)."""
        heads = _heads(texts)
        blocks = [normalize(matrix.astype(np.float32))]
        if self._words is not None:
            blocks.append(self._words.transform(heads))
        if self._chars is not None:
            blocks.append(self._chars.transform(heads))
        return normalize(hstack(blocks, format="csr", dtype=np.float32))

    def with_word_pairs(self) -> csr_matrix:
        """The features with a block of the pairs of adjacent words of short texts (at most PAIR_MAX_WORDS words), in at
        least PAIR_MIN_ROWS texts, weighing as one block among the others; the features alone without texts, or when
        no pair is that common."""
        if self.heads is None:
            return self.features
        # a long text's pairs are left out: its row has an empty block, so its features are what they were
        heads = [head if len(WORDS.findall(head)) <= PAIR_MAX_WORDS else "" for head in self.heads]
        pairs = TfidfVectorizer(
            token_pattern=r"[a-z][a-z']*", ngram_range=(2, 2), min_df=PAIR_MIN_ROWS, sublinear_tf=True, dtype=np.float32
        )
        try:
            block = pairs.fit_transform(heads)
        except ValueError:  # no pair is in enough texts
            return self.features
        # the features are the unit-length join of their blocks, each 1 / sqrt(blocks) of it
        block = (block * np.float32(1.0 / np.sqrt(self.blocks))).astype(np.float32)
        return normalize(hstack([self.features, block], format="csr", dtype=np.float32))


class _WordModel:
    """A naive Bayes model of the final clusters' features, each weighted by what it tells of them (as the last
    rounds of `_refine`), that places other rows."""

    def __init__(self, space: _FeatureSpace, labels: np.ndarray) -> None:
        self._space, self._labels = space, labels
        self._log_p: np.ndarray | None = None

    def _fit(self) -> np.ndarray:
        """Log probabilities, features x clusters (fitted only when a clustered row has copies worded otherwise)."""
        labels = self._labels
        members = np.flatnonzero(labels != NOISE)
        features = self._space.features[members]
        self._columns = _common_columns(features)
        features = features[:, self._columns].tocsr()
        self._weights = _telling(features, labels[members])
        weights = _summed_by_cluster(_weighed(features, self._weights), labels[members], labels.max(initial=NOISE) + 1)
        return _log_probabilities(weights, weights.sum(axis=1, dtype=np.float64))

    def place(self, matrix: csr_matrix, texts: Sequence[str], fallback: np.ndarray) -> np.ndarray:
        """The most likely cluster of each row; `fallback` for a row with no feature the model knows."""
        if self._log_p is None:
            self._log_p = self._fit()
        if self._log_p.shape[1] == 0:
            return fallback
        features = _weighed(self._space.transform(matrix, texts)[:, self._columns].tocsr(), self._weights)
        scores = np.asarray(features @ self._log_p)
        return np.where(features.getnnz(axis=1) > 0, scores.argmax(axis=1), fallback)


class _CharNgrams:
    """TF-IDF of the character n-grams of words, 2 to 5 long, in at least two texts (`fitted`): the matrix of
    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True), built from the n-grams
    of each distinct word rather than of every word of every text, a third of the time; and the same n-grams of
    other texts (`transform`)."""

    def __init__(self, texts: Sequence[str]) -> None:
        counts = self._counts(texts, fit=True)
        counts.sort_indices()
        self._common = np.flatnonzero(np.bincount(counts.indices, minlength=counts.shape[1]) >= 2)
        if len(self._common) == 0:
            raise ValueError("no character n-gram is in two texts")
        self._tfidf = TfidfTransformer(sublinear_tf=True)
        self.fitted = self._tfidf.fit_transform(counts[:, self._common])

    def _counts(self, texts: Sequence[str], *, fit: bool = False) -> csr_matrix:
        """N-gram counts per text: words per text times n-grams per distinct word."""
        words = CountVectorizer(analyzer=str.split, dtype=np.float32)
        per_text = words.fit_transform(texts)
        if fit:
            self._grams = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), dtype=np.float32)
            per_word = self._grams.fit_transform(words.get_feature_names_out())
        else:
            per_word = self._grams.transform(words.get_feature_names_out())
        return (per_text @ per_word).tocsr()  # columns in the n-gram vectorizer's order

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        """The n-grams of other texts, weighted as the fitted ones."""
        try:
            counts = self._counts(texts)
        except ValueError:  # no word at all
            return csr_matrix((len(texts), len(self._common)), dtype=np.float32)
        return self._tfidf.transform(counts[:, self._common])


def _latent(features: csr_matrix, seed: int) -> np.ndarray:
    """Unit-length LSA coordinates of the rows, dense (the features themselves when there are too few)."""
    dims = min(
        MAX_DIMENSIONS, max(3, features.shape[0] // ROWS_PER_DIMENSION), features.shape[0] - 1, features.shape[1] - 1
    )
    if dims < 2:
        return features.toarray()
    # large samples: fewer power iterations cost little quality (measured on BANKING77) and save seconds
    n_iter = 5 if features.shape[0] <= LINKAGE_ROWS else 2
    svd = TruncatedSVD(n_components=dims, random_state=seed, n_iter=n_iter)
    return normalize(svd.fit_transform(features)).astype(np.float32)


def _average_linkage(points: np.ndarray, similarity: float) -> np.ndarray:
    """Merge rows until the mean cosine similarity inside a group would fall below `similarity`."""
    return AgglomerativeClustering(
        n_clusters=None, distance_threshold=1.0 - similarity, metric="cosine", linkage="average"
    ).fit_predict(points)


def _resolution(rows: int, most: float = RESOLUTION, from_rows: int = RESOLUTION_ROWS) -> float:
    """The modularity resolution for a graph of this many rows: `most` from `from_rows` rows, falling with the square
    root of the number of rows below that, to plain modularity (1) at the least."""
    return float(np.clip(most * np.sqrt(rows / from_rows), 1.0, most))


def _embedding_neighbours(rows: int) -> int:
    """How many neighbours each row of a set of sentence embeddings is linked to (see EMBEDDING_NEIGHBOURS_ROWS)."""
    return max(3, round(float(np.log2(max(rows, 1) / EMBEDDING_NEIGHBOURS_ROWS))))


def _neighbour_graph(points: np.ndarray, neighbours: int) -> csr_matrix:
    """Symmetric graph linking each (unit-length) row to its nearest rows, weighted by cosine similarity."""
    n = points.shape[0]
    k = min(neighbours, n - 1)
    # zero rows up to a whole number of column groups (see _largest): their similarity 0 is below MIN_LINK
    padded = np.vstack([points, np.zeros(((-n) % COLUMN_GROUP, points.shape[1]), dtype=points.dtype)])
    rows, cols, weights = [], [], []
    for start in range(0, n, CHUNK_ROWS):
        sims = points[start : start + CHUNK_ROWS] @ padded.T
        sims[np.arange(sims.shape[0]), np.arange(start, start + sims.shape[0])] = -1.0  # not one's own neighbour
        near = _largest(sims, k)
        rows.append(np.repeat(np.arange(start, start + sims.shape[0]), k))
        cols.append(near.ravel())
        weights.append(np.take_along_axis(sims, near, axis=1).ravel())
        del sims  # or the next block's similarities are computed while this one's still take memory
    w = np.concatenate(weights).astype(np.float64)
    linked = w >= MIN_LINK
    graph = csr_matrix((w[linked], (np.concatenate(rows)[linked], np.concatenate(cols)[linked])), shape=(n, n))
    return graph.maximum(graph.T).tocsr()


def _largest(values: np.ndarray, k: int) -> np.ndarray:
    """Column indexes of the k largest values of each row, in no order (ties broken either way).

    The k largest lie in the k column groups with the largest maxima, so only those groups are searched: a
    partition of every whole row took most of the time of clustering a large import."""
    n_rows, n_cols = values.shape
    if n_cols % COLUMN_GROUP or n_cols < 4 * k * COLUMN_GROUP:
        return np.argpartition(values, -k, axis=1)[:, -k:]
    maxima = values.reshape(n_rows, -1, COLUMN_GROUP).max(axis=2)
    groups = np.argpartition(maxima, -k, axis=1)[:, -k:]
    candidates = (groups[:, :, None] * COLUMN_GROUP + np.arange(COLUMN_GROUP)).reshape(n_rows, -1)
    best = np.argpartition(np.take_along_axis(values, candidates, axis=1), -k, axis=1)[:, -k:]
    return np.take_along_axis(candidates, best, axis=1)


def communities(graph: csr_matrix, resolution: float, seed: int = 0) -> np.ndarray:
    """Communities of a weighted undirected graph by modularity (Leiden, igraph's C core); a label per node.

    Leiden, unlike Louvain, never leaves a community internally disconnected; igraph's implementation found
    the same themes as the former Python-loop Louvain on the bench's sets, ten times faster."""
    n = graph.shape[0]
    upper = triu(graph, k=1).tocoo()
    if upper.nnz == 0:
        return np.arange(n)
    network = igraph.Graph(n=n, edges=np.column_stack([upper.row, upper.col]))
    igraph.set_random_number_generator(random.Random(seed))  # igraph's generator is global: seed it, then put back
    try:
        found = network.community_leiden(
            objective_function="modularity", weights=upper.data, resolution=resolution, n_iterations=-1
        )
    finally:
        igraph.set_random_number_generator(random)  # igraph's default
    return np.unique(np.asarray(found.membership), return_inverse=True)[1]


def _refine(features: csr_matrix, labels: np.ndarray) -> np.ndarray:
    """Move rows between clusters by a naive Bayes model of the clusters' features (hard EM) until few move, then
    again with each feature weighted by how well it tells the clusters found apart (REWEIGHT_PASSES times)."""
    features = features[:, _common_columns(features)].tocsr()
    labels = _naive_bayes_rounds(features, np.unique(labels, return_inverse=True)[1])
    for _ in range(REWEIGHT_PASSES):
        labels = _naive_bayes_rounds(_weighed(features, _telling(features, labels)), labels)
    return labels


def _common_columns(features: csr_matrix) -> np.ndarray:
    """The features of at least REFINE_MIN_ROWS rows: the rarer tell the naive Bayes model little but noise."""
    return np.flatnonzero(np.bincount(features.indices, minlength=features.shape[1]) >= REFINE_MIN_ROWS)


def _telling(features: csr_matrix, labels: np.ndarray) -> np.ndarray:
    """Per feature, its weight by how well it tells the clusters apart (`_information`, INFORMATION_POWER)."""
    return np.maximum(_information(features, labels), 0.0) ** INFORMATION_POWER


def _weighed(features: csr_matrix, weights: np.ndarray) -> csr_matrix:
    """The features times their weights, rows unit-length again; a feature telling nothing is no evidence (dropped:
    a row with only such stays put)."""
    weighted = features.copy()
    weighted.data *= weights[weighted.indices].astype(np.float32)
    normalize(weighted, copy=False)
    weighted.eliminate_zeros()
    return weighted


def _summed_by_cluster(features: csr_matrix, labels: np.ndarray, clusters: int) -> np.ndarray:
    """Clusters x features: the summed feature weights of each cluster's rows."""
    n = features.shape[0]
    member = csr_matrix((np.ones(n, dtype=np.float32), (labels, np.arange(n))), shape=(clusters, n))
    return (member @ features).toarray()


def _log_probabilities(weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """A multinomial naive Bayes model's log probabilities, features x clusters, from each cluster's summed feature
    `weights` (clusters x features, turned into logs in place: the largest array of a large import's clustering,
    hundreds of MB) and their `totals`; laid out once as the product wants it (scipy copies a transposed array per
    block)."""
    log_p = weights
    log_p += np.float32(REFINE_SMOOTHING)
    np.log(log_p, out=log_p)
    log_p -= np.log(totals + REFINE_SMOOTHING * weights.shape[1]).astype(np.float32)[:, None]
    return np.ascontiguousarray(log_p.T)


def _naive_bayes_rounds(features: csr_matrix, labels: np.ndarray) -> np.ndarray:
    """Rounds of naive Bayes moves (at most REFINE_ROUNDS, fewer once under REFINE_SETTLED of the rows move); labels
    numbered 0.. in and out."""
    described = features.getnnz(axis=1) > 0  # a row without features has no evidence to move on
    if not described.any():
        return labels
    if not described.all():  # usually all are: no copy of the features then
        features = features[described]
    for _ in range(REFINE_ROUNDS):
        moved = labels.copy()
        moved[described] = _naive_bayes_round(features, labels[described], labels.max() + 1)
        # counted before renumbering: a cluster emptied renumbers every later one, though their rows stay put
        settled = (moved != labels).mean() < REFINE_SETTLED
        labels = np.unique(moved, return_inverse=True)[1]
        if settled:
            break
    return labels


def _information(features: csr_matrix, labels: np.ndarray) -> np.ndarray:
    """Per feature, the mutual information (nats) between a row having it and the row's cluster: the entropy of
    having it less its mean entropy within the clusters (a cluster none of whose rows has it adds nothing, so only
    the clusters' nonzero counts are visited, not a clusters x features array)."""
    n = features.shape[0]
    sizes = np.bincount(labels)
    present = csr_matrix((np.ones(features.nnz), features.indices, features.indptr), shape=features.shape)
    member = csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(len(sizes), n))
    counts = (member @ present).tocoo()  # rows of each cluster having each feature
    spread = sizes[counts.row] / n * _entropy(counts.data / sizes[counts.row])  # cluster's share x its entropy
    within = np.bincount(counts.col, weights=spread, minlength=features.shape[1])
    return _entropy(np.asarray(present.sum(axis=0)).ravel() / n) - within


def _entropy(p: np.ndarray) -> np.ndarray:
    """Entropy (nats) of a yes-or-no event of probability p, elementwise."""
    return -(xlogy(p, p) + xlogy(1 - p, 1 - p))


def _naive_bayes_round(features: csr_matrix, labels: np.ndarray, clusters: int) -> np.ndarray:
    """Per row, the cluster that a multinomial naive Bayes model of all the other rows finds most likely."""
    n, m = features.shape
    weights = _summed_by_cluster(features, labels, clusters)
    totals = weights.sum(axis=1, dtype=np.float64)
    own_score = _scores_without_self(features, labels, weights, np.float32(REFINE_SMOOTHING))
    by_feature = _log_probabilities(weights, totals)
    del weights
    scores = _times_dense(features, by_feature)
    del by_feature
    length = np.asarray(features.sum(axis=1)).ravel()
    rest = np.maximum(totals[labels] - length, 0.0) + REFINE_SMOOTHING * m
    scores[np.arange(n), labels] = own_score - length * np.log(rest)
    return scores.argmax(axis=1)


def _scores_without_self(
    features: csr_matrix, labels: np.ndarray, weights: np.ndarray, smoothing: np.float32
) -> np.ndarray:
    """Per row, its features' log weights in its own cluster without the row itself (leave one out), or every
    row would stay where it is. In blocks of rows: an array per stored feature value is tens of MB at 10k rows."""
    result = np.empty(features.shape[0])
    for start in range(0, features.shape[0], PRODUCT_ROWS):
        block = features[start : start + PRODUCT_ROWS]
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        own = labels[start : start + PRODUCT_ROWS][rows]
        without = block.data * np.log(np.maximum(weights[own, block.indices] - block.data, 0.0) + smoothing)
        result[start : start + block.shape[0]] = np.bincount(rows, weights=without, minlength=block.shape[0])
    return result


def _times_dense(sparse: csr_matrix, dense: np.ndarray) -> np.ndarray:
    """sparse @ dense, in blocks of rows on every core: scipy releases the GIL in the product, and the naive Bayes
    rounds of a large import spend most of their time in it."""
    blocks = [slice(start, start + PRODUCT_ROWS) for start in range(0, sparse.shape[0], PRODUCT_ROWS)]
    if len(blocks) == 1 or (os.cpu_count() or 1) == 1:
        return np.asarray(sparse @ dense)
    result = np.empty((sparse.shape[0], dense.shape[1]), dtype=np.result_type(sparse.dtype, dense.dtype))

    def product(rows: slice) -> None:
        result[rows] = sparse[rows] @ dense  # into one result: stacking the blocks would hold the product twice

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(product, blocks))
    return result


def _split_grab_bags(points: np.ndarray, labels: np.ndarray, graph: csr_matrix, min_size: int, seed: int) -> np.ndarray:
    """Split each cluster holding over GRAB_BAG_SHARE of the rows whose members are less alike than those of the
    median cluster (a grab bag) into the communities of its own part of the neighbour graph, and again with the
    median of the clusters that makes until no cluster is split: a large cluster just above the first median (CFPB:
    9% of the items, 28% one issue) is below the second."""
    labels = np.unique(labels, return_inverse=True)[1]
    while True:
        split = _split_once(points, labels, graph, min_size, seed)
        if split.max() == labels.max():  # a split adds a cluster; none was split
            return split
        labels = split


def _split_once(points: np.ndarray, labels: np.ndarray, graph: csr_matrix, min_size: int, seed: int) -> np.ndarray:
    """One pass of `_split_grab_bags`; labels numbered 0.. out."""
    labels = np.unique(labels, return_inverse=True)[1]
    sizes = np.bincount(labels)
    centroids = _centroids(points, labels)
    closeness = np.einsum("ij,ij->i", points, centroids[labels])
    coherence = np.bincount(labels, weights=closeness) / np.maximum(sizes, 1)
    typical = float(np.median(coherence[sizes >= min_size])) if (sizes >= min_size).any() else 0.0
    result, next_label = labels.copy(), len(sizes)
    for cluster in np.flatnonzero((sizes > GRAB_BAG_SHARE * len(labels)) & (coherence < typical)):
        members = np.flatnonzero(labels == cluster)
        parts = communities(graph[members][:, members], SPLIT_RESOLUTION, seed)
        if parts.max() > 0:
            result[members] = np.where(parts == 0, cluster, next_label + parts - 1)
            next_label += int(parts.max())
    return result


def _close_members(points: np.ndarray, labels: np.ndarray, similarity: float) -> np.ndarray:
    """The labels, NOISE where a row is less than `similarity` close to its cluster's centroid."""
    _, dense = np.unique(labels, return_inverse=True)
    close = np.einsum("ij,ij->i", points, _centroids(points, labels)[dense]) >= similarity
    return np.where(close, labels, NOISE)


def _centroids(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unit-length mean row per label (labels need not be contiguous; empty ones are dropped)."""
    _, dense = np.unique(labels, return_inverse=True)
    member = csr_matrix((np.ones(len(dense), dtype=np.float32), (dense, np.arange(len(dense)))))
    return normalize(np.asarray(member @ points))


def _drop_strangers(matrix: csr_matrix, found: np.ndarray) -> np.ndarray:
    """Mark as NOISE the members whose words barely overlap with the rest of their cluster."""
    result = found.copy()
    rows = np.flatnonzero(found != NOISE)
    if len(rows) == 0:
        return result
    _, cluster = np.unique(found[rows], return_inverse=True)
    own = matrix[rows].tocoo()
    # each cluster's summed terms, sparse ("the rest" of a member is this minus the member): a dense
    # vocabulary-long sum per cluster took seconds with hundreds of clusters
    member = csr_matrix((np.ones(len(rows)), (cluster, np.arange(len(rows)))), shape=(cluster.max() + 1, len(rows)))
    totals = (member @ matrix[rows]).tocsr()
    totals.sum_duplicates()  # also sorts, so (cluster, term) keys below come in order
    width = np.int64(matrix.shape[1])
    total_keys = np.repeat(np.arange(totals.shape[0], dtype=np.int64), np.diff(totals.indptr)) * width + totals.indices
    own_keys = cluster[own.row].astype(np.int64) * width + own.col
    total_at_own = totals.data[np.searchsorted(total_keys, own_keys)]  # every member term is in its cluster's sum
    own_dot_total = np.bincount(own.row, weights=own.data * total_at_own, minlength=len(rows))
    own_sq = np.bincount(own.row, weights=own.data * own.data, minlength=len(rows))
    total_sq = np.asarray(totals.multiply(totals).sum(axis=1)).ravel()[cluster]
    rest_norm = np.sqrt(np.maximum(total_sq - 2 * own_dot_total + own_sq, 0.0))
    shared = (own_dot_total - own_sq) / np.where(rest_norm > 1e-9, rest_norm, 1.0)
    result[rows[shared < MIN_SHARED]] = NOISE
    return result


def _by_size(found: np.ndarray, min_size: int) -> np.ndarray:
    """Clusters of at least `min_size` numbered by size (ties by first member), the rest NOISE."""
    labels = np.full(len(found), NOISE, dtype=np.int64)
    clusters, first, sizes = np.unique(found[found != NOISE], return_index=True, return_counts=True)
    big = sizes >= min_size
    # first member is an index into the non-noise rows, which keeps the same order as the rows themselves
    order = sorted(zip(-sizes[big], first[big], clusters[big], strict=True))
    for new, (_, _, cluster) in enumerate(order):
        labels[found == cluster] = new
    return labels
