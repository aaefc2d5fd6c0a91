"""The calibrate stage: learn sentiment from the workspace's own survey answers, and rescore what that changes.

A model is fitted once there are `enrich.calibration_min_answers` answers with text, and refitted when their number
has doubled (or the lexicon changed), so refitting and rescoring the history costs at most about one more scoring
per item over the life of a workspace. After a new model, complaints and survey verbatims already stored are
rescored, so trends do not jump on the day the model appears.
"""

from __future__ import annotations

import logging

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from reviewbot.analysis.calibrate import (
    HEURISTIC_ONLY_KINDS,
    CalibratedScorer,
    CalibrationModel,
    answers_from_rows,
    fit_calibration,
    load_model,
)
from reviewbot.analysis.enrich import is_negative
from reviewbot.analysis.sentiment import SentimentScorer, TextBlobScorer
from reviewbot.models import FeedbackItem
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store import calibration as calibration_store
from reviewbot.workflows.run_summary import ProgressSink, SyncReport

log = logging.getLogger(__name__)
RESCORE_BATCH = 2_000


def make_scorer(settings: Settings, store: Store) -> SentimentScorer:
    """The scorer configured by `enrich.calibration`, with the stored model when there is a usable one."""
    mode = settings.enrich.calibration
    if mode == "off":
        return TextBlobScorer()
    return CalibratedScorer(model=stored_model(store) if mode == "auto" else None)


def stored_model(store: Store) -> CalibrationModel | None:
    """The stored model, if it is readable and fitted with the current lexicon."""
    with store.session() as session:
        row = calibration_store.stored(session)
        return load_model(row.model if row else None)[0]


def calibrate(settings: Settings, store: Store, report: SyncReport, progress: ProgressSink) -> None:
    """Fit (or refit) the model when due; after a new model, rescore the stored customer texts."""
    if settings.enrich.calibration != "auto":
        report.sentiment = {"scorer": settings.enrich.calibration}
        return
    minimum = settings.enrich.calibration_min_answers
    with store.session() as session:
        row = calibration_store.stored(session)
        answers = answers_from_rows(calibration_store.survey_answers(session))
    current = load_model(row.model if row else None)[0]
    report.sentiment = {"scorer": "model" if current else "lexicon", "answers": len(answers)}
    due = _refit_due(row.answers if row else None, row is not None and row.model is not None, current, len(answers))
    if len(answers) < minimum or not due:
        return
    fit = fit_calibration(answers, min_answers=minimum)
    with store.session() as session:
        accuracy = (fit.holdout_balanced_accuracy, fit.baseline_balanced_accuracy)
        calibration_store.save(session, fit.model.to_json() if fit.model else None, fit.answers, fit.reason, accuracy)
        session.commit()
    log.info("sentiment calibration on %d answers: %s", fit.answers, fit.reason)
    report.sentiment.update(fit=fit.reason, held_out_accuracy=accuracy[0], lexicon_accuracy=accuracy[1])
    if fit.model is not None:
        report.sentiment["scorer"] = "model"
        report.sentiment["rescored"] = rescore(settings, store, CalibratedScorer(model=fit.model), progress)


def _refit_due(fitted_on: int | None, had_model: bool, current: CalibrationModel | None, answers: int) -> bool:
    """Whether to fit now: never tried, the stored model is outdated, or the answers have doubled since."""
    if fitted_on is None or (had_model and current is None):
        return True
    return answers >= 2 * max(fitted_on, 1)


def rescore(settings: Settings, store: Store, scorer: SentimentScorer, progress: ProgressSink) -> int:
    """Score the stored texts the model applies to again; returns how many were rescored."""
    table = FeedbackItem.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("item"))
        .values(polarity=bindparam("polarity"), is_negative=bindparam("negative"))
    )
    done, after = 0, 0
    progress.start("rescoring sentiment", None)
    while True:
        with store.session() as session:
            rows = session.exec(
                select(
                    FeedbackItem.id,
                    FeedbackItem.kind,
                    FeedbackItem.text,
                    FeedbackItem.nps_class,
                    FeedbackItem.csat_class,
                )
                .where(
                    col(FeedbackItem.id) > after,
                    col(FeedbackItem.kind).not_in(HEURISTIC_ONLY_KINDS),
                    FeedbackItem.text != "",
                )
                .order_by(col(FeedbackItem.id))
                .limit(RESCORE_BATCH)
            ).all()
            if not rows:
                return done
            updates = []
            for item_id, kind, text, nps, csat in rows:
                polarity = scorer.score(text, kind=kind).polarity
                negative = is_negative(polarity, nps, csat, settings.enrich.negative_below)
                updates.append({"item": item_id, "polarity": polarity, "negative": negative})
            session.connection().execute(statement, updates)
            session.commit()
        done, after = done + len(rows), rows[-1][0]
        progress.advance(len(rows))
