"""What if items, not themes, were placed? Offline counterfactuals on a synced workspace (`mapping.py --what-if`).

Nothing here changes the workspace or the product: each strategy is computed from the workspace's items, themes,
stored mappings and mapper, and scored per item as `bench/mapping.py` scores the sync (a gap is wrong unless a gap
is expected; an item in no theme is wrong). The strategies (issue 16, bench/README.md "Mapping"):

- per theme (stored): what the sync did, the score `mapping.py` prints;
- per item: each item on its own best section, by its own vote or by a self-trained model (the surest 30% of
  each section's voters teach a logistic regression, as `SectionMapper.taught` does); no ticket could hold
  such items, so this is an upper reference, not a product;
- parts: each item's section is the argmax of its own probabilities plus lambda x its theme's mean; a theme whose
  items go to another section than the theme's own, with that part holding at least `share` of the theme's items
  and `least` items, would get a second (or third) ticket on that section carrying those items; never a section
  and its own ancestor or descendant; at most 3 parts. `ratio`: an item leaves its theme's section only when its
  own probability for the other section is at least this multiple of its probability for the theme's section.
  `gap parts`: whether a gap theme's parts may be ticketed too, when the part's words fit its section as a
  theme's must (`mapping.min_confidence`). Printed as "parts: SOURCE, lambda L, SHARE/LEAST, ratio R[, gap
  parts]". "extra tickets" counts the parts beyond each theme's first (an upper bound: a part still has to pass
  the ticket thresholds);
- per theme, mixed as a sync mixes a taught model: the members' own votes summed, as far as their own words are
  sure (their mean largest share), and the self-trained model's summed votes for the rest (`mixed_vote`), then the
  usual choice of section;
- hierarchy: each theme's top-level section is the one whose best section (max share) is highest, then the
  usual choice within it;
- EM seeded by the policy's words (`SectionMapper.bootstrap`, as a sync uses it): each item's vote is a naive Bayes
  model's fitted by EM on all the workspace's items (what a sync does), or on the items in themes only; per item,
  and summed per theme (the sync's figure, when the model is fitted on all items).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

GAP, NONE = "(gap)", "(no theme)"


@dataclass(frozen=True)
class Parts:
    """One configuration of the theme-smoothed per-item placement."""

    # "vote" (the items' own votes), "model" (the self-trained model's probabilities) or "mix" (per item: the own
    # vote as far as it is sure, its largest share, and the model's for the rest; a sync mixes per theme instead,
    # `mixed_vote`, since it keeps no vote per item, but a part is made of items)
    source: str
    smoothing: float  # lambda: weight of the theme's mean probabilities
    share: float  # a part holds at least this share of its theme's items
    least: int  # ... and at least this many
    ratio: float
    gap_parts: bool

    def __str__(self) -> str:
        gaps = ", gap parts" if self.gap_parts else ""
        least = f"{self.share:.0%}/{self.least}"
        return f"parts: {self.source}, lambda {self.smoothing:g}, {least}, ratio {self.ratio:g}{gaps}"


CONFIGS = (
    Parts("vote", 2.0, 0.25, 20, 1.0, False),
    Parts("vote", 2.0, 0.25, 20, 1.0, True),
    Parts("model", 1.0, 0.25, 20, 1.5, False),
    Parts("model", 1.0, 0.25, 20, 1.5, True),
    Parts("model", 2.0, 0.25, 20, 1.5, False),
    Parts("model", 2.0, 0.20, 15, 1.0, True),
    Parts("model", 4.0, 0.25, 20, 1.0, True),
    Parts("mix", 1.0, 0.25, 20, 1.0, True),
    Parts("mix", 2.0, 0.25, 20, 1.0, True),
)
MAX_PARTS = 3
CORRECTIONS = 10  # themes an owner corrects in the offline correction what-if


@dataclass
class Workspace:
    """What the counterfactuals need from a synced workspace."""

    themes: list[int | None]  # per item
    expected: list[str | None]  # per item: its label's section, None when unlabelled
    docs: list[list[str]]  # per item: its terms
    top: dict[int, str]  # theme -> its stored top-1 section or GAP
    mapper: Any  # reviewbot.analysis.mapping.SectionMapper
    min_confidence: float


def read(store: Any, settings: Any, case: Any) -> Workspace:
    """Items, labels, stored mappings and the mapper of a synced workspace."""
    from sqlmodel import select

    from reviewbot.analysis.vectorize import terms
    from reviewbot.models import FeedbackItem
    from reviewbot.store.tickets import mappings
    from workflows.mapping import build_mapper

    themes, expected, docs = [], [], []
    with store.session() as session:
        mapper = build_mapper(session)
        top: dict[int, str] = {}
        for mapping in mappings(session):
            top.setdefault(mapping.theme_id, GAP if mapping.is_gap else mapping.section_id)
        f = FeedbackItem
        for source, external_id, meta, theme_id, text in session.exec(
            select(f.source, f.external_id, f.meta, f.theme_id, f.text)
        ):
            key = f"{source}/{external_id}" if case.label_column == "id" else (meta or {}).get(case.label_column)
            themes.append(theme_id)
            expected.append(case.labels.get(str(key)))
            docs.append(terms(text))
    return Workspace(themes, expected, docs, top, mapper, settings.mapping.min_confidence)


def self_trained(
    docs: Sequence[Sequence[str]], votes: np.ndarray, examples: Sequence[tuple[int, int]] = ()
) -> np.ndarray:
    """Each item's probabilities from a logistic regression the surest voters teach, with `examples` (row,
    target) of corrected themes weighing as `CORRECTED_WEIGHT` sure voters each."""
    from reviewbot.analysis.mapping import CORRECTED_WEIGHT, TEACH_SHARE, _as_is, _surest

    sure = list(_surest(votes, TEACH_SHARE))
    rows = sure + [row for row, _ in examples]
    targets = np.concatenate([votes[sure].argmax(1), [t for _, t in examples]]).astype(int)
    weights = np.concatenate([np.ones(len(sure)), np.full(len(examples), CORRECTED_WEIGHT)])
    vectorizer = TfidfVectorizer(analyzer=_as_is, min_df=2, sublinear_tf=True)
    model = LogisticRegression(max_iter=200)
    model.fit(vectorizer.fit_transform([docs[i] for i in rows]), targets, sample_weight=weights)
    probabilities = np.zeros_like(votes)
    probabilities[:, model.classes_] = model.predict_proba(vectorizer.transform(docs))
    return probabilities


def score(predicted: Sequence[str], expected: Sequence[str | None], top_level: Any) -> tuple[float, float]:
    """(exact, top-level) accuracy over the labelled items."""
    pairs = [(p, e) for p, e in zip(predicted, expected, strict=True) if e is not None]
    n = max(len(pairs), 1)
    exact = sum(p == e for p, e in pairs) / n
    top = sum(p == e or (p not in (GAP, NONE) and top_level(p) == top_level(e)) for p, e in pairs) / n
    return exact, top


def per_theme(ws: Workspace) -> list[str]:
    """Each item on its theme's stored section."""
    return [NONE if t is None else ws.top.get(t, NONE) for t in ws.themes]


def per_item(ws: Workspace, probabilities: np.ndarray) -> list[str]:
    """Each item on its own best section (a gap when it votes for none)."""
    best = probabilities.argmax(axis=1)
    return [ws.mapper.targets[j][1] if row.max() > 0 else GAP for j, row in zip(best, probabilities, strict=True)]


def members(ws: Workspace) -> dict[int, list[int]]:
    """Theme -> rows of its items."""
    found: dict[int, list[int]] = defaultdict(list)
    for i, theme in enumerate(ws.themes):
        if theme is not None:
            found[theme].append(i)
    return found


def parts(ws: Workspace, probabilities: np.ndarray, config: Parts) -> tuple[list[str], int]:
    """Each item's section when themes split into parts by their items' smoothed placement; and the extra tickets."""
    targets = ws.mapper.targets
    index = {section: i for i, (_, section) in enumerate(targets)}
    predicted, extra = per_theme(ws), 0
    for theme, rows in members(ws).items():
        main = ws.top.get(theme, NONE)
        if main == NONE or (main == GAP and not config.gap_parts):
            continue
        own = probabilities[rows]
        best = (own + config.smoothing * own.mean(axis=0)).argmax(axis=1)
        home = index.get(main)
        if home is not None:  # an item leaves the theme's section only when it clearly prefers the other one
            best = np.where(own[np.arange(len(rows)), best] >= config.ratio * own[:, home], best, home)
        chosen = _parts(ws, rows, best, home, config)
        extra += len(chosen)
        for row, target in zip(rows, best, strict=True):
            if target in chosen:
                predicted[row] = targets[target][1]
    return predicted, extra


def _parts(ws: Workspace, rows: list[int], best: np.ndarray, home: int | None, config: Parts) -> list[int]:
    """The sections, besides the theme's own, that a substantial part of its items goes to."""
    mapper = ws.mapper
    chosen: list[int] = []
    for target, count in Counter(int(b) for b in best).most_common():
        if len(chosen) + 1 >= MAX_PARTS:
            break
        if target == home or target >= len(mapper.sections) or count < max(config.share * len(rows), config.least):
            continue
        if any(_related(mapper, target, other) for other in [*chosen, *([home] if home is not None else [])]):
            continue
        if home is None:  # a gap theme's part must fit its section as a theme's words must
            words = Counter(t for row, b in zip(rows, best, strict=True) if b == target for t in ws.docs[row])
            if mapper.fits([dict(words)])[0][target] < ws.min_confidence:
                continue
        chosen.append(target)
    return chosen


def _related(mapper: Any, a: int, b: int) -> bool:
    return a == b or mapper._ancestor(a, b) or mapper._ancestor(b, a)


def summed(ws: Workspace, probabilities: np.ndarray, taught: np.ndarray | None = None) -> list[str]:
    """Each theme on the usual choice over its members' summed probabilities (gap themes stay gaps); with `taught`,
    those mixed with its summed votes as a sync mixes a taught model's (`mixed_vote`)."""
    from reviewbot.analysis.mapping import MatchRules, mixed_vote

    mapper, predicted = ws.mapper, per_theme(ws)
    for theme, rows in members(ws).items():
        sums = probabilities[rows].sum(axis=0)
        if taught is not None:
            sums = mixed_vote(sums, taught[rows].sum(axis=0), probabilities[rows].max(axis=1).sum(), len(rows))
        if ws.top.get(theme) in (GAP, None) or sums.sum() <= 0:
            continue
        choice = mapper.targets[mapper._choose(sums / sums.sum(), MatchRules())[0]][1]
        for row in rows:
            predicted[row] = choice
    return predicted


def hierarchy(ws: Workspace, probabilities: np.ndarray) -> list[str]:
    """Each theme's top-level section first (the one holding the single most voted section), then the usual
    choice within that branch; gap themes stay gaps."""
    from reviewbot.analysis.mapping import MatchRules

    mapper, predicted = ws.mapper, per_theme(ws)
    n = len(mapper.sections)
    roots = [i for i in range(n) if mapper._parent[i] is None]
    branch = {r: [r] + [i for i in range(n) if r in mapper._ancestors(i)] for r in roots}
    for theme, rows in members(ws).items():
        sums = probabilities[rows].sum(axis=0)
        if ws.top.get(theme) in (GAP, None) or sums.sum() <= 0:
            continue
        shares = sums / sums.sum()
        root = max(roots, key=lambda r: max(shares[i] for i in branch[r]))
        within = np.zeros(len(mapper.targets))
        within[branch[root]] = shares[branch[root]]
        choice = mapper.targets[mapper._choose(within, MatchRules())[0]][1]
        for row in rows:
            predicted[row] = choice
    return predicted


def report(store: Any, settings: Any, case: Any, top_level: Any) -> None:
    """Print every strategy's per-item scores for one synced workspace."""
    ws = read(store, settings, case)
    votes = ws.mapper.vote_rows(ws.docs)
    model = self_trained(ws.docs, votes)
    sureness = votes.max(axis=1, keepdims=True)
    sources = {"vote": votes, "model": model, "mix": votes * sureness + model * (1 - sureness)}
    print("  what if (offline, per item; bench/mapping_whatif.py):")
    lines = [
        ("per theme, as the sync stored it", per_theme(ws), 0),
        ("per item, its own vote (no ticket could hold it)", per_item(ws, votes), None),
        ("per item, the self-trained model (no ticket could hold it)", per_item(ws, model), None),
        ("per theme, own votes mixed with the model's as far as unsure", summed(ws, votes, model), 0),
        ("hierarchy: top-level by max share, the model's votes", hierarchy(ws, model), 0),
    ]
    lines += [(str(c), *parts(ws, sources[c.source], c)) for c in CONFIGS]
    lines += _seeded_em(ws)
    for name, predicted, extra in lines:
        exact, top = score(predicted, ws.expected, top_level)
        more = "" if extra is None else f"   extra tickets {extra}"
        print(f"    {name:<66} exact {exact:.3f}  top-level {top:.3f}{more}")
    if CORRECTIONS:
        report_corrected(ws, votes, top_level, CORRECTIONS)


def _seeded_em(ws: Workspace) -> list[tuple[str, list[str], int | None]]:
    """Per item and per theme, EM seeded by the policy's words, fitted on every item or on themed items only."""
    every, themed = range(len(ws.docs)), [i for i, t in enumerate(ws.themes) if t is not None]
    lines: list[tuple[str, list[str], int | None]] = []
    for name, rows in (("all items", every), ("themed items", themed)):
        model = ws.mapper.bootstrap([ws.docs[i] for i in rows])
        if model is None:
            continue  # too few items (the demo): the own votes stand
        votes = ws.mapper.learned_votes(model, ws.docs)
        lines.append((f"per item, EM seeded by the policy, fitted on {name}", per_item(ws, votes), None))
        lines.append((f"per theme, EM seeded by the policy, fitted on {name}", summed(ws, votes), 0))
    return lines


def corrections(ws: Workspace, n: int) -> tuple[set[int], list[tuple[int, int]]]:
    """The n largest wrongly mapped themes (as `--simulate-owner` picks them, within one sync) and their items
    labelled with the section of most of their labelled items: (corrected themes, (row, target) examples)."""
    index = {section: i for i, (_, section) in enumerate(ws.mapper.targets)}
    wanted: dict[int, Counter[str]] = defaultdict(Counter)
    for theme, expected in zip(ws.themes, ws.expected, strict=True):
        if theme is not None and expected is not None:
            wanted[theme][expected] += 1
    wrong = [
        (sum(c.values()), t, c.most_common(1)[0][0])
        for t, c in wanted.items()
        if c.most_common(1)[0][0] in index and ws.top.get(t, NONE) not in (NONE, c.most_common(1)[0][0])
    ]
    chosen = {t: index[section] for _, t, section in sorted(wrong, key=lambda w: (-w[0], w[1]))[:n]}
    examples = [(row, chosen[t]) for row, t in enumerate(ws.themes) if t in chosen]
    return set(chosen), examples


def report_corrected(ws: Workspace, votes: np.ndarray, top_level: Any, n: int) -> None:
    """Corrections as labelled items for the per-item model: scores on the items of the themes not corrected."""
    corrected, examples = corrections(ws, n)
    if not corrected:
        return  # nothing is wrongly mapped (the demo)
    model = self_trained(ws.docs, votes)
    taught = self_trained(ws.docs, votes, examples)
    others = [e if t is not None and t not in corrected else None for t, e in zip(ws.themes, ws.expected, strict=True)]
    config = Parts("model", 1.0, 0.25, 20, 1.5, True)
    print(f"  what if {len(corrected)} themes were corrected (one sync; items of the other themes):")
    for name, predicted in (
        ("per theme, as the sync stored it", per_theme(ws)),
        ("per item, the self-trained model", per_item(ws, model)),
        ("per item, the model taught the corrected themes' items too", per_item(ws, taught)),
        (f"{config}; untaught", parts(ws, model, config)[0]),
        (f"{config}; taught", parts(ws, taught, config)[0]),
    ):
        exact, top = score(predicted, others, top_level)
        print(f"    {name:<66} exact {exact:.3f}  top-level {top:.3f}")
