"""bench.stats: every number below is computed by hand (or by pytest-benchmark on the same list)."""

from __future__ import annotations

import dataclasses
import math

import pytest
from pytest_benchmark.stats import Stats as PytestBenchmarkStats

from bench.stats import Stats, is_significant, mann_whitney, ratio_of_medians


def test_five_samples_by_hand():
    s = Stats.from_samples([0.5, 0.1, 0.4, 0.2, 0.3])
    # n=5 (odd, n % 4 == 1): q1 = 0.25*x[0] + 0.75*x[1], q3 = 0.75*x[3] + 0.25*x[4]
    assert s.q1 == pytest.approx(0.175)
    assert s.q3 == pytest.approx(0.425)
    assert s.iqr == pytest.approx(0.25)
    assert (s.min, s.max, s.rounds) == (0.1, 0.5, 5)
    assert s.median == pytest.approx(0.3)
    assert s.mean == pytest.approx(0.3)
    assert s.stddev == pytest.approx(math.sqrt(0.1 / 4))  # squared deviations sum to 0.1, n-1 = 4
    assert s.samples == (0.5, 0.1, 0.4, 0.2, 0.3)  # kept in round order, not sorted


@pytest.mark.parametrize(
    ("samples", "q1", "q3"),
    [
        ([2.0], 2.0, 2.0),
        ([1.0, 2.0, 4.0], 1.25, 3.5),  # n % 4 == 3: 0.75*x[0]+0.25*x[1], 0.25*x[1]+0.75*x[2]
        ([4.0, 1.0, 3.0, 2.0], 1.5, 3.5),  # even: median of each half
        ([6.0, 5.0, 4.0, 3.0, 2.0, 1.0], 2.0, 5.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 2.25, 5.75),
    ],
)
def test_quartiles_by_hand(samples, q1, q3):
    s = Stats.from_samples(samples)
    assert (s.q1, s.q3) == (pytest.approx(q1), pytest.approx(q3))
    assert s.iqr == pytest.approx(q3 - q1)


# Irregular literal durations; every prefix length 1..13 hits each quartile branch several times.
DURATIONS = [0.0131, 0.0127, 0.0190, 0.0125, 0.0129, 0.0301, 0.0126, 0.0133, 0.0128, 0.0124,
             0.0150, 0.0122, 0.0135]


@pytest.mark.parametrize("n", range(1, len(DURATIONS) + 1))
def test_matches_pytest_benchmark(n):
    ours = Stats.from_samples(DURATIONS[:n])
    theirs = PytestBenchmarkStats()
    for d in DURATIONS[:n]:
        theirs.update(d)
    for field in ("min", "max", "median", "mean", "stddev", "q1", "q3", "iqr", "rounds"):
        assert getattr(ours, field) == pytest.approx(getattr(theirs, field), rel=1e-12), field


def test_single_sample_has_zero_spread():
    s = Stats.from_samples([0.25])
    assert (s.stddev, s.iqr, s.q1, s.q3, s.median) == (0.0, 0.0, 0.25, 0.25, 0.25)
    assert not s.noisy()


@pytest.mark.parametrize("bad", [[], [0.1, float("nan")], [float("inf")]])
def test_rejects_empty_or_non_finite(bad):
    with pytest.raises(ValueError):
        Stats.from_samples(bad)


def test_as_dict_and_frozen():
    s = Stats.from_samples((0.3, 0.1, 0.2))
    d = s.as_dict()
    assert set(d) == {"min", "max", "median", "mean", "stddev", "iqr", "q1", "q3", "rounds",
                      "samples"}
    assert d["samples"] == [0.3, 0.1, 0.2] and isinstance(d["samples"], list)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.median = 1.0  # type: ignore[misc]


def test_noisy():
    assert not Stats.from_samples([1.0, 1.0, 1.0, 1.0]).noisy()
    spread = Stats.from_samples([1.0, 1.0, 2.0, 2.0])  # iqr 1.0 / median 1.5
    assert spread.noisy()
    assert not spread.noisy(threshold=0.7)
    tight = Stats.from_samples([1.00, 1.02, 1.04, 1.06])  # iqr 0.04 / median 1.03 ~ 0.039
    assert not tight.noisy()
    assert tight.noisy(threshold=0.03)


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
