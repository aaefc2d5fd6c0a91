"""Calibrated sentiment: complaint phrases, source priors and a model learned from the workspace's survey answers."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.analysis.calibrate import (
    CalibratedScorer,
    CalibrationModel,
    answers_from_rows,
    evaluate,
    fit_calibration,
    load_model,
    survey_label,
)
from reviewbot.analysis.enrich import Enricher
from reviewbot.analysis.lexicon import DEFAULT_BENIGN, DEFAULT_CUES, Lexicon, PhraseSet, fold
from reviewbot.analysis.redact import Redactor
from reviewbot.analysis.sentiment import Sentiment, TextBlobScorer
from reviewbot.protocols import RawRecord
from reviewbot.settings import EnrichSettings

ROOT = Path(__file__).resolve().parents[2]
NEGATIVE_BELOW = EnrichSettings().negative_below  # enrich's default threshold
KINDS = [None, "complaint", "survey", "agent_note", "suggestion"]


def negative(scorer: CalibratedScorer | TextBlobScorer, text: str, kind: str | None = None) -> bool:
    return scorer.score(text, kind=kind).polarity < NEGATIVE_BELOW


@pytest.fixture(scope="module")
def scorer() -> CalibratedScorer:
    return CalibratedScorer()


@pytest.mark.parametrize(
    "text",
    [
        "Still waiting for my refund.",
        "This is the third time I ask about my order",
        "My parcel never arrived",
        "Nobody called back",
        "Where is my refund?",
        "I have not received the replacement card",
        "The agent hung up on me",
        "You lost my parcel",
        "Refund not processed after 3 weeks",
        "I've been chasing this for a month",
        "Charged twice for one order",
        "I called 4 times and still nothing",
        "On hold for 45 minutes",
        "No reply to my emails",
    ],
)
def test_complaint_phrases_without_polarity_words_become_negative(scorer: CalibratedScorer, text: str) -> None:
    assert not negative(TextBlobScorer(), text)  # what the user saw before: neutral
    assert negative(scorer, text)
    assert negative(scorer, text, "survey")
    assert scorer.lexicon.matches(text)[0]


@pytest.mark.parametrize(
    "text",
    [
        "No problem at all",
        "Never been easier",
        "Arrived on time, no issues",
        "I never had to chase anything",
        "I did not have to wait at all",
        "Can't complain",
        "My issue was resolved quickly",
        "Nothing was missing from the box",
        "There was no waiting",
        "The card came a day early as promised",
    ],
)
def test_negated_and_benign_phrases_are_not_flagged(scorer: CalibratedScorer, text: str) -> None:
    assert scorer.lexicon.matches(text)[0] == []
    assert not negative(scorer, text)
    assert not negative(scorer, text, "survey")


@pytest.mark.parametrize("kind", KINDS)
def test_praise_stays_positive_and_anger_negative_whatever_the_source(scorer: CalibratedScorer, kind: str) -> None:
    assert scorer.score("Great service, thank you so much!", kind=kind).polarity > 0.1
    assert scorer.score("The agent was lovely and very helpful", kind=kind).polarity > 0.1
    assert scorer.score("Terrible, rude and useless support!!", kind=kind).polarity < -0.3


def test_a_complaint_channel_shifts_a_neutral_text_negative_but_not_a_clearly_positive_one(
    scorer: CalibratedScorer,
) -> None:
    neutral = "I want to know the status of order 1234"
    assert not negative(scorer, neutral)
    assert not negative(scorer, neutral, "survey")
    assert negative(scorer, neutral, "complaint")
    assert not negative(scorer, neutral, "agent_note")  # a neutral report stays neutral
    assert not negative(scorer, neutral, "suggestion")  # mildly negative, not enough on its own
    assert negative(scorer, "The export is a bit slow", "suggestion")
    assert not negative(scorer, "Thanks, the new form is really good", "complaint")
    assert not negative(CalibratedScorer(priors={}), neutral, "complaint")  # priors are configurable


@pytest.mark.parametrize(
    "text",
    [
        "thanks, sorted",
        "Thank you so much, all fixed now",
        "Great, thanks for the quick reply!",
        "Can you add my loyalty number to booking ABC123?",
        "Is flight 587 on time?",
    ],
)
def test_thanks_and_plain_questions_in_a_complaint_channel_are_not_negative(
    scorer: CalibratedScorer, text: str
) -> None:
    assert not negative(scorer, text, "complaint")


@pytest.mark.parametrize(
    "text",
    [
        "thanks for nothing, 3 hours on hold",
        "Why is my flight delayed again?",
        "Can you explain why my refund is still missing?",
        "stuck at the airport, no one to talk to",
        "Cancelled without notice and nobody answers the phone",
    ],
)
def test_sarcasm_and_questions_with_a_grievance_stay_negative(scorer: CalibratedScorer, text: str) -> None:
    assert negative(scorer, text, "complaint")


def test_an_empty_text_is_neutral_whatever_its_kind(scorer: CalibratedScorer) -> None:
    assert scorer.score("  ", kind="complaint") == Sentiment(0.0, 0.0)


def test_textblob_scorer_accepts_and_ignores_a_kind() -> None:
    base = TextBlobScorer()
    assert base.score("Great service", kind="complaint") == base.score("Great service")


# Synthetic survey answers in one workspace's own words: the negatives carry no polarity word and mostly no
# lexicon phrase, so only a model learned from the answers can tell them apart.
_ITEMS = ["parcel", "order", "card", "invoice", "router", "statement", "voucher", "booking"]
_NEGATIVE = [
    "the courier left my {item} outside in the rain",
    "the app logs me out every day since the update",
    "my {item} came in pieces",
    "the fee went up again without a letter",
    "I queued on the phone line for an hour about my {item}",
    "the {item} shows the old address after three calls",
    "my {item} was sent to my neighbour",
    "nobody called back about the {item}",
    "still waiting for the {item}",
    "the {item} got cancelled and I had to book it again",
]
_POSITIVE = [
    "the {item} came on tuesday as expected",
    "the agent sorted the {item} on the first call",
    "my {item} was ready the next morning",
    "the new app makes paying the {item} quick",
    "the branch staff explained the {item} to my mother",
    "I got the {item} a day early",
    "the {item} was delivered to the right door",
    "the driver carried the {item} upstairs",
]


def answers(n: int, seed: int, share_negative: float = 0.4) -> list[tuple[str, bool]]:
    """(verbatim, is negative) pairs, 5% of them mislabelled as real answers are."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        is_negative = rng.random() < share_negative
        text = rng.choice(_NEGATIVE if is_negative else _POSITIVE).format(item=rng.choice(_ITEMS))
        if rng.random() < 0.3:
            text += rng.choice([".", "!", " - thanks", ", regards", " (order 1234)"])
        out.append((text, is_negative if rng.random() > 0.05 else not is_negative))
    return out


@pytest.fixture(scope="module")
def fitted() -> CalibrationModel:
    fit = fit_calibration(answers(400, seed=1))
    assert fit.model is not None, fit.reason
    assert fit.reason == "fitted" and fit.answers == 400
    return fit.model


def test_a_model_learned_from_survey_answers_beats_textblob_on_held_out_answers(fitted: CalibrationModel) -> None:
    held_out = answers(300, seed=2)
    texts, labels = [t for t, _ in held_out], [y for _, y in held_out]
    raw = evaluate(texts, labels, TextBlobScorer(), kind="survey")
    lexicon_only = evaluate(texts, labels, CalibratedScorer(), kind="survey")
    learned = evaluate(texts, labels, CalibratedScorer(model=fitted), kind="survey")
    assert learned["accuracy"] > raw["accuracy"] + 0.25
    # the workspace's own words beat every general cue (VADER, the lexicon) on answers written without polar words
    assert learned["accuracy"] > lexicon_only["accuracy"] + 0.15
    assert learned["recall"] > 0.8 and learned["precision"] > 0.8
    assert raw["recall"] < 0.2  # the problem being solved


def test_the_model_keeps_praise_positive_and_anger_negative(fitted: CalibrationModel) -> None:
    learned = CalibratedScorer(model=fitted)
    assert learned.score("Great service, thank you so much!", kind="survey").polarity > 0
    assert learned.score("Terrible, rude and useless support!!", kind="survey").polarity < NEGATIVE_BELOW
    assert learned.score("still waiting for the parcel", kind="complaint").polarity < NEGATIVE_BELOW


def test_the_model_is_not_applied_to_agent_notes_and_suggestions(fitted: CalibrationModel) -> None:
    # they are not survey answers: staff reports and requests keep TextBlob + lexicon + prior
    learned, heuristic = CalibratedScorer(model=fitted), CalibratedScorer()
    text = "the courier left my parcel outside in the rain"
    assert negative(learned, text, "survey") and negative(learned, text, "complaint")
    for kind in ("agent_note", "suggestion"):
        assert learned.score(text, kind) == heuristic.score(text, kind)


def test_the_model_round_trips_through_json_with_identical_scores(fitted: CalibrationModel) -> None:
    stored = json.loads(json.dumps(fitted.to_json()))
    loaded, reason = load_model(stored)
    assert reason == "ok" and loaded == fitted
    texts = [t for t, _ in answers(100, seed=3)] + ["Where is my refund?", "Lovely staff!", ""]
    before, after = CalibratedScorer(model=fitted), CalibratedScorer(model=loaded)
    for kind in KINDS:
        assert [before.score(t, kind) for t in texts] == [after.score(t, kind) for t in texts]


def test_a_stored_model_is_refused_when_unreadable_or_fitted_with_another_lexicon(fitted: CalibrationModel) -> None:
    assert load_model(None) == (None, "no stored model")
    assert load_model({"format": "something else"})[0] is None
    assert "unreadable" in load_model({**fitted.to_json(), "dense": {}})[1]
    retuned = Lexicon(cues=((r"still waiting", 0.9),))
    model, reason = load_model(fitted.to_json(), retuned)
    assert model is None and "another version of the lexicon" in reason


def test_fitting_is_deterministic_whatever_the_order_of_answers() -> None:
    data = answers(300, seed=4)
    shuffled = data[:]
    random.Random(5).shuffle(shuffled)
    first, second = fit_calibration(data).model, fit_calibration(shuffled).model
    assert first is not None and second is not None
    assert json.dumps(first.to_json(), sort_keys=True) == json.dumps(second.to_json(), sort_keys=True)


def test_too_few_answers_or_one_class_give_no_model_and_say_why() -> None:
    few = fit_calibration(answers(199, seed=6))
    assert few.model is None and few.reason == "too few answers with text: 199 < 200"
    assert not fit_calibration(answers(60, seed=6), min_answers=50, min_per_class=5).reason.startswith("too few")
    positives = [(t, False) for t, _ in answers(300, seed=7)]
    one_class = fit_calibration(positives)
    assert one_class.model is None and one_class.reason.startswith("too few of one class: 0 negative, 300 not")
    blanks = fit_calibration([("  ", True)] * 500)
    assert blanks.model is None and blanks.answers == 0


def test_survey_scores_map_to_negative_as_enrich_does() -> None:
    assert survey_label(6, None) is True and survey_label(7, None) is False
    assert survey_label(None, 3) is True and survey_label(None, 4) is False
    assert survey_label(10, 2) is True  # either score negative makes the answer negative
    assert survey_label(None, None) is None
    rows = [
        {"text": "Late again", "nps": 2, "csat": None},
        {"text": "Fine", "nps": None, "csat": 5},
        {"text": "No score", "nps": None, "csat": None},
        {"text": "", "nps": 0, "csat": None},
    ]
    assert answers_from_rows(rows) == [("Late again", True), ("Fine", False)]


def test_the_enricher_passes_the_record_kind_to_the_scorer() -> None:
    enricher = Enricher(Redactor(), CalibratedScorer())
    moment = datetime(2026, 9, 1, tzinfo=UTC)
    neutral = "I want to know the status of order 1234"
    complaint = enricher.enrich("s", RawRecord("1", neutral, moment, "complaint", "x:1"))
    survey = enricher.enrich("s", RawRecord("2", neutral, moment, "survey", "x:2"))
    assert complaint["is_negative"] and not survey["is_negative"]
    waiting = enricher.enrich("s", RawRecord("3", "Still waiting, nobody called back", moment, "survey", "x:3"))
    assert waiting["is_negative"]


def test_a_text_slightly_more_likely_negative_than_not_is_flagged_and_slightly_less_is_not() -> None:
    moment = datetime(2026, 9, 1, tzinfo=UTC)
    text = "I want to know the status of order 1234"
    evidence = CalibratedScorer().evidence(text).logit
    for lean, flagged in ((0.05, True), (-0.05, False)):  # P(negative) 0.51 and 0.49 once the source is counted
        scorer = CalibratedScorer(priors={"complaint": lean - evidence})
        enricher = Enricher(Redactor(), scorer, EnrichSettings().negative_below)
        assert enricher.enrich("s", RawRecord("1", text, moment, "complaint", "x:1"))["is_negative"] is flagged


def test_evaluate_counts_negative_as_the_positive_class() -> None:
    class Fixed:
        def score(self, text: str, kind: str | None = None) -> Sentiment:
            return Sentiment(-0.5 if "bad" in text else 0.5, 0.0)

    result = evaluate(["bad", "bad", "good", "good"], [True, False, True, False], Fixed())
    assert result["accuracy"] == 0.5 and result["precision"] == 0.5 and result["recall"] == 0.5
    assert result["f1"] == 0.5 and result["negative_share"] == 0.5


def test_the_default_lexicon_is_fully_indexed_and_rejects_capturing_groups() -> None:
    # every phrase is tried only where its first word occurs: the speed the sync relies on
    assert PhraseSet([p for p, _ in (*DEFAULT_BENIGN, *DEFAULT_CUES)]).unindexed == []
    assert all(0 < w < 1 for _, w in (*DEFAULT_CUES, *DEFAULT_BENIGN))
    with pytest.raises(ValueError, match="non-capturing"):
        Lexicon(cues=((r"(still) waiting", 0.5),))
    assert Lexicon().fingerprint != Lexicon(cues=DEFAULT_CUES[:-1]).fingerprint


_WORDS = ["still", "waiting", "no", "one", "nobody", "called", "back", "never", "arrived", "where", "is", "my"]
_WORDS += ["refund", "not", "received", "the", ",", ".", "i", "have", "x", "3rd", "time", "asked", "can't", "complain"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=25))
def test_indexed_matching_finds_what_trying_every_word_finds(words: list[str]) -> None:
    patterns = [p for p, _ in (*DEFAULT_BENIGN, *DEFAULT_CUES)]
    folded = fold(" ".join(words))
    tokens = folded.split(" ")
    everywhere = re.compile("(?:" + "|".join(f"({p})" for p in patterns) + ")(?![^ ])")
    expected, start, end = [], 0, 0
    for token in tokens:
        m = everywhere.match(folded, start) if start >= end else None
        if m:
            expected.append(((m.lastindex or 1) - 1, start, m.end()))
            end = m.end()
        start += len(token) + 1
    assert [(f.phrase, f.start, f.end) for f in PhraseSet(patterns).find(tokens, folded)] == expected


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.sampled_from(KINDS))
def test_any_text_scores_within_range(text: str, kind: str | None) -> None:
    result = CalibratedScorer().score(text, kind=kind)
    assert -1.0 <= result.polarity <= 1.0
    assert result.subjectivity == TextBlobScorer().score(text).subjectivity


def test_everything_works_without_nltk_data_and_the_same_in_every_process(empty_nltk_data: Path) -> None:
    # Fresh processes with different string hashing: no corpus is loaded, and the fitted model and scores match.
    code = """
import json
from reviewbot.analysis.calibrate import CalibratedScorer, fit_calibration
from tests.analysis.test_calibrate import answers
fit = fit_calibration(answers(300, seed=8))
scorer = CalibratedScorer(model=fit.model)
scores = [scorer.score(t, kind="complaint").polarity for t, _ in answers(50, seed=9)]
print(json.dumps({"reason": fit.reason, "model": fit.model.to_json(), "scores": scores}, sort_keys=True))
"""
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "NLTK_DATA": str(empty_nltk_data), "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=False
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["reason"] == "fitted"
    assert list(empty_nltk_data.iterdir()) == []  # nothing was downloaded
