"""Load a results file (through bench.store.results, which validates it) into pandas frames.

This is the report's only boundary with the results format: everything downstream works on the
`Run` below, one flat row per benchmark case and one per training run. A schema-1 file arrives
upgraded (bench.store.validate): one repetition per case, no calibration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.store import results as bench_results
from bench.timing.passes import pass_controls, pass_units, state_split

BENCH_COLUMNS = ["name", "group", "groups", "implementation", "device", "pass", "status",
                 "error", "median", "iqr", "q1", "q3", "rounds", "samples", "rep_medians",
                 "rep_samples", "pass_raw", "pass_control", "control_split", "spread",
                 "unstable", "flops", "gflops", "compile_s", "noisy",
                 "warnings", "params", "cell", "family", "shortcut", "config"]
TRAIN_COLUMNS = ["label", "model", "variant", "device", "seed", "params_count", "flops",
                 "final_acc", "final_loss", "epochs", "time_to_target_s", "target_acc",
                 "images_per_s", "status", "error"]


@dataclass(frozen=True)
class Run:
    """One loaded results file: the raw dict plus its benchmark and training frames."""

    path: Path
    data: dict
    bench: pd.DataFrame
    training: pd.DataFrame

    @property
    def run_id(self) -> str:
        return str(self.data["run_id"])

    @property
    def fingerprint(self) -> str:
        return str(self.data["machine"].get("fingerprint"))

    @property
    def calibration(self) -> dict | None:
        """The run's calibration block (None in a schema-1 file or a run without one)."""
        return self.data.get("calibration")

    @property
    def control(self) -> str | None:
        """What the run's per-pass controls timed (None: the GEMM alone, in older files)."""
        return (self.calibration or {}).get("control")

    @property
    def setup(self) -> str | None:
        """Everything the run's times depend on but the machine's state: the commit of a clean
        checkout, the software, the machine, and the profile, device, threads and dataset. None
        when the commit is unknown, had uncommitted changes, or git could not tell. Two runs of
        one setup ran the same code the same way on the same machine, so what moved all their
        cases together was the machine (reports.matching.shared_movement)."""
        commit = self.data.get("commit") or {}
        if not commit.get("sha") or commit.get("dirty") is not False:
            return None
        config = self.data.get("config") or {}
        return json.dumps({"commit": commit["sha"], "software": self.data.get("software"),
                           "machine": self.fingerprint,
                           "config": [config.get(k) for k in ("profile", "device", "threads",
                                                              "dataset")]},
                          sort_keys=True, default=str)

    @property
    def schema_version(self) -> int:
        """The version the file was written in (a schema-1 file is read upgraded)."""
        return int(self.data.get("upgraded_from") or self.data["schema_version"])


def load_run(path: Path) -> Run:
    """Load and validate `path`; raises bench.errors.ResultsError on a bad file."""
    data = bench_results.load(Path(path))
    return Run(Path(path), data, bench_frame(data["benchmarks"]), training_frame(data["training"]))


def _config_key(params: dict) -> str:
    """Everything that identifies a case's workload except the pass: cases with the same key and
    pass differ only by implementation, so their medians can be divided."""
    rest = {k: v for k, v in params.items() if k != "pass"}
    return json.dumps(rest, sort_keys=True, default=str)


def _cell(params: dict) -> str | None:
    """An RNN case's cell ("rnn" | "lstm" | "gru"); schema-1 files have none, and only the
    vanilla RNN, so an RNN case without one is "rnn". None for a CNN case."""
    if "hidden_size" not in params:
        return None
    return str(params.get("cell") or "rnn")


def _ok_repetitions(case: dict) -> list[dict]:
    return [r for r in case.get("repetitions") or []
            if r.get("status") == "ok" and r.get("stats") and r["stats"].get("samples")]


def _bench_row(case: dict) -> dict:
    stats = case.get("stats") or {}
    params = case.get("params") or {}
    reps = _ok_repetitions(case)
    return {
        "name": case["name"], "group": case["group"],
        "groups": list(case.get("groups") or [case["group"]]),
        "implementation": case["implementation"], "device": case["device"],
        "pass": params.get("pass"), "status": case["status"], "error": case.get("error"),
        "median": stats.get("median"), "iqr": stats.get("iqr"), "q1": stats.get("q1"),
        "q3": stats.get("q3"), "rounds": stats.get("rounds"),
        "samples": list(stats.get("samples") or []),
        "rep_medians": [float(r["stats"]["median"]) for r in reps],
        "rep_samples": [list(r["stats"]["samples"]) for r in reps],
        "pass_raw": pass_units(reps, adjusted=False),
        "pass_control": pass_controls(reps),
        "control_split": None,  # bench_frame: the run's state split on this device
        "spread": case.get("spread"), "unstable": bool(case.get("unstable")),
        "flops": case.get("flops"), "gflops": case.get("gflops"),
        "compile_s": case.get("compile_s"), "noisy": bool(case.get("noisy")),
        "warnings": list(case.get("warnings") or []), "params": dict(params),
        "cell": _cell(params),
        "family": params.get("family"), "shortcut": params.get("shortcut"),
        "config": _config_key(params),
    }


def bench_frame(cases: list[dict]) -> pd.DataFrame:
    """One row per benchmark case; stats columns are NaN for failed/skipped cases.

    `rep_medians` holds each ok repetition's median, `rep_samples` its raw rounds; `pass_raw`
    the rounds of every pass and `pass_control` each pass's (repetition, control) (empty for
    files without passes): the units bench.timing.stats.compare takes, adjusted for the control
    by reports.analysis.verdict_units; `control_split` the log-control threshold between the
    machine's fast and slow state over every pass of the run on that device (None: no two
    states; bench.timing.passes.state_split).
    """
    frame = pd.DataFrame([_bench_row(c) for c in cases], columns=BENCH_COLUMNS)
    for column in ("median", "iqr", "q1", "q3", "compile_s", "spread", "flops", "gflops"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["rounds"] = pd.to_numeric(frame["rounds"], errors="coerce").astype("Int64")
    for rows in frame.groupby("device").groups.values():  # one machine state per device
        split = state_split([c for controls in frame.loc[rows, "pass_control"]
                             for _, c in controls])
        frame.loc[rows, "control_split"] = split
    frame["control_split"] = frame["control_split"].astype(object)
    return frame


def _train_row(entry: dict) -> dict:
    epochs = list(entry.get("epochs") or [])
    last = epochs[-1] if epochs else {}
    return {
        "label": entry["model"] if entry.get("variant") is None
        else f"{entry['model']}/{entry['variant']}", "model": entry["model"],
        "variant": entry["variant"], "device": entry["device"], "seed": entry.get("seed"),
        "params_count": entry.get("params_count"), "flops": entry.get("flops"),
        "final_acc": last.get("test_acc"), "final_loss": last.get("train_loss"),
        "epochs": epochs, "time_to_target_s": entry.get("time_to_target_s"),
        "target_acc": entry.get("target_acc"), "images_per_s": entry.get("images_per_s"),
        "status": entry.get("status", "ok"), "error": entry.get("error"),
    }


def training_frame(entries: list[dict]) -> pd.DataFrame:
    """One row per training run (model, variant, device, seed)."""
    frame = pd.DataFrame([_train_row(e) for e in entries], columns=TRAIN_COLUMNS)
    for column in ("final_acc", "final_loss", "time_to_target_s", "params_count", "flops",
                   "images_per_s", "target_acc"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame
