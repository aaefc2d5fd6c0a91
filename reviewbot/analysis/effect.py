"""The effect of a policy version on a theme: did the theme shrink, or get less negative, after the version shipped?

Two measures are compared between a window before the publish date and a window after it:

- **share**: the theme's items out of all feedback items with text in the window. Dividing by the window's total
  normalises for volume: a quiet month after the release does not look like an improvement.
- **negative share**: the theme's negative items (negative wording, or a detractor / unsatisfied survey answer) out
  of the theme's items in the window.

Each measure is a two-proportion z-test (see `compare_proportions`). The two are combined into one verdict by
`verdict`; the share is the primary measure, the negative share decides only when the share did not move. Each
test runs at alpha / 2 (Bonferroni), so a theme that did not change gets a verdict other than "no change" with a
probability of at most alpha. Several themes of one version are tested separately, without a further correction.

Pure functions: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["fell", "rose", "no change", "too little data"]
Verdict = Literal["improved", "no change", "worse", "too little data"]

DEFAULT_ALPHA = 0.05
DEFAULT_MIN_EXPECTED = 5.0
TESTS_PER_THEME = 2  # share and negative share: the Bonferroni divisor


@dataclass(frozen=True)
class Comparison:
    """One proportion before and after, the test's z and two-sided p-value, and what it concluded."""

    before_count: int
    before_total: int
    after_count: int
    after_total: int
    z: float | None  # None when there is too little data to test
    p_value: float | None
    outcome: Outcome

    @property
    def before(self) -> float | None:
        """The proportion before (None for an empty window)."""
        return self.before_count / self.before_total if self.before_total else None

    @property
    def after(self) -> float | None:
        """The proportion after (None for an empty window)."""
        return self.after_count / self.after_total if self.after_total else None

    @property
    def relative_change(self) -> float | None:
        """after / before - 1, e.g. -0.6 for a fall by 60% (None when before is 0 or unknown)."""
        if not self.before or self.after is None:
            return None
        return self.after / self.before - 1

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "before_count": self.before_count,
            "before_total": self.before_total,
            "after_count": self.after_count,
            "after_total": self.after_total,
            "before": self.before,
            "after": self.after,
            "relative_change": self.relative_change,
            "z": self.z,
            "p_value": self.p_value,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class Effect:
    """The effect of a version on one theme: both comparisons and the verdict."""

    share: Comparison
    negative: Comparison
    verdict: Verdict

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"share": self.share.to_dict(), "negative": self.negative.to_dict(), "verdict": self.verdict}


def expected_counts(x1: int, n1: int, x2: int, n2: int) -> list[float]:
    """The four cell counts of the 2x2 table [[x1, n1-x1], [x2, n2-x2]] expected if both proportions were equal."""
    if n1 <= 0 or n2 <= 0:
        return [0.0] * 4
    pooled = (x1 + x2) / (n1 + n2)
    return [n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)]


def enough_data(x1: int, n1: int, x2: int, n2: int, min_expected: float = DEFAULT_MIN_EXPECTED) -> bool:
    """True when every expected cell count is at least `min_expected` (the z-test's usual validity condition).

    With the default of 5 this needs, for windows of equal size, at least 10 items of the theme in the two
    windows together (and as many that are not); fewer is "too little data".
    """
    return min(expected_counts(x1, n1, x2, n2)) >= min_expected


def compare_proportions(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    min_expected: float = DEFAULT_MIN_EXPECTED,
) -> Comparison:
    """Two-proportion z-test of x1/n1 (before) against x2/n2 (after).

        p1 = x1 / n1,  p2 = x2 / n2,  p = (x1 + x2) / (n1 + n2)             (pooled under "no change")
        z  = (p2 - p1) / sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        p-value = 2 * (1 - Phi(|z|))                                          (two-sided)

    The outcome is "fell" or "rose" when the p-value is below `alpha`, "no change" otherwise, and "too little
    data" when an expected cell count is below `min_expected` (then the normal approximation is not trusted and
    z and p are None).
    """
    if not 0 <= x1 <= n1 or not 0 <= x2 <= n2:
        raise ValueError(f"counts must lie between 0 and their totals: {x1}/{n1}, {x2}/{n2}")
    if not enough_data(x1, n1, x2, n2, min_expected):
        return Comparison(x1, n1, x2, n2, None, None, "too little data")
    pooled = (x1 + x2) / (n1 + n2)
    z = (x2 / n2 - x1 / n1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = math.erfc(abs(z) / math.sqrt(2))  # 2 * (1 - Phi(|z|)), without SciPy's import (about 1 s)
    outcome: Outcome = "no change" if p_value >= alpha else ("rose" if z > 0 else "fell")
    return Comparison(x1, n1, x2, n2, z, p_value, outcome)


def verdict(share: Outcome, negative: Outcome) -> Verdict:
    """Combine the two outcomes; the share comes first, the negative share decides only when the share held.

    - worse: the share rose; or it did not move (or could not be tested) and the negative share rose.
    - improved: the share fell; or it did not move (or could not be tested) and the negative share fell.
    - too little data: neither could be tested.
    - no change: otherwise.

    A theme that shrank while its remaining items got more negative counts as improved: fewer people raise it, and
    those who still do are often the hardest cases, so their tone says little about the change.
    """
    if share == "rose":
        return "worse"
    if share == "fell":
        return "improved"
    if negative == "rose":
        return "worse"
    if negative == "fell":
        return "improved"
    if share == "too little data" and negative == "too little data":
        return "too little data"
    return "no change"


def theme_effect(
    theme_before: int,
    negative_before: int,
    total_before: int,
    theme_after: int,
    negative_after: int,
    total_after: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    min_expected: float = DEFAULT_MIN_EXPECTED,
) -> Effect:
    """The effect on one theme from its counts in the two windows (each test at alpha / 2, see the module)."""
    level = alpha / TESTS_PER_THEME
    share = compare_proportions(
        theme_before, total_before, theme_after, total_after, alpha=level, min_expected=min_expected
    )
    negative = compare_proportions(
        negative_before, theme_before, negative_after, theme_after, alpha=level, min_expected=min_expected
    )
    return Effect(share, negative, verdict(share.outcome, negative.outcome))
