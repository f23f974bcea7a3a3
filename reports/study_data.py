"""The numbers behind "Is dimension matching needed?" (issue #12), read from a results file.

Per CNN family and device, every shortcut mode is set against the family's paper default (the
registry's `VariantInfo.baseline`, via `analysis.reference_shortcuts`) on three measures, all
read from the results file:

- Time per train step: the ratio of the `cnn/<family>/<mode>/train_step/b<N>` median to the
  baseline's at the same batch (the largest batch both were timed at), with the 95 %
  hierarchical-bootstrap interval and verdict of `bench.timing.stats.compare` (via
  `ranking.versus`): a real difference only when the whole interval lies beyond 1.1x.
- Time to target, MLPerf Training style: a seed that never reached the target counts as
  infinitely slow, the median is taken over all seeds and the olympic mean drops the fastest and
  the slowest seed and averages the rest; either is "not reached" when an infinite time is left
  in it (MLPerf tolerates one run that does not converge). The range is over the seeds that
  reached the target.
- Final test accuracy, mean ± sd over seeds (`analysis.accuracy_over_seeds`). A time-to-accuracy
  run stops at its first evaluation at or above the target, so "final" is where it stopped.

The accuracy test is Welch's two-sample t-test (two-sided, alpha 0.05) on the per-seed final
accuracies: seeds are independent training runs, Welch does not assume the two variants share a
variance, and it needs only each side's mean, sd and seed count. A bootstrap interval over seeds
was not chosen: with 5 seeds a side it has few distinct resamples and its percentile interval is
known to be too narrow at such n. The difference is quoted ± its standard error
SE = sqrt(sd1²/n1 + sd2²/n2), with df from Welch-Satterthwaite. The minimum detectable
difference (MDD) is the true difference this many seeds with this spread would call significant
with 80 % probability: MDD = (t[1 - alpha/2, df] + t[power, df]) * SE. A "not significant" verdict
is only as strong as its MDD: differences below it cannot be ruled out. With one seed on a side
the spread is unknown and no test is made; identical accuracies on every seed leave nothing to
test against.

The verdict is indicative when a variant has one seed or the runs trained on part of the
training set (the `quick` profile); the section then names the command that gives the real one.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import pandas as pd
from scipy import stats as scipy_stats

from bench.timing import stats
from reports import analysis, ranking
from reports.load import Run

ALPHA = 0.05  # two-sided significance level of the accuracy test
POWER = 0.80  # the power at which the minimum detectable difference is quoted
MIN_SEEDS = 2  # fewer seeds on a side: no spread, so no test


# ---- statistics -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccuracyTest:
    """Welch's t-test of mode − baseline final accuracy (fractions) over seeds."""

    delta: float
    n_mode: int
    n_base: int
    se: float | None = None  # None: fewer than MIN_SEEDS on a side, or no spread at all
    t: float | None = None
    df: float | None = None
    p: float | None = None
    mdd: float | None = None  # minimum detectable difference at `power`, level `alpha`
    alpha: float = ALPHA

    @property
    def tested(self) -> bool:
        return self.p is not None

    @property
    def significant(self) -> bool:
        return self.p is not None and self.p < self.alpha


def welch(mean_mode: float, sd_mode: float, n_mode: int, mean_base: float, sd_base: float,
          n_base: int, alpha: float = ALPHA, power: float = POWER) -> AccuracyTest:
    """Welch's two-sided t-test of mean_mode − mean_base from each side's mean, sd (ddof 1), n."""
    delta = mean_mode - mean_base
    if min(n_mode, n_base) < MIN_SEEDS:
        return AccuracyTest(delta, n_mode, n_base, alpha=alpha)
    v_mode, v_base = sd_mode ** 2 / n_mode, sd_base ** 2 / n_base
    se = math.sqrt(v_mode + v_base)
    if se == 0:
        return AccuracyTest(delta, n_mode, n_base, alpha=alpha)
    df = (v_mode + v_base) ** 2 / (v_mode ** 2 / (n_mode - 1) + v_base ** 2 / (n_base - 1))
    t = delta / se
    p = float(2 * scipy_stats.t.sf(abs(t), df))
    mdd = float((scipy_stats.t.ppf(1 - alpha / 2, df) + scipy_stats.t.ppf(power, df)) * se)
    return AccuracyTest(delta, n_mode, n_base, se, t, df, p, mdd, alpha)


@dataclass(frozen=True)
class TimeToTarget:
    """One variant's time-to-target over its seeds, in seconds; inf = the seed never reached it."""

    times: tuple[float, ...]

    @property
    def seeds(self) -> int:
        return len(self.times)

    @property
    def reached(self) -> int:
        return sum(math.isfinite(t) for t in self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.inf

    @property
    def olympic(self) -> float | None:
        """Mean without the fastest and the slowest seed; None with fewer than 3 seeds."""
        if len(self.times) < 3:
            return None
        kept = sorted(self.times)[1:-1]
        return sum(kept) / len(kept)

    @property
    def range(self) -> tuple[float, float] | None:
        done = [t for t in self.times if math.isfinite(t)]
        return (min(done), max(done)) if done else None


# ---- the study, from a run ---------------------------------------------------------------------

@dataclass(frozen=True)
class Arm:
    """One shortcut mode of a family on a device: its seeds and its timed train step."""

    shortcut: str
    seeds: int
    acc_mean: float | None
    acc_sd: float | None
    ttt: TimeToTarget
    target: float | None
    step_median: float | None


@dataclass(frozen=True)
class Comparison:
    """One mode against the family's baseline."""

    arm: Arm
    step: stats.Verdict | None  # None: the train step of one side was not timed
    batch: int | None
    accuracy: AccuracyTest | None  # None: one side has no finished seed


@dataclass(frozen=True)
class Family:
    device: str
    family: str
    baseline: str
    base: Arm | None  # None: the baseline was neither trained nor timed
    comparisons: tuple[Comparison, ...]
    indicative: tuple[str, ...]  # why this verdict is only indicative; empty when it is not


def seed_runs(run: Run) -> pd.DataFrame:
    """The finished CNN training runs, one row per seed, with its curve and training images."""
    raw = run.data.get("training") or []
    frame = run.training.assign(curve=[list(e.get("curve") or []) for e in raw],
                                train_images=[e.get("train_images") for e in raw],
                                test_images=[e.get("test_images") for e in raw],
                                options=[e.get("options") for e in raw])
    families = set(analysis.reference_shortcuts())
    done = frame[(frame["status"] == "ok") & frame["model"].isin(families)
                 & frame["final_acc"].notna()]
    return done.rename(columns={"model": "family", "variant": "shortcut"})


def _steps(run: Run) -> pd.DataFrame:
    cases = analysis.ok_cases(run.bench, "cnn")
    cases = cases[(cases["pass"] == "train_step")
                  & cases["rep_samples"].map(lambda reps: any(len(r) for r in reps))]
    return cases.assign(batch=cases["params"].map(lambda p: p.get("batch")))


def _arm(shortcut: str, runs: pd.DataFrame, step: pd.DataFrame) -> Arm:
    acc = analysis.accuracy_over_seeds(runs, ["shortcut"])
    row = acc.iloc[0] if len(acc) else None
    times = tuple(math.inf if pd.isna(t) else float(t) for t in runs["time_to_target_s"])

    def value(key: str) -> float | None:
        return None if row is None or pd.isna(row[key]) else float(row[key])

    return Arm(shortcut, len(runs), value("acc_mean"), value("acc_sd"), TimeToTarget(times),
               value("target_acc"), None if step.empty else float(step.iloc[-1]["median"]))


def _step_verdict(base: pd.DataFrame, mode: pd.DataFrame) -> tuple[stats.Verdict | None,
                                                                   int | None]:
    common = sorted(set(base["batch"].dropna()) & set(mode["batch"].dropna()))
    if not common:
        return None, None
    a = base[base["batch"] == common[-1]].iloc[0]
    b = mode[mode["batch"] == common[-1]].iloc[0]
    return ranking.versus(a, b), int(common[-1])


def _accuracy(arm: Arm, base: Arm | None) -> AccuracyTest | None:
    if base is None or arm.acc_mean is None or base.acc_mean is None:
        return None
    return welch(arm.acc_mean, arm.acc_sd or 0.0, arm.seeds, base.acc_mean, base.acc_sd or 0.0,
                 base.seeds)


def _indicative(runs: pd.DataFrame, dataset: dict) -> tuple[str, ...]:
    if runs.empty:
        return ()
    reasons = []
    per_mode = runs.groupby("shortcut")["seed"].nunique()
    if per_mode.min() < MIN_SEEDS:
        reasons.append("one seed per variant" if per_mode.max() < MIN_SEEDS
                       else "one seed for some variants")
    used, full = runs["train_images"].max(), dataset.get("train_count")
    if pd.notna(used) and full and used < full:
        reasons.append(f"short training on {int(used):,} of the {int(full):,} training images")
    tested, all_test = runs["test_images"].min(), dataset.get("test_count")
    if pd.notna(tested) and all_test and tested < all_test:
        reasons.append(f"accuracy on {int(tested):,} of the {int(all_test):,} test images")
    if dataset.get("subset"):
        reasons.append("the bundled subset of MNIST")
    return tuple(reasons)


def _modes(family: str, present: set[str]) -> list[str]:
    from implementations import cnn

    order = [s for f, s in cnn.variants() if f == family]
    return [s for s in order if s in present] + sorted(present - set(order))


def _family(device: str, family: str, baseline: str, runs: pd.DataFrame, steps: pd.DataFrame,
            dataset: dict) -> Family:
    def arm(shortcut: str) -> Arm:
        return _arm(shortcut, runs[runs["shortcut"] == shortcut],
                    steps[steps["shortcut"] == shortcut].sort_values("batch"))

    present = set(runs["shortcut"]) | set(steps["shortcut"])
    base = arm(baseline) if baseline in present else None
    comparisons = []
    for shortcut in _modes(family, present - {baseline}):
        mode = arm(shortcut)
        verdict, batch = _step_verdict(steps[steps["shortcut"] == baseline],
                                       steps[steps["shortcut"] == shortcut])
        comparisons.append(Comparison(mode, verdict, batch, _accuracy(mode, base)))
    return Family(device, family, baseline, base, tuple(comparisons),
                  _indicative(runs, dataset))


def families(run: Run) -> list[Family]:
    """One study per (device, family) that was trained or timed, in registry order."""
    runs, steps = seed_runs(run), _steps(run)
    dataset = run.data.get("dataset") or {}
    out = []
    for family, baseline in analysis.reference_shortcuts().items():
        f_runs, f_steps = runs[runs["family"] == family], steps[steps["family"] == family]
        for device in sorted(set(f_runs["device"]) | set(f_steps["device"])):
            out.append(_family(device, family, baseline, f_runs[f_runs["device"] == device],
                               f_steps[f_steps["device"] == device], dataset))
    return out



def median_seeds(runs: pd.DataFrame) -> pd.Series:
    """True on each shortcut's median seed: seeds ordered by time to target (a seed that missed
    last, ties by final accuracy, best first), the middle one (the lower middle of an even n)."""
    ordered = runs.assign(_t=runs["time_to_target_s"].fillna(math.inf),
                          _a=-runs["final_acc"]).sort_values(["_t", "_a", "seed"])
    picks = {group.index[(len(group) - 1) // 2]
             for _, group in ordered.groupby(["device", "family", "shortcut"])}
    return pd.Series(runs.index.isin(list(picks)), index=runs.index)
