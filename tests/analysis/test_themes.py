"""Theme placement: clusters appear without being told how many, new items join the themes they fit,
ids and memberships stay put, and labels read like what people wrote."""

from __future__ import annotations

import random

import pytest

from reviewbot.analysis.cluster import NOISE, find_clusters
from reviewbot.analysis.score import ThemeAggregate, pick_quote, pick_quotes, theme_label, theme_stats
from reviewbot.analysis.themes import Doc, PlanSettings, ThemeModel, plan_themes
from reviewbot.analysis.vectorize import CorpusStats, surface_forms, terms, to_matrix, weigh

REFUNDS = [
    "still waiting for my refund after three weeks",
    "where is my refund, returned the chair a month ago",
    "refund promised in five days, twenty days later no refund",
    "the refund has not arrived in my bank account",
    "refund delay again, you received the return two weeks ago",
    "my refund is three weeks late",
]
PARCELS = [
    "the courier lost my parcel",
    "lost parcel again, tracking says delivered but no parcel",
    "parcel marked delivered, never received, courier claim ignored",
    "courier lost the parcel with my kettle",
    "second lost parcel this month from the courier",
    "parcel missing and the courier will not investigate",
]
SETTINGS = PlanSettings(min_size=4)


def docs(texts: list[str], stats: CorpusStats, first_id: int) -> list[Doc]:
    term_lists = [terms(t) for t in texts]
    stats.add(term_lists)
    return [Doc(first_id + i, t) for i, t in enumerate(term_lists)]


def test_two_topics_become_two_themes_without_being_told_how_many() -> None:
    stats = CorpusStats()
    plan = plan_themes([], docs(REFUNDS + PARCELS, stats, 0), [], stats, SETTINGS)
    assert len(plan.new_themes) == 2
    groups = {key for key, _ in plan.assignments.values()}
    refunds = {plan.assignments[i][0] for i in range(6) if i in plan.assignments}
    parcels = {plan.assignments[i][0] for i in range(6, 12) if i in plan.assignments}
    assert len(refunds) == 1 and len(parcels) == 1 and refunds != parcels and len(groups) == 2
    assert sum(1 for i in range(12) if i in plan.assignments) >= 10


def test_new_items_join_existing_themes_and_old_ones_do_not_move() -> None:
    stats = CorpusStats()
    first = plan_themes([], docs(REFUNDS + PARCELS, stats, 0), [], stats, SETTINGS)
    existing = [ThemeModel(key=i + 1, centroid=t.centroid, size=t.size) for i, t in enumerate(first.new_themes)]
    key_of = {t.key: i + 1 for i, t in enumerate(first.new_themes)}
    later = docs(["refund still missing after weeks", "courier lost another parcel"], stats, 100)
    plan = plan_themes(existing, later, [], stats, SETTINGS)
    assert plan.new_themes == []
    assert plan.assignments[100][0] == key_of[first.assignments[0][0]]
    assert plan.assignments[101][0] == key_of[first.assignments[6][0]]
    assert set(plan.assignments) == {100, 101}  # nothing placed before is placed again
    moved = plan.changed[plan.assignments[100][0]]
    assert moved.size == first.changed[first.assignments[0][0]].size + 1


def test_nothing_changes_without_new_items() -> None:
    stats = CorpusStats()
    leftovers = docs(REFUNDS + PARCELS, stats, 0)
    assert plan_themes([], [], leftovers, stats, SETTINGS).changed == {}


ODD = [
    "lovely sofa colour",
    "app crashes on login",
    "gift wrap was torn",
    "assembly screws missing",
    "website slow today",
]


def noise(count: int, seed: int = 1) -> list[str]:
    """Texts that share no word with each other or with anything else (made-up words)."""
    rng = random.Random(seed)
    word = lambda: "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(4))  # noqa: E731
    return [f"{word()} {word()} {word()}" for _ in range(count)]


def test_leftovers_form_a_theme_once_enough_arrive() -> None:
    stats = CorpusStats()
    first_docs = docs(REFUNDS[:3] + noise(60) + PARCELS, stats, 0)
    first = plan_themes([], first_docs, [], stats, SETTINGS)
    assert not {0, 1, 2} & set(first.assignments)  # three refund complaints are too few for a theme
    existing = [ThemeModel(key=i + 1, centroid=t.centroid, size=t.size) for i, t in enumerate(first.new_themes)]
    leftovers = [d for d in first_docs if d.item_id not in first.assignments]
    second = plan_themes(existing, docs(REFUNDS[3:], stats, 100), leftovers, stats, SETTINGS)
    refund_themes = {second.assignments[i][0] for i in (0, 1, 2, 100, 101, 102) if i in second.assignments}
    assert len(refund_themes) == 1 and refund_themes.pop() < 0  # one new theme
    assert {0, 1, 2, 100, 101, 102} <= set(second.assignments)
    assert not any(3 <= i < 63 for i in second.assignments)  # the noise stays unplaced


def test_unrelated_texts_stay_unplaced() -> None:
    stats = CorpusStats()
    assert plan_themes([], docs(ODD, stats, 0), [], stats, SETTINGS).assignments == {}


def test_clusters_ignore_empty_rows_and_number_largest_first() -> None:
    stats = CorpusStats()
    texts = REFUNDS + PARCELS[:4] + ["", "the and of"]
    term_lists = [terms(t) for t in texts]
    stats.add(term_lists)
    labels = find_clusters(to_matrix([weigh(t, stats) for t in term_lists], {}), min_size=4, similarity=0.25)
    assert labels[-1] == NOISE and labels[-2] == NOISE
    assert set(labels[:6]) == {0} and set(labels[6:10]) == {1}


def test_terms_drop_placeholders_stop_words_and_fold_word_forms() -> None:
    assert terms("Refunds refunded [EMAIL] the") == ["refund", "refund"]
    assert "refund delay" in terms("refund delayed")
    forms = surface_forms(["the refund delay", "refund delays", "Refund delays again"])
    assert forms["refund"] == "refund" and forms["refund delay"] == "refund delays"
    only = surface_forms(["the refund delay", "refund delays"], wanted={"refund delay"})
    assert only == {"refund delay": "refund delay"}  # a tie goes to the form seen first


def test_label_prefers_word_pairs_and_readable_forms() -> None:
    label, display = theme_label(
        {"chat": 0.5, "queue": 0.4, "live chat": 0.35, "wait": 0.3, "chat queue": 0.3},
        {"live chat": "live chat", "chat queue": "chat queue", "wait": "waiting"},
    )
    assert label == "live chat / chat queue / waiting"
    assert "chat" not in display  # inside a chosen pair


def test_label_names_the_problem_not_who_spoke_or_when() -> None:
    # a real demo theme's heaviest terms: agents' notes about customers asked for their full card number
    label, display = theme_label(
        {"agent ask": 0.5, "cust say": 0.45, "day ago": 0.4, "card number": 0.35, "agent hung": 0.3, "ask": 0.3},
        {"agent ask": "agent asked", "cust say": "cust says", "day ago": "days ago", "card number": "card number"},
    )
    assert label == "card number / agent hung"
    assert not {"agent asked", "cust says", "days ago"} & set(display)


def test_stats_growth_and_weekly_fill() -> None:
    agg = ThemeAggregate(
        by_kind={"complaint": 9, "survey": 3},
        polarity_sum=-1.2,
        negative=6,
        concern=10,
        weekly={"2026-09-07": 1, "2026-09-14": 1, "2026-10-19": 4, "2026-10-26": 6},
        nps={"promoter": 1, "detractor": 2},
        csat={"satisfied": 1, "unsatisfied": 3},
    )
    stats = theme_stats(agg, latest_week="2026-11-02", window_weeks=4)
    assert stats.size == 12 and stats.negative_share == 0.5 and stats.concern_share == round(10 / 12, 4)
    assert list(stats.weekly)[0] == "2026-09-07" and list(stats.weekly)[-1] == "2026-11-02"
    assert len(stats.weekly) == 9 and stats.weekly["2026-09-21"] == 0
    assert stats.growth == round((10 + 1) / (1 + 1), 3)
    assert stats.nps == round(100 * (1 - 2) / 3, 1) and stats.csat == 25.0


def test_quote_is_the_most_central_readable_text() -> None:
    candidates = [
        (1, "short", 0.9),
        (2, "a perfectly readable complaint about refunds being late", 0.5),
        (3, "x" * 500, 0.8),
    ]
    assert pick_quote(candidates) == (2, candidates[1][1])
    assert pick_quote([]) is None


def test_the_typical_quote_says_what_the_theme_is_about() -> None:
    centroid = {"refund": 0.7, "late": 0.5, "refund late": 0.5}
    candidates = [
        (1, "The chair arrived scratched and the courier was rude about it all", 0.9),  # closest when placed
        (2, "My refund is late again, three weeks after the return arrived", 0.4),
        (3, "Refund late. " + "I have written so many times about so many different things " * 5, 0.8),
    ]
    assert pick_quote(candidates, centroid) == (2, candidates[1][1])


def test_quotes_take_turns_across_kinds_and_skip_duplicates() -> None:
    ranked = [
        ("c1", "complaint"),
        ("c1", "complaint"),
        ("c2", "complaint"),
        ("c3", "complaint"),
        ("s1", "survey"),
        ("n1", "agent_note"),
    ]
    picked = pick_quotes(ranked, 4, kind=lambda r: r[1], key=lambda r: r[0])
    assert picked == [("c1", "complaint"), ("s1", "survey"), ("n1", "agent_note"), ("c2", "complaint")]


def test_a_week_far_above_the_themes_own_baseline_is_a_spike() -> None:
    from reviewbot.analysis.score import spike_probability, spiking

    assert spiking(spike_probability([3, 2, 4, 3, 2, 3, 4, 3, 15]))
    assert not spiking(spike_probability([3, 2, 4, 3, 2, 3, 4, 3, 5]))  # an ordinary busy week
    assert not spiking(spike_probability([30, 28, 35, 31, 29, 33, 30, 32, 38]))  # big theme, normal variation
    assert spike_probability([0, 0, 0, 0, 0, 0, 0, 0, 3]) is None  # too few items to say


def test_impact_grows_with_volume_negativity_detractors_and_trend() -> None:
    from reviewbot.analysis.score import impact_score, priority

    base = impact_score(30, 0.8, 0.5, 1.0, False)
    assert impact_score(300, 0.8, 0.5, 1.0, False) > base
    assert impact_score(30, 0.1, 0.5, 1.0, False) < base
    assert impact_score(30, 0.8, 0.9, 1.0, False) > base
    assert impact_score(30, 0.8, 0.5, 2.5, False) > base > impact_score(30, 0.8, 0.5, 0.3, False)
    assert impact_score(30, 0.8, 0.5, 1.0, True) == pytest.approx(base * 1.5, abs=0.002)
    assert priority(impact_score(30, 0.9, 0.8, 2.0, False)) == "high"
    assert priority(impact_score(6, 0.1, 0.0, None, False)) == "low"


TEMPLATE = (
    "Dear Sir or Madam, I am writing pursuant to my rights under the Fair Credit Reporting Act and the Consumer "
    "Financial Protection Act to formally request your immediate attention to the following matter. Please be "
    "advised that I expect a complete written response within thirty days of receipt of this correspondence, that "
    "all records concerning my account be preserved, and that you acknowledge this letter in writing without "
    "delay. Failure to respond will be reported to the appropriate regulatory authorities. The matter: {problem} "
    "Sincerely, a concerned customer who expects this matter resolved promptly and professionally."
)


def test_a_templated_letter_lands_in_the_theme_of_its_problem() -> None:
    from reviewbot.analysis.boilerplate import Boilerplate
    from reviewbot.analysis.themes import make_docs
    from tests.workspaces import DELIVERY_TEXTS, REFUND_TEXTS

    refunds, parcels = REFUND_TEXTS[:6], DELIVERY_TEXTS[:6]
    letters = [TEMPLATE.format(problem=p) for p in (
        "my refund for the returned sofa has still not arrived after four weeks.",
        "the refund you promised within five business days never reached my bank.",
        "three weeks after the return you received, no refund has been paid.",
        "the courier lost my parcel and nobody investigates the lost parcel claim.",
        "my parcel was marked delivered but never arrived, the courier claim is ignored.",
        "the lost parcel claim with your courier has been open for weeks.",
    )]  # fmt: skip
    texts = refunds + parcels + letters
    docs = make_docs(list(enumerate(texts)), Boilerplate(), learn=True)
    stats = CorpusStats()
    stats.add([d.terms for d in docs])
    plan = plan_themes([], docs, [], stats, PlanSettings(min_size=4))
    theme = {i: plan.assignments.get(i, (None, 0.0))[0] for i in range(len(texts))}
    refund_theme, parcel_theme = theme[0], theme[6]
    assert refund_theme is not None and parcel_theme is not None and refund_theme != parcel_theme
    assert [theme[i] for i in range(12, 15)] == [refund_theme] * 3  # the refund letters
    assert [theme[i] for i in range(15, 18)] == [parcel_theme] * 3  # the lost-parcel letters


def test_boilerplate_is_learned_from_letters_only_and_kept_between_syncs() -> None:
    from reviewbot.analysis.boilerplate import Boilerplate
    from reviewbot.analysis.vectorize import words

    problems = ["refund missing", "card charged twice", "agent rude", "app crashes", "voucher expired"]
    learned = Boilerplate()
    learned.add([words(TEMPLATE.format(problem=p)) for p in problems])
    kept = Boilerplate.from_json(learned.to_json())  # as stored between syncs
    letter = words(TEMPLATE.format(problem="the courier lost my parcel."))
    assert kept.strip(letter) == ["courier", "lost", "parcel"]
    short = words("Dear Sir or Madam, I am writing pursuant to my rights under the Fair Credit Reporting Act")
    assert kept.strip(short) == short  # a short text is not a letter: left as written
    once = Boilerplate()
    once.add([words(TEMPLATE.format(problem=p)) for p in problems[:4]])
    assert once.strip(letter) == letter  # four letters are not yet a template


def test_a_long_text_is_held_only_as_far_as_clustering_reads_it() -> None:
    # a million complaint letters of 1-2 KB would otherwise hold a gigabyte of text clustering never reads
    from reviewbot.analysis.cluster import TEXT_CHARS
    from reviewbot.analysis.themes import Docs

    letter = "Dear team, my refund is late. " + "More details of the case follow here. " * 200
    docs = Docs()
    docs.append(1, ["refund", "late"], letter)
    docs.append(2, ["parcel"], "My parcel is lost.")
    assert docs.text_at(0) == letter[:TEXT_CHARS] and docs.text_at(1) == "My parcel is lost."
    assert list(docs[0].terms) == ["refund", "late"]


def test_texts_read_by_id_for_the_sample_give_the_plan_that_held_texts_give(monkeypatch: pytest.MonkeyPatch) -> None:
    # a sync holds no texts: clustering reads its sample's from the store, as `clustering_text` makes them
    import numpy as np

    import reviewbot.analysis.cluster as cluster
    from reviewbot.analysis.boilerplate import Boilerplate
    from reviewbot.analysis.themes import clustering_text, count_terms, read_docs
    from tests.workspaces import DELIVERY_TEXTS, REFUND_TEXTS

    monkeypatch.setattr(cluster, "LINKAGE_ROWS", 10)  # the graph method, which reads texts, on a small set
    problems = ["my refund has not arrived after four weeks.", "the courier lost my parcel again, no claim."]
    letters = [TEMPLATE.format(problem=f"{p} Case {i}.") for i in range(6) for p in problems]
    texts = dict(enumerate((REFUND_TEXTS + DELIVERY_TEXTS) * 3 + letters, start=100))
    settings = PlanSettings(min_size=4, max_cluster_items=30)
    plans, asked = [], []

    def read_texts(ids: np.ndarray) -> list[str]:
        asked.append(len(ids))
        return [clustering_text(texts[i], learned) for i in ids.tolist()]

    for holds_texts in (True, False):
        learned = Boilerplate()
        new = read_docs([list(texts.items())], learned, learn=True, texts=holds_texts)
        stats = CorpusStats()
        count_terms(stats, new)
        reader = None if holds_texts else read_texts
        plans.append(plan_themes([], new, [], stats, settings, reader))
    held, read = plans
    assert dict(held.assignments.items()) == dict(read.assignments.items()) and len(read.assignments) > 20
    assert [(m.key, m.centroid, m.size) for m in held.changed.values()] == [
        (m.key, m.centroid, m.size) for m in read.changed.values()
    ]
    assert asked and asked[0] <= settings.max_cluster_items  # the sample's texts, in one batch
    # then, in one more, those of the sampled rows' copies (whether some are worded otherwise), not every text's
    assert len(asked) == 2 and sum(asked) < len(texts)


def test_the_plan_keeps_each_rows_terms_as_counts_for_the_vote() -> None:
    import numpy as np

    from reviewbot.analysis.themes import Docs, MemberTerms

    term_lists = [["refund", "late"] * 2 + ["bank"], ["parcel", "lost"], ["parcel"] * 300 + ["lost"], []] * 4
    stats = CorpusStats()
    stats.add(term_lists)
    docs = Docs.of(Doc(10 + i, t) for i, t in enumerate(term_lists))
    plan = plan_themes([], docs, [], stats, PlanSettings(min_size=2))
    assert plan.terms is not None
    for row, terms_of_row in enumerate(term_lists):  # a term 300 times needs a count wider than a byte
        assert sorted(plan.terms.terms_at(row)) == sorted(terms_of_row)
    rows = np.array([3, 0, 2, 7, 1], dtype=np.int64)  # read in a batch, as the vote reads them
    assert plan.terms.terms_of(rows) == [plan.terms.terms_at(row) for row in rows.tolist()]
    items = np.array(sorted(plan.assignments), dtype=np.int64)
    themes = np.array([plan.assignments[int(i)][0] for i in items], dtype=np.int64)
    members = MemberTerms(plan.terms, items, themes)
    assert sorted(sorted(t) for theme in members for t in members[theme]) == sorted(
        sorted(term_lists[i - 10]) for i in items.tolist()
    )


def test_embeddings_read_texts_by_id_in_batches_and_tell_wordings_apart_as_held_texts_do() -> None:
    # the wording check and the encoder read a sync's texts from the store a batch at a time, never one by one
    import numpy as np

    from reviewbot.analysis.themes import Docs
    from tests.analysis.test_embeddings import ASK, WHY, docs_of, intent_encoder

    held, stats = docs_of(WHY + ASK)
    settings = PlanSettings(min_size=3, embed=intent_encoder)
    asked: list[int] = []

    def read_texts(ids: np.ndarray) -> list[str]:
        asked.append(len(ids))
        return [(WHY + ASK)[i] for i in ids.tolist()]

    without = Docs.of(Doc(d.item_id, d.terms) for d in held)  # no texts held
    read = plan_themes([], without, [], stats, settings, read_texts)
    kept = plan_themes([], held, [], stats, settings)
    assert len(read.new_themes) == 2 and dict(read.assignments.items()) == dict(kept.assignments.items())
    assert asked and min(asked) > 1  # the shared rows' wordings, then the texts to embed
