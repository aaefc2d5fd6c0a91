"""Queries for the sentiment calibration: the stored model, and the survey answers it learns from."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from reviewbot.models import FeedbackItem, SentimentCalibration, utcnow

NAME = "default"


def stored(session: Session) -> SentimentCalibration | None:
    """The last fitting, if any."""
    return session.get(SentimentCalibration, NAME)


def survey_answers(session: Session) -> list[dict[str, Any]]:
    """Survey answers that have a verbatim: the training material."""
    query = select(FeedbackItem.text, FeedbackItem.nps, FeedbackItem.csat).where(
        FeedbackItem.kind == "survey", FeedbackItem.text != ""
    )
    return [{"text": t, "nps": n, "csat": c} for t, n, c in session.exec(query.order_by(col(FeedbackItem.id)))]


def save(
    session: Session,
    model: dict[str, Any] | None,
    answers: int,
    reason: str,
    accuracy: tuple[float | None, float | None],
) -> None:
    """Store the outcome of a fitting (a model, or why there is none)."""
    row = stored(session) or SentimentCalibration(name=NAME)
    row.model, row.answers, row.reason, row.fitted_at = model, answers, reason, utcnow()
    row.holdout_accuracy, row.baseline_accuracy = accuracy
    session.add(row)
