"""The calibrate stage in a sync: a model learned from the workspace's survey answers, refit rules, rescoring."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import update
from sqlmodel import select

from reviewbot.models import FeedbackItem, SentimentCalibration, Theme
from reviewbot.store import Store
from reviewbot.workflows.run_summary import NoProgress, SyncReport
from reviewbot.workflows.sync import run_sync
from reviewbot.workflows.themes import update_themes
from tests.workspaces import make_workspace, open_workspace, write_csv

SURVEYS = """
[[sources]]
name = "surveys"
type = "files"
kind = "survey"
path = "inbox/surveys"
columns = {{ id = "id", text = "text", created_at = "created_at", nps = "nps" }}

[enrich]
calibration = "{mode}"
calibration_min_answers = 40
"""
# Detractors complain in words TextBlob has no polarity for; promoters praise. Each phrase recurs, so the model
# can learn it, and the held-out fifth contains both.
DETRACTOR = [
    "charged a restocking fee on a faulty kettle",
    "restocking fee for an item that arrived broken",
    "they kept a restocking fee from my return",
    "the courier left the parcel outside in the rain",
    "parcel left outside the door again by the courier",
]
PROMOTER = [
    "fast and friendly service, thank you",
    "lovely staff and quick delivery",
    "great prices and friendly help on the phone",
    "quick reply and a helpful agent",
    "happy with the sofa, delivery was quick",
]
# An answer without a score in the same words: neutral to TextBlob, negative once the model has read the others.
PROBE = "Another restocking fee taken from my return"


def write_surveys(folder: Path, count: int, start: int = 0, name: str = "answers.csv") -> None:
    """`count` answers alternating detractor / promoter, numbered from `start`."""
    path = folder / "inbox" / "surveys" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "created_at", "nps"])
        for i in range(start, start + count):
            pool, score = (DETRACTOR, 2) if i % 2 else (PROMOTER, 10)
            writer.writerow([f"S-{i}", f"{pool[i // 2 % len(pool)]} (order {i})", "2026-10-05 10:00", score])
        if start == 0:
            writer.writerow(["P-1", PROBE, "2026-10-06 10:00", ""])


def workspace(tmp_path: Path, mode: str = "auto") -> Path:
    """A workspace with complaints and a survey source."""
    return make_workspace(tmp_path / "ws", extra_toml=SURVEYS.format(mode=mode))


def probe(store: Store) -> FeedbackItem:
    """The probe answer as stored."""
    with store.session() as session:
        return session.exec(select(FeedbackItem).where(FeedbackItem.external_id == "P-1")).one()


def calibration(store: Store) -> SentimentCalibration | None:
    """The stored calibration row."""
    with store.session() as session:
        return session.exec(select(SentimentCalibration)).first()


def test_enough_answers_fit_a_model_that_rescores_what_is_stored(tmp_path: Path, use_database: str) -> None:
    folder = workspace(tmp_path)
    write_surveys(folder, 120)
    settings, store = open_workspace(folder)

    report = run_sync(settings, store)

    assert report.sentiment["scorer"] == "model" and report.sentiment["fit"] == "fitted"
    assert report.sentiment["rescored"] >= 121  # the answers and the complaints
    assert report.sentiment["held_out_accuracy"] >= report.sentiment["lexicon_accuracy"]
    stored = calibration(store)
    assert stored is not None and stored.model is not None and stored.answers == 120
    item = probe(store)
    assert item.is_negative and item.polarity < -0.05  # scored before the model existed, rescored after


def test_too_few_answers_keep_the_lexicon_and_say_how_many_there_are(tmp_path: Path, use_database: str) -> None:
    folder = workspace(tmp_path)
    write_surveys(folder, 30)
    settings, store = open_workspace(folder)

    report = run_sync(settings, store)

    assert report.sentiment == {"scorer": "lexicon", "answers": 30}
    assert calibration(store) is None


def test_model_is_refitted_only_when_answers_double(tmp_path: Path, use_database: str) -> None:
    folder = workspace(tmp_path)
    write_surveys(folder, 60)
    settings, store = open_workspace(folder)
    assert run_sync(settings, store).sentiment["fit"] == "fitted"

    write_surveys(folder, 40, start=60, name="more.csv")
    grown = run_sync(settings, store).sentiment
    write_surveys(folder, 40, start=100, name="even-more.csv")
    doubled = run_sync(settings, store).sentiment

    assert "fit" not in grown and grown["scorer"] == "model"
    assert doubled["fit"] == "fitted" and calibration(store).answers == 140  # type: ignore[union-attr]


def test_a_model_from_another_lexicon_version_is_not_used_but_refitted(tmp_path: Path, use_database: str) -> None:
    folder = workspace(tmp_path)
    write_surveys(folder, 60)
    settings, store = open_workspace(folder)
    run_sync(settings, store)
    with store.session() as session:
        row = session.exec(select(SentimentCalibration)).one()
        row.model = {**row.model, "lexicon_id": "an older lexicon"}  # type: ignore[dict-item]
        session.add(row)
        session.commit()

    report = run_sync(settings, store)

    assert report.sentiment["fit"] == "fitted"
    assert calibration(store).model["lexicon_id"] != "an older lexicon"  # type: ignore[union-attr,index]


def test_calibration_off_scores_with_textblob_as_it_is(tmp_path: Path, use_database: str) -> None:
    folder = workspace(tmp_path, mode="off")
    write_surveys(folder, 120)
    settings, store = open_workspace(folder)

    report = run_sync(settings, store)

    assert report.sentiment == {"scorer": "off"}
    assert calibration(store) is None
    assert probe(store).polarity == 0.0 and not probe(store).is_negative


def test_lexicon_mode_reads_complaint_phrasing_without_learning(tmp_path: Path, use_database: str) -> None:
    folder = workspace(tmp_path, mode="lexicon")
    write_csv(
        folder / "inbox" / "complaints" / "waiting.csv",
        [{"id": "W-1", "text": "Still waiting, third time I ask about my order", "created_at": "2026-10-06"}],
    )
    write_surveys(folder, 120)
    settings, store = open_workspace(folder)

    run_sync(settings, store)

    assert calibration(store) is None
    with store.session() as session:
        waiting = session.exec(select(FeedbackItem).where(FeedbackItem.external_id == "W-1")).one()
    assert waiting.is_negative


def test_a_rescoring_recounts_every_theme_also_those_without_new_items(tmp_path: Path, use_database: str) -> None:
    # a sync that gains no item touches no theme; but when the calibrate stage has rescored the stored items, the
    # themes stage must recount every theme's tone
    settings, store = open_workspace(make_workspace(tmp_path / "ws"))
    run_sync(settings, store)
    with store.session() as session:  # what a rescoring with a model that reads these as neutral would store
        session.execute(update(FeedbackItem).values(is_negative=False))

    quiet = SyncReport(sentiment={"scorer": "model"})
    update_themes(settings, store, quiet, NoProgress())
    with store.session() as session:
        assert all(t.negative_share > 0 for t in session.exec(select(Theme)))  # nothing changed: nothing recounted
    rescored = SyncReport(sentiment={"scorer": "model", "rescored": 16})
    update_themes(settings, store, rescored, NoProgress())
    with store.session() as session:
        assert [t.negative_share for t in session.exec(select(Theme))] == [0.0, 0.0]
