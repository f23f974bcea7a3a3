"""Pure arithmetic over timing samples (seconds): the noise flag and significance.

No torch and no I/O here, so the report side can import it and the tests can pin every number
by hand. pytest-benchmark computes each case's summary statistics; significance follows asv's
rule (Mann-Whitney U p < 0.002 and a median ratio beyond 1.1x either way).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

# asv: `asv.statistics.is_different(..., p_threshold=0.002)` and `asv compare --factor 1.1`. A
# change counts only when BOTH hold — either alone flags run-to-run noise as a change.
SIGNIFICANCE_P = 0.002
SIGNIFICANCE_FACTOR = 1.1
NOISY_IQR_FRACTION = 0.10


def noisy(iqr: float, median: float, threshold: float = NOISY_IQR_FRACTION) -> bool:
    """True when the spread (iqr / median) exceeds `threshold`: the median is unreliable.

    A median <= 0 cannot be a measured duration; any spread around it counts as noise.
    """
    if median <= 0:
        return iqr > 0
    return iqr / median > threshold


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
