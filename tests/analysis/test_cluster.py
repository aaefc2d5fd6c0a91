"""Clustering: communities of a neighbour graph, found without being told how many, the same on every run."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import mutual_info_score

from reviewbot.analysis import cluster as cluster_module
from reviewbot.analysis.cluster import (
    COLUMN_GROUP,
    NOISE,
    REFINE_ROUNDS,
    _CharNgrams,
    _information,
    _largest,
    _naive_bayes_rounds,
    _neighbour_graph,
    _refine,
    _split_grab_bags,
    _times_dense,
    communities,
    find_clusters,
)
from reviewbot.analysis.vectorize import CorpusStats, terms, to_matrix, weigh

TOPICS = {
    "refund": ["refund", "waiting", "weeks", "money", "returned", "bank"],
    "parcel": ["parcel", "courier", "lost", "tracking", "delivered", "missing"],
    "login": ["login", "password", "app", "crash", "account", "locked"],
}


def synthetic(per_topic: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Short texts drawn from three small vocabularies, with their topic."""
    rng = np.random.default_rng(seed)
    texts, topics = [], []
    for topic, vocab in TOPICS.items():
        for _ in range(per_topic):
            texts.append(" ".join(rng.choice(vocab, size=4, replace=False)))
            topics.append(topic)
    return texts, topics


def tfidf(texts: list[str]) -> csr_matrix:
    term_lists = [terms(t) for t in texts]
    stats = CorpusStats()
    stats.add(term_lists)
    return to_matrix([weigh(t, stats) for t in term_lists], {})


def assert_topics_found(labels: np.ndarray, topics: list[str]) -> None:
    """Every text is placed and no cluster mixes topics (a uniform topic may come out as a few clusters)."""
    assert NOISE not in labels.tolist()
    for cluster in set(labels.tolist()):
        assert len({t for t, label in zip(topics, labels, strict=True) if label == cluster}) == 1
    assert len(set(labels.tolist())) <= 3 * len(TOPICS)


def test_three_topics_are_kept_apart_with_or_without_texts() -> None:
    texts, topics = synthetic(30)
    matrix = tfidf(texts)
    assert_topics_found(find_clusters(matrix, min_size=5, similarity=0.25), topics)
    assert_topics_found(find_clusters(matrix, min_size=5, similarity=0.25, texts=texts), topics)


def test_rows_beyond_the_sample_join_the_clusters_found_in_it() -> None:
    texts, topics = synthetic(60)
    labels = find_clusters(tfidf(texts), min_size=5, similarity=0.25, texts=texts, max_items=60)
    assert_topics_found(labels, topics)


def test_clustering_is_deterministic() -> None:
    texts, _ = synthetic(40, seed=3)
    matrix = tfidf(texts)
    first = find_clusters(matrix, min_size=5, similarity=0.25, texts=texts, max_items=80)
    assert np.array_equal(first, find_clusters(matrix, min_size=5, similarity=0.25, texts=texts, max_items=80))


def test_communities_split_two_cliques_joined_by_one_edge() -> None:
    dense = np.zeros((8, 8))
    dense[:4, :4] = dense[4:, 4:] = 1.0
    dense[3, 4] = dense[4, 3] = 0.1
    np.fill_diagonal(dense, 0.0)
    labels = communities(csr_matrix(dense), resolution=1.0)
    assert len(set(labels[:4].tolist())) == 1 and len(set(labels[4:].tolist())) == 1 and labels[0] != labels[4]


def test_refinement_moves_a_row_to_the_cluster_that_shares_its_words() -> None:
    texts, topics = synthetic(30)
    matrix = tfidf(texts)
    labels = np.array([0 if t == "refund" else 1 for t in topics])
    labels[0] = 1  # a refund text placed with the others, as a graph may do at a border
    refined = _refine(matrix, labels)
    assert refined[0] == refined[1] and refined[0] != refined[-1]
    assert all(refined[i] == refined[1] for i, t in enumerate(topics) if t == "refund")


def _rounds_run(monkeypatch: pytest.MonkeyPatch, labels: np.ndarray, move: list[int]) -> tuple[int, np.ndarray]:
    """(rounds run, labels out) of the naive Bayes rounds when each round flips the cluster (0 <-> 1) of the
    rows in `move`, as rows at a border do on real sets, however many rounds run."""
    calls = []

    def flip(features: csr_matrix, current: np.ndarray, clusters: int) -> np.ndarray:
        calls.append(clusters)
        moved = current.copy()
        moved[move] = 1 - moved[move]
        return moved

    monkeypatch.setattr(cluster_module, "_naive_bayes_round", flip)
    out = _naive_bayes_rounds(csr_matrix(np.ones((len(labels), 2))), labels)
    return len(calls), out


def test_the_rounds_stop_once_under_one_row_in_a_hundred_changes_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    labels = np.repeat([0, 1, 2], [100, 100, 100])
    rounds, _ = _rounds_run(monkeypatch, labels, move=[0, 150])  # 2 rows of 300 go back and forth for ever
    assert rounds == 1
    rounds, _ = _rounds_run(monkeypatch, labels, move=[0, 50, 100, 150])  # 4 rows of 300 (1.3%): every round
    assert rounds == REFINE_ROUNDS


def test_a_cluster_emptied_by_a_round_does_not_keep_settled_rounds_going(monkeypatch: pytest.MonkeyPatch) -> None:
    labels = np.repeat([0, 1, 2], [1, 599, 400])  # the lone row of cluster 0 joins cluster 1: the rest stay put
    rounds, out = _rounds_run(monkeypatch, labels, move=[0])
    assert rounds == 1
    assert out.tolist() == [0] * 600 + [1] * 400  # numbered 0.. again


def test_a_word_that_tells_the_clusters_apart_carries_information_and_a_word_they_all_use_none() -> None:
    # two clusters of four rows: a word in every row of the first only, a word in half of each, a word in every row
    dense = np.zeros((8, 3))
    dense[:4, 0] = 1.0
    dense[[0, 1, 4, 5], 1] = 0.5
    dense[:, 2] = 0.3
    labels = np.repeat([0, 1], 4)
    found = _information(csr_matrix(dense), labels)
    assert np.allclose(found, [np.log(2), 0.0, 0.0])


def test_information_is_the_mutual_information_of_having_a_feature_and_the_cluster() -> None:
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 6, 300)
    present = rng.random((300, 40)) < (0.05 + 0.5 * (labels[:, None] == np.arange(40)[None, :] % 6))
    found = _information(csr_matrix(present * rng.random((300, 40))), labels)
    expected = [mutual_info_score(labels, present[:, j]) for j in range(40)]
    assert np.allclose(found, expected)


@pytest.mark.parametrize("width", [COLUMN_GROUP * 40, COLUMN_GROUP * 40 + 7, 30])
def test_largest_finds_each_rows_top_values(width: int) -> None:
    values = np.random.default_rng(3).random((50, width)).astype(np.float32)
    values[:, :COLUMN_GROUP] += 1.0  # one group holds every row's largest values
    values[1, width - 3] = 5.0  # and some rows have their largest elsewhere
    found = np.sort(_largest(values, 5), axis=1)
    assert np.array_equal(found, np.sort(np.argsort(-values, axis=1)[:, :5], axis=1))


def test_character_ngrams_match_scikit_learns_vectorizer() -> None:
    texts, _ = synthetic(40)
    texts += ["a b", "refund\u00a0delay  again\tand again", "é à", "", "x"]
    expected = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True).fit_transform(texts)
    found = _CharNgrams(texts).fitted
    assert found.shape == expected.shape
    assert abs(found - expected).max() < 1e-6


def test_the_product_in_row_blocks_is_the_whole_product() -> None:
    rng = np.random.default_rng(5)
    sparse = csr_matrix(rng.random((6_001, 40)) * (rng.random((6_001, 40)) < 0.1))
    dense = rng.random((40, 7))
    assert np.allclose(_times_dense(sparse, dense), sparse @ dense)


def test_a_large_loose_cluster_is_split_and_tight_ones_are_kept() -> None:
    # twenty tight groups of ten rows, and one cluster of sixty that is really two groups in different directions
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(22, 30))
    tight = [directions[g] + 0.1 * rng.normal(size=(10, 30)) for g in range(20)]
    loose = [directions[g] + 0.6 * rng.normal(size=(30, 30)) for g in (20, 21)]
    points = np.vstack(tight + loose)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels = np.concatenate([np.repeat(np.arange(20), 10), np.full(60, 20)])

    split = _split_grab_bags(points, labels, _neighbour_graph(points, 5), min_size=5, seed=0)

    assert all(len(set(split[g * 10 : g * 10 + 10])) == 1 for g in range(20))  # tight groups untouched
    assert len(set(split[:200])) == 20
    first, second = split[200:230], split[230:]
    assert np.bincount(first).max() >= 25 and np.bincount(second).max() >= 25  # each half mostly in one part
    assert np.bincount(first).argmax() != np.bincount(second).argmax()


def test_clustering_rows_by_index_is_clustering_their_copy_and_reads_the_sample_texts_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a large import's leftover rows are clustered as an index into its matrix (no copy), and only the sample's
    # texts are read, in one batch (from the store, in a sync), then those of the clustered rows' copies (their
    # wording is compared), in one more
    import reviewbot.analysis.cluster as cluster
    from reviewbot.analysis.cluster import RowsOf

    monkeypatch.setattr(cluster, "LINKAGE_ROWS", 20)  # the graph method, with texts, on a small set
    texts, topics = synthetic(60, seed=5)
    texts += texts[:30]  # copies: clustered once
    matrix = tfidf(texts)
    rows = np.random.default_rng(1).permutation(len(texts))[:150]
    asked: list[list[int]] = []

    def read_many(some: np.ndarray) -> list[str]:
        asked.append(some.tolist())
        return [texts[i] for i in some.tolist()]

    def read_one(row: int) -> str:
        raise AssertionError("texts are read in a batch")

    lazy = RowsOf(read_one, rows, read_many)
    by_index = find_clusters(matrix, min_size=5, similarity=0.25, texts=lazy, max_items=80, rows=rows)
    copied = find_clusters(matrix[rows], min_size=5, similarity=0.25, texts=[texts[i] for i in rows], max_items=80)
    assert np.array_equal(by_index, copied)
    row_topics = [(topics + topics[:30])[i] for i in rows.tolist()]
    found = {
        label: {t for t, at in zip(row_topics, by_index.tolist(), strict=True) if at == label} for label in by_index
    }
    assert len(found) > 3 and all(len(in_it) == 1 for label, in_it in found.items() if label != NOISE)
    assert len(asked[0]) == 80 and set(asked[0]) <= set(rows.tolist())
    copies = {i for i in rows.tolist() if texts.count(texts[i]) > 1}
    assert len(asked) == 2 and set(asked[1]) <= copies


@pytest.mark.parametrize("first", [0, 1])
def test_texts_with_the_same_terms_asking_different_things_land_in_their_own_themes(
    monkeypatch: pytest.MonkeyPatch, first: int
) -> None:
    # "where is my new card" and "how to get new card" have the same terms (new, card: the rest are stop words),
    # so they were clustered once and shared a theme; each now goes where its own words fit
    monkeypatch.setattr(cluster_module, "LINKAGE_ROWS", 20)  # the graph method, with texts, on a small set
    frames = {"arrival": "where is my {} {}", "order": "how do i get {} {}"}
    content = {
        "arrival": ["card", "new", "parcel", "arrived", "delivery", "post", "waiting", "late"],
        "order": ["card", "new", "order", "apply", "request", "another", "replacement", "extra"],
    }
    # a draw in which the first of the two is clustered: only copies of clustered rows are placed, and in some draws
    # ("new card" sits between the topics) it stays in no theme, a case this test is not about
    rng = np.random.default_rng(3)
    texts, topics = [], []
    for topic, frame in frames.items():
        for _ in range(60):
            texts.append(frame.format(*rng.choice(content[topic], size=2, replace=False)))
            topics.append(topic)
    pair = [("where is my new card", "arrival"), ("how to get new card", "order")]
    for text, topic in pair[first:] + pair[:first]:
        texts.append(text)
        topics.append(topic)

    labels = find_clusters(tfidf(texts), min_size=5, similarity=0.25, texts=texts)

    topics_in = {
        label: {t for t, at in zip(topics[:120], labels[:120].tolist(), strict=True) if at == label}
        for label in set(labels[:120].tolist()) - {NOISE}
    }
    assert all(len(found) == 1 for found in topics_in.values())  # the topics themselves are apart
    assert topics_in.get(labels[-2]) == {topics[-2]} and topics_in.get(labels[-1]) == {topics[-1]}


def test_a_loose_cluster_above_the_first_median_is_split_once_the_looser_one_is() -> None:
    # six tight groups, six small loose ones, and two large clusters each really two groups: the looser is split
    # first; the other's members are more alike than the median cluster's until that split raises the median
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(40, 30))

    def group(direction: int, rows: int, noise: float) -> np.ndarray:
        return directions[direction] + noise * rng.normal(size=(rows, 30))

    parts = [group(g, 10, 0.1) for g in range(6)] + [group(g, 8, 1.5) for g in range(6, 12)]
    parts += [group(12, 30, 0.6), group(13, 30, 0.6), group(14, 30, 0.3), group(15, 30, 0.3)]
    points = np.vstack(parts)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels = np.concatenate(
        [np.repeat(np.arange(6), 10), np.repeat(np.arange(6, 12), 8), np.full(60, 12), np.full(60, 13)]
    )

    split = _split_grab_bags(points, labels, _neighbour_graph(points, 5), min_size=5, seed=0)

    for start in (108, 168):  # each large cluster: its two halves now in two clusters, each whole
        first, second = split[start : start + 30], split[start + 30 : start + 60]
        assert len(set(first.tolist())) == 1 and len(set(second.tolist())) == 1 and first[0] != second[0]
    assert len(set(split[:108].tolist())) == 12  # the rest untouched


def test_word_order_tells_short_requests_apart_and_leaves_long_narratives_as_they_were() -> None:
    # "top up" and "up top"-like requests share every word: only their adjacent pairs tell them apart; a narrative's
    # pairs are how it is written ("i was", "the loan"), so its row of the graph's input stays its words alone
    short = ["how do i top up my card"] * 5 + ["my card top is up how do i"] * 5
    narrative = " ".join(["i was told the loan was paid and i was charged again by the lender"] * 4)
    texts = short + [narrative] * 5
    space = cluster_module._FeatureSpace(tfidf(texts), texts)

    joined, alone = space.with_word_pairs().toarray(), space.features.toarray()
    width = alone.shape[1]

    assert joined[0] @ joined[5] < 0.9 < alone[0] @ alone[5]  # the requests' words alike, their pairs not
    assert not joined[10, width:].any()  # no pair of the narrative
    assert np.allclose(joined[10, :width], alone[10])
