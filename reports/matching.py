"""Matching cases across runs and judging each difference (the arithmetic behind compare).

A case's identity is (name, device) (bench.store.results.IDENTITY); its baseline is the first run,
in the order given, where it ran. Whether a difference is real is bench.timing.stats.compare: the
ratio of medians with its hierarchical-bootstrap interval (passes, then rounds) must lie wholly
beyond 1.1x. On one machine and device the samples are first adjusted for the control timed
next to them, as far as the case follows it (reports.analysis.verdict_units), so a slow phase of
the machine is not called a regression; the raw ratio of medians is kept beside it
(`raw_ratio`). Files without passes resample repetitions; with one repetition per case (schema 1)
they compare, but their verdicts are always "same".

The calibration (a float32 GEMM timed in every repetition) is judged by the same rule, with each
repetition's GEMM rate as that repetition's one sample: the machine itself "moved" when the
interval of other / base lies wholly beyond 1.1x (or below 1 / 1.1x). With two repetitions a side
that means every repetition of one run beat every repetition of the other by more than the factor.

On one machine and device a case is also judged against the other cases of the same pair of runs
(`shared_movement`): a difference is called only when it lies beyond the factor from the median
movement of all the pair's cases too, unless that shared movement is itself beyond 1.2x; and a
case whose ratio lies beyond the factor, left "same" only because the whole pair moved the other
way, is called when it lies beyond the factor from that movement.
The control does not see every state of a shared machine: in two smoke A/A pairs on the 2-core
VM, one run's passes that the control read as fast were 1.1-1.25x slower in most cases, and 5
unchanged cases were called 1.14-1.28x faster while the median case moved 1.06-1.08x (this
withdraws 4 of them). Where the runs' machine states are ambiguous, a case is also judged under
two state thresholds and called only when both agree (`pooled_split`, `_either_split`), and
checked over the passes both runs spent in the fast state (`fast_state`): that decides a case
the states left undecided, and withdraws a call those passes place within the factor.
"""

from __future__ import annotations

import math
from collections.abc import Container

import numpy as np
import pandas as pd

from bench.store.results import IDENTITY
from bench.timing import passes, stats
from reports import analysis
from reports.load import Run

KEY = list(IDENTITY)
# The shared movement of a pair is the median over at least this many decided cases (fewer
# cannot outvote a changed case or two)
SHARED_MIN_CASES = 6
# ... held against only while it lies within this factor (beyond: a change every case shares).
# On the 2-core VM only one of 166 pairs moved beyond 1.1x: a smoke A/A pair, 1.135x, whose 4
# calls at 1.14-1.19x this withdraws; every case slowed alike by 1.25x is still called.
SHARED_WITHIN = 1.2
# fast_state judges a case over the passes both runs spent in the fast state when each run has
# at least this many
FAST_MIN_PASSES = 2
# Two runs on one machine and device whose per-pass controls (their medians over every pass)
# lie further apart than this leave every case of the pair undecided (`controls_apart`)
CONTROLS_APART = 1.24


def stacked(runs: list[Run]) -> pd.DataFrame:
    """Every benchmark row of every run, with the run's index as column `run`."""
    frames = [run.bench.assign(run=i) for i, run in enumerate(runs)]
    return pd.concat(frames, ignore_index=True)


def _judge(base: pd.Series, other: pd.Series, same_hardware: bool, adjusted: bool) -> dict:
    """`same_hardware`: one machine and one device (regression | improvement); `adjusted`: and
    the same control in both runs, so the verdict may divide by it."""
    v, basis = analysis.verdict_with_basis(base, other, _key(base, other), adjusted=adjusted,
                                           same_case=True)
    return _fields(v, basis, base, other, same_hardware)


def _key(base: pd.Series, other: pd.Series) -> str:
    return f"{base['name']}@{base['device']}>{other['device']}"


def _fields(v: stats.Verdict, basis: str, base: pd.Series, other: pd.Series,
            same_hardware: bool) -> dict:
    words = SAME_HARDWARE_WORDS if same_hardware else ACROSS_WORDS
    return {"ratio": v.ratio, "low": v.low, "high": v.high, "speedup": 1.0 / v.ratio,
            "speedup_low": 1.0 / v.high, "speedup_high": 1.0 / v.low,
            "repetitions": v.repetitions, "basis": basis,
            "raw_ratio": other["median"] / base["median"], "significant": v.different,
            "verdict": words[v.verdict], "regression": same_hardware and v.verdict == "slower"}


# stats.compare's verdict (B against A, by time) in the words of each kind of comparison.
SAME_HARDWARE_WORDS = {"slower": "regression", "faster": "improvement", "same": "same"}
ACROSS_WORDS = {"slower": "slower", "faster": "faster", "same": "same"}
PAIR_COLUMNS = ["name", "device", "other_device", "group", "base_run", "run", "base_median",
                "base_iqr", "median", "iqr", "same_hardware", "ratio", "low", "high", "speedup",
                "speedup_low", "speedup_high", "repetitions", "basis", "raw_ratio",
                "significant", "verdict", "regression"]


def pairs(runs: list[Run], by_device: bool = True) -> pd.DataFrame:
    """Each later occurrence of a case against its baseline: medians, ratio with its interval,
    verdict (regression | improvement | same on one machine and device; slower | faster | same
    otherwise).

    With by_device=False cases match on name alone and only pairs on *different* devices are
    kept: the same workload on, say, the CPU of one run and the GPU of another.
    """
    ok = stacked(runs)
    ok = ok[(ok["status"] == "ok") & ok["rep_samples"].map(len).gt(0)]
    splits: dict[tuple[int, int, str], float | None] = {}
    apart: dict[tuple[int, int, str], bool] = {}
    rows = []
    for _, group in ok.groupby(KEY if by_device else ["name"], sort=True):
        group = group.sort_values("run")
        base = group.iloc[0]
        for _, other in group.iloc[1:].iterrows():
            if not by_device and other["device"] == base["device"]:
                continue
            first, second = runs[base["run"]], runs[other["run"]]
            same = first.fingerprint == second.fingerprint
            # the controls divide only where both runs timed the same control on one device
            one_device = same and base["device"] == other["device"]
            adjusted = one_device and first.control == second.control
            judged = _judge(base, other, one_device, adjusted)
            if adjusted:
                key = (int(base["run"]), int(other["run"]), str(base["device"]))
                if key not in splits:
                    splits[key] = pooled_split(ok, *key)
                own = analysis.pair_split(base, other)
                # no run saw two states of its own: their controls apart are the machine moved
                # between the runs (the slope rule), not states
                if own is not None and not _same_split(splits[key], own):
                    judged = _either_split(judged, _judge(_split_as(base, splits[key]),
                                                          _split_as(other, splits[key]),
                                                          one_device, adjusted))
                judged = fast_state(judged, base, other, splits[key])
                if key not in apart:
                    apart[key] = controls_apart(ok, *key)
                if apart[key]:
                    judged = {**judged, "verdict": "same", "significant": False,
                              "regression": False, "basis": "apart"}
            rows.append({"name": base["name"], "device": base["device"],
                         "other_device": other["device"], "group": base["group"],
                         "base_run": int(base["run"]), "run": int(other["run"]),
                         "base_median": base["median"], "base_iqr": base["iqr"],
                         "median": other["median"], "iqr": other["iqr"], "same_hardware": same,
                         **judged})
    setups = [run.setup for run in runs]
    one_setup = {(a, b) for a, first in enumerate(setups) for b, second in enumerate(setups)
                 if first is not None and first == second}
    return shared_movement(pd.DataFrame(rows, columns=PAIR_COLUMNS), one_setup=one_setup)


def _same_split(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


def _split_as(row: pd.Series, split: float | None) -> pd.Series:
    row = row.copy()
    row["control_split"] = split
    return row


def _either_split(own: dict, pooled: dict) -> dict:
    """One case judged with the two runs' own state thresholds (averaged) and with the
    threshold over both runs' passes (`pooled_split`): the same verdict from both stands (of
    the two, the ratio nearer 1); different verdicts leave the case undecided."""
    if own["verdict"] != pooled["verdict"]:
        return {**own, "verdict": "same", "significant": False, "regression": False,
                "basis": "undecided"}
    return min(own, pooled, key=lambda j: abs(math.log(j["ratio"])))


def fast_state(judged: dict, base: pd.Series, other: pd.Series, split: float | None) -> dict:
    """One case in two runs on one machine and device, judged again over the passes both runs
    spent in the fast state (log control at or below `split`, `pooled_split`) when each run has
    FAST_MIN_PASSES of them: a case the state adjustment left undecided takes that
    verdict (basis "fast"), and a called case whose fast passes show it within the factor both
    ways (the interval wholly inside 1/1.1x-1.1x) is left undecided. The same code in the same
    state needs no factor between the states, and a pass the control reads as fast ran fast
    far more reliably than one it reads as slow: in a quick power pair on the 2-core VM (one
    run 91 % slow, the other 78 % fast), the ratios over the fast passes alone, 2 against 19,
    were 1.19-1.40 for the three cases slowed 1.25x and 0.85-1.08 for most unchanged ones, while
    over the few slow passes of the mostly fast run they were 0.61-1.33. Over the 126 stored
    pairs of issue #11's eight series this caught 139 of 141 slowed cases where the rule without
    it caught 135, and called 5 of 5859 unchanged comparisons different where it called 6."""
    if split is None or not (judged["basis"] == "undecided" or judged["significant"]):
        return judged
    if any(len(row["pass_raw"]) != len(row["pass_control"]) for row in (base, other)):
        return judged  # a side without controls (or without passes) has no states
    fast_a, fast_b = (_in_fast_state(row, split) for row in (base, other))
    if min(len(fast_a), len(fast_b)) < FAST_MIN_PASSES:
        return judged
    repetitions = min(len(base["rep_samples"]), len(other["rep_samples"]))
    v = stats.compare(fast_a, fast_b, key=_key(base, other), repetitions=repetitions)
    if judged["basis"] == "undecided":
        return _fields(v, "fast", base, other, same_hardware=True)
    if 1.0 / v.factor < v.low and v.high < v.factor:
        return {**judged, "verdict": "same", "significant": False, "regression": False,
                "basis": "undecided"}
    return judged


def _in_fast_state(row: pd.Series, split: float) -> list[list[float]]:
    """A case's raw passes whose log control lies at or below `split`."""
    return [list(unit) for unit, (_, control) in zip(row["pass_raw"], row["pass_control"],
                                                     strict=True)
            if math.log(control) <= split]


def controls_apart(ok: pd.DataFrame, run_a: int, run_b: int, device: str) -> bool:
    """True when the two runs' controls on `device` (the median over every pass of every case)
    lie more than CONTROLS_APART apart: the machine ran in conditions the state adjustment
    does not model (two states ~1.2x apart, each run judged against the other's), and every
    case of the pair is left undecided (verdict "same", basis "apart"; compare says to run the
    pair again). Seen on the 2-core VM in a slow phase (calibration GEMM down to 114 GFLOP/s
    from ~190): one smoke run's passes sat at 0.57 and 0.85 ms, the other runs' at 0.40-0.62,
    and its pairs called 12-13 of 21-23 unchanged cases 0.6-0.85x; its controls were 1.26-1.40x
    the others'. Over the 330 stored pairs of issue #11 (15 series) no pair's median controls
    lay between 1.226x and 1.256x apart, and the 5 beyond were all of that phase: at 1.24x
    they are undecided, 38 of the 44 false calls go, and none of the 341 caught slowdowns is
    lost. Chosen on those pairs (docs/architecture.md)."""
    controls = [_controls(ok, [run], device) for run in (run_a, run_b)]
    if not all(controls):
        return False
    a, b = (float(np.median(c)) for c in controls)
    return abs(math.log(b / a)) > math.log(CONTROLS_APART)


def _controls(ok: pd.DataFrame, runs: list[int], device: str) -> list[float]:
    """The control of every pass of every ok case of `runs` on `device`."""
    rows = ok[ok["run"].isin(runs) & (ok["device"] == device)]
    return [c for controls in rows["pass_control"] for _, c in controls]


def pooled_split(ok: pd.DataFrame, run_a: int, run_b: int, device: str) -> float | None:
    """A second fast/slow state threshold for judging one run against another on one machine
    and device (`_either_split`): bench.timing.passes.state_split over the controls of every
    pass of both runs there. The two runs' own thresholds, averaged, failed when one smoke run
    sat 89 % in a slow state with a long tail: its own split cut that state in two (0.51 ms,
    against 0.44 ms for the other run), the mean called most of its slow passes fast, and 9 of
    23 unchanged cases were called 1.19-1.65x slower; over both runs' passes the split fell
    between the states (0.45 ms). Used alone, it called 3 and 2 unchanged cases different in
    two other smoke A/A pairs that the averaged thresholds judged right."""
    return passes.state_split(_controls(ok, [run_a, run_b], device))


def shared_movement(frame: pd.DataFrame, factor: float = stats.FACTOR,
                    within: float = SHARED_WITHIN,
                    one_setup: Container[tuple[int, int]] = frozenset()) -> pd.DataFrame:
    """`frame` (pairs' rows) with each verdict on one machine and device also held against the
    pair's shared movement: per (baseline run, run, device), the median verdict ratio over the
    decided cases (basis not "undecided", enough repetitions), when there are SHARED_MIN_CASES
    of them and it lies within `within` (1.2x). A called case whose interval, divided by that
    median, no longer lies wholly beyond `factor` gets verdict "same" and basis "shared": it
    moved with the other cases, as a machine state the control did not see moves them. The
    other way, a case left "same" whose ratio itself lies beyond `factor` and whose interval,
    divided by the shared movement, lies wholly beyond it too, is called (basis "relative"):
    the other cases measured that state for it. Its own ratio must lie beyond the factor, so
    that when many cases changed and pulled the median along, the unchanged rest are not
    called the other way. A shared movement beyond `within` (a change every case shares)
    leaves the verdicts as they are, unless the pair (baseline run, run) is in `one_setup`:
    one clean commit, software, machine and settings (reports.load.Run.setup). Then no code
    changed, the machine moved every case, and the pair's cases are left undecided (verdict
    "same", basis "together"): in a heavy slow phase of the 2-core VM every case of a smoke
    pair moved 1.0-1.8x, the median case 1.22-1.35x, while the controls moved at most 1.11x,
    and 4 of 6 A/A pairs called 11-20 of 23 cases."""
    if frame.empty:
        return frame
    frame = frame.copy()
    mine = (frame["same_hardware"] & (frame["device"] == frame["other_device"])
            & ~frame["basis"].isin(["undecided", "apart"])
            & (frame["repetitions"] >= stats.MIN_REPETITIONS))
    for (base_run, run, _), part in frame[mine].groupby(["base_run", "run", "device"]):
        if len(part) < SHARED_MIN_CASES:
            continue
        shared = float(np.exp(np.median(np.log(part["ratio"].astype(float)))))
        if abs(math.log(shared)) > math.log(within):
            if (int(base_run), int(run)) in one_setup:
                frame.loc[part.index, ["significant", "regression"]] = False
                frame.loc[part.index, ["verdict", "basis"]] = ["same", "together"]
            continue
        called = part[part["significant"]]
        holds = ((called["low"] / shared > factor) & (called["ratio"] > 1)) | (
            (called["high"] / shared < 1 / factor) & (called["ratio"] < 1))
        withdrawn = called.index[~holds]
        frame.loc[withdrawn, ["significant", "regression"]] = False
        frame.loc[withdrawn, "verdict"] = "same"
        frame.loc[withdrawn, "basis"] = "shared"
        quiet = part[~part["significant"]]
        slower = (quiet["ratio"] > factor) & (quiet["low"] / shared > factor)
        faster = (quiet["ratio"] < 1 / factor) & (quiet["high"] / shared < 1 / factor)
        for rows, regression in ((quiet.index[slower], True), (quiet.index[faster], False)):
            frame.loc[rows, "significant"] = True
            frame.loc[rows, "regression"] = regression
            frame.loc[rows, "verdict"] = "regression" if regression else "improvement"
            frame.loc[rows, "basis"] = "relative"
    return frame


CALIBRATION_COLUMNS = ["run", "base_run", "same_hardware", "base_gflops", "gflops", "ratio",
                       "low", "high", "repetitions", "moved"]
_MOVED = {"slower": "faster", "faster": "slower", "same": None}  # a higher GEMM rate = faster


def _gemm_rates(run: Run) -> list[list[float]]:
    points = (run.calibration or {}).get("repetitions") or []
    return [[p["gemm_gflops"]] for p in points if p.get("gemm_gflops")]


def calibrations(runs: list[Run]) -> pd.DataFrame:
    """Each later run's calibrated GEMM rate against the first run's: ratio = other / base (above
    1 the machine ran faster), its interval, and `moved` ("faster" | "slower" | None) by the
    verdict rule. Runs without a calibration (schema 1) get NaN and moved None."""
    base = _gemm_rates(runs[0])
    rows = []
    for i, run in enumerate(runs[1:], start=1):
        rates = _gemm_rates(run)
        row = {"run": i, "base_run": 0, "same_hardware": run.fingerprint == runs[0].fingerprint,
               "base_gflops": (runs[0].calibration or {}).get("gemm_gflops"),
               "gflops": (run.calibration or {}).get("gemm_gflops"), "ratio": float("nan"),
               "low": float("nan"), "high": float("nan"), "repetitions": 0, "moved": None}
        if base and rates:
            v = stats.compare(base, rates, key=f"calibration>{i}")
            row.update(ratio=v.ratio, low=v.low, high=v.high, repetitions=v.repetitions,
                       moved=_MOVED[v.verdict])
        rows.append(row)
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


def unmatched(runs: list[Run]) -> pd.DataFrame:
    """Cases (by name) that are not ok in every run: per run its status, or 'missing'.

    Matching on the name here means a case timed on the CPU in one run and on the GPU in another
    counts as present in both (it is compared in the across-devices table); the device is shown
    next to the status whenever the runs used more than one device.
    """
    rows = stacked(runs)
    several_devices = rows["device"].nunique() > 1
    cell = rows["status"].astype(str) + (" (" + rows["device"].astype(str) + ")"
                                         if several_devices else "")
    table = rows.assign(cell=cell).pivot_table(index="name", columns="run", values="cell",
                                                aggfunc="first")
    # object first: a run without cases (a scaling run) adds an all-NaN float column
    table = table.reindex(columns=range(len(runs))).astype(object).fillna("missing")
    ok = rows.pivot_table(index="name", columns="run", values="status", aggfunc="first")
    ok = ok.reindex(index=table.index, columns=range(len(runs))).eq("ok").all(axis=1)
    return table[~ok].reset_index()


def training(runs: list[Run]) -> pd.DataFrame:
    """Per model label and run: device, final accuracy over seeds, median time-to-target.

    Matched on the label alone, so the same model trained on a CPU in one run and on a GPU in
    another sits in one row.
    """
    frames = []
    for i, run in enumerate(runs):
        summary = analysis.accuracy_over_seeds(run.training, ["label"])
        frames.append(summary.rename(columns={"device_first": "device", "ttt_median": "ttt"})[
            ["device", "acc_mean", "acc_sd", "seeds", "ttt"]].assign(run=i).reset_index())
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
