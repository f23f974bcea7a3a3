"""The verdicts of `mnistbench compare` for machines and CI logs: the `--json FILE` document (its
format is in reports/compare.py's docstring), the checks on FILE made before anything is written,
and the lines compare prints on the console (`console_lines`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from bench.errors import UsageError
from bench.store.atomic import check_writable
from bench.timing import stats
from reports import fmt
from reports.load import Run

FORMAT_VERSION = 1


def _number(value: object) -> float | None:
    """A float for JSON; NaN / inf / missing become null (strict JSON has neither)."""
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _case(p: pd.Series) -> dict:
    return {"name": p["name"], "device": p["device"], "baseline_run": int(p["base_run"]) + 1,
            "ratio": _number(p["ratio"]), "low": _number(p["low"]), "high": _number(p["high"]),
            "basis": p["basis"], "raw_ratio": _number(p["raw_ratio"]),
            "repetitions": int(p["repetitions"]), "verdict": p["verdict"],
            "baseline_median_s": _number(p["base_median"]), "median_s": _number(p["median"])}


def _calibration(c: pd.Series) -> dict | None:
    if _number(c["ratio"]) is None:
        return None
    return {"base_gflops": _number(c["base_gflops"]), "gflops": _number(c["gflops"]),
            "ratio": _number(c["ratio"]), "low": _number(c["low"]), "high": _number(c["high"]),
            "moved": c["moved"]}


def _run(index: int, run: Run, same_hardware: bool, cases: pd.DataFrame,
         cal: pd.Series | None) -> dict:
    return {"run": index + 1, "path": str(run.path), "run_id": run.run_id,
            "fingerprint": run.fingerprint, "same_hardware": same_hardware,
            "calibration": None if cal is None else _calibration(cal),
            "regressions": int(cases["regression"].sum()),
            "improvements": int((cases["verdict"] == "improvement").sum()),
            "cases": [_case(p) for _, p in cases.iterrows()]}


def verdicts(runs: list[Run], pairs: pd.DataFrame, calibrations: pd.DataFrame) -> dict:
    """The --json document from compare's same-device pairs and calibration rows."""
    cal = {int(c["run"]): c for _, c in calibrations.iterrows()}
    entries = [_run(i, run, run.fingerprint == runs[0].fingerprint, pairs[pairs["run"] == i],
                    cal.get(i)) for i, run in enumerate(runs) if i > 0]
    base = runs[0]
    return {"tool": "mnistbench", "kind": "compare", "format_version": FORMAT_VERSION,
            "factor": stats.FACTOR, "confidence": stats.CONFIDENCE,
            "baseline": {"path": str(base.path), "run_id": base.run_id,
                         "fingerprint": base.fingerprint,
                         "gemm_gflops": _number((base.calibration or {}).get("gemm_gflops"))},
            "regressions": int(pairs["regression"].sum()), "runs": entries}


def dumps(document: dict) -> str:
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    return a.exists() and b.exists() and a.samefile(b)


def check_target(path: Path, others: list[Path]) -> None:
    """--json FILE must be a new or replaceable file in a writable directory, and none of the
    inputs nor the HTML output; else a one-line UsageError, before anything is written."""
    what = f"--json {path}"
    try:
        if path.is_dir():
            raise UsageError(f"{what} is a directory; give a file path inside it")
        if any(_same_file(path, other) for other in others):
            raise UsageError(f"{what} is one of the input files or the HTML output and would be "
                             "overwritten; choose another path for --json")
        parent = path.parent
        if not parent.exists():
            raise UsageError(f"{what}: the directory {parent} does not exist; create it first or "
                             "choose another path for --json")
        if not parent.is_dir():
            raise UsageError(f"{what}: {parent} is not a directory; choose another path for "
                             "--json")
    except OSError as exc:
        raise UsageError(f"{what}: cannot inspect it ({exc.strerror or exc}); choose another "
                         "path for --json") from None
    check_writable(parent, what, "choose a writable path for --json")


# The console lists at most this many regressions (and improvements) per run; the HTML has all
CONSOLE_CASES = 20


def console_lines(pairs: pd.DataFrame, calibrations: pd.DataFrame) -> list[str]:
    """What compare prints for a terminal or a CI log, from the pairs matched on one device
    (matching.pairs): per later run on the same hardware, the counts, each regression and
    improvement with its ratio and interval (up to CONSOLE_CASES a kind), how many cases the
    machine's movement left undecided, and whether the machine itself moved; per run on other
    hardware, the counts. The HTML (and --json) hold the rest."""
    lines = []
    for run_index, part in pairs.groupby("run", sort=True):
        same = bool(part["same_hardware"].all())
        slower = part[part["significant"] & (part["ratio"] > 1)].sort_values("ratio",
                                                                             ascending=False)
        faster = part[part["significant"] & (part["ratio"] < 1)].sort_values("ratio")
        worse, better = ("regressions", "improvements") if same else ("slower", "faster")
        bases = sorted({fmt.run_label(int(b)).lower() for b in part["base_run"]})
        lines.append(f"{fmt.run_label(int(run_index))} against {' and '.join(bases)} "
                     f"({'same' if same else 'other'} hardware): {len(part)} matched cases, "
                     f"{len(slower)} {worse}, {len(faster)} {better}, "
                     f"{len(part) - len(slower) - len(faster)} within the noise")
        if not same:
            continue  # speed-ups between machines are for the HTML, not a gate
        for word, rows in (("regression", slower), ("improvement", faster)):
            for _, row in rows.head(CONSOLE_CASES).iterrows():
                lines.append(f"  {word:<11} {row['name']}  {fmt.ratio(row['ratio'])} the time "
                             f"{fmt.ratio_interval(row['low'], row['high'])}")
            if len(rows) > CONSOLE_CASES:
                lines.append(f"  ... and {len(rows) - CONSOLE_CASES} more {word}s (see the HTML)")
        single = int((part["repetitions"] < stats.MIN_REPETITIONS).sum())
        if single:
            lines.append(f"  {single} {'case' if single == 1 else 'cases'} with one repetition "
                         "a side (an older results file): no verdict can be drawn")
        undecided = int(part["basis"].isin(["undecided", "apart", "together", "shared"]).sum())
        if undecided:
            lines.append(f"  {undecided} {'case' if undecided == 1 else 'cases'} left "
                         "undecided because the machine moved between the runs (the HTML's "
                         "summary says how): run the pair again")
        moved = calibrations[calibrations["run"] == run_index]
        if not moved.empty and moved.iloc[0]["moved"]:
            c = moved.iloc[0]
            lines.append(f"  the machine itself ran {fmt.percent(abs(c['ratio'] - 1))} "
                         f"{c['moved']} than in run 1 (reference GEMM {fmt.gflops(c['gflops'])} "
                         f"against {fmt.gflops(c['base_gflops'])})")
    return lines or ["No case ran on one device in two of these runs: the HTML compares them "
                     "across devices."]
