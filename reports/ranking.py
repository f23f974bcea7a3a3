"""Rankings of the RNN styles under the verdict rule, and the facts a headline states.

A style is called faster than another only by bench.timing.stats.compare: a hierarchical
bootstrap over the passes (each sample adjusted for the control timed before its pass, as far as
the two cases follow it), then the rounds inside each, whose whole 95 % interval for the ratio of
medians lies beyond 1.1x, with two repetitions (fresh processes) a side. The fastest style is
named alone only when it beats the runner-up by that rule; otherwise the leaders are tied within
the noise. A schema-1 file has one repetition per case, so it can rank by median but never
decide (verdict "same").
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bench.timing import stats
from reports import analysis, cells

# One workload: its cases differ by style only. The cell is in the config too (schema 2); it is
# named first so that no style is ever ranked against a style of another cell.
RANK_KEYS = ["cell", "device", "pass", "config"]


def versus(a: pd.Series, b: pd.Series) -> stats.Verdict:
    """B against A (rows of a bench frame) by the verdict rule; ratio > 1 = B slower."""
    key = f"{a['device']}/{a['name']}~{b['name']}"
    return analysis.verdict(a, b, key, adjusted=True)  # one run: one machine and device


def _rank_one(part: pd.DataFrame) -> pd.DataFrame:
    ordered = part.sort_values(["median", "implementation"])
    best = ordered.iloc[0]
    verdicts = [None] + [versus(best, row) for _, row in ordered.iloc[1:].iterrows()]
    return ordered.assign(
        rank=range(1, len(ordered) + 1),
        vs_fastest=[1.0] + [v.ratio for v in verdicts[1:]],
        vs_low=[float("nan")] + [v.low for v in verdicts[1:]],
        vs_high=[float("nan")] + [v.high for v in verdicts[1:]],
        vs_verdict=["fastest"] + [v.verdict for v in verdicts[1:]],
        decided=[True] + [v.repetitions >= stats.MIN_REPETITIONS for v in verdicts[1:]],
        vs=verdicts)


def rankings(bench: pd.DataFrame, group: str = "rnn") -> pd.DataFrame:
    """The ok cases of `group`, ranked by median within each workload, each with its verdict
    against the fastest: `vs_fastest` (ratio), `vs_low`/`vs_high` (interval), `vs_verdict`
    ("fastest", "slower" beyond the noise, or "same": tied with the fastest), `decided`
    (enough repetitions on both sides to call anything), `vs` (the stats.Verdict itself)."""
    cases = analysis.with_speedup(analysis.ok_cases(bench, group))
    if cases.empty:
        return cases.assign(rank=[], vs_fastest=[], vs_low=[], vs_high=[], vs_verdict=[],
                            decided=[], vs=[])
    parts = [_rank_one(part) for _, part in cases.groupby(RANK_KEYS, sort=True)]
    return pd.concat(parts)


@dataclass(frozen=True)
class RnnHeadline:
    """The ranking of one block's (device, pass): who leads, and whether the lead is real."""

    cell: str  # "rnn" | "lstm" | "gru"
    label: str  # what the sentence names: "LSTM", "LSTM at the fastrnns size"
    device: str
    pass_: str
    fastest: str
    fastest_median: float
    leaders: tuple[str, ...]  # the fastest and every style tied with it (fastest first)
    runner_up: str | None  # None when only one style ran
    lead: stats.Verdict | None  # the runner-up against the fastest; None with one style
    native: stats.Verdict | None  # native against the fastest; None if absent or fastest
    slowest: str
    speedup_slowest: float
    styles: int
    decided: bool  # enough repetitions to call a difference at all
    noisy: bool  # a quoted case's rounds scatter (IQR > 10 % of the median)
    unstable: bool  # a quoted case's repetition medians disagree by more than 10 %

    @property
    def clear_winner(self) -> bool:
        return self.lead is not None and self.lead.verdict == "slower"


def _headline(label: str, device: str, pass_: str, ranked: pd.DataFrame) -> RnnHeadline:
    best, worst = ranked.iloc[0], ranked.iloc[-1]
    runner = ranked.iloc[1] if len(ranked) > 1 else None
    native_rows = ranked[ranked["implementation"] == analysis.baseline_style()]
    native = None if native_rows.empty else native_rows.iloc[0]["vs"]
    tied = ranked[ranked["vs_verdict"] == "same"]["implementation"]
    quoted = ranked[ranked["implementation"].isin(
        [best["implementation"], worst["implementation"], analysis.baseline_style(),
         *([] if runner is None else [runner["implementation"]])])]
    return RnnHeadline(
        cell=str(best["cell"]), label=label, device=device, pass_=pass_,
        fastest=best["implementation"],
        fastest_median=float(best["median"]),
        leaders=(best["implementation"], *tied.tolist()),
        runner_up=None if runner is None else runner["implementation"],
        lead=None if runner is None else runner["vs"], native=native,
        slowest=worst["implementation"], speedup_slowest=float(worst["median"] / best["median"]),
        styles=len(ranked), decided=bool(ranked["decided"].all()),
        noisy=bool(quoted["noisy"].any()), unstable=bool(quoted["unstable"].any()))


def rnn_headlines(bench: pd.DataFrame, ranked: pd.DataFrame | None = None,
                  group: str = "rnn") -> list[RnnHeadline]:
    """One headline per (device, pass) of one block's group ("rnn", "lstm", "lstm-large"):
    its first workload (the MNIST shape in a main group), ranked within its cell."""
    ranked = rankings(bench, group) if ranked is None else ranked
    out = []
    for (device, pass_), part in ranked.groupby(["device", "pass"], sort=True):
        first_workload = part[part["config"] == part["config"].iloc[0]]
        label = cells.block_label(group, first_workload["params"].iloc[0])
        out.append(_headline(label, device, pass_, first_workload.sort_values("rank")))
    return out
