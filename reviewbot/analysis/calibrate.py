"""Calibrated sentiment: TextBlob plus a complaint lexicon, a source prior and a model learned from survey answers.

TextBlob only knows polarity words, and complaints are often written without any ("still waiting", "nobody called
back"). Three corrections, each optional and all pure (no I/O):

* `Lexicon` (`lexicon.py`): weighted complaint phrases, negation-aware; score in (-1, 1), > 0 leans complaint.
* `SOURCE_PRIORS`: a polarity shift per record kind, because the channel says something the words may not.
* `CalibrationModel`: logistic regression for P(negative) on [TextBlob polarity, subjectivity, lexicon score, the
  words], fitted on the workspace's own survey answers (detractor / unsatisfied = negative); stored as plain JSON.

Without a model, and always for agent notes and suggestions:
    polarity = TextBlob - LEXICON_SCALE * lexicon + prior
With a model:
    polarity = MODEL_WEIGHT * (1 - 2 P(negative)) + (1 - MODEL_WEIGHT) * (TextBlob - LEXICON_SCALE * lexicon) + prior
clamped to [-1, 1]: enrich's `polarity < -0.05` rule then follows the model when it is sure (P(negative) above
about 0.55 on a neutral text), and TextBlob still shades the strength.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reviewbot.analysis.lexicon import Lexicon, fold
from reviewbot.analysis.sentiment import Sentiment, SentimentScorer, TextBlobScorer, csat_class, nps_class

# Polarity shift per record kind, added after everything else (none for an unknown kind or none given).
SOURCE_PRIORS: dict[str, float] = {
    # A complaint channel is rarely positive: neutral wording there ("I want to know the status of my order")
    # is still a complaint. -0.15 moves a neutral text below -0.05 but keeps praise (> +0.1) non-negative.
    "complaint": -0.15,
    # Survey verbatims are mixed; their NPS / CSAT answer already decides is_negative in enrich.
    "survey": 0.0,
    # Agent notes are neutral reports of what happened; the lexicon still catches "customer still waiting".
    "agent_note": 0.0,
    # A suggestion implies the status quo is lacking; -0.05 alone leaves a neutral suggestion non-negative but
    # lets mild criticism ("it is a bit slow") cross the threshold.
    "suggestion": -0.05,
}
# The model learns P(detractor | words) from customers' survey answers, so it is used only on customers' own voice.
# Agent notes (staff writing neutral reports) and suggestions (requests) are not answers: a model fitted on polar
# answers reads neutral requests as negative ("Can you add dark mode?" -0.40 with one fitted on review sentences).
HEURISTIC_ONLY_KINDS = frozenset({"agent_note", "suggestion"})
LEXICON_SCALE = 0.6  # a strong cue (0.6) makes a neutral text -0.36: clearly, not extremely, negative
MODEL_WEIGHT = 0.75  # the model decides the sign when sure; TextBlob keeps some say in the strength
MODEL_FORMAT = "reviewbot.calibration/1"


def model_terms(text: str) -> set[str]:
    """Distinct tokens of a text (stop words stay: "not" and "no" matter here)."""
    return set(fold(text).split(" "))


@dataclass(frozen=True)
class CalibrationModel:
    """Logistic regression for P(negative); coefficients keyed by name so it stores as plain JSON."""

    intercept: float
    dense: dict[str, float]  # "polarity", "subjectivity", "lexicon"
    terms: dict[str, float]  # token -> coefficient of its presence / sqrt(number of tokens)
    lexicon_id: str
    answers: int = 0
    negatives: int = 0

    def p_negative(self, base: Sentiment, lexicon_score: float, text: str) -> float:
        """Probability that a text is negative, from its TextBlob score, lexicon score and words."""
        return self.p_negative_tokens(base, lexicon_score, fold(text).split(" "))

    def p_negative_tokens(self, base: Sentiment, lexicon_score: float, tokens: Sequence[str]) -> float:
        """`p_negative` of a text already folded and split into tokens."""
        z = self.intercept + self.dense["polarity"] * base.polarity
        z += self.dense["subjectivity"] * base.subjectivity + self.dense["lexicon"] * lexicon_score
        # fsum is exact, so the sum does not depend on set order (string hashing differs between processes)
        z += math.fsum(map(self.terms.__getitem__, set(tokens) & self.terms.keys())) / math.sqrt(len(tokens))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data, to store in the database between syncs."""
        return {
            "format": MODEL_FORMAT,
            "intercept": self.intercept,
            "dense": dict(self.dense),
            "terms": dict(self.terms),
            "lexicon_id": self.lexicon_id,
            "answers": self.answers,
            "negatives": self.negatives,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CalibrationModel:
        """The model stored by `to_json`; ValueError for anything else."""
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a calibration model of format {MODEL_FORMAT}: {data.get('format')!r}")
        dense = {k: float(data["dense"][k]) for k in ("polarity", "subjectivity", "lexicon")}
        return cls(
            float(data["intercept"]),
            dense,
            {str(k): float(v) for k, v in data["terms"].items()},
            str(data["lexicon_id"]),
            int(data.get("answers", 0)),
            int(data.get("negatives", 0)),
        )


def load_model(data: Mapping[str, Any] | None, lexicon: Lexicon | None = None) -> tuple[CalibrationModel | None, str]:
    """The stored model if it is readable and was fitted with this lexicon, else None and why (then refit)."""
    if not data:
        return None, "no stored model"
    try:
        model = CalibrationModel.from_json(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, f"stored model unreadable: {exc}"
    if model.lexicon_id != (lexicon or Lexicon()).fingerprint:
        return None, "stored model was fitted with another version of the lexicon"
    return model, "ok"


def _clamp(value: float) -> float:
    """The value limited to [-1, 1]."""
    return max(-1.0, min(1.0, value))


class CalibratedScorer:
    """TextBlob corrected by the complaint lexicon, the source prior and, when there is one, the learned model."""

    def __init__(
        self,
        base: TextBlobScorer | None = None,
        model: CalibrationModel | None = None,
        lexicon: Lexicon | None = None,
        priors: Mapping[str, float] | None = None,
    ) -> None:
        self.base = base or TextBlobScorer()
        self.model = model
        self.lexicon = lexicon or Lexicon()
        self.priors = dict(SOURCE_PRIORS if priors is None else priors)

    def score(self, text: str, kind: str | None = None) -> Sentiment:
        """Score one text from a record of this kind; empty text is neutral whatever its kind."""
        if not text.strip():
            return Sentiment(0.0, 0.0)
        base = self.base.score(text)
        folded = fold(text)
        tokens = folded.split(" ")
        lexicon_score = self.lexicon.score_tokens(tokens, folded)
        polarity = base.polarity - LEXICON_SCALE * lexicon_score
        if self.model is not None and kind not in HEURISTIC_ONLY_KINDS:
            p = self.model.p_negative_tokens(base, lexicon_score, tokens)
            polarity = MODEL_WEIGHT * (1.0 - 2.0 * p) + (1.0 - MODEL_WEIGHT) * polarity
        polarity += self.priors.get(kind, 0.0) if kind else 0.0
        return Sentiment(round(_clamp(polarity), 4), base.subjectivity)


def survey_label(nps: int | None, csat: int | None) -> bool | None:
    """Whether a survey answer is negative (detractor or unsatisfied, as in enrich), or None without a score."""
    if nps is None and csat is None:
        return None
    return nps_class(nps) == "detractor" or csat_class(csat) == "unsatisfied"


def answers_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, bool]]:
    """(verbatim, is negative) of stored rows with "text" and "nps" / "csat"; rows without text or score skipped."""
    out: list[tuple[str, bool]] = []
    for row in rows:
        label = survey_label(row.get("nps"), row.get("csat"))
        text = row.get("text") or ""
        if label is not None and text.strip():
            out.append((text, label))
    return out


@dataclass(frozen=True)
class CalibrationFit:
    """The outcome of a fit: a model, or None and the reason why not."""

    model: CalibrationModel | None
    reason: str
    answers: int
    negatives: int
    holdout_balanced_accuracy: float | None = None
    baseline_balanced_accuracy: float | None = None


def _features(texts: Sequence[str], scorer: CalibratedScorer, column: Mapping[str, int]) -> Any:
    """Sparse design matrix: polarity, subjectivity, lexicon score, then each term's presence / sqrt(#tokens)."""
    import numpy as np  # imported here: scoring needs neither numpy, scipy nor scikit-learn
    from scipy.sparse import csr_matrix, hstack

    rows, cols, vals, dense = [], [], [], []
    for r, text in enumerate(texts):
        base, tokens = scorer.base.score(text), fold(text).split(" ")
        dense.append([base.polarity, base.subjectivity, scorer.lexicon.score(text)])
        hits = sorted(column[t] for t in model_terms(text) if t in column)
        rows += [r] * len(hits)
        cols += hits
        vals += [1.0 / math.sqrt(len(tokens))] * len(hits)
    words = csr_matrix((vals, (rows, cols)), shape=(len(texts), len(column)))
    return hstack([csr_matrix(np.array(dense)), words]).tocsr()


def _train(
    examples: Sequence[tuple[str, bool]], scorer: CalibratedScorer, c: float, max_terms: int
) -> CalibrationModel:
    """Fit the logistic regression (deterministic: sorted input, lbfgs, vocabulary ordered by count then name)."""
    from sklearn.linear_model import LogisticRegression

    examples = sorted(examples)
    df = Counter(t for text, _ in examples for t in model_terms(text))
    kept = sorted((t for t, n in df.items() if n >= 2), key=lambda t: (-df[t], t))[:max_terms]
    x = _features([t for t, _ in examples], scorer, {t: i for i, t in enumerate(kept)})
    y = [1 if label else 0 for _, label in examples]
    # balanced: surveys are mostly promoters, but the model also scores complaints; each channel's base rate
    # belongs in the source prior, not in the intercept
    fitted = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x, y)
    coef = [round(float(v), 6) for v in fitted.coef_[0]]
    return CalibrationModel(
        intercept=round(float(fitted.intercept_[0]), 6),
        dense=dict(zip(("polarity", "subjectivity", "lexicon"), coef[:3], strict=True)),
        terms={t: v for t, v in zip(kept, coef[3:], strict=True) if abs(v) >= 1e-4},
        lexicon_id=scorer.lexicon.fingerprint,
        answers=len(examples),
        negatives=sum(y),
    )


def _in_holdout(text: str) -> bool:
    """A fixed fifth of the texts, chosen by hash so the split is the same on every sync."""
    return hashlib.sha256(text.encode()).digest()[0] % 5 == 0


def fit_calibration(
    examples: Iterable[tuple[str, bool]],
    lexicon: Lexicon | None = None,
    min_answers: int = 200,
    min_per_class: int = 20,
    c: float = 4.0,
    max_terms: int = 5000,
) -> CalibrationFit:
    """A model fitted on (verbatim, is negative) answers, or none: too few answers, one class, or no better."""
    data = [(t, bool(label)) for t, label in examples if t.strip()]
    negatives = sum(1 for _, label in data if label)
    if len(data) < min_answers:
        return CalibrationFit(None, f"too few answers with text: {len(data)} < {min_answers}", len(data), negatives)
    if min(negatives, len(data) - negatives) < min_per_class:
        reason = f"too few of one class: {negatives} negative, {len(data) - negatives} not (need {min_per_class} each)"
        return CalibrationFit(None, reason, len(data), negatives)
    # a fixed fifth is held out to check the model beats TextBlob + lexicon (balanced accuracy, since answers are
    # mostly positive); a model that does is refitted on all answers
    scorer = CalibratedScorer(lexicon=lexicon)
    train = [d for d in data if not _in_holdout(d[0])]
    held = [d for d in data if _in_holdout(d[0])]
    trial = CalibratedScorer(model=_train(train, scorer, c, max_terms), lexicon=scorer.lexicon)
    texts, labels = [t for t, _ in held], [label for _, label in held]
    ours = evaluate(texts, labels, trial, kind="survey")["balanced_accuracy"]
    baseline = evaluate(texts, labels, scorer, kind="survey")["balanced_accuracy"]
    if ours < baseline:
        reason = f"model no better than the lexicon on held-out answers ({ours:.3f} < {baseline:.3f})"
        return CalibrationFit(None, reason, len(data), negatives, ours, baseline)
    model = _train(data, scorer, c, max_terms)
    return CalibrationFit(model, "fitted", len(data), negatives, ours, baseline)


def evaluate(
    texts: Sequence[str],
    labels: Sequence[bool],
    scorer: SentimentScorer,
    kind: str | None = None,
    negative_below: float = -0.05,
) -> dict[str, float]:
    """Accuracy, and precision / recall / F1 of "negative" (labels: True = negative) at enrich's threshold."""
    predicted = [scorer.score(t, kind=kind).polarity < negative_below for t in texts]
    tp = sum(1 for p, y in zip(predicted, labels, strict=True) if p and y)
    fp = sum(1 for p, y in zip(predicted, labels, strict=True) if p and not y)
    fn = sum(1 for p, y in zip(predicted, labels, strict=True) if not p and y)
    tn = len(labels) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    specificity = tn / (tn + fp) if tn + fp else 0.0
    return {
        "n": float(len(labels)),
        "accuracy": (tp + tn) / len(labels) if labels else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "balanced_accuracy": (recall + specificity) / 2,
        "negative_share": (tp + fp) / len(labels) if labels else 0.0,
    }
