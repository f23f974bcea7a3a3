"""Number formatting for reports: every number leaves here with its unit.

Pure functions over numbers; `None` (and NaN / pd.NA, pandas' "missing") becomes an em dash so a
missing value never reads as zero.
"""

from __future__ import annotations

import math

import pandas as pd

DASH = "—"

# (threshold in seconds, unit, scale): the first unit whose threshold the value reaches.
_DURATION_UNITS = ((1.0, "s", 1.0), (1e-3, "ms", 1e3), (0.0, "µs", 1e6))


def missing(value: object) -> bool:
    """True for None, NaN and pd.NA (pandas' missing markers)."""
    if value is None or isinstance(value, (str, bytes, list, tuple, dict)):
        return value is None
    return bool(pd.isna(value))


def _sig(value: float, digits: int = 3) -> str:
    """`value` with `digits` significant digits, no exponent for the ranges reports show."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:.{decimals}f}"


def duration_unit(seconds: float) -> tuple[str, float]:
    """The unit `duration` would use for `seconds`, and the factor that converts to it."""
    for threshold, unit, scale in _DURATION_UNITS:
        if abs(seconds) >= threshold:
            return unit, scale
    return "µs", 1e6


def duration(seconds: float | None) -> str:
    """Adaptive unit: 0.0123 -> '12.3 ms', 4.5e-6 -> '4.50 µs', 75.2 -> '75.2 s'."""
    if missing(seconds):
        return DASH
    unit, scale = duration_unit(seconds)
    return f"{_sig(seconds * scale)} {unit}"


def duration_spread(median: float | None, iqr: float | None) -> str:
    """'12.3 ms (IQR 400 µs)': a median with its spread."""
    if missing(median):
        return DASH
    return f"{duration(median)} (IQR {duration(iqr)})"


def ratio(value: float | None) -> str:
    """A speed-up or time ratio: 3.456 -> '3.46×'."""
    if missing(value):
        return DASH
    return f"{_sig(value)}×"


def ratio_interval(low: float, high: float) -> str:
    """An interval of ratios: (1.123, 1.456) -> '[1.12–1.46×]'."""
    return f"[{ratio(low)[:-1]}–{ratio(high)}]"


def run_label(i: int) -> str:
    """The name of the i-th (0-based) run of a comparison: 'Run 1'."""
    return f"Run {i + 1}"


def percent(fraction: float | None, signed: bool = False) -> str:
    """0.1234 -> '12.3 %'; with signed=True '+12.3 %'."""
    if missing(fraction):
        return DASH
    text = f"{fraction * 100:.1f} %"
    return f"+{text}" if signed and fraction >= 0 else text


def accuracy(fraction: float | None) -> str:
    """Test accuracy as a percentage with two decimals: 0.99123 -> '99.12 %'."""
    if missing(fraction):
        return DASH
    return f"{fraction * 100:.2f} %"


def accuracy_spread(mean: float | None, sd: float | None, n: int) -> str:
    """'99.12 % ± 0.05 (3 seeds)', or '99.12 % (1 seed)' when there is no spread to show."""
    if missing(mean):
        return DASH
    if n < 2 or missing(sd):
        return f"{accuracy(mean)} (1 seed)"
    return f"{accuracy(mean)} ± {sd * 100:.2f} ({n} seeds)"


def points(delta: float | None) -> str:
    """A difference of two accuracies in percentage points: 0.0012 -> '+0.12 points'."""
    if missing(delta):
        return DASH
    return f"{delta * 100:+.2f} points"


def count(n: float | None) -> str:
    """Parameter counts: 11173962 -> '11.2 M', 2436 -> '2.44 k'."""
    if missing(n):
        return DASH
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{_sig(n / scale)} {suffix}"
    return f"{int(n)}" if float(n).is_integer() else _sig(n)


def flops(n: float | None) -> str:
    """FLOPs per image with an SI prefix: 5.6e8 -> '560 MFLOP'."""
    if missing(n):
        return DASH
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{_sig(n / scale)} {prefix}FLOP"
    return f"{int(n)} FLOP"


def rate(per_second: float | None, unit: str = "images/s") -> str:
    """Throughput: 12345.6 -> '12.3 k images/s'."""
    if missing(per_second):
        return DASH
    return f"{count(per_second)} {unit}"


def text(value: object) -> str:
    """Any other value as text; missing becomes a dash, booleans 'yes'/'no'."""
    if missing(value):
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def durations(values: list[float] | tuple[float, ...]) -> str:
    """Several durations in one unit (the largest's): [0.00102, 0.00099] -> '1.02, 0.990 ms'."""
    values = [v for v in values if not missing(v)]
    if not values:
        return DASH
    unit, scale = duration_unit(max(values))
    return ", ".join(_sig(v * scale) for v in values) + f" {unit}"


def gflops(value: float | None) -> str:
    """Achieved throughput: 15.99 -> '16.0 GFLOP/s'."""
    if missing(value):
        return DASH
    return f"{_sig(value)} GFLOP/s"
