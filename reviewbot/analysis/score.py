"""Theme statistics and labels, computed from aggregates the store hands over."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain, zip_longest
from typing import Any, TypeVar

MAX_WEEKS = 52
PAIR_BOOST = 1.6


@dataclass
class ThemeAggregate:
    """Raw per-theme aggregates from the store."""

    by_kind: dict[str, int] = field(default_factory=dict)
    polarity_sum: float = 0.0
    negative: int = 0
    concern: int = 0
    cites_rules: int = 0
    unique: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    weekly: dict[str, int] = field(default_factory=dict)
    nps: dict[str, int] = field(default_factory=dict)  # promoter/passive/detractor -> count
    csat: dict[str, int] = field(default_factory=dict)  # satisfied/unsatisfied -> count

    @property
    def size(self) -> int:
        """Items in the theme."""
        return sum(self.by_kind.values())

    def add(self, other: ThemeAggregate) -> None:
        """Count another set of members in (all but `unique`, which depends on which texts are already in)."""
        add_breakdowns(self, other)
        self.polarity_sum += other.polarity_sum
        self.negative += other.negative
        self.concern += other.concern
        self.cites_rules += other.cites_rules
        self.first_seen = earliest(self.first_seen, other.first_seen)
        self.last_seen = latest(self.last_seen, other.last_seen)

    def to_tally(self) -> dict[str, Any]:
        """As JSON, to be stored with the theme so later syncs add their new members instead of recounting."""
        data = asdict(self)
        for key in ("first_seen", "last_seen"):
            data[key] = None if data[key] is None else data[key].isoformat()
        return data

    @classmethod
    def from_tally(cls, data: Mapping[str, Any]) -> ThemeAggregate:
        """The aggregate a stored tally describes."""
        values = dict(data)
        for key in ("first_seen", "last_seen"):
            values[key] = None if values[key] is None else datetime.fromisoformat(values[key])
        return cls(**values)


BREAKDOWN_FIELDS = ("by_kind", "weekly", "nps", "csat")


def add_breakdowns(into: Any, other: Any) -> None:
    """Add `other`'s counts by kind, week, NPS and CSAT class to those of `into` (a ThemeAggregate, or the
    report's FeedbackCounts, which share these fields)."""
    for name in BREAKDOWN_FIELDS:
        mine = getattr(into, name)
        for key, n in getattr(other, name).items():
            mine[key] = mine.get(key, 0) + n


def earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    """The earlier of two moments, either of which may be unknown."""
    return b if a is None else a if b is None else min(a, b)


def latest(a: datetime | None, b: datetime | None) -> datetime | None:
    """The later of two moments, either of which may be unknown."""
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True)
class ThemeStats:
    """What is shown and thresholded about a theme."""

    size: int
    unique_size: int
    by_kind: dict[str, int]
    mean_polarity: float
    negative_share: float
    concern_share: float
    rules_share: float
    nps: float | None
    csat: float | None
    growth: float | None
    first_seen: datetime | None
    last_seen: datetime | None
    weekly: dict[str, int]
    spike_p: float | None  # how likely the latest week's count is under the theme's own baseline
    impact: float


def theme_stats(agg: ThemeAggregate, latest_week: str | None, window_weeks: int) -> ThemeStats:
    """Statistics of one theme; growth compares the last `window_weeks` with the ones before."""
    size = agg.size
    weekly = _filled_weeks(agg.weekly, latest_week)
    concern = round(agg.concern / size, 4) if size else 0.0
    growth = _growth(weekly, window_weeks)
    spike_p = spike_probability(list(weekly.values()))
    answers = sum(agg.nps.values())
    detractors = agg.nps.get("detractor", 0) / answers if answers else 0.0
    return ThemeStats(
        size=size,
        unique_size=agg.unique,
        by_kind=dict(sorted(agg.by_kind.items())),
        mean_polarity=round(agg.polarity_sum / size, 4) if size else 0.0,
        negative_share=round(agg.negative / size, 4) if size else 0.0,
        concern_share=concern,
        rules_share=round(agg.cites_rules / size, 4) if size else 0.0,
        nps=_nps(agg.nps),
        csat=_csat(agg.csat),
        growth=growth,
        first_seen=agg.first_seen,
        last_seen=agg.last_seen,
        weekly=weekly,
        spike_p=spike_p,
        impact=impact_score(agg.unique or size, concern, detractors, growth, spiking(spike_p)),
    )


BASELINE_WEEKS = 8
SPIKE_LEVEL = 0.01  # chance of a count this high by chance alone, below which a week is a spike
MIN_SPIKE_COUNT = 5


def spike_probability(counts: Sequence[int], baseline_weeks: int = BASELINE_WEEKS) -> float | None:
    """P(a week at least as busy as the latest one | the theme's own baseline), by a Poisson test.

    The baseline is the mean of the weeks before the latest (up to `baseline_weeks`). None without at least
    four baseline weeks or when the latest week has too few items to mean anything.
    """
    if len(counts) < 5 or counts[-1] < MIN_SPIKE_COUNT:
        return None
    baseline = counts[-1 - baseline_weeks : -1]
    rate = max(sum(baseline) / len(baseline), 0.5)  # a quiet theme still has some chance of items
    from scipy.stats import poisson  # here: SciPy's statistics take half a second to import, listing needs none

    return float(poisson.sf(counts[-1] - 1, rate))


def spiking(p: float | None) -> bool:
    """True when the latest week is a spike."""
    return p is not None and p < SPIKE_LEVEL


def impact_score(items: int, concern: float, detractors: float, growth: float | None, spike: bool) -> float:
    """How much a theme matters, to order tickets and set their priority.

        impact = log2(1 + distinct items) x (0.25 + 0.75 x concern share) x (1 + detractor share)
                 x growth (clamped to 0.5-3, 1 when unknown) x 1.5 if the latest week is a spike

    Volume counts logarithmically (the 200th complaint adds less than the 20th); a theme of praise keeps a
    quarter of its weight; detractors among survey answers can double it; trends scale it.
    """
    trend = 1.0 if growth is None else min(max(growth, 0.5), 3.0)
    value = math.log2(1 + items) * (0.25 + 0.75 * concern) * (1 + detractors) * trend * (1.5 if spike else 1.0)
    return round(value, 3)


HIGH_IMPACT, MEDIUM_IMPACT = 8.0, 3.0


def priority(impact: float) -> str:
    """high, medium or low, from the impact score."""
    return "high" if impact >= HIGH_IMPACT else "medium" if impact >= MEDIUM_IMPACT else "low"


def _nps(classes: Mapping[str, int]) -> float | None:
    from reviewbot.analysis.sentiment import nps_score  # here: it imports TextBlob, which listing rows never needs

    scores = [10] * classes.get("promoter", 0) + [8] * classes.get("passive", 0) + [0] * classes.get("detractor", 0)
    return nps_score(scores)


def _csat(classes: Mapping[str, int]) -> float | None:
    from reviewbot.analysis.sentiment import csat_score

    return csat_score([5] * classes.get("satisfied", 0) + [1] * classes.get("unsatisfied", 0))


def _filled_weeks(weekly: Mapping[str, int], latest_week: str | None) -> dict[str, int]:
    """Weekly counts from the theme's first week to the corpus's latest, with zeros for quiet weeks."""
    if not weekly:
        return {}
    start = date.fromisoformat(min(weekly))
    end = date.fromisoformat(max(latest_week or max(weekly), max(weekly)))
    start = max(start, end - timedelta(weeks=MAX_WEEKS - 1))
    days = (end - start).days // 7 + 1
    weeks = [(start + timedelta(weeks=i)).isoformat() for i in range(days)]
    return {w: int(weekly.get(w, 0)) for w in weeks}


def _growth(weekly: Mapping[str, int], window: int) -> float | None:
    """(recent + 1) / (previous + 1) over two windows of `window` weeks; None without two full windows."""
    counts = list(weekly.values())
    if len(counts) < 2 * window:
        return None
    recent, previous = sum(counts[-window:]), sum(counts[-2 * window : -window])
    return round((recent + 1) / (previous + 1), 3)


# Stems that say who spoke, when, or how often rather than what about: agents' shorthand for the customer, verbs
# of reporting and asking, time since ("days ago"), filler ("like", "that's"). They stay in the terms (clustering
# is tuned with them) but never in a label: "agent asked / card number" is about the card number.
LABEL_FILLER = frozenset(
    {"cust", "custs", "cx", "say", "said", "told", "explain", "mention", "state", "ask", "ago", "yesterday", "today"}
    | {"twice", "like", "that", "use", "got"}
)


def theme_label(centroid: Mapping[str, float], surface: Mapping[str, str], n: int = 3) -> tuple[str, list[str]]:
    """A readable label from a centroid's heaviest terms, and the display terms themselves (up to 10).

    Word pairs are preferred to the words they contain, so "business days" replaces "business" and "days".
    """
    # Pairs read better than single words ("live chat" over "chat"), so they get a head start.
    ranked = sorted(centroid.items(), key=lambda kv: (-kv[1] * (PAIR_BOOST if " " in kv[0] else 1.0), kv[0]))
    chosen: list[str] = []
    for term, _ in ranked:
        words = term.split(" ")
        if LABEL_FILLER.intersection(words):
            continue  # "cust says" names who spoke, not the issue
        if len(words) == 1 and any(term in c.split(" ") for c in chosen):
            continue  # already inside a chosen pair
        if len(words) == 2:
            chosen = [c for c in chosen if c not in words]  # the pair replaces its single words
        chosen.append(term)
        if len(chosen) >= 10:
            break
    display = [surface.get(t, t) for t in chosen]
    return " / ".join(display[:n]) if display else "(no words)", display


def pick_quote(
    candidates: Sequence[tuple[int, str, float]], centroid: Mapping[str, float] | None = None
) -> tuple[int, str] | None:
    """The member text most typical of the theme, of readable length, as (item id, text).

    Typical: it says what the theme is about, the centroid's terms, more than it says anything else (the weight
    of the centroid terms it contains over the square root of its distinct terms); without a centroid, the member
    the themes stage found closest. A long letter holds many of the theme's terms among many others, and a short
    text from another issue few: neither is typical."""
    readable = [c for c in candidates if 40 <= len(c[1]) <= 400] or list(candidates)
    if not readable:
        return None
    from reviewbot.analysis.vectorize import terms  # here: it imports scikit-learn, which listing rows never needs

    def typical(candidate: tuple[int, str, float]) -> tuple[float, float, int]:
        if not centroid:
            return (0.0, candidate[2], -candidate[0])
        own = set(terms(candidate[1]))
        cover = sum(centroid.get(t, 0.0) for t in own) / math.sqrt(len(own)) if own else 0.0
        return (round(cover, 9), candidate[2], -candidate[0])

    item_id, text, _ = max(readable, key=typical)
    return item_id, text


T = TypeVar("T")


def pick_quotes(ranked: Sequence[T], limit: int, *, kind: Callable[[T], str], key: Callable[[T], str]) -> list[T]:
    """Up to `limit` quotes from best-ranked candidates: duplicates (same `key`) dropped, kinds taking turns
    (a complaint, a survey answer, an agent note, ...) so the evidence shows every voice."""
    seen: set[str] = set()
    by_kind: dict[str, list[T]] = {}
    for item in ranked:
        if key(item) not in seen:
            seen.add(key(item))
            by_kind.setdefault(kind(item), []).append(item)
    turns = chain.from_iterable(zip_longest(*by_kind.values()))
    return [item for item in turns if item is not None][:limit]
