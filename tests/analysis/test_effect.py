"""The effect statistics on constructed counts: real drops and rises are found, noise and a quieter month are
not, tiny samples say so, and the z-test agrees with scipy's chi-square test of the same table."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from reviewbot.analysis.effect import compare_proportions, enough_data, theme_effect, verdict


def test_a_real_drop_in_share_is_an_improvement() -> None:
    # 15% of all feedback before, 5% after, out of 400 items a window
    effect = theme_effect(60, 40, 400, 20, 13, 400)
    assert effect.share.outcome == "fell" and effect.share.p_value is not None and effect.share.p_value < 0.001
    assert effect.share.before == pytest.approx(0.15) and effect.share.after == pytest.approx(0.05)
    assert effect.share.relative_change == pytest.approx(-2 / 3)
    assert effect.negative.outcome == "no change"  # two thirds negative before and after
    assert effect.verdict == "improved"


def test_noise_is_no_change() -> None:
    effect = theme_effect(60, 40, 400, 55, 35, 410)
    assert effect.share.outcome == "no change" and effect.negative.outcome == "no change"
    assert effect.verdict == "no change"


def test_a_quieter_month_is_not_an_improvement() -> None:
    # half the theme's items after, but half the feedback overall too: its share is the same
    effect = theme_effect(60, 40, 400, 30, 20, 200)
    assert effect.share.z == pytest.approx(0.0) and effect.verdict == "no change"


def test_a_rise_in_share_is_worse() -> None:
    effect = theme_effect(20, 12, 400, 60, 36, 400)
    assert effect.share.outcome == "rose" and effect.verdict == "worse"


def test_tiny_samples_are_too_little_data() -> None:
    effect = theme_effect(3, 3, 40, 1, 1, 40)
    assert effect.share.outcome == "too little data" and effect.share.p_value is None
    assert effect.negative.outcome == "too little data"
    assert effect.verdict == "too little data"
    # even a complete disappearance says nothing when the theme was that small
    assert theme_effect(4, 4, 100, 0, 0, 100).verdict == "too little data"


def test_an_empty_window_is_too_little_data() -> None:
    assert theme_effect(30, 20, 300, 0, 0, 0).verdict == "too little data"
    assert theme_effect(0, 0, 0, 0, 0, 0).verdict == "too little data"


def test_too_little_data_is_defined_by_expected_counts() -> None:
    # expected theme items per window of 100 are (x1 + x2) / 2: 5 is enough, 4.5 is not
    assert enough_data(7, 100, 3, 100)
    assert not enough_data(6, 100, 3, 100)
    assert not enough_data(6, 100, 3, 100, min_expected=5)
    assert enough_data(6, 100, 3, 100, min_expected=4)
    # a theme that is (almost) all of the feedback leaves too few items outside it
    assert not enough_data(98, 100, 99, 100)


def test_less_negative_at_the_same_share_is_an_improvement() -> None:
    effect = theme_effect(60, 50, 400, 60, 15, 400)
    assert effect.share.outcome == "no change" and effect.negative.outcome == "fell"
    assert effect.verdict == "improved"
    assert theme_effect(60, 15, 400, 60, 50, 400).verdict == "worse"


def test_the_share_decides_over_the_tone() -> None:
    # the theme shrank to a third; the few who still raise it are angrier
    effect = theme_effect(90, 30, 400, 30, 25, 400)
    assert effect.share.outcome == "fell" and effect.negative.outcome == "rose"
    assert effect.verdict == "improved"


def test_each_measure_is_tested_at_half_alpha() -> None:
    # p = 0.043: significant on its own at 0.05, not as one of the theme's two tests
    alone = compare_proportions(60, 400, 41, 400, alpha=0.05)
    assert alone.outcome == "fell" and 0.025 < (alone.p_value or 0) < 0.05
    assert theme_effect(60, 40, 400, 41, 27, 400, alpha=0.05).verdict == "no change"
    assert theme_effect(60, 40, 400, 41, 27, 400, alpha=0.1).verdict == "improved"


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(60, 400, 20, 400), (12, 90, 30, 110), (300, 2000, 280, 1500)])
def test_the_z_test_matches_a_chi_square_test_of_the_table(x1: int, n1: int, x2: int, n2: int) -> None:
    result = compare_proportions(x1, n1, x2, n2)
    chi2, p, _, _ = chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    assert result.z is not None and result.z**2 == pytest.approx(chi2)
    assert result.p_value == pytest.approx(p)


def test_unchanged_themes_rarely_get_a_verdict() -> None:
    # 2000 themes whose share (10%) and tone (60% negative) do not change: at most about alpha of them may move
    rng = np.random.default_rng(7)
    moved = 0
    for _ in range(2000):
        n1, n2 = int(rng.integers(150, 600)), int(rng.integers(150, 600))
        x1, x2 = int(rng.binomial(n1, 0.1)), int(rng.binomial(n2, 0.1))
        neg1, neg2 = int(rng.binomial(x1, 0.6)), int(rng.binomial(x2, 0.6))
        moved += theme_effect(x1, neg1, n1, x2, neg2, n2).verdict in ("improved", "worse")
    assert moved / 2000 < 0.065


def test_the_verdict_rule() -> None:
    assert verdict("rose", "fell") == "worse"
    assert verdict("fell", "rose") == "improved"
    assert verdict("no change", "rose") == "worse"
    assert verdict("too little data", "fell") == "improved"
    assert verdict("no change", "too little data") == "no change"
    assert verdict("too little data", "no change") == "no change"
    assert verdict("too little data", "too little data") == "too little data"


def test_counts_outside_their_totals_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and their totals"):
        compare_proportions(5, 4, 1, 10)
