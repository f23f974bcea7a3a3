"""The verdict units of a case (its passes) and their adjustment for the machine's slow phases.

A case is timed in passes, each a few rounds with a control workload timed just before it
(bench.timing.harness, bench.timing.calibrate.Control); the pass is the unit that
bench.timing.stats.compare resamples. No torch and no I/O here.

Between two measurements on one machine and device (an A/A pair, two styles in one run) the
samples are first adjusted for the control (`adjusted` units): a slow phase that slows the case
slows the control timed next to it. How much a case follows its control differs by case (on
the 2-core machine a small-op RNN step follows it almost one for one, a CNN step about 0.65, the
seed's memory-bound bmm about 0.45: slopes of the case's pass medians on their controls, inside
repetitions, in logs), so each sample is multiplied by (c_ref / c)^theta, where c is its pass's
control, c_ref the median control of both sides, and theta the slope of the two cases' pass
medians on their controls (both sides pooled, each repetition centred on itself so the
difference between the sides never enters it), divided by the control's reliability (its own
measurement noise flattens the slope: regression dilution) and clipped to [0, 1]. theta 1 is
dividing by the control; theta 0 is the raw samples. Measured on 13 pairs of runs on the 2-core
machine (6 quick A/A pairs, 4 quick pairs with three cases slowed 1.25x, a smoke A/A pair and 2
smoke pairs with two cases slowed 1.3x): dividing by the control called 4 unchanged cases
different and missed 4 of 16 slowed ones; this rule called 2 and missed 4. The pooled lower
quartile in place of the median (for cases whose passes fall into a fast and a slow mode) was
tried on 32 pairs of the second series (every two A/A runs of one profile, up to an hour apart,
and 11 power pairs): it caught 26 of 29 slowed cases where the median caught 23, but called 19
unchanged cases different where the median called 15, so the median stays.

Some machines have discrete states instead: on a 2-core AMD EPYC (AVX-512) VM every pass's
control is either ~0.39 ms or ~0.47 ms (1.2x), while a small-op RNN step in the slow state takes
1.7-2x its fast time (rnn/native/forward: 1.08 ms or 2.15 ms), states lasting a whole 40-s
repetition or more, and one quick run spent 20 of its 21 passes in the slow state. A slope
clipped at 1 cannot take a 2x response to a 1.2x control out: there the rule above called 13 to
37 of 70 unchanged cases different between that run and three others. So when a run's controls
fall into two classes more than 5 % apart (`state_split`: Otsu's threshold on the log controls,
over every pass of every case of the run on that device; a pair of runs takes the mean of the
runs' thresholds, or the one that has one), the adjustment is by state (`state_adjusted`): each
case's passes in the slow state are divided by the case's own slow/fast ratio, measured inside
each run (the same code in both states) and pooled over both. On 13 pairs of runs on that
machine (4 quick runs and 1 with three cases slowed 1.25x, 2 smoke runs and 1 with two cases
slowed 1.3x: 6 quick A/A pairs, 4 quick and 2 smoke power pairs, 1 smoke A/A pair) it caught
16 of the 16 slowed cases and called 1 of 753 unchanged comparisons different (the seed's
lstm/bmm/forward, 0.58x: a memory-bound case whose slow passes in one run were not the state);
the slope rule caught 13 of 16 and called 85.

A case's own slow/fast ratio is measured from a side with at least 3 passes in each state (a
lone pass at a state change is often half in the other state), else from any side that saw
both. A pair in which no side has 3 passes in each state while the sides' shares of slow
passes differ by more than a half is undecided (`state_undecided`; verdict "same", basis
"undecided"): two 40-s smoke runs, one wholly fast and one wholly slow, had small-op RNN steps
1.2-1.65x slower in the second while the control moved 1.15x, and judged by the control's ratio
6 of 23 unchanged cases were called slower. Over 46 pairs of three series on that machine
(the 13 above; 13 more alike; 20 from 5 smoke runs and 1 with two cases slowed 1.3x, 5 quick
runs and 1 with three slowed 1.25x), the rule with this change caught 60 of 60 slowed cases and
called 6 of 2408 unchanged comparisons different: 5 in 2 of the 8 smoke A/A pairs, where one
run's fast-state passes were themselves slower than the other's, and the seed's lstm/bmm one
above, timed before bench.system.allocator; 53 were undecided. A pair is also undecided when
both runs measured the case's slow/fast ratio and the two disagree by more than 1.3x (a third
state: see `state_undecided`). Over 66 pairs of five series (the 46; 20 more from 4 smoke runs,
one with one case and one with two cases slowed 1.3x, and 3 quick runs and 1 with three slowed
1.25x), the rule with that check caught 81 of 81 slowed cases and called 7 of 3129 unchanged
comparisons different (the 6 above and one 1.17x in a smoke power pair), 193 undecided; without
it, 23, 16 of them in one quick A/A pair, 108 undecided. compare then withdraws 4 of those 7
(reports.matching.shared_movement). A pair left undecided only because the two runs' factors
disagree is decided when adjusting by either run's factor gives the same verdict
(`state_factor_choices`): over the 66 pairs 134 stay undecided, with the same 81 caught and 3
called; on a sixth series (4 smoke and 4 quick A/A runs, a smoke run with 2 cases slowed 1.3x
and a quick one with 3 slowed 1.25x: 12 A/A and 8 power pairs) the rule caught 20 of 20 slowed
cases, one of which the disagreement alone had left undecided, and called none of 910
unchanged. Across devices or machines the controls differ, so the raw samples are compared.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np

# The share of the control's pass-to-pass variance that is the machine rather than the control's
# own noise: a within-run slope is divided by it (regression dilution). Chosen on the 13 pairs
# of runs in the module docstring (0.8 and 1.0 called 3 and 3 unchanged cases, 0.7 called 2).
CONTROL_RELIABILITY = 0.7
# Two states: a machine whose controls fall into a fast and a slow class further apart than this
# is judged by state (state_split, state_adjusted), not by the slope on the control
STATE_MIN_GAP = 0.05
# A side measures a case's own slow/fast ratio from at least this many passes in each state (a
# single pass at a state change was often half in the other state)
STATE_MIN_PASSES = 3
# Without such a side, sides whose shares of slow passes differ by more than this are undecided
STATE_UNDECIDED_SHARE = 0.5
# Two sides that each measured the case's slow/fast ratio (from at least STATE_AGREE_PASSES
# passes in each state) and disagree by more than STATE_FACTOR_SPREAD are undecided too: the
# two states did not mean the same for that case in both runs (chosen on the 66 pairs in the
# module docstring: 1.25 and 1.3 called 7 unchanged cases different, 1.4 called 10; 1.3 left
# fewer undecided)
STATE_AGREE_PASSES = 2
STATE_FACTOR_SPREAD = 1.3


def pass_units(repetitions: Sequence[dict], adjusted: bool) -> list[list[float]]:
    """The verdict units of a case's ok repetitions (results.json dicts): one list of rounds per
    pass, divided by that pass's control when `adjusted`; [] when the repetitions have no passes
    (older files) or, adjusted, when a pass has no control."""
    units = []
    for rep in repetitions:
        samples, passes = list(rep["stats"]["samples"]), rep.get("passes") or []
        if not passes or sum(p["rounds"] for p in passes) != len(samples):
            return []
        start = 0
        for p in passes:
            chunk = samples[start:start + p["rounds"]]
            start += p["rounds"]
            if adjusted:
                if not p.get("control_s"):
                    return []
                chunk = [v / p["control_s"] for v in chunk]
            if chunk:
                units.append(chunk)
    return units


def pass_controls(repetitions: Sequence[dict]) -> list[tuple[int, float]]:
    """Per unit of `pass_units(repetitions, adjusted=False)`, in the same order: (the
    repetition's position, its pass's control in seconds); [] where a unit has no control."""
    controls = []
    for position, rep in enumerate(repetitions):
        samples, passes = rep["stats"]["samples"], rep.get("passes") or []
        if not passes or sum(p["rounds"] for p in passes) != len(samples):
            return []
        for p in passes:
            if p["rounds"] == 0:
                continue
            if not p.get("control_s"):
                return []
            controls.append((position, float(p["control_s"])))
    return controls


def control_slope(sides: Sequence[tuple[Sequence[Sequence[float]], Sequence[tuple[int, float]]]],
                  reliability: float = CONTROL_RELIABILITY) -> float:
    """theta (module docstring): the slope of log pass medians on log controls, every side's
    repetitions centred on themselves, divided by `reliability`, clipped to [0, 1]. 1 when no
    repetition's control varied (nothing says the case does not follow it)."""
    sxy = sxx = 0.0
    for units, controls in sides:
        by_rep: dict[int, list[tuple[float, float]]] = {}
        for unit, (rep, control) in zip(units, controls, strict=True):
            by_rep.setdefault(rep, []).append(
                (math.log(control), math.log(statistics.median(unit))))
        for points in by_rep.values():
            if len(points) < 2:
                continue
            x, y = np.array(points).T
            x, y = x - x.mean(), y - y.mean()
            sxy += float(x @ y)
            sxx += float(x @ x)
    if sxx <= 1e-12:
        return 1.0
    return min(max(sxy / sxx / reliability, 0.0), 1.0)


def control_adjusted(a: Sequence[Sequence[float]], a_controls: Sequence[tuple[int, float]],
                     b: Sequence[Sequence[float]], b_controls: Sequence[tuple[int, float]]
                     ) -> tuple[list[list[float]], list[list[float]], float]:
    """Both sides' units, each sample times (c_ref / c)^theta (module docstring), and theta."""
    theta = control_slope([(a, a_controls), (b, b_controls)])
    ref = statistics.median([c for _, c in [*a_controls, *b_controls]])

    def adjusted(units, controls):
        return [[v * (ref / c) ** theta for v in unit]
                for unit, (_, c) in zip(units, controls, strict=True)]
    return adjusted(a, a_controls), adjusted(b, b_controls), theta


def state_split(controls: Sequence[float], min_gap: float = STATE_MIN_GAP) -> float | None:
    """The log-control threshold between a machine's fast and slow state, or None when its
    controls show no two states. Otsu's split (the largest between-class variance) of the log
    controls, their outer 2 % each side left out so a few stray passes cannot make a class of
    their own; None unless the two classes' means are more than `min_gap` (5 %) apart."""
    x = np.sort(np.log(np.asarray([c for c in controls if c > 0], dtype=float)))
    if len(x) >= 50:
        low, high = np.percentile(x, [2, 98])
        x = x[(x >= low) & (x <= high)]
    if len(x) < 4:
        return None
    n, total = len(x), x.sum()
    left = np.cumsum(x)[:-1]  # sums of the first i values, i = 1 .. n-1
    i = np.arange(1, n)
    between = i * (n - i) * (left / i - (total - left) / (n - i)) ** 2
    k = int(np.argmax(between)) + 1  # the first k values are the fast class
    if x[k:].mean() - x[:k].mean() <= math.log1p(min_gap):
        return None
    return float((x[k - 1] + x[k]) / 2)


def state_adjusted(a: Sequence[Sequence[float]], a_controls: Sequence[tuple[int, float]],
                   b: Sequence[Sequence[float]], b_controls: Sequence[tuple[int, float]],
                   split: float, same_case: bool = False, factor: float | None = None
                   ) -> tuple[list[list[float]], list[list[float]], float | None]:
    """Both sides' units with the slow state's passes brought to the fast state, and the factor
    they were divided by (module docstring); the factor is None, and the units are returned as
    they are, when the pair cannot be judged by state (`state_undecided`). A pass is slow when
    its log control lies above `split` (`state_split`). The factor is the case's own: per side,
    the median of its slow passes' medians over the median of its fast passes' (the same code in
    both states), the sides pooled on the log scale weighted by the fewer passes of the two
    states, from the sides with STATE_MIN_PASSES in each state, else from any side that saw
    both; a case no side saw in both states takes the control's own ratio between the states.
    `same_case`: the sides are one case in two runs (compare), whose ratios should agree; two
    styles in one run respond to the states each in its own way. `factor`: divide by this one
    instead (one of `state_factor_choices`), undecided or not."""
    sides = [_by_state(units, controls, split) for units, controls in ((a, a_controls),
                                                                         (b, b_controls))]
    if factor is None:
        if state_undecided(sides, same_case):
            return [list(u) for u in a], [list(u) for u in b], None
        factor = _pooled_factor(sides)

    def adjusted(units, controls):
        return [[v / factor for v in unit] if math.log(c) > split else list(unit)
                for unit, (_, c) in zip(units, controls, strict=True)]
    return adjusted(a, a_controls), adjusted(b, b_controls), factor


def state_factor_choices(a: Sequence[Sequence[float]], a_controls: Sequence[tuple[int, float]],
                         b: Sequence[Sequence[float]], b_controls: Sequence[tuple[int, float]],
                         split: float) -> list[float]:
    """The two sides' own slow/fast factors when only their disagreement (more than
    STATE_FACTOR_SPREAD, `state_undecided` with `same_case`) leaves the pair undecided, else []:
    a verdict that comes out the same whichever side's factor is believed does not hang on
    which run's states were the real ones (reports.analysis.verdict_with_basis). Seen on the
    AVX-512 VM: a smoke run's two "slow" passes of rnn/jit/forward_backward were one control
    blip (the case at its fast time) and one real slow pass (1.46x), against 1.63x in the
    other run, and the case, slowed 1.3x in the other run, was left undecided at 1.55x raw."""
    sides = [_by_state(units, controls, split) for units, controls in ((a, a_controls),
                                                                         (b, b_controls))]
    if not state_undecided(sides, same_case=True) or state_undecided(sides):
        return []
    return [math.exp(max(statistics.median(slow) - statistics.median(fast), 0.0))
            for fast, slow, _, _ in sides]


def _pooled_factor(sides: Sequence[tuple[list[float], list[float], list[float], list[float]]]
                   ) -> float:
    """The case's own slow/fast factor pooled over the sides (`state_adjusted`)."""
    shift = 0.0
    for least in (STATE_MIN_PASSES, 1):
        measured = [(statistics.median(slow) - statistics.median(fast), min(len(fast), len(slow)))
                    for fast, slow, _, _ in sides if len(fast) >= least and len(slow) >= least]
        if measured:
            logs, weights = zip(*measured, strict=True)
            shift = float(np.average(logs, weights=weights))
            break
    else:
        fast_controls = [c for side in sides for c in side[2]]
        slow_controls = [c for side in sides for c in side[3]]
        if fast_controls and slow_controls:
            shift = statistics.median(slow_controls) - statistics.median(fast_controls)
    return math.exp(max(shift, 0.0))


def _by_state(units: Sequence[Sequence[float]], controls: Sequence[tuple[int, float]],
              split: float) -> tuple[list[float], list[float], list[float], list[float]]:
    """One side's log pass medians in the fast and the slow state, and its log controls in each."""
    fast, slow, fast_controls, slow_controls = [], [], [], []
    for unit, (_, control) in zip(units, controls, strict=True):
        slowed = math.log(control) > split
        (slow if slowed else fast).append(math.log(statistics.median(unit)))
        (slow_controls if slowed else fast_controls).append(math.log(control))
    return fast, slow, fast_controls, slow_controls


def state_undecided(sides: Sequence[tuple[list[float], list[float], list[float], list[float]]],
                    same_case: bool = False) -> bool:
    """True when a pair cannot be judged by state:
    - (`same_case`: one case in two runs) both sides measured the case's slow/fast ratio
      (STATE_AGREE_PASSES passes in each state) and the two differ by more than
      STATE_FACTOR_SPREAD. Seen on the AVX-512 VM: one quick
      run's "slow" passes were a third state, in which the control was slow but
      rnn/compile/forward_backward only 1.09x its fast time, while the other run's were 1.66x;
      the factor from the first called 15 of 70 unchanged cases slower (1.14-1.47x);
    - or no side has STATE_MIN_PASSES passes in each state (so how much this case slows in the
      slow state is not measured), while the sides' shares of slow passes differ by more than
      STATE_UNDECIDED_SHARE (so that unmeasured factor would decide the verdict). Seen there:
      two 40-s smoke runs, one wholly in the fast state and one wholly in the slow, where
      small-op RNN steps took 1.2-1.65x as long in the second while the control moved 1.15x;
      judged by the control's ratio, 6 of 23 unchanged cases were called slower."""
    own = [statistics.median(slow) - statistics.median(fast) for fast, slow, _, _ in sides
           if len(fast) >= STATE_AGREE_PASSES and len(slow) >= STATE_AGREE_PASSES]
    if same_case and len(own) == 2 and abs(own[0] - own[1]) > math.log(STATE_FACTOR_SPREAD):
        return True
    if any(len(fast) >= STATE_MIN_PASSES and len(slow) >= STATE_MIN_PASSES
           for fast, slow, _, _ in sides):
        return False
    shares = [len(slow) / (len(fast) + len(slow)) for fast, slow, _, _ in sides
              if fast or slow]
    return len(shares) == 2 and abs(shares[0] - shares[1]) > STATE_UNDECIDED_SHARE
