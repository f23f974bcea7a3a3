"""Pure arithmetic over timing samples (seconds): summary statistics and significance.

No torch and no I/O here, so the report side can import it and the tests can pin every number
by hand. Quartiles follow pytest-benchmark (`pytest_benchmark/stats.py`) exactly, so our `iqr`
and pytest-benchmark's own JSON agree on the same samples; significance follows asv's rule
(Mann-Whitney U p < 0.002 and a median ratio beyond 1.1x either way).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

# asv: `asv.statistics.is_different(..., p_threshold=0.002)` and `asv compare --factor 1.1`. A
# change counts only when BOTH hold — either alone flags run-to-run noise as a change.
SIGNIFICANCE_P = 0.002
SIGNIFICANCE_FACTOR = 1.1
NOISY_IQR_FRACTION = 0.10


def _quartiles(data: Sequence[float]) -> tuple[float, float]:
    """(q1, q3) of *sorted* data by pytest-benchmark's rule.

    Odd counts use Wikipedia's "Method 3" (weighted neighbours), even counts "Method 2" (median
    of each half); see https://en.wikipedia.org/wiki/Quartile#Computing_methods.
    """
    n = len(data)
    if n == 1:
        return data[0], data[0]
    if n % 2 == 0:
        return statistics.median(data[: n // 2]), statistics.median(data[n // 2:])
    k, rem = divmod(n, 4)  # rem is 1 or 3 for odd n
    if rem == 1:
        q1 = 0.25 * data[k - 1] + 0.75 * data[k]
        q3 = 0.75 * data[3 * k] + 0.25 * data[3 * k + 1]
    else:
        q1 = 0.75 * data[k] + 0.25 * data[k + 1]
        q3 = 0.25 * data[3 * k + 1] + 0.75 * data[3 * k + 2]
    return q1, q3


@dataclass(frozen=True)
class Stats:
    """Summary of one benchmark's samples, in seconds; `samples` keeps the raw rounds in order."""

    min: float
    max: float
    median: float
    mean: float
    stddev: float  # sample standard deviation (n - 1); 0 for a single sample, as pytest-benchmark
    iqr: float
    q1: float
    q3: float
    rounds: int
    samples: tuple[float, ...]

    @classmethod
    def from_samples(cls, samples: Sequence[float]) -> Stats:
        """Summarise durations; raises ValueError when there are none or one is not finite."""
        values = tuple(float(s) for s in samples)
        if not values:
            raise ValueError("no samples: a benchmark needs at least one timed round")
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"samples must be finite numbers, got {values!r}")
        ordered = sorted(values)
        q1, q3 = _quartiles(ordered)
        return cls(
            min=ordered[0],
            max=ordered[-1],
            median=statistics.median(ordered),
            mean=statistics.fmean(values),
            stddev=statistics.stdev(values) if len(values) > 1 else 0.0,
            iqr=q3 - q1,
            q1=q1,
            q3=q3,
            rounds=len(values),
            samples=values,
        )

    def as_dict(self) -> dict:
        """The `stats` block of a results.json benchmark entry (samples as a list)."""
        out = asdict(self)
        out["samples"] = list(self.samples)
        return out

    def noisy(self, threshold: float = NOISY_IQR_FRACTION) -> bool:
        """True when the spread (iqr / median) exceeds `threshold`: the median is unreliable."""
        if self.median <= 0:
            return self.iqr > 0
        return self.iqr / self.median > threshold


def _median(values: Sequence[float]) -> float:
    if len(values) == 0:
        raise ValueError("no samples: cannot compare an empty set of timings")
    return statistics.median(values)


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value that `a` and `b` come from the same distribution.

    scipy's `method="auto"` is exact for small samples without ties and uses the normal
    approximation (with tie correction) otherwise. Identical constant samples give 1.0.
    """
    if len(a) == 0 or len(b) == 0:
        raise ValueError("no samples: Mann-Whitney needs at least one value on each side")
    if len(set(a) | set(b)) == 1:
        return 1.0  # every value tied: no evidence of a difference (scipy would divide by zero)
    from scipy.stats import mannwhitneyu  # deferred: scipy is slow to import, most callers skip it

    return float(mannwhitneyu(a, b, alternative="two-sided", method="auto").pvalue)


def ratio_of_medians(a: Sequence[float], b: Sequence[float]) -> float:
    """median(b) / median(a): above 1 means `b` is slower than the baseline `a`."""
    ma, mb = _median(a), _median(b)
    if ma == 0:
        return 1.0 if mb == 0 else math.inf
    return mb / ma


def is_significant(
    a: Sequence[float],
    b: Sequence[float],
    p: float = SIGNIFICANCE_P,
    factor: float = SIGNIFICANCE_FACTOR,
) -> tuple[bool, float, float]:
    """asv's rule: is `b` really different from the baseline `a`?

    Returns (significant, ratio, p_value) with ratio = median(b) / median(a). Significant needs
    both p_value < p and ratio > factor or ratio < 1 / factor. With 5 rounds a side the smallest
    exact p-value is 2/252 ~ 0.008, so small runs can never be called significant — by design.
    """
    ratio = ratio_of_medians(a, b)
    p_value = mann_whitney(a, b)
    beyond = ratio > factor or ratio < 1.0 / factor
    return (p_value < p and beyond), ratio, p_value
