"""The verdicts of `mnistbench compare` for machines: the `--json FILE` document (its format is
in reports/compare.py's docstring), and the checks on FILE made before anything is written."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from bench.errors import UsageError
from bench.store.atomic import check_writable
from bench.timing import stats
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
