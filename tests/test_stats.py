"""bench.stats: every number below is computed by hand (or by pytest-benchmark on the same list)."""

from __future__ import annotations

import math

import pytest

from bench.timing.stats import is_significant, mann_whitney, noisy, ratio_of_medians


def test_noisy_is_iqr_over_median_beyond_the_threshold():
    assert not noisy(0.0, 1.0)
    assert noisy(1.0, 1.5)  # 0.67 > 0.10
    assert not noisy(1.0, 1.5, threshold=0.7)
    assert not noisy(0.04, 1.03)  # ~0.039
    assert noisy(0.04, 1.03, threshold=0.03)


def test_noisy_with_a_median_that_is_no_duration():
    assert noisy(0.1, 0.0)
    assert not noisy(0.0, 0.0)
    assert noisy(0.1, -1.0)


def test_mann_whitney_exact_small_samples():
    # Complete separation of 5 vs 5: 2 of the C(10, 5) = 252 orderings are as extreme.
    assert mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert mann_whitney([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]) == pytest.approx(2 / 252)


def test_mann_whitney_all_tied_is_one():
    assert mann_whitney([0.5, 0.5, 0.5], [0.5, 0.5]) == 1.0
    with pytest.raises(ValueError):
        mann_whitney([], [1.0])


A = [1.00 + 0.01 * i for i in range(8)]  # median 1.035


def test_clearly_different_is_significant():
    b = [2.00 + 0.01 * i for i in range(8)]  # median 2.035
    significant, ratio, p = is_significant(A, b)
    assert significant
    assert ratio == pytest.approx(2.035 / 1.035)
    assert p == pytest.approx(2 / 12870)  # 2 / C(16, 8): exact, as 8 per side has no ties
    faster, ratio_back, _ = is_significant(b, A)
    assert faster and ratio_back == pytest.approx(1.035 / 2.035)


def test_identical_distributions_are_not_significant():
    significant, ratio, p = is_significant(A, list(reversed(A)))
    assert not significant
    assert ratio == pytest.approx(1.0)
    assert p > 0.5


def test_small_ratio_with_tiny_p_is_not_significant():
    a = [1.000 + 0.001 * i for i in range(10)]
    b = [1.050 + 0.001 * i for i in range(10)]  # every b slower, but only 1.05x
    significant, ratio, p = is_significant(a, b)
    # 10 per side: normal approximation, U = 0, mu = 50, sigma = sqrt(10*10*21/12),
    # z = (50 - 0.5) / sigma = 3.7418 (continuity-corrected), p = 2 * sf(z)
    assert p == pytest.approx(1.8267e-4, rel=1e-3)
    assert ratio == pytest.approx(1.0545 / 1.0045)
    assert not significant


def test_five_rounds_can_never_reach_p_0_002():
    significant, ratio, p = is_significant([1, 2, 3, 4, 5], [60, 70, 80, 90, 100])
    assert ratio == 80 / 3 and p == pytest.approx(2 / 252)
    assert not significant


def test_ratio_of_zero_medians():
    assert ratio_of_medians([0.0, 0.0], [0.0]) == 1.0
    assert ratio_of_medians([0.0], [1.0]) == math.inf
