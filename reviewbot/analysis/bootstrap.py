"""Feedback items' sections learned from the workspace's own feedback, seeded by the policy's words.

The semi-supervised text classification of McCallum and Nigam ("Text classification by bootstrapping with keywords,
EM and shrinkage", 1999): the items whose words most surely resemble one section's (the surest voters) and the
sections' own text label a multinomial naive Bayes model; expectation-maximisation then refits it over all the items
with their soft labels, so words the policy never uses ("car" where it says "vehicle") come to weigh for the section
of the items that use them. Each section's word distribution is shrunk towards its parent section's and the whole
policy's (and a uniform one), with mixing weights fitted by EM on held-out items, so a subsection with few items
borrows from its parent.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix, diags

# Rounds of expectation-maximisation. Measured offline on the dev and airline sets' syncs, summed per theme
# (bench/README.md, "Mapping"): 3, 5 and 10 rounds gained alike (+0.02-0.03 dev, +0.03-0.04 airline), 1 round
# +0.02 on both; more rounds keep gaining per item (0.280, 0.286, 0.294 on dev), each about 0.3 CPU s at `SAMPLE`
# narratives.
ROUNDS = 5
# An item counts as at most this many terms. Naive Bayes takes every word of a 300-word complaint as independent
# evidence, so its posteriors are all 0 or 1 and EM mostly confirms its first guess. Dev set (long narratives), per
# theme, 10 rounds: +0.016 uncapped, +0.028 at 30, +0.024 at 20, +0.038 at 10; at 5 the model collapsed onto the
# largest sections (-0.10, and 6 of 8 demo issues). Tweets are shorter than any of these: airline +0.03-0.04 at all.
LENGTH = 20
SAMPLE = 10_000  # items the model is fitted on at most (a sample beyond): every item is then placed by it
VOCABULARY = 30_000  # the model's terms at most: the most widely used of those in at least two items
BATCH = 20_000  # items placed at a time, so memory stays flat
MIXING_ROUNDS = 10  # EM rounds fitting the shrinkage weights (they settle in a few)


class SeededBayes:
    """A naive Bayes model over classes (the sections that vote) fitted by EM from seed labels."""

    def __init__(self, sections: Sequence[Sequence[str]], chains: Sequence[Sequence[int]]) -> None:
        """`sections`: every section's terms; `chains`: per class, its section and that section's ancestors (section
        indices, nearest first)."""
        self.sections = sections
        self.chains = [list(chain) for chain in chains]
        self.vocab: dict[str, int] = {}
        self.log_theta = np.zeros((len(chains), 0))
        self.log_prior = np.zeros(len(chains))

    def fit(self, docs: Sequence[Sequence[str]], seeds: np.ndarray, labels: np.ndarray) -> SeededBayes:
        """Fit on `docs`, the rows `seeds` labelled with the classes `labels` to start from."""
        self.vocab = _vocabulary(docs)
        counts = self.counts(docs)
        own = _raw_counts([self.sections[chain[0]] for chain in self.chains], self.vocab)
        shares = np.zeros((len(docs), len(self.chains)))
        shares[seeds, labels] = 1.0
        for _ in range(ROUNDS):
            self._maximise(counts, own, shares)
            shares = self._expect(counts)
        return self

    def posteriors(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        """Each doc's probabilities over the classes (a row of zeros for a doc with no known term)."""
        shares = np.zeros((len(docs), len(self.chains)))
        for start in range(0, len(docs), BATCH):
            counts = self.counts(docs[start : start + BATCH])
            known = np.flatnonzero(np.diff(counts.indptr) > 0)
            shares[start + known] = self._expect(counts[known])
        return shares

    def counts(self, docs: Sequence[Sequence[str]]) -> csr_matrix:
        """Term counts over the model's vocabulary, each doc scaled down to at most `LENGTH` terms."""
        counts = _raw_counts(docs, self.vocab)
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        return csr_matrix(diags(np.minimum(1.0, LENGTH / np.maximum(lengths, 1.0))) @ counts)

    def _maximise(self, counts: csr_matrix, own: csr_matrix, shares: np.ndarray) -> None:
        """Word distributions and class priors from the docs' soft labels and the sections' own text (each a doc of
        its section), shrunk along the hierarchy with weights fitted on the odd rows from the even rows' counts."""
        from_even = own.toarray() + np.asarray(counts[::2].T @ shares[::2]).T
        held_out = np.asarray(counts[1::2].T @ shares[1::2]).T
        fitting, final = self._nodes(from_even), self._nodes(from_even + held_out)
        self.log_theta = np.empty_like(from_even)
        for k in range(len(self.chains)):
            weights = _mixing(self._levels(k, fitting), held_out[k])
            self.log_theta[k] = np.log(weights @ self._levels(k, final))
        prior = 1.0 + shares.sum(axis=0)
        self.log_prior = np.log(prior / prior.sum())

    def _expect(self, counts: csr_matrix) -> np.ndarray:
        scores = np.asarray(counts @ self.log_theta.T) + self.log_prior
        scores -= scores.max(axis=1, keepdims=True)
        shares = np.exp(scores)
        return shares / shares.sum(axis=1, keepdims=True)

    def _nodes(self, totals: np.ndarray) -> np.ndarray:
        """Word counts of every section with its subsections (a row per section), and of the whole policy (last)."""
        within = np.zeros((len(self.sections) + 1, len(self.chains)))
        for k, chain in enumerate(self.chains):
            within[chain, k] = 1.0
        within[-1] = 1.0
        return within @ totals

    def _levels(self, k: int, nodes: np.ndarray) -> np.ndarray:
        """The word distributions class k is shrunk between: its section (with its subsections), each ancestor
        section (with its subsections), the whole policy and uniform."""
        rows = nodes[[*self.chains[k], -1]]
        levels = np.vstack([rows, np.ones(nodes.shape[1])])
        return levels / np.maximum(levels.sum(axis=1, keepdims=True), 1e-12)


def _mixing(levels: np.ndarray, held_out: np.ndarray) -> np.ndarray:
    """The weights of the levels that best explain a class's held-out word counts (EM over word tokens)."""
    used = held_out > 0
    levels, held_out = levels[:, used], held_out[used]
    weights = np.full(len(levels), 1.0 / len(levels))
    if not used.any():
        return weights
    for _ in range(MIXING_ROUNDS):
        mixed = weights[:, None] * levels
        found = (mixed / mixed.sum(axis=0)) @ held_out
        weights = found / found.sum()
    return weights


def _vocabulary(docs: Sequence[Sequence[str]]) -> dict[str, int]:
    """The terms most docs use, of those in at least two (a term of one doc tells nothing about the others),
    numbered."""
    used = Counter(term for doc in docs for term in set(doc))
    common = [term for term, n in used.most_common(VOCABULARY) if n >= 2]
    return {term: i for i, term in enumerate(common)}


def _raw_counts(docs: Sequence[Sequence[str]], vocab: dict[str, int]) -> csr_matrix:
    lengths = np.fromiter((len(doc) for doc in docs), dtype=np.int64, count=len(docs))
    # map over both iterables calls `get` without a Python frame per term: a third of the time of a generator
    every = itertools.chain.from_iterable(docs)
    codes = np.fromiter(map(vocab.get, every, itertools.repeat(-1)), dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(len(docs)), lengths)
    known = codes >= 0
    values = np.ones(int(known.sum()))
    return csr_matrix((values, (rows[known], codes[known])), shape=(len(docs), len(vocab)))
