"""Quality of themes and sentiment on labelled data.

    python bench/quality.py                      # every data set in ../shared/data
    python bench/quality.py themes FILE.csv --text text --label category
    python bench/quality.py sentiment FOLDER     # UCI-style "sentence<TAB>label" files
    python bench/quality.py grabbags             # CFPB: largest themes and their purity in four row orders
    python bench/quality.py backends --sizes 600,800,1000,1500,2000,0 --samples 20 --backend embeddings

Themes run through the same placement a first sync uses (`plan_themes` with the default settings; the
algorithm is not told how many labels there are). Items placed in no theme count as one extra "noise"
cluster in NMI/ARI, which is the honest reading: a person sees them in no theme. Stability: 90% of the
items are placed, then the other 10% arrive as a later sync; the share of the first 90% keeping their theme
is reported. Sentiment: accuracy and F1 of "negative" for raw TextBlob and for reviewbot's calibrated scorer, and
the share of real complaints each reads as negative.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
csv.field_size_limit(sys.maxsize)

import numpy as np  # noqa: E402
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # noqa: E402

from bench._common import SHARED, machine  # noqa: E402
from reviewbot.analysis.boilerplate import Boilerplate  # noqa: E402
from reviewbot.analysis.themes import PlanSettings, ThemeModel, make_docs, plan_themes  # noqa: E402
from reviewbot.analysis.vectorize import CorpusStats  # noqa: E402
from reviewbot.settings import EnrichSettings, ThemeSettings  # noqa: E402

NOISE = "(no theme)"
NEGATIVE_BELOW = EnrichSettings().negative_below  # what a sync counts as negative
GRAB_BAG_SHARE = 0.05  # a theme holding more than this share of the items ...
GRAB_BAG_PURITY = 0.30  # ... with under this share of one label is a grab bag


def read_labelled(path: Path, text: str, label: str) -> tuple[list[str], list[str]]:
    """Texts and labels of a CSV, skipping empty texts (and the CFPB's "None")."""
    texts, labels = [], []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            value = (row.get(text) or "").strip()
            if value and value != "None":
                texts.append(value)
                labels.append(row[label])
    return texts, labels


def plan(texts: list[str], existing: list[ThemeModel] | None = None, stats: CorpusStats | None = None, embed=None):  # type: ignore[no-untyped-def]
    """Place texts as a sync would: (plan, corpus statistics); `embed` for the embeddings backend."""
    defaults = ThemeSettings()
    settings = PlanSettings(
        min_size=defaults.min_size,
        assign_threshold=defaults.assign_threshold,
        cluster_similarity=defaults.cluster_similarity,
        max_cluster_items=defaults.max_cluster_items,
        top_terms=defaults.top_terms,
        embed=embed,
    )
    stats = stats or CorpusStats()
    offset = 1_000_000 if existing else 0
    docs = make_docs([(offset + i, text) for i, text in enumerate(texts)], Boilerplate(), learn=True)
    stats.add([d.terms for d in docs])
    return plan_themes(existing or [], docs, [], stats, settings), stats


def themes(texts: list[str], labels: list[str], name: str) -> None:
    """NMI, ARI, number of themes, placed share, time, and stability for one labelled set."""
    started = time.perf_counter()
    result, _ = plan(texts)
    seconds = time.perf_counter() - started
    assigned = [str(result.assignments[i][0]) if i in result.assignments else NOISE for i in range(len(texts))]
    placed = [i for i, a in enumerate(assigned) if a != NOISE]
    nmi = normalized_mutual_info_score(labels, assigned)
    ari = adjusted_rand_score(labels, assigned)
    nmi_placed = normalized_mutual_info_score([labels[i] for i in placed], [assigned[i] for i in placed])
    true_k, found_k = len(set(labels)), len(result.new_themes)
    print(
        f"{name}: {len(texts):,} texts, {true_k} labels -> {found_k} themes ({found_k / true_k:.2f}x); "
        f"NMI {nmi:.3f} (placed only {nmi_placed:.3f}), ARI {ari:.3f}; placed {len(placed) / len(texts):.0%}; "
        f"{seconds:.1f}s"
    )
    stability(texts, name)


def nmi_of(texts: list[str], labels: list[str], embed=None) -> tuple[float, int, float]:  # type: ignore[no-untyped-def]
    """(NMI with unplaced items as one more cluster, number of themes, share placed) of a first sync's themes."""
    result, _ = plan(texts, embed=embed)
    assigned = [str(result.assignments[i][0]) if i in result.assignments else NOISE for i in range(len(texts))]
    placed = sum(a != NOISE for a in assigned) / len(texts)
    return normalized_mutual_info_score(labels, assigned), len(result.new_themes), placed


def backends(sizes: list[int | None], samples: int = 1, which: tuple[str, ...] = ("tfidf", "embeddings")) -> None:
    """Both theme backends on BANKING77, CFPB payday issues and airline complaint reasons, at several sizes: NMI
    of each sample (the first the set's prefix), their mean and the worst."""
    from reviewbot.analysis.embeddings import load_encoder

    encode = load_encoder("", Path.cwd()) if "embeddings" in which else None  # TF-IDF alone needs no model
    cache: dict[str, np.ndarray] = {}

    def cached(texts):  # type: ignore[no-untyped-def]  # each text encoded once across sizes
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing and encode is not None:
            cache.update(zip(missing, encode(missing), strict=True))
        return np.array([cache[t] for t in texts])

    for name, (texts, labels) in labelled_sets().items():
        for size in sizes:
            for backend in which:
                started = time.perf_counter()
                parts = [
                    ([texts[i] for i in rows], [labels[i] for i in rows])
                    for rows in size_samples(len(texts), size, samples)
                ]
                runs = [nmi_of(*part, embed=cached if backend == "embeddings" else None) for part in parts]
                print(
                    f"{name:<20} {len(parts[0][0]):>6,} items {backend:<10} {_summary(runs, len(set(parts[0][1])))}  "
                    f"({time.perf_counter() - started:.1f}s)"
                )


def _summary(runs: list[tuple[float, int, float]], labels: int) -> str:
    """Mean NMI, themes and placed share over samples; with several, the worst NMI and each one."""
    nmis = [nmi for nmi, _, _ in runs]
    line = (
        f"NMI {np.mean(nmis):.3f}  {np.mean([found for _, found, _ in runs]):>3.0f} themes for {labels} labels, "
        f"{np.mean([placed for _, _, placed in runs]):.0%} placed"
    )
    return line + (
        f"  worst {min(nmis):.3f} of {len(runs)}: {' '.join(f'{v:.3f}' for v in nmis)}" if len(runs) > 1 else ""
    )


def size_samples(n: int, size: int | None, samples: int) -> list[np.ndarray]:
    """Rows of `samples` samples of `size` rows (all rows when None): the prefix, then seeded random subsets kept in
    the set's order; of the whole set, the file's order and then seeded row orders (Leiden's result moves with it)."""
    if size is None or size >= n:
        return [np.arange(n)] + [np.random.default_rng(200 + k).permutation(n) for k in range(1, samples)]
    rest = [np.sort(np.random.default_rng(100 + k).choice(n, size, replace=False)) for k in range(1, samples)]
    return [np.arange(size), *rest]


def grab_bags(texts: list[str], labels: list[str], name: str, orders: int = 4, show: int = 5) -> None:
    """The largest themes' share of items and purity (share of their most common label) in several row orders, and
    how many themes hold over GRAB_BAG_SHARE of the items with under GRAB_BAG_PURITY purity (a grab bag)."""
    for seed in range(orders):
        order = np.random.default_rng(seed).permutation(len(texts))
        result, _ = plan([texts[i] for i in order])
        members: dict[int, list[str]] = {}
        for position, i in enumerate(order):
            if position in result.assignments:
                members.setdefault(result.assignments[position][0], []).append(labels[i])
        rows = []
        for key, found in members.items():
            label, count = Counter(found).most_common(1)[0]
            rows.append((len(found) / len(texts), count / len(found), label, _label_of(result, key)))
        rows.sort(reverse=True)
        bags = sum(1 for share, purity, _, _ in rows if share > GRAB_BAG_SHARE and purity < GRAB_BAG_PURITY)
        nmi = normalized_mutual_info_score(labels, [_theme_of(result, position) for position in np.argsort(order)])
        print(f"{name} row order {seed}: {len(rows)} themes, NMI {nmi:.3f}, grab bags (over 5%, purity < 30%): {bags}")
        for share, purity, label, words in rows[:show]:
            print(f"    {share:5.1%} of items, purity {purity:4.0%} ({label[:40]}): {words}")


def _theme_of(result, position: int) -> str:  # type: ignore[no-untyped-def]
    """The theme a row was placed in, NOISE for none."""
    return str(result.assignments[position][0]) if position in result.assignments else NOISE


def _label_of(result, key: int) -> str:  # type: ignore[no-untyped-def]
    """The top three terms of a theme's centroid: enough to recognise it in the bench's output."""
    theme = result.changed.get(key)
    return " / ".join(sorted(theme.centroid, key=theme.centroid.__getitem__, reverse=True)[:3]) if theme else "?"


def labelled_sets() -> dict[str, tuple[list[str], list[str]]]:
    """The labelled theme sets: BANKING77 intents, CFPB payday issues, airline complaint reasons (negative tweets
    with a reason), each in a fixed shuffled order so that a prefix is a fair sample."""
    with (SHARED / "airline-dev" / "tweets.csv").open(encoding="utf-8", newline="") as fh:
        tweets = [r for r in csv.DictReader(fh) if r["negativereason"] not in ("", "Can't Tell")]
    sets = {
        "BANKING77": read_labelled(SHARED / "banking77" / "train.csv", "text", "category"),
        "CFPB issues": read_labelled(
            SHARED / "cfpb-payday" / "complaints.csv", "Consumer complaint narrative", "Issue"
        ),
        "airline reasons": ([r["text"] for r in tweets], [r["negativereason"] for r in tweets]),
    }
    shuffled = {}
    for name, (texts, labels) in sets.items():
        order = np.random.default_rng(7).permutation(len(texts))
        shuffled[name] = ([texts[i] for i in order], [labels[i] for i in order])
    return shuffled


def stability(texts: list[str], name: str) -> None:
    """Place 90%, then the last 10% as a later sync: how many of the first keep their theme, where the rest go."""
    cut = int(len(texts) * 0.9)
    first, stats = plan(texts[:cut])
    # stored themes get positive ids; plan_themes numbers the themes it creates negatively
    existing = [ThemeModel(key=i + 1, centroid=t.centroid, size=t.size) for i, t in enumerate(first.new_themes)]
    second, _ = plan(texts[cut:], existing, stats)
    kept = sum(1 for i in first.assignments if i not in second.assignments) / max(len(first.assignments), 1)
    joined = sum(1 for key, _ in second.assignments.values() if key > 0) / max(len(texts) - cut, 1)
    print(
        f"{name} stability: {kept:.0%} of earlier items keep their theme; of the 10% arriving later, "
        f"{joined:.0%} join existing themes, {len(second.new_themes)} new themes"
    )


def labelled_sentences(folder: Path) -> list[tuple[str, bool]]:
    """(sentence, is negative) of the UCI files ("sentence<TAB>label", split on the last tab)."""
    rows = []
    for path in sorted(folder.glob("*_labelled.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            text, _, label = line.rpartition("\t")
            if text.strip() and label.strip() in ("0", "1"):
                rows.append((text.strip(), label.strip() == "0"))
    return rows


def sentiment(folder: Path) -> None:
    """Negative vs the rest on labelled sentences: raw TextBlob, the calibrated scorer, and with a learned model.

    The model is learned as a sync learns it from survey answers: each half of the sentences (alternate lines)
    trains a model that scores the other half, so no sentence is scored by a model that saw it."""
    from reviewbot.analysis.calibrate import CalibratedScorer, fit_calibration
    from reviewbot.analysis.sentiment import TextBlobScorer

    rows = labelled_sentences(folder)
    print(f"sentiment: {len(rows):,} labelled sentences from {folder} (as survey answers)")
    halves = rows[0::2], rows[1::2]
    truth = [negative for half in halves for _, negative in half]
    scorers: dict[str, list[bool]] = {"TextBlob raw": [], "calibrated": [], "calibrated + model": []}
    started = time.perf_counter()
    for half, other in ((halves[0], halves[1]), (halves[1], halves[0])):
        model = fit_calibration(other, min_answers=200).model
        for label, scorer in zip(
            scorers, (TextBlobScorer(), CalibratedScorer(), CalibratedScorer(model=model)), strict=True
        ):
            scorers[label] += [scorer.score(t, kind="survey").polarity < NEGATIVE_BELOW for t, _ in half]
    for label, predicted in scorers.items():
        print(f"  {label:<22} {_classification(truth, predicted)}")
    print(f"  ({time.perf_counter() - started:.1f}s including two model fits)")


def airline_sentiment(path: Path) -> None:
    """Negative vs the rest on tweets to airlines labelled by people, read as a complaint source would be."""
    from reviewbot.analysis.calibrate import CalibratedScorer
    from reviewbot.analysis.sentiment import TextBlobScorer

    with path.open(encoding="utf-8", newline="") as fh:
        rows = [(row["text"], row["airline_sentiment"] == "negative") for row in csv.DictReader(fh)]
    truth = [negative for _, negative in rows]
    print(f"sentiment: {len(rows):,} tweets from {path} ({sum(truth) / len(truth):.1%} negative)")
    for label, scorer, kind in (
        ("TextBlob raw", TextBlobScorer(), None),
        ("calibrated, no source", CalibratedScorer(), None),
        ("calibrated, complaint source", CalibratedScorer(), "complaint"),
    ):
        started = time.perf_counter()
        predicted = [scorer.score(t, kind=kind).polarity < NEGATIVE_BELOW for t, _ in rows]
        print(f"  {label:<29} {_classification(truth, predicted)}  ({time.perf_counter() - started:.1f}s)")


def complaint_negativity(texts: list[str]) -> None:
    """Share of real complaints each scorer reads as negative (every one of them is a complaint)."""
    from reviewbot.analysis.calibrate import CalibratedScorer
    from reviewbot.analysis.sentiment import TextBlobScorer

    for label, scorer in (("TextBlob raw", TextBlobScorer()), ("calibrated, complaint source", CalibratedScorer())):
        started = time.perf_counter()
        share = sum(scorer.score(t, kind="complaint").polarity < NEGATIVE_BELOW for t in texts) / len(texts)
        print(f"  CFPB complaints read as negative, {label:<29} {share:.0%}  ({time.perf_counter() - started:.1f}s)")


def _classification(truth: list[bool], predicted: list[bool]) -> str:
    """F1 of "negative", MCC, balanced accuracy, accuracy, and the share flagged against the true share."""
    from sklearn.metrics import balanced_accuracy_score, f1_score, matthews_corrcoef

    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    return (
        f"F1 {f1_score(truth, predicted):.3f}  MCC {matthews_corrcoef(truth, predicted):.3f}  "
        f"balanced {balanced_accuracy_score(truth, predicted):.3f}  accuracy {accuracy:.3f}  "
        f"flagged {sum(predicted) / len(predicted):.0%} (true {sum(truth) / len(truth):.0%})"
    )


def combiner(folder: Path) -> None:
    """Refit the calibrated scorer's COMBINER weights on the UCI sentences and print them (see calibrate.py)."""
    from sklearn.linear_model import LogisticRegression

    from reviewbot.analysis.calibrate import FEATURES, CalibratedScorer
    from reviewbot.analysis.sentiment import TextBlobScorer
    from reviewbot.analysis.vader import vader

    rows = labelled_sentences(folder)
    base, lexicon = TextBlobScorer(), CalibratedScorer().lexicon
    x = []
    for text, _ in rows:
        tb, second = base.score(text), vader().polarity_scores(text)
        x.append([tb.polarity, tb.subjectivity, second["compound"], second["pos"], second["neg"], lexicon.score(text)])
    fitted = LogisticRegression(fit_intercept=False, max_iter=1000).fit(x, [negative for _, negative in rows])
    print({name: round(float(w), 2) for name, w in zip(FEATURES, fitted.coef_[0], strict=True)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "what",
        nargs="?",
        choices=["all", "themes", "sentiment", "combiner", "backends", "sets", "grabbags"],
        default="all",
    )
    parser.add_argument("--sizes", default="1000,2000,0", help="backends: sizes to try (0: all)")
    parser.add_argument("--samples", type=int, default=1, help="backends: samples per size (the first the prefix)")
    parser.add_argument("--backend", choices=["both", "tfidf", "embeddings"], default="both", help="backends: which")
    parser.add_argument("path", nargs="?", type=Path)
    parser.add_argument("--text", default="text")
    parser.add_argument("--label", default="category")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if args.what == "themes":
        themes(*read_labelled(args.path, args.text, args.label), args.path.name)
    elif args.what == "sentiment":
        sentiment(args.path)
    elif args.what == "backends":
        which = ("tfidf", "embeddings") if args.backend == "both" else (args.backend,)
        backends([int(n) or None for n in args.sizes.split(",")], args.samples, which)
    elif args.what == "sets":
        for name, (texts, labels) in labelled_sets().items():
            nmi, found, placed = nmi_of(texts, labels)
            print(f"{name:<16} {len(texts):>6,} items  NMI {nmi:.3f}  {found} themes, {placed:.0%} placed")
    elif args.what == "grabbags":
        grab_bags(*labelled_sets()["CFPB issues"], "CFPB issues")
    elif args.what == "combiner":
        combiner(args.path or SHARED / "uci-sentences")
    else:
        themes(*read_labelled(SHARED / "banking77" / "train.csv", "text", "category"), "BANKING77")
        cfpb = read_labelled(SHARED / "cfpb-payday" / "complaints.csv", "Consumer complaint narrative", "Issue")
        themes(*cfpb, "CFPB issues")
        grab_bags(*cfpb, "CFPB issues")
        airline_sentiment(SHARED / "airline-dev" / "tweets.csv")
        sentiment(SHARED / "uci-sentences")
        complaint_negativity(cfpb[0])


if __name__ == "__main__":
    main()
