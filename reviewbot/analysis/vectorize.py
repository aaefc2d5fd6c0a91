"""Text to TF-IDF vectors, with corpus statistics that persist between syncs.

Terms are stemmed words and word pairs. Vectors are keyed by term (not by column index) wherever they are
stored, so a theme's centroid stays meaningful as the vocabulary grows.
"""

from __future__ import annotations

import math
import re
import sys
import threading
from array import array
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.preprocessing import normalize

# The pure-Python Snowball English stemmer by the algorithm's authors: NLTK's stems for every word of the shared
# data sets (15,159 words), without importing NLTK (over a second). The class itself, not `stemmer("english")`,
# which would pick PyStemmer when installed, a newer edition of the algorithm with other stems for some words.
from snowballstemmer.english_stemmer import EnglishStemmer

_WORD = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]*\]")
# Who a message is addressed to (@airline) and links say nothing about the issue, and would name every theme.
_ADDRESS = re.compile(r"(?<![\w.])@\w+|(?:https?://|www\.)\S+")
# Words that appear in almost all customer-service text and say nothing about the issue.
_DOMAIN_STOP = {
    "hi", "hello", "thanks", "thank", "pls", "please", "dear", "regards", "ok", "okay", "yes", "just",
    "really", "got", "get", "im", "ive", "dont", "didnt", "cant", "wont", "also", "still", "would",
    "could", "said", "told", "tell", "say", "one", "two", "will", "can", "us", "lol", "xx", "xxxx",
}  # fmt: skip
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | _DOMAIN_STOP
_stemmer = EnglishStemmer()
_stemmer_lock = threading.Lock()  # the stemmer keeps the word it works on in itself


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of a lower-case word (cached: vocabularies are small, texts are many)."""
    with _stemmer_lock:
        return _stemmer.stemWord(word)


def without_addresses(text: str) -> str:
    """The text without @mentions and links."""
    # most texts have neither: a substring test is a tenth of the regex's cost, on every text of a sync
    return _ADDRESS.sub(" ", text) if "@" in text or "://" in text or "www." in text else text


def words(text: str) -> list[str]:
    """Lower-case words of a text, without placeholders like [EMAIL], @mentions, links, stop words or apostrophes."""
    cleaned = _PLACEHOLDER.sub(" ", without_addresses(text)).lower().replace("’", "'")
    return [w.replace("'", "") for w in _WORD.findall(cleaned) if w.replace("'", "") not in STOP_WORDS]


def terms(text: str) -> list[str]:
    """Stemmed words and adjacent stemmed pairs ("refund delay" -> "refund", "delay", "refund delay")."""
    return terms_of(words(text))


def terms_of(text_words: Sequence[str]) -> list[str]:
    """`terms` of a text's `words`."""
    stems = [stem(w) for w in text_words if len(w) > 1]
    # Interned: a sync holds the terms of every item it places, and a pair is written by many items (stems are
    # shared already, through `stem`'s cache): 770 -> 270 bytes an item on the bench's texts.
    return stems + [sys.intern(f"{a} {b}") for a, b in zip(stems, stems[1:], strict=False) if a != b]


def surface_forms(texts: Iterable[str], wanted: Collection[str] | None = None) -> dict[str, str]:
    """The most common written form of each term (of the `wanted` ones, or all) in these texts, for labels people
    can read."""
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        ws = [w for w in words(text) if len(w) > 1]
        stems = [stem(w) for w in ws]
        for s, w in zip(stems, ws, strict=True):
            if wanted is None or s in wanted:
                counts[s][w] += 1
        for i in range(len(ws) - 1):
            pair = f"{stems[i]} {stems[i + 1]}"
            if stems[i] != stems[i + 1] and (wanted is None or pair in wanted):
                counts[pair][f"{ws[i]} {ws[i + 1]}"] += 1
    return {term: c.most_common(1)[0][0] for term, c in counts.items()}


@dataclass
class CorpusStats:
    """Document frequencies of terms over every text seen so far: the IDF half of TF-IDF."""

    n_docs: int = 0
    doc_freq: Counter[str] = field(default_factory=Counter)
    _idf: dict[str, float] = field(default_factory=dict, repr=False, compare=False)  # cache, cleared on change

    def add(self, docs: Iterable[Sequence[str]]) -> None:
        """Count a batch of documents (each a list of terms)."""
        self._idf = {}
        for doc in docs:
            self.n_docs += 1
            self.doc_freq.update(set(doc))

    def idf(self, term: str, *, remember: bool = True) -> float:
        """Smoothed inverse document frequency, as scikit-learn computes it (remembered unless told otherwise)."""
        value = self._idf.get(term)
        if value is None:
            value = math.log((1 + self.n_docs) / (1 + self.doc_freq.get(term, 0))) + 1.0
            if remember:
                self._idf[term] = value
        return value

    def prune(self, max_terms: int) -> None:
        """Keep the `max_terms` most frequent terms so the stored statistics stay small."""
        if len(self.doc_freq) > max_terms:
            self.doc_freq = Counter(dict(self.doc_freq.most_common(max_terms)))
            self._idf = {}


def weigh(doc: Sequence[str], stats: CorpusStats) -> dict[str, float]:
    """Unit-length TF-IDF weights of one document: sublinear term frequency times IDF."""
    counts = Counter(doc)
    weights = {t: (1.0 + math.log(c)) * stats.idf(t) for t, c in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {t: w / norm for t, w in weights.items()} if norm else {}


def weigh_many(docs: Sequence[Sequence[str]], stats: CorpusStats, vocab: dict[str, int]) -> csr_matrix:
    """Unit-length TF-IDF rows of many documents, as `weigh` computes them but in one sparse pass (a dict per
    document costs seconds at 100k items); terms not in `vocab` are added to it, and the matrix is as wide."""
    indptr, indices = [0], array("i")  # 4 bytes a term, not a list's 8 and a copy as int64 (100k items: 2.5M)
    for doc in docs:
        indices.extend([vocab.setdefault(term, len(vocab)) for term in doc])
        indptr.append(len(indices))
    counts = csr_matrix(
        (np.ones(len(indices)), np.frombuffer(indices, dtype=np.int32), np.asarray(indptr)),
        shape=(len(docs), max(len(vocab), 1)),
    )
    idf = np.zeros(counts.shape[1])
    for term, column in vocab.items():
        idf[column] = stats.idf(term)
    return weigh_counts(counts, idf)


def weigh_counts(counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
    """Unit-length rows of (1 + log tf) x idf from term counts (repeated columns summed), in place: a large
    import's matrix is tens of MB."""
    counts.sum_duplicates()
    counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    return normalize(counts, copy=False)


def to_matrix(vectors: Sequence[Mapping[str, float]], vocab: dict[str, int]) -> csr_matrix:
    """Stack term->weight vectors into a sparse matrix; terms not in `vocab` are added to it."""
    indptr, indices, data = [0], [], []
    for vec in vectors:
        for term, weight in vec.items():
            indices.append(vocab.setdefault(term, len(vocab)))
            data.append(weight)
        indptr.append(len(indices))
    return csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
        shape=(len(vectors), max(len(vocab), 1)),
    )


def top_terms(vec: Mapping[str, float], n: int) -> dict[str, float]:
    """The `n` heaviest terms of a vector, renormalised to unit length."""
    best = sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    norm = math.sqrt(sum(w * w for _, w in best))
    return {t: w / norm for t, w in best} if norm else {}
