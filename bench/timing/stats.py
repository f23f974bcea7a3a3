"""Pure arithmetic over timing samples (seconds): summaries, stability, and the verdict rule.

No torch and no I/O here, so the report side can import it and the tests can pin the numbers.

The design of a measurement (issue #11): a case is timed in R repetitions, each a fresh worker
process; inside a repetition it is timed in several passes spread over the repetition's length
(bench.timing.harness), each pass a few rounds with a control workload timed just before it
(bench.timing.calibrate.Control). Rounds of one pass are not independent samples of what a user
gets: on the shared 2-core machine the same step moves by 1.5x between phases of a few seconds
(an SMT neighbour, the host), so the unit of variation is the pass, and no verdict is drawn
from a test on rounds. A difference is real only when

    the ratio of medians B / A lies beyond the factor (1.1x, asv's default) with its whole
    hierarchical-bootstrap interval: resample the passes of each side with replacement, then
    the rounds inside each drawn pass, take the median of the pooled draw, and repeat; the 95 %
    percentile interval of median(B*) / median(A*) must lie above 1.1 (B slower) or below
    1 / 1.1 (B faster), and each side must have at least two repetitions.

Between two measurements on one machine and device (an A/A pair, two styles in one run) the
passes are first adjusted for the machine's slow phases: bench.timing.passes builds the units
and says how. Across devices or machines the raw samples are compared. Files written before
passes existed (schema 1, early schema 2) resample repetitions instead of passes.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FACTOR = 1.1  # asv compare --factor: smaller changes are never called, whatever the interval
CONFIDENCE = 0.95  # of the bootstrap interval
BOOTSTRAP_DRAWS = 2000
NOISY_IQR_FRACTION = 0.10  # IQR/median above this: the rounds of a case scatter (torch's 10 %)
UNSTABLE_SPREAD = 0.10  # repetition medians further apart than this: the case is unstable
# A verdict needs repetitions on both sides: with one, nothing says how far another process
# would land (schema-1 files hold one repetition per case, so they compare but never decide).
MIN_REPETITIONS = 2


def noisy(iqr: float, median: float, threshold: float = NOISY_IQR_FRACTION) -> bool:
    """True when the spread (iqr / median) exceeds `threshold`: the median is unreliable.

    A median <= 0 cannot be a measured duration; any spread around it counts as noise.
    """
    if median <= 0:
        return iqr > 0
    return iqr / median > threshold


def spread(medians: Sequence[float]) -> float:
    """How far repetition medians disagree: max / min - 1 (0 for a single repetition)."""
    values = [m for m in medians if m is not None]
    if len(values) < 2:
        return 0.0
    low = min(values)
    return math.inf if low <= 0 else max(values) / low - 1.0


def unstable(medians: Sequence[float], threshold: float = UNSTABLE_SPREAD) -> bool:
    """True when the repetition medians disagree by more than `threshold` (10 %)."""
    return spread(medians) > threshold


@dataclass(frozen=True)
class Verdict:
    """B against the baseline A: ratio of medians (> 1 = B slower) and its bootstrap interval."""

    ratio: float
    low: float
    high: float
    verdict: str  # "slower" | "faster" | "same"
    factor: float
    repetitions: int  # the fewer of the two sides'; below MIN_REPETITIONS the verdict is "same"

    @property
    def different(self) -> bool:
        return self.verdict != "same"


def _as_reps(reps: Sequence[Sequence[float]]) -> list[np.ndarray]:
    arrays = [np.asarray(r, dtype=float) for r in reps if len(r) > 0]
    if not arrays:
        raise ValueError("no samples: a comparison needs at least one timed round a side")
    return arrays


def _seed(key: str) -> int:
    """A stable seed per comparison, so the same files always give the same verdicts."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")


def bootstrap_medians(reps: Sequence[np.ndarray], draws: int,
                      rng: np.random.Generator) -> np.ndarray:
    """`draws` medians of hierarchical resamples: units (passes, or repetitions) first, then
    rounds inside each.

    Draw i fills R slots; slot k holds a resample (with replacement) of the rounds of unit
    picks[i, k]. Units are padded with NaN to the longest one so one gather and one nanmedian
    do every draw at once.
    """
    r, width = len(reps), max(len(rep) for rep in reps)
    padded = np.full((r, width), np.nan)
    lengths = np.array([len(rep) for rep in reps])
    for j, rep in enumerate(reps):
        padded[j, :len(rep)] = rep
    picks = rng.integers(0, r, size=(draws, r))  # (draws, R): which unit fills each slot
    size = lengths[picks][..., None]  # (draws, R, 1): that unit's round count
    within = (rng.random((draws, r, width)) * size).astype(np.int64)  # a round of that unit
    pooled = padded[picks[..., None], within]  # (draws, R, width)
    pooled[np.arange(width)[None, None, :] >= size] = np.nan  # a slot holds as many rounds
    return np.nanmedian(pooled.reshape(draws, r * width), axis=1)


def pooled_median(reps: Sequence[Sequence[float]]) -> float:
    return float(np.median(np.concatenate(_as_reps(reps))))


def compare(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], key: str = "",
            factor: float = FACTOR, confidence: float = CONFIDENCE,
            draws: int = BOOTSTRAP_DRAWS, repetitions: int | None = None) -> Verdict:
    """Is B really slower or faster than A? Each side is a list of units (the rounds of one pass,
    or of one repetition in older files), each a list of samples.

    `repetitions` is the fewer of the two sides' repetitions (default: the fewer units); below
    MIN_REPETITIONS the verdict is "same". `key` seeds the bootstrap (use the case's name) so a
    verdict is reproducible. Raises ValueError when a side has no rounds at all.
    """
    reps_a, reps_b = _as_reps(a), _as_reps(b)
    ratio = pooled_median(reps_b) / pooled_median(reps_a)
    rng = np.random.default_rng(_seed(key))
    ratios = bootstrap_medians(reps_b, draws, rng) / bootstrap_medians(reps_a, draws, rng)
    tail = (1.0 - confidence) / 2 * 100
    low, high = (float(v) for v in np.percentile(ratios, [tail, 100 - tail]))
    low, high = min(low, ratio), max(high, ratio)  # the point estimate lies inside its interval
    if repetitions is None:
        repetitions = min(len(reps_a), len(reps_b))
    if repetitions < MIN_REPETITIONS:
        verdict = "same"
    elif low > factor:
        verdict = "slower"
    elif high < 1.0 / factor:
        verdict = "faster"
    else:
        verdict = "same"
    return Verdict(ratio, low, high, verdict, factor, repetitions)


def pytest_benchmark_stats(samples: Sequence[float]) -> dict:
    """pytest-benchmark's own summary of pooled rounds (its quartile and outlier rules)."""
    from pytest_benchmark.stats import Stats

    values = [float(s) for s in samples]
    if not values:
        raise ValueError("no samples: a benchmark needs at least one timed round")
    stats = Stats()
    for value in values:
        stats.update(value)
    out = stats.as_dict()
    if len(values) == 1:
        out["stddev"] = 0.0
    return out


def summary(samples: Sequence[float]) -> dict:
    """The pooled rounds' summary (pytest-benchmark's rules), plus the samples."""
    full = pytest_benchmark_stats(samples)
    keys = ("min", "max", "mean", "stddev", "median", "iqr", "q1", "q3", "rounds")
    return {**{k: full[k] for k in keys}, "samples": [float(s) for s in samples]}


def median(values: Sequence[float]) -> float:
    if len(values) == 0:
        raise ValueError("no values: cannot take the median of nothing")
    return statistics.median(values)
