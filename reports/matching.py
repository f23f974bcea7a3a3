"""Matching cases across runs and judging each difference (the arithmetic behind compare).

A case's identity is (name, device) (docs/architecture.md); its baseline is the first run, in the
order given, where it ran. Whether a difference is real is bench.stats.is_significant on the raw
samples (asv's rule: Mann-Whitney p < 0.002 and a ratio beyond 1.1x).
"""

from __future__ import annotations

import pandas as pd

from bench.store.results import IDENTITY
from bench.timing import stats
from reports import analysis
from reports.load import Run

KEY = list(IDENTITY)


def stacked(runs: list[Run]) -> pd.DataFrame:
    """Every benchmark row of every run, with the run's index as column `run`."""
    frames = [run.bench.assign(run=i) for i, run in enumerate(runs)]
    return pd.concat(frames, ignore_index=True)


def _judge(base: pd.Series, other: pd.Series, same_hardware: bool) -> dict:
    significant, ratio, p = stats.is_significant(base["samples"], other["samples"])
    if not significant:
        verdict = "noise"
    elif ratio > 1:
        verdict = "regression" if same_hardware else "slower"
    else:
        verdict = "faster"
    return {"ratio": ratio, "speedup": 1.0 / ratio if ratio else float("inf"), "p": p,
            "significant": significant, "verdict": verdict,
            "regression": significant and ratio > 1 and same_hardware}


def pairs(runs: list[Run], by_device: bool = True) -> pd.DataFrame:
    """Each later occurrence of a case against its baseline: medians, ratio, p, verdict.

    With by_device=False cases match on name alone and only pairs on *different* devices are
    kept: the same workload on, say, the CPU of one run and the GPU of another.
    """
    ok = stacked(runs)
    ok = ok[(ok["status"] == "ok") & ok["samples"].map(len).gt(0)]
    rows = []
    for _, group in ok.groupby(KEY if by_device else ["name"], sort=True):
        group = group.sort_values("run")
        base = group.iloc[0]
        for _, other in group.iloc[1:].iterrows():
            if not by_device and other["device"] == base["device"]:
                continue
            same = runs[base["run"]].fingerprint == runs[other["run"]].fingerprint
            rows.append({"name": base["name"], "device": base["device"],
                         "other_device": other["device"], "group": base["group"],
                         "base_run": int(base["run"]), "run": int(other["run"]),
                         "base_median": base["median"], "base_iqr": base["iqr"],
                         "median": other["median"], "iqr": other["iqr"], "same_hardware": same,
                         # the speed-up's spread: quartiles against quartiles, worst to best
                         "speedup_low": base["q1"] / other["q3"],
                         "speedup_high": base["q3"] / other["q1"],
                         **_judge(base, other, same and base["device"] == other["device"])})
    return pd.DataFrame(rows, columns=[
        "name", "device", "other_device", "group", "base_run", "run", "base_median", "base_iqr",
        "median", "iqr", "same_hardware", "speedup_low", "speedup_high", "ratio", "speedup", "p",
        "significant", "verdict", "regression"])


def unmatched(runs: list[Run]) -> pd.DataFrame:
    """Cases (by name) that are not ok in every run: per run its status, or 'missing'.

    Matching on the name here means a case timed on the CPU in one run and on the GPU in another
    counts as present in both (it is compared in the across-devices table); the device is shown
    next to the status whenever the runs used more than one device.
    """
    rows = stacked(runs)
    several_devices = rows["device"].nunique() > 1
    cell = rows["status"] + (" (" + rows["device"] + ")" if several_devices else "")
    table = rows.assign(cell=cell).pivot_table(index="name", columns="run", values="cell",
                                                aggfunc="first")
    table = table.reindex(columns=range(len(runs))).fillna("missing")
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
