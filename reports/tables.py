"""Display tables: analysis frames in, rows of formatted strings out (for HTML, Markdown, CSV).

Templates receive `Table` objects and only loop over them; every number is formatted here, with its
unit, so the HTML and summary.md say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reports import analysis, cells, fmt


@dataclass(frozen=True)
class Table:
    """Header labels, which columns are numeric (right-aligned), rows of strings, row classes."""

    columns: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]
    flags: tuple[str, ...]  # a CSS class per row: "" or "warn" / "bad"

    def __bool__(self) -> bool:
        return bool(self.rows)

    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown table; cells escaped so no HTML or pipe leaks through."""
        align = ["---:" if n else ":---" for n in self.numeric]
        lines = [_md_row(self.columns), _md_row(align, escape=False)]
        lines += [_md_row(row) for row in self.rows]
        return "\n".join(lines)


def _md_cell(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ")


def _md_row(cells, escape: bool = True) -> str:
    return "| " + " | ".join(_md_cell(c) if escape else c for c in cells) + " |"


def make_table(spec: list[tuple[str, bool]], rows: list[list[str]],
               flags: list[str] | None = None) -> Table:
    """Build a Table from (label, numeric) pairs and rows of already formatted strings."""
    return Table(tuple(label for label, _ in spec), tuple(num for _, num in spec),
                 tuple(tuple(r) for r in rows), tuple(flags or [""] * len(rows)))


def rounds_text(cases: pd.DataFrame) -> str:
    """'20' or '7–20': how many timed rounds the cases took."""
    if cases.empty:
        return fmt.DASH
    low, high = cases["rounds"].min(), cases["rounds"].max()
    return fmt.text(low) if low == high else f"{fmt.text(low)}–{fmt.text(high)}"


def repetitions_text(cases: pd.DataFrame) -> str:
    """'3' or '2–3': how many repetitions (fresh processes) the cases had."""
    counts = cases["rep_medians"].map(len) if not cases.empty else pd.Series([], dtype=int)
    if counts.empty:
        return fmt.DASH
    return str(counts.min()) if counts.min() == counts.max() else f"{counts.min()}–{counts.max()}"


def _notes(case: pd.Series) -> str:
    notes = []
    if case["unstable"]:
        notes.append(f"unstable: repetition medians {fmt.percent(case['spread'])} apart")
    if case["noisy"]:
        notes.append(f"noisy: IQR is {fmt.percent(case['iqr'] / case['median'])} of the median")
    notes += list(case["warnings"])
    return "; ".join(notes)


def versus_text(case: pd.Series) -> str:
    """A ranked case against the fastest of its workload: 'fastest', '1.25× slower
    [1.20–1.31]', '1.04× tied [0.97–1.12]', or '1.10× (undecided: 1 repetition)'."""
    if case["vs_verdict"] == "fastest":
        return "fastest"
    ratio = fmt.ratio(case["vs_fastest"])
    if not case["decided"]:
        return f"{ratio} (undecided: 1 repetition)"
    word = "slower" if case["vs_verdict"] == "slower" else "tied"
    return f"{ratio} {word} [{fmt.ratio(case['vs_low'])[:-1]}–{fmt.ratio(case['vs_high'])}]"


RNN_SPEC = [("Device", False), ("Style", False), ("Pass", False), ("Median", True),
            ("IQR", True), ("Repetition medians", True), ("Spread", True), ("GFLOP/s", True),
            ("% of peak", True), ("Compile time", True), ("vs fastest", True),
            ("Speed-up vs native", True), ("Notes", False)]


def rnn_table(ranked: pd.DataFrame, calibration: dict | None) -> Table:
    """Every ranked case (ranking.rankings), fastest first within each (device, pass)."""
    cases = ranked.assign(peak=analysis.peak_fraction(ranked, calibration))
    cases = cases.sort_values(["device", "pass", "config", "rank"])
    rows, flags = [], []
    for _, c in cases.iterrows():
        rows.append([c["device"], c["implementation"], c["pass"], fmt.duration(c["median"]),
                     fmt.duration(c["iqr"]), fmt.durations(c["rep_medians"]),
                     fmt.percent(c["spread"]), fmt.gflops(c["gflops"]), fmt.percent(c["peak"]),
                     fmt.duration(c["compile_s"]), versus_text(c),
                     fmt.ratio(c["speedup_native"]), _notes(c)])
        flags.append("warn" if c["noisy"] or c["unstable"] or c["warnings"] else "")
    return make_table(RNN_SPEC, rows, flags)


FIT_SPEC = [("Device", False), ("Pass", False), ("Style", False), ("Slope", True),
            ("Intercept", True), ("R²", True), ("Points", True)]


def fit_table(fits: pd.DataFrame, per: str) -> Table:
    """Least-squares lines of a sweep: time per unit of the swept parameter, intercept, R²."""
    rows = [[f["device"], f["pass"], f["implementation"], f"{fmt.duration(f['slope'])} per {per}",
             fmt.duration(f["intercept"]), fmt.text(None if pd.isna(f["r2"]) else f"{f['r2']:.4f}"),
             str(f["points"])] for _, f in fits.iterrows()]
    return make_table(FIT_SPEC, rows)


CNN_SPEC = [("Variant", False), ("Device", False), ("Params", True), ("FLOPs / image", True),
            ("Inference, median (IQR)", True), ("Train step, median (IQR)", True),
            ("Train step GFLOP/s (% of peak)", True), ("Test accuracy", True), ("Pareto", False)]


def _rate_of_peak(gflops: float | None, fraction: float | None) -> str:
    if fmt.missing(gflops):
        return fmt.DASH
    return fmt.gflops(gflops) + ("" if fmt.missing(fraction) else f" ({fmt.percent(fraction)})")


def cnn_table(summary: pd.DataFrame, calibration: dict | None = None) -> Table:
    """One row per CNN variant: size, cost, timings with spread, accuracy over seeds."""
    rows = []
    peak = analysis.peak_fraction(
        summary.assign(gflops=summary["train_step_gflops"]), calibration)
    for i, r in summary.iterrows():
        seeds = 0 if pd.isna(r["seeds"]) else int(r["seeds"])
        rows.append([r["implementation"], r["device"], fmt.count(r["params_count"]),
                     fmt.flops(r["flops"]),
                     fmt.duration_spread(r["inference_median"], r["inference_iqr"]),
                     fmt.duration_spread(r["train_step_median"], r["train_step_iqr"]),
                     _rate_of_peak(r["train_step_gflops"], peak[i]),
                     fmt.accuracy_spread(r["acc_mean"], r["acc_sd"], seeds),
                     "yes" if r["pareto"] else ""])
    return make_table(CNN_SPEC, rows)


TRAIN_SPEC = [("Model", False), ("Device", False), ("Final test accuracy", True),
              ("Final train loss", True), ("Target", True),
              ("Time to target (median)", True), ("Epochs", True),
              ("Throughput", True)]


def training_table(summary: pd.DataFrame) -> Table:
    """Final accuracy and time-to-target per model, over its seeds."""
    rows = []
    for _, r in summary.iterrows():
        seeds = int(r["seeds"])
        reached = f"{int(r['reached'])}/{seeds} seeds"
        rows.append([r["label"], r["device"],
                     fmt.accuracy_spread(r["acc_mean"], r["acc_sd"], seeds),
                     "—" if pd.isna(r["loss_mean"]) else f"{r['loss_mean']:.4f}",
                     fmt.accuracy(r["target_acc"]),
                     f"{fmt.duration(r['ttt_median'])} ({reached})" if r["reached"]
                     else f"not reached ({reached})", str(int(r["epochs"])),
                     fmt.rate(r["images_per_s"])])
    return make_table(TRAIN_SPEC, rows)


FAIL_SPEC = [("Kind", False), ("Case", False), ("Device", False), ("Status", False),
             ("Reason", False)]


def failures_table(failed: pd.DataFrame) -> Table:
    """Failed and skipped cases, each with its reason (or 'none' when none was recorded)."""
    rows = [[f["kind"], f["name"], f["device"], f["status"],
             "none" if fmt.missing(f["error"]) or not f["error"] else str(f["error"])]
            for _, f in failed.iterrows()]
    return make_table(FAIL_SPEC, rows, ["bad" if r[3] == "failed" else "warn" for r in rows])


SUMMARY_COLUMNS = ["name", "group", "groups", "cell", "implementation", "device", "pass", "status",
                   "median", "iqr", "q1", "q3", "rounds", "repetitions", "rep_medians", "spread",
                   "unstable", "gflops", "peak_fraction", "compile_s", "speedup_native", "noisy",
                   "error"]


def summary_frame(bench: pd.DataFrame, calibration: dict | None = None) -> pd.DataFrame:
    """Every benchmark case with its headline numbers, in seconds (the summary.csv contents);
    `cell` is the RNN cell ("rnn" | "lstm" | "gru"; "rnn" for a schema-1 file), empty for a CNN."""
    ok = analysis.with_speedup(analysis.ok_cases(bench))
    rest = bench[~bench.index.isin(ok.index)]
    frame = pd.concat([ok, rest]).sort_values(["group", "device", "pass", "median", "name"])
    frame = frame.assign(groups=frame["groups"].map(" ".join),
                         repetitions=frame["rep_medians"].map(len),
                         rep_medians=frame["rep_medians"].map(
                             lambda m: " ".join(f"{v:.6g}" for v in m)),
                         peak_fraction=analysis.peak_fraction(frame, calibration))
    frame = frame[SUMMARY_COLUMNS].rename(columns={
        "median": "median_s", "iqr": "iqr_s", "q1": "q1_s", "q3": "q3_s",
        "rep_medians": "repetition_medians_s", "speedup_native": "speedup_vs_native"})
    return frame.reset_index(drop=True)


SUMMARY_SPEC = [("Case", False), ("Cell", False), ("Device", False), ("Status", False),
                ("Median", True), ("IQR", True), ("Repetitions", True), ("Spread", True),
                ("GFLOP/s", True), ("Speed-up vs native", True)]


def summary_table(frame: pd.DataFrame) -> Table:
    """summary_frame formatted with units, for summary.md."""
    rows = [[r["name"], fmt.text(None if fmt.missing(r["cell"]) else cells.cell_name(r["cell"])),
             r["device"], r["status"], fmt.duration(r["median_s"]),
             fmt.duration(r["iqr_s"]), str(r["repetitions"]), fmt.percent(r["spread"]),
             fmt.gflops(r["gflops"]), fmt.ratio(r["speedup_vs_native"])]
            for _, r in frame.iterrows()]
    return make_table(SUMMARY_SPEC, rows)
