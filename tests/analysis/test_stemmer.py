"""The stemmer behind every term: the same stems as NLTK's Snowball English stemmer, which it replaced."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nltk.stem.snowball import SnowballStemmer

from reviewbot.analysis.vectorize import stem, words

DEMO_INBOX = Path(__file__).resolve().parents[2] / "config" / "demo" / "inbox"
# NLTK's and Snowball's special cases, words the newer edition of the algorithm (snowballstemmer 3) stems
# otherwise, and ordinary inflections
TRICKY = [
    "skis",
    "skies",
    "dying",
    "lying",
    "tying",
    "idly",
    "gently",
    "ugly",
    "early",
    "only",
    "singly",
    "sky",
    "news",
    "howe",
    "atlas",
    "cosmos",
    "bias",
    "andes",
    "inning",
    "innings",
    "outing",
    "outings",
    "canning",
    "cannings",
    "herring",
    "herrings",
    "earring",
    "earrings",
    "proceed",
    "exceed",
    "succeed",
    "added",
    "adding",
    "evening",
    "evenings",
    "emergency",
    "international",
    "organization",
    "universal",
    "university",
    "paste",
    "pasted",
    "generously",
    "refunds",
    "refunded",
    "charging",
    "charged",
    "cancelled",
    "cancellation",
    "delays",
    "delayed",
    "waiting",
    "agents",
    "agreed",
    "fees",
]


def _demo_words() -> set[str]:
    found: set[str] = set()
    for path in sorted(DEMO_INBOX.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    found.update(words(cell))
    return found


def test_stems_are_nltks_on_the_demo_and_on_special_cases() -> None:
    nltk = SnowballStemmer("english")
    sample = sorted(_demo_words() | set(TRICKY))
    assert len(sample) > 500
    assert {w: stem(w) for w in sample} == {w: nltk.stem(w) for w in sample}


def test_stemming_from_threads_gives_each_word_its_own_stem() -> None:
    stem.cache_clear()  # every call below reaches the stemmer itself, which holds the word it works on
    sample = sorted(_demo_words())
    expected = {w: SnowballStemmer("english").stem(w) for w in sample}
    with ThreadPoolExecutor(4) as pool:
        got = dict(zip(sample, pool.map(stem, sample), strict=True))
    assert got == expected
