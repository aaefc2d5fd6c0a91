"""Boilerplate: the wording many letters share (templates, legal citations, the complaint system's own phrases), so
that themes form around the problem a letter raises rather than the letter it was written from.

A run of SHINGLE content words that recurs in at least MIN_LETTERS different long texts was copied, not written:
people do not independently repeat five content words in a row. Those runs are left out of a long text's terms
before it is grouped and placed; short texts (tweets, survey comments) are not letters and stay as written. The
counts persist between syncs (as a VectorizerState), so a template learned from earlier letters is recognised in
the next one.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SHINGLE = 5  # content words in a run
MIN_WORDS = 40  # content words a text needs to count as a letter
MIN_LETTERS = 5  # letters a run must recur in to be boilerplate
MAX_KEPT = 200_000  # runs remembered between syncs (the most frequent)


def _runs(words: Sequence[str]) -> list[int]:
    """A stable number for each run of SHINGLE words (crc32: the same in every process, unlike hash())."""
    return [zlib.crc32(" ".join(words[i : i + SHINGLE]).encode()) for i in range(len(words) - SHINGLE + 1)]


@dataclass
class Boilerplate:
    """How many letters each run of words was seen in."""

    counts: Counter[int] = field(default_factory=Counter)

    @staticmethod
    def applies(words: Sequence[str]) -> bool:
        """True for a text long enough to be a letter (its content words)."""
        return len(words) >= MIN_WORDS

    def add(self, letters: Iterable[Sequence[str]]) -> None:
        """Count the runs of these texts' words (long texts only; each run once per text)."""
        for words in letters:
            if len(words) >= MIN_WORDS:
                self.counts.update(set(_runs(words)))

    def strip(self, words: Sequence[str]) -> list[str]:
        """A long text's words without the runs that recur in MIN_LETTERS letters (a short text as it is)."""
        if len(words) < MIN_WORDS:
            return list(words)
        copied = [False] * len(words)
        for start, run in enumerate(_runs(words)):
            if self.counts.get(run, 0) >= MIN_LETTERS:
                copied[start : start + SHINGLE] = [True] * SHINGLE
        return [w for w, c in zip(words, copied, strict=True) if not c]

    def to_json(self) -> dict[str, int]:
        """The counts worth keeping (seen twice or more, the most frequent), keyed as JSON wants."""
        kept = [(run, n) for run, n in self.counts.items() if n >= 2]
        kept.sort(key=lambda p: (-p[1], p[0]))
        return {str(run): n for run, n in kept[:MAX_KEPT]}

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Boilerplate:
        """Counts stored by `to_json`."""
        return cls(Counter({int(run): int(n) for run, n in data.items()}))
