"""`mnistbench compare`: two or more results files side by side in one self-contained HTML file,
and with --json the verdicts for machines.

Runs on the same hardware fingerprint read as a regression check (cases slower beyond the noise
by bench.timing.stats.compare are regressions, and fail the command with --fail-on-regression);
runs on different hardware read as a speed-up comparison, with a chart. Each later run's
calibration (the reference GEMM) is compared with the first run's: when it moved beyond the noise
(reports.matching.calibrations) the summary says the machine itself ran faster or slower, and by
how much. On one machine and device the verdicts are drawn on the samples adjusted for the
control timed next to them, as far as each case follows it (bench.timing.stats), so the raw time
ratio and the verdict's ratio stand side by side.

`--json FILE` (a CI gate reads it; written with the HTML, all or nothing) holds:

    {"tool": "mnistbench", "kind": "compare", "format_version": 1,
     "factor": 1.1, "confidence": 0.95,          # the verdict rule's parameters
     "baseline": {"path", "run_id", "fingerprint", "gemm_gflops"},     # the first file given
     "regressions": 3,                           # total over every run: what --fail-on-regression
                                                 # counts
     "runs": [{                                  # one per later file, in the order given
        "run": 2, "path", "run_id", "fingerprint",
        "same_hardware": true,                   # fingerprint equal to the first run's
        "calibration": {"base_gflops", "gflops", # null when a side has none (schema-1 files)
                        "ratio",                 # gflops / base_gflops: > 1 the machine ran faster
                        "low", "high",           # its 95 % bootstrap interval
                        "moved": "slower"},      # "faster" | "slower" | null (within the noise)
        "regressions": 3, "improvements": 0,
        "cases": [{"name", "device",             # the identity (bench.store.results.IDENTITY)
                   "baseline_run": 1,            # the first run (1-based) that has the case
                   "ratio": 1.25,                # the verdict's ratio of medians, > 1 slower:
                                                 # of samples adjusted for their passes'
                                                 # controls on one machine and device, else of
                                                 # raw times
                   "low": 1.19, "high": 1.31,    # its 95 % hierarchical-bootstrap interval
                   "basis": "adjusted",          # adjusted | passes | repetitions: the units;
                                                 # fast: the passes both runs spent in the
                                                 # machine's fast state (where adjusting for
                                                 # the states left the case undecided);
                                                 # undecided (verdict "same": the runs sat in
                                                 # different machine states; the verdict hangs
                                                 # on how they are read);
                                                 # shared (verdict "same": beyond the factor,
                                                 # but not beyond it from the median movement
                                                 # of all the pair's cases)
                                                 # relative (called: beyond the factor, and
                                                 # beyond it from the median movement of all
                                                 # the pair's cases, which moved the other way)
                                                 # apart (verdict "same": the two runs'
                                                 # controls lie more than 1.24x apart;
                                                 # reports.matching.controls_apart)
                                                 # together (verdict "same": one clean commit,
                                                 # software, machine and settings, and all
                                                 # the cases moved beyond 1.2x together)
                   "raw_ratio": 1.31,            # median(this run) / median(baseline), raw
                   "repetitions": 3,             # the fewer of the two sides'
                   "verdict": "regression",      # regression | improvement | same on the same
                                                 # hardware; slower | faster | same across machines
                   "baseline_median_s", "median_s"}]}]}

Only cases matched on their identity (name and device) are listed; the same workload on another
device is in the HTML's "Across devices" table only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import UsageError
from bench.timing import stats
from reports import analysis, card, charts, fmt, gate, matching, scaling
from reports.card import Banner
from reports.load import Run, load_run
from reports.tables import Table, make_table
from reports.templating import Chart, render_template, svg, write_all


def _runs_table(runs: list[Run]) -> Table:
    spec = [("Run", False), ("Run id", False), ("File", False), ("Device", False),
            ("Status", False), ("Repetitions", True), ("Hardware vs run 1", False)]
    rows = [[fmt.run_label(i), r.run_id, str(r.path), fmt.text(r.data["config"].get("device")),
             r.data["status"], _repetitions(r), "—" if i == 0 else
             ("same fingerprint" if r.fingerprint == runs[0].fingerprint else "different")]
            for i, r in enumerate(runs)]
    return make_table(spec, rows)


def _repetitions(run: Run) -> str:
    counts = run.bench["rep_medians"].map(len)
    counts = counts[counts > 0]
    if counts.empty:
        return fmt.DASH
    low, high = counts.min(), counts.max()
    text = str(low) if low == high else f"{low}–{high}"
    return text + (" (schema 1)" if run.schema_version == 1 else "")


def _machines_table(runs: list[Run]) -> Table:
    cards = [card.fields(r.data) for r in runs]
    spec = [("", False)] + [(fmt.run_label(i), False) for i in range(len(runs))]
    rows = [[label] + [c[k][1] for c in cards] for k, (label, _) in enumerate(cards[0])]
    return make_table(spec, rows)


def _banners(runs: list[Run]) -> list[Banner]:
    return [Banner(b.level, f"{fmt.run_label(i)}: {b.title}", b.text)
            for i, r in enumerate(runs) for b in card.banners(r.data)]


def _pairs_table(pairs: pd.DataFrame, cross_device: bool = False) -> Table:
    """Matched cases: baseline and compared medians, the raw time ratio, the ratio the verdict
    is drawn on with its interval (control-adjusted on one machine and device), verdict.

    Same-device pairs read as time ratios (above 1x = slower, the regression view); pairs
    across devices as speed-ups.
    """
    spec = [("Case", False), ("Devices" if cross_device else "Device", False), ("Runs", False),
            ("Baseline, median (IQR)", True), ("Compared, median (IQR)", True)]
    spec += ([("Speed-up [95 % interval]", True)] if cross_device else
             [("Time ratio", True), ("Verdict ratio [95 % interval]", True)])
    spec += [("Over", False), ("Repetitions", True), ("Verdict", False)]
    rows, flags = [], []
    for _, p in pairs.iterrows():
        device = f"{p['device']} → {p['other_device']}" if cross_device else p["device"]
        row = [p["name"], device, f"{p['base_run'] + 1} → {p['run'] + 1}",
               fmt.duration_spread(p["base_median"], p["base_iqr"]),
               fmt.duration_spread(p["median"], p["iqr"])]
        if cross_device:
            row.append(fmt.ratio(p["speedup"]) + " "
                       + fmt.ratio_interval(p["speedup_low"], p["speedup_high"]))
        else:
            row += [fmt.ratio(p["raw_ratio"]),
                    fmt.ratio(p["ratio"]) + " " + fmt.ratio_interval(p["low"], p["high"])]
        rows.append(row + [analysis.BASIS_WORDS[p["basis"]], str(p["repetitions"]),
                           p["verdict"]])
        flags.append("bad" if p["regression"] else "")
    return make_table(spec, rows, flags)


def _unmatched_table(frame: pd.DataFrame, n_runs: int) -> Table:
    spec = [("Case", False)] + [(fmt.run_label(i), False) for i in range(n_runs)]
    rows = [[r["name"]] + [str(r[i]) for i in range(n_runs)]
            for _, r in frame.iterrows()]
    return make_table(spec, rows, ["warn"] * len(rows))


def _training_table(frame: pd.DataFrame, n_runs: int) -> Table:
    """Final accuracy and time-to-target per model, one column pair per run."""
    spec = [("Model", False)]
    for i in range(n_runs):
        spec += [(f"{fmt.run_label(i)} accuracy", True),
                 (f"{fmt.run_label(i)} time to target", True)]
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
        title = f"{fmt.run_label(run_index)} vs its baseline: speed-up per case"
        rows = cross.assign(case=cross["name"].astype(str) + " ("
                            + cross["other_device"].astype(str) + ")")
        chart = charts.speedup_chart(rows, title, charts.strip_id(f"cmp-{run_index}"))
        out.append(Chart(title, svg(chart), "Bars: ratio of medians, baseline / compared; above "
                         "1× the compared run is faster. Whiskers: the 95 % hierarchical-"
                         "bootstrap interval. Blue: a real difference (the whole interval beyond "
                         "1.1×); grey: within the noise."))
    return out


def calibration_sentence(c: pd.Series) -> str:
    """What the reference GEMM says about one compared run's machine, in words."""
    who = fmt.run_label(int(c["run"]))
    if pd.isna(c["ratio"]):
        return (f"{who}: no calibration to compare (a schema-1 file, or a run without one), so "
                "a change of the machine's own speed cannot be told from a change of the code.")
    rates = (f"its reference GEMM reached {fmt.gflops(c['gflops'])} against "
             f"{fmt.gflops(c['base_gflops'])} in run 1 ({fmt.ratio(c['ratio'])} "
             f"{fmt.ratio_interval(c['low'], c['high'])}, {c['repetitions']} repetitions)")
    if not c["same_hardware"]:
        return f"{who} ran on other hardware: {rates}."
    if c["moved"] is None:
        return f"{who}: the machine itself did not move beyond the noise; {rates}."
    return (f"{who}: the machine itself ran {fmt.percent(abs(c['ratio'] - 1))} {c['moved']} "
            f"than in run 1 — {rates}, so the reference took {fmt.ratio(1 / c['ratio'])} the "
            "time. The verdicts adjust each case for the control timed next to it, as far as the "
            "case follows it; the raw time ratios stand beside them.")


def _together(part: pd.DataFrame) -> str:
    """How far the cases of one comparison moved together: the median raw time ratio and the
    median verdict ratio (after the control) over every matched case. When most cases moved,
    the machine moved (or something every case shares, as torch or the thread count did)."""
    raw = float(np.median(part["raw_ratio"].astype(float)))
    adjusted = float(np.median(part["ratio"].astype(float)))
    text = (f" Over all matched cases the median time ratio is {fmt.ratio(raw)} raw, "
            f"{fmt.ratio(adjusted)} after the control")
    if max(abs(np.log(raw)), abs(np.log(adjusted))) > np.log(stats.FACTOR) / 2:
        text += (": the cases moved together, as the machine does in a slow phase; a verdict "
                 "close to the factor may be the machine, not the code — run the pair again")
    return text + "."


def _summary(pairs: pd.DataFrame) -> list[str]:
    """One sentence per compared run: how many cases moved, and which way."""
    lines = []
    for run_index, part in pairs.groupby("run", sort=True):
        same = bool(part["same_hardware"].all() and (part["device"] == part["other_device"]).all())
        faster = int((part["significant"] & (part["ratio"] < 1)).sum())
        slower = int((part["significant"] & (part["ratio"] > 1)).sum())
        kind = "same hardware: a regression check" if same else "different hardware or device"
        worse, better = ("regressions", "improvements") if same else ("slower", "faster")
        geomean = float(np.exp(np.log(part["speedup"].astype(float)).mean()))
        undecided = int((part["repetitions"] < stats.MIN_REPETITIONS).sum())
        states = int((part["basis"] == "undecided").sum())
        shared = int((part["basis"] == "shared").sum())
        relative = int((part["basis"] == "relative").sum())
        fast = int((part["basis"] == "fast").sum())
        apart = int((part["basis"] == "apart").sum())
        together = int((part["basis"] == "together").sum())
        lines.append(f"{fmt.run_label(run_index)} ({kind}): {len(part)} matched cases, "
                     f"{slower} {worse}, {faster} {better}, "
                     f"{len(part) - slower - faster} within the noise"
                     + (f" ({undecided} with one repetition a side: undecidable)"
                        if undecided else "")
                     + (f" ({states} undecided: the two runs sat in different machine states "
                        "and those cases' verdicts depend on how the states are read — how much "
                        "a case slows in the slow state was not measured, or the two runs "
                        "disagree on it — run the pair again)" if states else "")
                     + (f" ({apart} undecided: the two runs' per-pass controls lie more than "
                        f"{fmt.ratio(matching.CONTROLS_APART)} apart, so the machine itself ran in "
                        "other conditions than its two states — run the pair again)"
                        if apart else "")
                     + (f" ({together} undecided: both runs ran one clean commit with the same "
                        "software, settings and machine, and all the cases moved together beyond "
                        f"{fmt.ratio(matching.SHARED_WITHIN)}, so the machine moved, not the code "
                        "— run the pair again)" if together else "")
                     + (f" ({shared} moved beyond the factor but within it of how far all the "
                        "cases moved together, as in a machine state the control did not see: "
                        "not called — run the pair again)" if shared else "")
                     + (f" ({relative} called against how far all the cases moved together, "
                        "the other way, as in a machine state the control did not see)"
                        if relative else "")
                     + (f"; {fast} of the verdicts drawn over only the passes both runs spent "
                        "in the fast state of the machine, as the runs sat mostly in different "
                        "states" if fast else "")
                     + f"; geometric-mean speed-up over its baselines {fmt.ratio(geomean)}."
                     + (_together(part) if same else ""))
    return lines or ["No case ran in more than one of these runs."]


def compare_context(runs: list[Run]) -> dict:
    """Everything compare.html shows, and the verdicts --json writes."""
    same_device = matching.pairs(runs)
    cross_device = matching.pairs(runs, by_device=False)
    both = pd.concat([same_device, cross_device], ignore_index=True)
    cal = matching.calibrations(runs)
    return {
        "title": f"mnistbench comparison of {len(runs)} runs",
        "banners": _banners(runs), "runs": _runs_table(runs), "machines": _machines_table(runs),
        "summary": _summary(both),
        "calibration": [calibration_sentence(c) for _, c in cal.iterrows()],
        "regressions": int(same_device["regression"].sum()),
        "cases": _pairs_table(same_device),
        "devices": _pairs_table(cross_device, cross_device=True),
        "charts": _speedup_charts(both),
        "unmatched": _unmatched_table(matching.unmatched(runs), len(runs)),
        "training": _training_table(matching.training(runs), len(runs)),
        "scaling": scaling.compare_table(runs),
        "verdicts": gate.verdicts(runs, same_device, cal),
        "console": gate.console_lines(same_device, cal),
    }


def write_compare(results_paths: list[Path], out_html: Path, fail_on_regression: bool = False,
                  json_path: Path | None = None,
                  echo: Callable[[str], object] | None = None) -> int:
    """Write the comparison of `results_paths` to `out_html` (and the verdicts to `json_path`,
    both or neither); return the exit code. `echo`, when given, gets each line of the console
    summary (gate.console_lines) once the files are written.

    Returns 1 when `fail_on_regression` and a case on the same hardware and device is slower
    beyond the noise than in the first run that has it, else 0. Raises UsageError for fewer than
    two files or an unwritable output, ResultsError for a bad results file.
    """
    if len(results_paths) < 2:
        raise UsageError("compare needs at least two results files; pass two or more "
                         "results.json paths")
    if json_path is not None:
        gate.check_target(Path(json_path), [Path(out_html), *map(Path, results_paths)])
    runs = [load_run(Path(p)) for p in results_paths]
    context = compare_context(runs)
    outputs = {Path(out_html): render_template("compare.html", **context)}
    if json_path is not None:
        outputs[Path(json_path)] = gate.dumps(context["verdicts"])
    write_all(outputs)
    for line in context["console"] if echo else ():
        echo(line)
    return 1 if fail_on_regression and context["regressions"] else 0
