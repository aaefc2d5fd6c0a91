"""Sentiment and survey classes. TextBlob's pattern analyzer needs no NLTK corpora, so it works offline."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

TEXTBLOB = Path(importlib.util.find_spec("textblob").submodule_search_locations[0])  # type: ignore[union-attr,index]


def _pattern_module() -> ModuleType:
    """TextBlob's `_text` (pattern's tokenizer and sentiment analyzer, standard library only), loaded from its
    file without running `textblob/__init__`, which imports NLTK and through it SciPy's statistics: seconds of
    CPU in every process that scores (a sync, its fork server) for code scoring never runs. Where TextBlob itself
    was imported already, its module is used."""
    if "textblob._text" in sys.modules:
        return sys.modules["textblob._text"]
    name = f"{__name__}._textblob_text"
    spec = importlib.util.spec_from_file_location(name, TEXTBLOB / "_text.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


pattern: Any = _pattern_module()

_PUNCTUATION = tuple(pattern.PUNCTUATION.replace(".", ""))
_TRAILING = (*_PUNCTUATION, ".")
_SENTENCE_END = ("...", ".", "!", "?", pattern.EOS)
_CLOSERS = ("'", '"', "”", "’", "...", ".", "!", "?", ")", pattern.EOS)
# pattern's contractions ("n't" -> " n't"): plain strings, so str.replace does what its re.sub does in a fraction
# of the time; a pattern that is no plain string (another TextBlob version) stays a regular expression
_CONTRACTIONS: tuple[tuple[str | re.Pattern[str], str], ...] = tuple(
    (a if re.escape(a) == a and "\\" not in b else re.compile(a), b) for a, b in pattern.replacements.items()
)
_LINEBREAK = re.compile(r"\n{2,}")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=200_000)
def _pieces(t: str) -> tuple[str, ...]:
    """The tokens TextBlob's tokenizer makes of one whitespace-separated word: the loop body of its find_tokens,
    which depends on the word alone, so it is worked out once per distinct word."""
    tokens, tail = [], []
    replace, abbreviations = pattern.replacements, pattern.ABBREVIATIONS
    while t.startswith(_PUNCTUATION) and t not in replace:
        tokens.append(t[0])
        t = t[1:]
    while t.endswith(_TRAILING) and t not in replace:
        if t.endswith(_PUNCTUATION):
            tail.append(t[-1])
            t = t[:-1]
        if t.endswith("..."):
            tail.append("...")
            t = t[:-3].rstrip(".")
        if t.endswith("."):
            if (
                t in abbreviations
                or pattern.RE_ABBR1.match(t) is not None
                or pattern.RE_ABBR2.match(t) is not None
                or pattern.RE_ABBR3.match(t) is not None
            ):
                break
            tail.append(t[-1])
            t = t[:-1]
    if t != "":
        tokens.append(t)
    tokens.extend(reversed(tail))
    return tuple(tokens)


def find_tokens(string: str) -> list[str]:
    """TextBlob's find_tokens (pattern's tokenizer, with its default punctuation, abbreviations and contractions),
    the same sentences, with each word's tokens remembered instead of worked out again in every text."""
    if "'" in string:  # every contraction pattern holds an apostrophe
        for a, b in _CONTRACTIONS:
            string = string.replace(a, b) if isinstance(a, str) else a.sub(b, string)
    string = (
        string.replace("“", " “ ")
        .replace("”", " ” ")
        .replace("‘", " ‘ ")
        .replace("’", " ’ ")
        .replace("'", " ' ")
        .replace('"', ' " ')
    )
    string = _SPACES.sub(" ", _LINEBREAK.sub(f" {pattern.EOS} ", string.replace("\r\n", "\n")))
    tokens: list[str] = []
    for t in pattern.TOKEN.findall(string + " "):
        if t:
            tokens.extend(_pieces(t))
    sentences: list[list[str]] = [[]]
    i = j = 0
    while j < len(tokens):
        if tokens[j] in _SENTENCE_END:
            while j < len(tokens) and tokens[j] in _CLOSERS:
                if tokens[j] in ("'", '"') and sentences[-1].count(tokens[j]) % 2 == 0:
                    break  # balanced quotes
                j += 1
            sentences[-1].extend(t for t in tokens[i:j] if t != pattern.EOS)
            sentences.append([])
            i = j
        j += 1
    sentences[-1].extend(tokens[i:j])
    joined = (pattern.RE_SARCASM.sub("(!)", " ".join(s)) for s in sentences if s)
    return [pattern.RE_EMOTICONS.sub(lambda m: m.group(1).replace(" ", "") + m.group(2), s) for s in joined]


class _LoadedLexicon(pattern.Sentiment):  # type: ignore[misc]
    """TextBlob's English sentiment analyzer (`textblob.en.Sentiment`) with its lexicon read up front.

    The library's lexicon is a lazy dictionary that sends every word lookup through a check whether it has been
    read yet: a quarter of the time of scoring in a profile. Read once, plain dictionary lookups give the same
    scores."""

    __contains__ = dict.__contains__
    __getitem__ = dict.__getitem__
    get = dict.get

    def load(self, path: str | None = None) -> None:
        """`textblob.en.Sentiment.load`: the lexicon, then an adverb for each adjective ("terrible" -> "terribly")."""
        pattern.Sentiment.load(self, path)
        if not path:
            for w, pos in list(dict.items(self)):
                if "JJ" in pos:
                    if w.endswith("y"):
                        w = w[:-1] + "i"
                    if w.endswith("le"):
                        w = w[:-2]
                    p, s, i = pos["JJ"]
                    self.annotate(w + "ly", "RB", p, s, i)
        # each emoticon (lower case) and its polarity: the first of EMOTICONS holding it, as `assessments` finds it
        self.emoticons: dict[str, float] = {}
        for (_, polarity), faces in pattern.EMOTICONS.items():
            for face in faces:
                self.emoticons.setdefault(face.lower(), polarity)

    def polarity_subjectivity(self, text: str) -> tuple[float, float]:
        """`self(text)` for a string: pattern's `assessments` of its lower-case words (no part-of-speech tags,
        negation on) and their averages, the same loop without building a dictionary, a label and a word list per
        assessment, which `__call__` drops again."""
        found: list[list[float]] = []  # [polarity, subjectivity, intensity, -1 when negated else 1]
        m: str | None = None  # a preceding modifier ("really good")
        n: str | None = None  # a preceding negation ("not good")
        lookup, negations, modifiers = self.get, self.negations, self.modifiers  # locals: a loop over every word
        for w in " ".join(self.tokenizer(text)).lower().split():
            entry = lookup(w)
            if entry is not None and None in entry:  # a known word
                p, s, i = entry[None]
                if m is None:
                    found.append([p, s, i, 1])
                else:  # modified: "really good"
                    last = found[-1]
                    last[0], last[1], last[2] = max(-1.0, min(p * last[2], 1.0)), max(-1.0, min(s * last[2], 1.0)), i
                if n is not None:  # negated: "not really good"
                    found[-1][2], found[-1][3] = 1.0 / found[-1][2], -1
                m = w if any(map(entry.__contains__, modifiers)) else None
                n = w if w in negations else None
                continue
            if w in negations:
                n = w
            elif n is not None and len(w.strip("'")) > 1:
                n = None  # a negation holds across small words only ("not a good")
            if n is not None and m is not None and self.modifier(m):  # "really not good"
                found[-1][3], n = -1, None
            elif m is not None and len(w) > 2:
                m = None  # a modifier holds across small words only ("really is a good")
            if w == "!" and found:
                found[-1][0] = max(-1.0, min(found[-1][0] * 1.25, 1.0))
            if w == "(!)":
                found.append([0.0, 1.0, 1.0, 1])
            if not w.isalpha() and len(w) <= 5 and w not in pattern.PUNCTUATION and w in self.emoticons:
                found.append([self.emoticons[w], 1.0, 1.0, 1])
        polarity = subjectivity = 0  # summed in order, as pattern's `avg` does (sum() may compensate rounding)
        for p, s, _, negated in found:
            polarity += p * -0.5 if negated < 0 else p
            subjectivity += s
        return polarity / float(len(found) or 1), subjectivity / float(len(found) or 1)


@cache
def english_analyzer() -> Any:
    """The analyzer behind PatternAnalyzer (`textblob.en.sentiment`: same lexicon, negations and modifiers, the
    same tokens), loaded."""
    analyzer = _LoadedLexicon(
        path=str(TEXTBLOB / "en" / "en-sentiment.xml"),
        synset="wordnet_id",
        tokenizer=find_tokens,
        negations=("no", "not", "n't", "never"),
        modifiers=("RB",),
        modifier=lambda w: w.endswith("ly"),
    )
    analyzer.load()
    return analyzer


@dataclass(frozen=True)
class Sentiment:
    """Polarity in [-1, 1] (negative to positive) and subjectivity in [0, 1]."""

    polarity: float
    subjectivity: float


class SentimentScorer(Protocol):
    """Anything that scores a text; tests and calibrated scorers plug in here."""

    def score(self, text: str, kind: str | None = None) -> Sentiment:
        """Score one text; `kind` is the record kind ("complaint", "survey", ...), which a scorer may ignore."""
        ...


class TextBlobScorer:
    """TextBlob's PatternAnalyzer: lexicon-based, handles negation and intensifiers, no corpora needed.

    Called directly: PatternAnalyzer.analyze builds a new namedtuple class on every call, which doubles the cost
    of scoring, and gives the same polarity and subjectivity."""

    def score(self, text: str, kind: str | None = None) -> Sentiment:
        """Score one text (the same whatever its kind); empty text is neutral."""
        if not text.strip():
            return Sentiment(0.0, 0.0)
        polarity, subjectivity = english_analyzer().polarity_subjectivity(text)
        return Sentiment(round(float(polarity), 4), round(float(subjectivity), 4))


def nps_class(score: int | None) -> str | None:
    """NPS class of a 0-10 answer: promoter (9-10), passive (7-8) or detractor (0-6)."""
    if score is None:
        return None
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


def csat_class(score: int | None) -> str | None:
    """CSAT class of a 1-5 answer: satisfied (4-5) or unsatisfied (1-3), the usual top-two-box rule."""
    if score is None:
        return None
    return "satisfied" if score >= 4 else "unsatisfied"


def nps_score(scores: list[int]) -> float | None:
    """Net Promoter Score (-100..100) of a list of 0-10 answers, or None when there are none."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100.0 * (promoters - detractors) / len(scores), 1)


def csat_score(scores: list[int]) -> float | None:
    """CSAT (% satisfied, 0..100) of a list of 1-5 answers, or None when there are none."""
    if not scores:
        return None
    return round(100.0 * sum(1 for s in scores if s >= 4) / len(scores), 1)
