"""`mnistbench compare`: two or more results files side by side in one self-contained HTML file.

Runs on the same hardware fingerprint read as a regression check (significantly slower cases are
flagged, and fail the command with --fail-on-regression); runs on different hardware read as a
speed-up comparison, with a chart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import UsageError
from reports import card, charts, fmt, matching
from reports.card import Banner
from reports.load import Run, load_run
from reports.tables import Table, make_table
from reports.templating import Chart, render_template, svg, write_all


def _run_label(i: int) -> str:
    return f"Run {i + 1}"


def _runs_table(runs: list[Run]) -> Table:
    spec = [("Run", False), ("Run id", False), ("File", False), ("Device", False),
            ("Status", False), ("Hardware vs run 1", False)]
    rows = [[_run_label(i), r.run_id, str(r.path), fmt.text(r.data["config"].get("device")),
             r.data["status"], "—" if i == 0 else
             ("same fingerprint" if r.fingerprint == runs[0].fingerprint else "different")]
            for i, r in enumerate(runs)]
    return make_table(spec, rows)


def _machines_table(runs: list[Run]) -> Table:
    cards = [card.fields(r.data) for r in runs]
    spec = [("", False)] + [(_run_label(i), False) for i in range(len(runs))]
    rows = [[label] + [c[k][1] for c in cards] for k, (label, _) in enumerate(cards[0])]
    return make_table(spec, rows)


def _banners(runs: list[Run]) -> list[Banner]:
    return [Banner(b.level, f"{_run_label(i)}: {b.title}", b.text)
            for i, r in enumerate(runs) for b in card.banners(r.data)]


def _pairs_table(pairs: pd.DataFrame, cross_device: bool = False) -> Table:
    """Matched cases: baseline and compared medians, their ratio, p-value and verdict.

    Same-device pairs show the time ratio (above 1x = slower, the regression view); pairs across
    devices show the speed-up (above 1x = faster, the hardware view).
    """
    spec = [("Case", False), ("Devices" if cross_device else "Device", False), ("Runs", False),
            ("Baseline, median (IQR)", True), ("Compared, median (IQR)", True),
            ("Speed-up" if cross_device else "Time ratio", True), ("p", True), ("Verdict", False)]
    rows, flags = [], []
    for _, p in pairs.iterrows():
        device = f"{p['device']} → {p['other_device']}" if cross_device else p["device"]
        rows.append([p["name"], device, f"{p['base_run'] + 1} → {p['run'] + 1}",
                     fmt.duration_spread(p["base_median"], p["base_iqr"]),
                     fmt.duration_spread(p["median"], p["iqr"]),
                     fmt.ratio(p["speedup"] if cross_device else p["ratio"]), f"{p['p']:.2g}",
                     p["verdict"]])
        flags.append("bad" if p["regression"] else "")
    return make_table(spec, rows, flags)


def _unmatched_table(frame: pd.DataFrame, n_runs: int) -> Table:
    spec = [("Case", False)] + [(_run_label(i), False) for i in range(n_runs)]
    rows = [[r["name"]] + [str(r[i]) for i in range(n_runs)]
            for _, r in frame.iterrows()]
    return make_table(spec, rows, ["warn"] * len(rows))


def _training_table(frame: pd.DataFrame, n_runs: int) -> Table:
    """Final accuracy and time-to-target per model, one column pair per run."""
    spec = [("Model", False)]
    for i in range(n_runs):
        spec += [(f"{_run_label(i)} accuracy", True), (f"{_run_label(i)} time to target", True)]
    rows = []
    several_devices = not frame.empty and frame["device"].nunique() > 1
    for label, part in (frame.groupby("label", sort=True) if not frame.empty else []):
        by_run = part.set_index("run")
        row = [label]
        for i in range(n_runs):
            if i not in by_run.index:
                row += ["missing", "missing"]
                continue
            r = by_run.loc[i]
            acc = fmt.accuracy_spread(r["acc_mean"], r["acc_sd"], int(r["seeds"]))
            row += [f"{acc}, {r['device']}" if several_devices else acc,
                    "not reached" if pd.isna(r["ttt"]) else fmt.duration(r["ttt"])]
        rows.append(row)
    return make_table(spec, rows)


def _speedup_charts(pairs: pd.DataFrame) -> list[Chart]:
    """One chart per later run on other hardware or another device: speed-up per case."""
    out = []
    for run_index, part in pairs.groupby("run", sort=True):
        cross = part[~part["same_hardware"] | (part["device"] != part["other_device"])]
        if cross.empty:
            continue
        title = f"{_run_label(run_index)} vs its baseline: speed-up per case"
        rows = cross.assign(case=cross["name"] + " (" + cross["other_device"] + ")")
        chart = charts.speedup_chart(rows, title, charts.strip_id(f"cmp-{run_index}"))
        out.append(Chart(title, svg(chart), "Bars: ratio of medians, baseline / compared; above "
                         "1× the compared run is faster. Whiskers: baseline q1 / compared q3 to "
                         "baseline q3 / compared q1. Blue: significant (p < 0.002 and beyond "
                         "1.1×); grey: within the noise."))
    return out


def _summary(pairs: pd.DataFrame) -> list[str]:
    """One sentence per compared run: how many cases moved, and which way."""
    lines = []
    for run_index, part in pairs.groupby("run", sort=True):
        same = bool(part["same_hardware"].all() and (part["device"] == part["other_device"]).all())
        faster = int((part["significant"] & (part["ratio"] < 1)).sum())
        slower = int((part["significant"] & (part["ratio"] > 1)).sum())
        kind = "same hardware: a regression check" if same else "different hardware or device"
        geomean = float(np.exp(np.log(part["speedup"].astype(float)).mean()))
        lines.append(f"{_run_label(run_index)} ({kind}): {len(part)} matched cases, "
                     f"{slower} significantly slower, {faster} significantly faster, "
                     f"{len(part) - slower - faster} within the noise; geometric-mean speed-up "
                     f"over its baselines {fmt.ratio(geomean)}.")
    return lines or ["No case ran in more than one of these runs."]


def compare_context(runs: list[Run]) -> dict:
    """Everything compare.html shows."""
    same_device = matching.pairs(runs)
    cross_device = matching.pairs(runs, by_device=False)
    both = pd.concat([same_device, cross_device], ignore_index=True)
    regressions = same_device[same_device["regression"]]
    return {
        "title": f"mnistbench comparison of {len(runs)} runs",
        "banners": _banners(runs), "runs": _runs_table(runs), "machines": _machines_table(runs),
        "summary": _summary(both), "regressions": len(regressions),
        "cases": _pairs_table(same_device),
        "devices": _pairs_table(cross_device, cross_device=True),
        "charts": _speedup_charts(both),
        "unmatched": _unmatched_table(matching.unmatched(runs), len(runs)),
        "training": _training_table(matching.training(runs), len(runs)),
    }


def write_compare(results_paths: list[Path], out_html: Path,
                  fail_on_regression: bool = False) -> int:
    """Write the comparison of `results_paths` to `out_html`; return the exit code.

    Returns 1 when `fail_on_regression` and a case on the same hardware is significantly slower
    than in the first run that has it, else 0. Raises UsageError for fewer than two files or an
    unwritable output, ResultsError for a bad results file.
    """
    if len(results_paths) < 2:
        raise UsageError("compare needs at least two results files; pass two or more "
                         "results.json paths")
    runs = [load_run(Path(p)) for p in results_paths]
    context = compare_context(runs)
    write_all({Path(out_html): render_template("compare.html", **context)})
    return 1 if fail_on_regression and context["regressions"] else 0
