"""bench.timing.stats: the noise and stability flags, the pooled summary, and the verdict rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pytest_benchmark.stats import Stats as PytestBenchmarkStats

from bench.timing import stats


def test_noisy_is_iqr_over_median_beyond_the_threshold():
    assert not stats.noisy(0.0, 1.0)
    assert stats.noisy(1.0, 1.5)  # 0.67 > 0.10
    assert not stats.noisy(1.0, 1.5, threshold=0.7)
    assert not stats.noisy(0.04, 1.03)  # ~0.039
    assert stats.noisy(0.04, 1.03, threshold=0.03)


def test_noisy_with_a_median_that_is_no_duration():
    assert stats.noisy(0.1, 0.0)
    assert not stats.noisy(0.0, 0.0)
    assert stats.noisy(0.1, -1.0)


def test_spread_and_unstable_by_hand():
    assert stats.spread([2.0]) == 0.0 and stats.spread([]) == 0.0
    assert stats.spread([1.0, 1.05, 1.2]) == pytest.approx(0.2)
    assert not stats.unstable([1.0, 1.099])
    assert stats.unstable([1.0, 1.11])
    assert stats.spread([0.0, 1.0]) == math.inf


def test_summary_is_pytest_benchmarks_own():
    samples = [0.5, 0.1, 0.4, 0.2, 0.3, 0.35, 0.25]
    theirs = PytestBenchmarkStats()
    for s in samples:
        theirs.update(s)
    ours = stats.summary(samples)
    for key in ("min", "max", "mean", "stddev", "median", "iqr", "q1", "q3"):
        assert ours[key] == pytest.approx(getattr(theirs, key)), key
    assert ours["rounds"] == 7 and ours["samples"] == samples
    assert stats.summary([0.25])["stddev"] == 0.0
    with pytest.raises(ValueError):
        stats.summary([])


def _reps(rng, center, count, rounds=15, sd=0.03):
    return [list(rng.normal(center, sd * center, rounds)) for _ in range(count)]


def test_same_distribution_is_same_and_reproducible():
    rng = np.random.default_rng(1)
    a, b = _reps(rng, 1.0, 3), _reps(rng, 1.0, 3)
    first = stats.compare(a, b, key="case")
    assert first.verdict == "same" and first.low < 1.0 < first.high
    assert stats.compare(a, b, key="case") == first  # seeded by the key


def test_a_clear_slowdown_and_speed_up_are_called():
    rng = np.random.default_rng(2)
    a = _reps(rng, 1.0, 3)
    slower = stats.compare(a, _reps(rng, 1.25, 3), key="x")
    assert slower.verdict == "slower" and slower.low > 1.1 and slower.ratio == pytest.approx(
        1.25, rel=0.03)
    faster = stats.compare(a, _reps(rng, 0.7, 3), key="x")
    assert faster.verdict == "faster" and faster.high < 1 / 1.1


def test_a_difference_below_the_factor_is_never_called():
    rng = np.random.default_rng(3)
    tight = stats.compare(_reps(rng, 1.0, 5, sd=0.001), _reps(rng, 1.05, 5, sd=0.001), key="k")
    assert tight.low > 1.0 and tight.verdict == "same"  # real, but under 1.1x


def test_repetitions_that_disagree_widen_the_interval():
    """One slow process on one side: rounds alone would call 7 %; across processes it is noise."""
    rng = np.random.default_rng(4)
    a = [list(rng.normal(1.0, 0.005, 20)), list(rng.normal(1.15, 0.005, 20))]
    b = [list(rng.normal(1.0, 0.005, 20)), list(rng.normal(1.0, 0.005, 20))]
    verdict = stats.compare(a, b, key="drift")
    assert verdict.verdict == "same" and verdict.low < 1 / 1.1 < 1.0 < verdict.high


def test_one_repetition_never_decides():
    verdict = stats.compare([[1.0, 1.0, 1.0]], [[2.0, 2.0, 2.0]], key="v1")
    assert verdict.ratio == pytest.approx(2.0) and verdict.repetitions == 1
    assert verdict.verdict == "same" and not verdict.different


def test_compare_refuses_nothing_to_compare():
    with pytest.raises(ValueError):
        stats.compare([[]], [[1.0]])
    with pytest.raises(ValueError):
        stats.compare([], [[1.0]])


def test_bootstrap_medians_draw_whole_repetitions():
    rng = np.random.default_rng(0)
    reps = [np.full(5, 1.0), np.full(9, 3.0)]  # constant rounds: only the repetition choice shows
    medians = stats.bootstrap_medians(reps, 400, rng)
    assert set(np.round(medians, 9)) <= {1.0, 2.0, 3.0}  # both 1s, mixed, both 3s
    assert {1.0, 3.0} <= set(np.round(medians, 9))
