"""Theme statistics and labels, computed from aggregates the store hands over."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain, zip_longest
from typing import TypeVar

from reviewbot.analysis.sentiment import csat_score, nps_score

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


def theme_stats(agg: ThemeAggregate, latest_week: str | None, window_weeks: int) -> ThemeStats:
    """Statistics of one theme; growth compares the last `window_weeks` with the ones before."""
    size = agg.size
    weekly = _filled_weeks(agg.weekly, latest_week)
    return ThemeStats(
        size=size,
        unique_size=agg.unique,
        by_kind=dict(sorted(agg.by_kind.items())),
        mean_polarity=round(agg.polarity_sum / size, 4) if size else 0.0,
        negative_share=round(agg.negative / size, 4) if size else 0.0,
        concern_share=round(agg.concern / size, 4) if size else 0.0,
        rules_share=round(agg.cites_rules / size, 4) if size else 0.0,
        nps=_nps(agg.nps),
        csat=_csat(agg.csat),
        growth=_growth(weekly, window_weeks),
        first_seen=agg.first_seen,
        last_seen=agg.last_seen,
        weekly=weekly,
    )


def _nps(classes: Mapping[str, int]) -> float | None:
    scores = [10] * classes.get("promoter", 0) + [8] * classes.get("passive", 0) + [0] * classes.get("detractor", 0)
    return nps_score(scores)


def _csat(classes: Mapping[str, int]) -> float | None:
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


def theme_label(centroid: Mapping[str, float], surface: Mapping[str, str], n: int = 3) -> tuple[str, list[str]]:
    """A readable label from a centroid's heaviest terms, and the display terms themselves (up to 10).

    Word pairs are preferred to the words they contain, so "business days" replaces "business" and "days".
    """
    # Pairs read better than single words ("live chat" over "chat"), so they get a head start.
    ranked = sorted(centroid.items(), key=lambda kv: (-kv[1] * (PAIR_BOOST if " " in kv[0] else 1.0), kv[0]))
    chosen: list[str] = []
    for term, _ in ranked:
        words = term.split(" ")
        if len(words) == 1 and any(term in c.split(" ") for c in chosen):
            continue  # already inside a chosen pair
        if len(words) == 2:
            chosen = [c for c in chosen if c not in words]  # the pair replaces its single words
        chosen.append(term)
        if len(chosen) >= 10:
            break
    display = [surface.get(t, t) for t in chosen]
    return " / ".join(display[:n]) if display else "(no words)", display


def pick_quote(candidates: Sequence[tuple[int, str, float]]) -> tuple[int, str] | None:
    """The most central member text of readable length, as (item id, text)."""
    readable = [c for c in candidates if 40 <= len(c[1]) <= 400] or list(candidates)
    if not readable:
        return None
    item_id, text, _ = max(readable, key=lambda c: (c[2], -c[0]))
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
