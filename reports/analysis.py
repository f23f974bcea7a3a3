"""What the report says, computed with pandas from a `Run`'s frames (no formatting, no HTML).

Speed-up everywhere means a ratio of medians: median(baseline) / median(case), > 1 = faster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from bench.timing import passes, stats
from reports import cells

# The dimension-matching question per family (He et al. 2015 options B vs A; MobileNetV2's paper
# rule vs an every-block projection): the variant that adds parameters, against the family's
# baseline (the registry's VariantInfo.baseline). Families the registry does not know fall back
# to the first parameter-free shortcut present.
COMPARED_SHORTCUT = "projection"
FALLBACK_REFERENCES = ("zeropad", "paper", "none", "plain")
SWEEP_PREFIX = "rnn-"  # a sweep's group is "rnn-<swept param>" (bench.timing.cases)


# What a verdict was drawn over (reports.analysis.verdict_units), in words for the tables
BASIS_WORDS = {"adjusted": "passes, for the control", "passes": "passes",
               "repetitions": "repetitions",
               "undecided": "undecided: the runs sat in different machine states, and the "
                            "verdict depends on how those states are read",
               "fast": "passes both runs spent in the machine's fast state",
               "apart": "undecided: the two runs' controls lie too far apart "
                        "(reports.matching.controls_apart)",
               "shared": "withdrawn: within the factor of how far all the cases moved "
                         "(reports.matching.shared_movement)",
               "relative": "beyond the factor of how far all the cases moved "
                           "(reports.matching.shared_movement)",
               "together": "undecided: at one commit, setup and machine all the cases moved "
                           "together beyond 1.2x (reports.matching.shared_movement)"}


def verdict_units(a: pd.Series, b: pd.Series, adjusted: bool,
                  same_case: bool = False) -> tuple[list, list, str]:
    """The units B against A is judged over (rows of bench frames), and their basis: passes
    adjusted for their controls when `adjusted` (one machine and device, one control) and both
    sides have controls (by state, bench.timing.passes.state_adjusted, when the machine shows a
    fast and a slow state, `pair_split`; else by the slope on the control,
    passes.control_adjusted), raw passes otherwise, repetitions when a side has no passes
    (older files). Basis "undecided" (raw passes): the pair is judged by state but cannot be
    (passes.state_undecided); its verdict is then "same". `same_case`: A and B are one case in
    two runs (compare), not two cases of one run."""
    if len(a["pass_raw"]) and len(b["pass_raw"]):
        if adjusted and len(a["pass_control"]) and len(b["pass_control"]):
            split = pair_split(a, b)
            if split is not None:
                units_a, units_b, factor = passes.state_adjusted(
                    a["pass_raw"], a["pass_control"], b["pass_raw"], b["pass_control"], split,
                    same_case)
                if factor is None:
                    return units_a, units_b, "undecided"
            else:
                units_a, units_b, _ = passes.control_adjusted(a["pass_raw"], a["pass_control"],
                                                              b["pass_raw"], b["pass_control"])
            return units_a, units_b, "adjusted"
        return a["pass_raw"], b["pass_raw"], "passes"
    return a["rep_samples"], b["rep_samples"], "repetitions"


def pair_split(a: pd.Series, b: pd.Series) -> float | None:
    """The fast/slow state threshold for judging B against A on one machine: the mean of the
    two runs' own (`control_split`), or the one that found two states (a run spent wholly in
    one state finds none), or None (no states: the slope on the control is used)."""
    splits = [s for s in (a.get("control_split"), b.get("control_split"))
              if s is not None and not pd.isna(s)]
    return float(sum(splits) / len(splits)) if splits else None


def verdict(a: pd.Series, b: pd.Series, key: str, adjusted: bool) -> stats.Verdict:
    """B against A by the verdict rule (bench.timing.stats.compare) over `verdict_units`; the
    repetitions it needs are counted as processes, never as passes."""
    return verdict_with_basis(a, b, key, adjusted)[0]


def verdict_with_basis(a: pd.Series, b: pd.Series, key: str, adjusted: bool,
                       same_case: bool = False) -> tuple[stats.Verdict, str]:
    """`verdict`, and the basis its units were drawn on (`verdict_units`)."""
    units_a, units_b, basis = verdict_units(a, b, adjusted, same_case)
    repetitions = min(len(a["rep_samples"]), len(b["rep_samples"]))
    v = stats.compare(units_a, units_b, key=key, repetitions=repetitions)
    if basis == "undecided" and same_case:
        robust = _under_either_factor(a, b, key, repetitions)
        if robust is not None:
            return robust, "adjusted"
    if basis == "undecided":  # the ratio and interval stay, as information; no verdict
        v = replace(v, verdict="same")
    return v, basis


def _under_either_factor(a: pd.Series, b: pd.Series, key: str,
                         repetitions: int) -> stats.Verdict | None:
    """One case in two runs whose own slow/fast factors disagree (passes.state_factor_choices):
    the verdict when adjusting by either run's factor gives the same one (of the two, the ratio
    nearer 1), else None (undecided)."""
    split = pair_split(a, b)
    sides = (a["pass_raw"], a["pass_control"], b["pass_raw"], b["pass_control"])
    choices = passes.state_factor_choices(*sides, split) if split is not None else []
    if not choices:
        return None
    verdicts = [stats.compare(*passes.state_adjusted(*sides, split, factor=f)[:2], key=key,
                              repetitions=repetitions) for f in choices]
    if len({v.verdict for v in verdicts}) > 1:
        return None
    return min(verdicts, key=lambda v: abs(math.log(v.ratio)))


def baseline_style() -> str:
    """The RNN style every other is measured against (the registry's StyleInfo.baseline)."""
    from implementations import rnn

    return next(info.name for info in rnn.describe() if info.baseline)


def reference_shortcuts() -> dict[str, str]:
    """Per CNN family, its paper-default shortcut (the registry's VariantInfo.baseline)."""
    from implementations import cnn

    return {info.family: info.shortcut for info in cnn.describe() if info.baseline}


def sweep_groups(bench: pd.DataFrame) -> list[str]:
    """The sweep groups present, sequence length first (it carries the linearity claim)."""
    groups = {g for gs in bench["groups"] for g in gs
              if str(g).startswith(SWEEP_PREFIX) and not cells.is_large(str(g))}  # not "rnn-large"
    return sorted(groups, key=lambda g: (sweep_param(g) != "seq_len", g))


def sweep_param(group: str) -> str:
    """The params key a sweep group varies: "rnn-seq_len" -> "seq_len"."""
    return group[len(SWEEP_PREFIX):]


def sweep_cases(bench: pd.DataFrame, group: str) -> pd.DataFrame:
    """The ok cases of a sweep with the swept value as column `x` (rows lacking it dropped)."""
    cases = ok_cases(bench, group)
    x = pd.to_numeric(cases["params"].map(lambda p: p.get(sweep_param(group))), errors="coerce")
    return cases.assign(x=x.astype(float)).dropna(subset=["x"])


def in_group(bench: pd.DataFrame, group: str) -> pd.Series:
    """Cases shown in `group`: a case lists every group it belongs to (a sweep point equal to
    the main case is one record in several groups)."""
    return bench["groups"].map(lambda groups: group in groups).astype(bool)


def ok_cases(bench: pd.DataFrame, group: str | None = None) -> pd.DataFrame:
    """Cases that ran and have a median, optionally of one group."""
    mask = (bench["status"] == "ok") & bench["median"].notna()
    if group is not None:
        mask &= in_group(bench, group)
    return bench[mask]


def with_speedup(cases: pd.DataFrame) -> pd.DataFrame:
    """Add `speedup_native`: the native median of the same workload divided by this median.

    The workload is (device, pass, params); a schema-1 file may hold the same workload twice
    (main group and sweep), in which case the first native record is the reference.
    """
    keys = ["device", "pass", "config"]
    native = cases[cases["implementation"] == baseline_style()].set_index(keys)["median"]
    native = native[~native.index.duplicated()].rename("native_median")
    merged = cases.join(native, on=keys)
    return merged.assign(speedup_native=merged["native_median"] / merged["median"])


def peak_fraction(cases: pd.DataFrame, calibration: dict | None) -> pd.Series:
    """Each case's achieved GFLOP/s over the calibrated GEMM peak of its device (NaN unknown).

    The calibration's `gemm_gflops` is the run device's peak; a CPU case in a GPU run is
    measured against `host_gemm_gflops`.
    """
    if not calibration:
        return pd.Series(float("nan"), index=cases.index, dtype=float)
    peaks = {calibration.get("device"): calibration.get("gemm_gflops")}
    if calibration.get("device") != "cpu":
        peaks["cpu"] = calibration.get("host_gemm_gflops")
    peak = pd.to_numeric(cases["device"].map(peaks), errors="coerce")
    return (cases["gflops"] / peak).astype(float)


def linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line y = slope * x + intercept and its R² (NaN when undefined)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2 or np.ptp(x) == 0:
        return math.nan, math.nan, math.nan
    slope, intercept = np.polyfit(x, y, 1)
    total = float(((y - y.mean()) ** 2).sum())
    residual = float(((y - (slope * x + intercept)) ** 2).sum())
    r2 = 1.0 - residual / total if total > 0 else 1.0
    return float(slope), float(intercept), r2


def sweep_fits(bench: pd.DataFrame, group: str) -> pd.DataFrame:
    """Per (device, pass, style) of a sweep group: slope, intercept, R², number of points."""
    rows = []
    for (device, pass_, impl), part in sweep_cases(bench, group).groupby(
            ["device", "pass", "implementation"], sort=True):
        slope, intercept, r2 = linear_fit(part["x"].to_numpy(), part["median"].to_numpy())
        rows.append({"device": device, "pass": pass_, "implementation": impl, "slope": slope,
                     "intercept": intercept, "r2": r2, "points": len(part)})
    return pd.DataFrame(rows, columns=["device", "pass", "implementation", "slope", "intercept",
                                       "r2", "points"])


def _timing(cnn: pd.DataFrame, pass_: str) -> pd.DataFrame:
    part = cnn[cnn["pass"] == pass_].set_index(["device", "family", "shortcut"])
    return part[["median", "iqr", "q1", "q3", "gflops"]].add_prefix(f"{pass_}_")


def accuracy_over_seeds(training: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Finished training runs grouped by `keys`: final accuracy mean/sd over seeds, the seed
    count, median time-to-target and how many seeds reached it, and the runs' shared facts."""
    done = training[(training["status"] == "ok") & training["final_acc"].notna()]
    grouped = done.groupby(keys, sort=True)
    return pd.DataFrame({
        "seeds": grouped["final_acc"].count(),
        "acc_mean": grouped["final_acc"].mean(), "acc_sd": grouped["final_acc"].std(ddof=1),
        "loss_mean": grouped["final_loss"].mean(),
        "ttt_median": grouped["time_to_target_s"].median(),
        "reached": grouped["time_to_target_s"].count(),
        "target_acc": grouped["target_acc"].first(),
        "epochs": grouped["epochs"].agg(lambda s: max((len(e) for e in s), default=0)),
        "images_per_s": grouped["images_per_s"].median(),
        "params_count": grouped["params_count"].first(), "flops": grouped["flops"].first(),
        "device_first": grouped["device"].first(),
    })


def _accuracy(training: pd.DataFrame) -> pd.DataFrame:
    named = training.rename(columns={"model": "family", "variant": "shortcut"})
    return accuracy_over_seeds(named, ["device", "family", "shortcut"])[
        ["acc_mean", "acc_sd", "seeds", "params_count", "flops"]]


def cnn_summary(bench: pd.DataFrame, training: pd.DataFrame) -> pd.DataFrame:
    """One row per (device, family, shortcut): timings joined with accuracy over seeds.

    Training entries join CNN cases on model == family and variant == shortcut; training runs of
    other models (e.g. the row-by-row RNN classifier) stay out of this table.
    """
    cnn = ok_cases(bench, "cnn")
    if cnn.empty:
        return pd.DataFrame()
    timing = _timing(cnn, "inference").join(_timing(cnn, "train_step"), how="outer")
    table = timing.join(_accuracy(training), how="left").reset_index()
    # as bench.cases names it; astype(str) on both sides: with pyarrow installed, pandas 3.0 stores
    # strings as 'str' and refuses to add them to an object column (seen on the GPU machine)
    table["implementation"] = table["family"].astype(str) + "/" + table["shortcut"].astype(str)
    time_col = "train_step_median" if table["train_step_median"].notna().any() \
        else "inference_median"
    table["pareto"] = pareto_front(table[time_col].to_numpy(), table["acc_mean"].to_numpy())
    return table.sort_values(["device", "family", "shortcut"]).reset_index(drop=True)


def pareto_front(times: np.ndarray, accs: np.ndarray) -> np.ndarray:
    """True where no other point is at least as fast and as accurate, and better in one."""
    times, accs = np.asarray(times, float), np.asarray(accs, float)
    valid = ~(np.isnan(times) | np.isnan(accs))
    front = np.zeros(times.shape, dtype=bool)
    for i in np.flatnonzero(valid):
        dominated = valid & (times <= times[i]) & (accs >= accs[i]) & \
            ((times < times[i]) | (accs > accs[i]))
        front[i] = not dominated.any()
    return front


@dataclass(frozen=True)
class CnnVerdict:
    """What adding parameters to the shortcut bought in one family."""

    device: str
    family: str
    compared: str
    reference: str
    pass_: str | None  # the pass the time ratio uses; None when neither was timed
    time_change: float | None  # median ratio - 1, > 0 = slower
    acc_delta: float | None  # compared - reference, in accuracy fraction
    spread: float | None  # sd of a difference of two single runs; None with < 2 seeds
    seeds: int


def _reference(family: str, shortcuts: set[str]) -> str | None:
    preferred = reference_shortcuts().get(family)
    if preferred in shortcuts:
        return preferred
    return next((s for s in FALLBACK_REFERENCES if s in shortcuts), None)


def _time_change(a: pd.Series, b: pd.Series) -> tuple[str | None, float | None]:
    for pass_ in ("train_step", "inference"):
        if pd.notna(a[f"{pass_}_median"]) and pd.notna(b[f"{pass_}_median"]):
            return pass_, float(a[f"{pass_}_median"] / b[f"{pass_}_median"] - 1)
    return None, None


def _spread(a: pd.Series, b: pd.Series) -> tuple[float | None, int]:
    seeds = int(min(a["seeds"] if pd.notna(a["seeds"]) else 0,
                    b["seeds"] if pd.notna(b["seeds"]) else 0))
    if seeds < 2 or pd.isna(a["acc_sd"]) or pd.isna(b["acc_sd"]):
        return None, seeds
    return float(math.hypot(a["acc_sd"], b["acc_sd"])), seeds


def cnn_verdicts(summary: pd.DataFrame) -> list[CnnVerdict]:
    """One verdict per (device, family) that has both a projection and a parameter-free variant."""
    out = []
    if summary.empty:
        return out
    for (device, family), part in summary.groupby(["device", "family"], sort=True):
        rows = part.set_index("shortcut")
        reference = _reference(family, set(rows.index) - {COMPARED_SHORTCUT})
        if COMPARED_SHORTCUT not in rows.index or reference is None:
            continue
        a, b = rows.loc[COMPARED_SHORTCUT], rows.loc[reference]
        pass_, change = _time_change(a, b)
        delta = a["acc_mean"] - b["acc_mean"]
        spread, seeds = _spread(a, b)
        out.append(CnnVerdict(device, family, COMPARED_SHORTCUT, reference, pass_, change,
                              None if pd.isna(delta) else float(delta), spread, seeds))
    return out


def training_summary(training: pd.DataFrame) -> pd.DataFrame:
    """Per (label, device): seeds, final accuracy mean/sd, time-to-target (seeds that reached)."""
    if training.empty:
        return pd.DataFrame()
    return accuracy_over_seeds(training, ["label", "device"]).drop(
        columns=["params_count", "flops", "device_first"]).reset_index()


def failures(bench: pd.DataFrame, training: pd.DataFrame) -> pd.DataFrame:
    """Every case or training run that did not finish, with its reason."""
    cases = bench[bench["status"] != "ok"].assign(kind="benchmark")[
        ["kind", "name", "device", "status", "error"]]
    runs = training[training["status"] != "ok"].assign(
        kind="training", name=lambda t: t["label"].astype(str) + " seed " + t["seed"].astype(str))[
        ["kind", "name", "device", "status", "error"]]
    return pd.concat([cases, runs], ignore_index=True)
