"""TF-IDF weighing: the batch form gives every document the weights the one-document form gives it."""

from __future__ import annotations

import pytest

from reviewbot.analysis.vectorize import CorpusStats, terms, weigh, weigh_many

TEXTS = [
    "refund still not received, refund promised two weeks ago",
    "parcel lost, courier says delivered",
    "",
    "the and of",
    "refund refund refund",
]


def test_batch_weights_match_one_document_weights_and_extend_the_vocabulary() -> None:
    stats = CorpusStats()
    docs = [terms(t) for t in TEXTS]
    stats.add(docs)
    vocab = {"already known": 0}

    matrix = weigh_many(docs, stats, vocab)

    assert matrix.shape == (len(TEXTS), len(vocab))
    names = {column: term for term, column in vocab.items()}
    for row, doc in enumerate(docs):
        got = {names[c]: w for c, w in zip(matrix[row].indices, matrix[row].data, strict=True)}
        expected = weigh(doc, stats)
        assert got.keys() == expected.keys()
        assert all(got[t] == pytest.approx(expected[t]) for t in expected)
    assert matrix[2].nnz == 0 and matrix[3].nnz == 0  # no words, or only stop words: no direction
