"""Sentiment and survey classes, and proof that nothing needs a downloaded NLTK corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textblob.en.sentiments import PatternAnalyzer

from reviewbot.analysis.sentiment import Sentiment, TextBlobScorer, csat_class, csat_score, nps_class, nps_score


def test_scores_are_textblobs_own() -> None:
    # the scorer reads TextBlob's lexicon up front for speed; what it reads must stay what PatternAnalyzer reads
    analyzer = PatternAnalyzer()
    for text in [
        "Great service, thank you so much!",
        "not really good (!)",
        "Terribly slow refund, I'm never ordering again :(",
        "The app is okay I guess :-)",
        "NOT GOOD. very very bad!!!",
        "order 100234 arrived, fine",
    ]:
        expected = analyzer.analyze(text)
        assert TextBlobScorer().score(text) == Sentiment(round(expected.polarity, 4), round(expected.subjectivity, 4))


_WORDS = st.sampled_from(
    ["good", "bad", "not", "I'm", "can't", "won't", "it's", "U.S.", "e.g.", "etc...", "!!!", "(!)", ":-)", "<3",
     "\"quoted\"", "'single'", "“fancy”", "‘curly’", "Mr.", "a.", "...", "?", "end.", "\n\n", "\r\n", "---", "x"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=25))
def test_the_faster_tokenizer_makes_textblobs_tokens(parts: list[str]) -> None:
    import textblob.en

    from reviewbot.analysis.sentiment import find_tokens

    text = " ".join(parts)
    assert find_tokens(text) == textblob.en.sentiment.tokenizer(text)


def test_vader_port_scores_as_the_library() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from reviewbot.analysis.vader import vader

    library = SentimentIntensityAnalyzer()
    for text in [
        "The service was NOT good, but the refund came fast!!",
        "kind of ok I guess, no issues at all",
        "never so bad, without doubt the worst :( 😠",
        "least helpful agent ever... sort of rude",
        "no no no",
        "",
    ]:
        assert vader().polarity_scores(text) == library.polarity_scores(text)


def test_polarity_reads_praise_and_anger() -> None:
    scorer = TextBlobScorer()
    assert scorer.score("Great service, thank you so much!").polarity > 0.3
    assert scorer.score("Terrible, rude and useless support!!").polarity < -0.3
    assert scorer.score("The service was not good.").polarity < 0
    assert scorer.score("   ").polarity == 0.0


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0, "detractor"),
        (6, "detractor"),
        (7, "passive"),
        (8, "passive"),
        (9, "promoter"),
        (10, "promoter"),
        (None, None),
    ],
)
def test_nps_classes(score: int | None, expected: str | None) -> None:
    assert nps_class(score) == expected


@pytest.mark.parametrize(
    ("score", "expected"), [(1, "unsatisfied"), (3, "unsatisfied"), (4, "satisfied"), (5, "satisfied"), (None, None)]
)
def test_csat_classes(score: int | None, expected: str | None) -> None:
    assert csat_class(score) == expected


def test_nps_and_csat_scores() -> None:
    assert nps_score([10, 9, 8, 3]) == 25.0  # 2 promoters, 1 detractor of 4
    assert nps_score([]) is None
    assert csat_score([5, 4, 2, 1]) == 50.0


def test_the_whole_enrichment_and_theme_path_works_without_nltk_data(empty_nltk_data: Path) -> None:
    # A fresh process, so no corpus is already loaded; NLTK_DATA points at an empty folder.
    code = """
import json
from reviewbot.analysis.enrich import Enricher
from reviewbot.analysis.redact import Redactor
from reviewbot.analysis.sentiment import TextBlobScorer
from reviewbot.analysis.vectorize import terms
from reviewbot.protocols import RawRecord
from datetime import datetime, UTC
enricher = Enricher(Redactor(), TextBlobScorer())
text = "Awful wait, refunds are delayed. Mail me at a@b.co"
record = RawRecord("1", text, datetime(2026, 9, 1, tzinfo=UTC), "complaint", "x:2")
row = enricher.enrich("s", record)
print(json.dumps({"polarity": row["polarity"], "text": row["text"], "terms": terms(row["text"])}))
"""
    env = {**os.environ, "NLTK_DATA": str(empty_nltk_data)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["polarity"] < 0
    assert result["text"].endswith("[EMAIL]")
    assert "refund" in result["terms"] and "refund delay" in result["terms"]
    assert list(empty_nltk_data.iterdir()) == []  # nothing was downloaded


def test_scoring_loads_no_nltk_or_scipy_and_scores_as_textblob() -> None:
    # TextBlob's package imports NLTK and SciPy's statistics (seconds of CPU in a sync and in its workers' fork
    # server); the scorer reads TextBlob's pattern module without them, and must score exactly as the library does
    probe = """
import sys
from reviewbot.analysis.calibrate import CalibratedScorer
from reviewbot.analysis.enrich import Enricher
from reviewbot.analysis.sentiment import TextBlobScorer
texts = ["Terribly slow refund, I'm never ordering again :(", "not really good (!)", "NOT GOOD. very very bad!!!",
         "The app is okay I guess :-)", "Great service, thank you so much!", "It is not terrible at all"]
ours = [TextBlobScorer().score(t) for t in texts]
CalibratedScorer().score(texts[0], kind="complaint")
print("LOADED", sorted({m.split(".")[0] for m in sys.modules} & {"nltk", "scipy", "sklearn", "numpy"}))
from textblob.en.sentiments import PatternAnalyzer
theirs = [PatternAnalyzer().analyze(t) for t in texts]
print("SAME", all((s.polarity, s.subjectivity) == (round(e.polarity, 4), round(e.subjectivity, 4))
                  for s, e in zip(ours, theirs)))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "LOADED []" in done.stdout, done.stdout
    assert "SAME True" in done.stdout, done.stdout


_SENTIMENT_WORDS = st.sampled_from(
    ["good", "bad", "not", "never", "no", "n't", "really", "very", "terribly", "a", "is", "happy", "slow", "!", "!!",
     "(!)", ":-)", ":(", "<3", "XD", "Great", "NOT", "awful", "kind", "of", "'", "it's", "don't", "ok", "the"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_SENTIMENT_WORDS, st.text(max_size=5)), max_size=30))
def test_the_string_path_scores_as_patterns_own_assessments(parts: list[str]) -> None:
    # polarity_subjectivity is pattern's assessments loop without its per-word dictionaries: the same figures,
    # modifiers, negations, "!" and emoticons included
    from reviewbot.analysis.sentiment import english_analyzer

    text = " ".join(parts)
    analyzer = english_analyzer()
    assert analyzer.polarity_subjectivity(text) == tuple(analyzer(text))
