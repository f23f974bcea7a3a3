"""The files a run leaves: results.json (validated), pytest-benchmark.json, the closing summary.

Everything is built from the progress entries through the schema's records (bench.store.schema):
each case's repetitions fold into one Benchmark, the repetitions' calibrations into one
Calibration, and the dataset block says how many training images the runs actually used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import torch

from bench.store import atomic, results, rundir, schema
from bench.timing import calibrate
from bench.timing.records import benchmark_record


def _by_kind(entries: list[dict], kind: str) -> list[dict]:
    return [e["record"] for e in entries if e["type"] == kind]


def benchmarks(entries: list[dict], plan) -> list[schema.Benchmark]:
    """One Benchmark per case of the plan that has anything to show, in plan order."""
    from implementations import rnn

    compiling = {info.name for info in rnn.describe() if info.compiles}
    reps: dict[str, list[dict]] = {}
    for record in _by_kind(entries, "repetition"):
        reps.setdefault(record["name"], []).append(record)
    skipped = {r["name"] for r in _by_kind(entries, "benchmark")}
    return [benchmark_record(case, reps.get(case.name, []), case.implementation in compiling)
            for case in plan.timed if case.name in reps or case.name in skipped]


def _training_record(r: dict) -> schema.Training:
    return schema.Training(**{**r, "epochs": [schema.Epoch(**e) for e in r["epochs"]],
                              "curve": [schema.CurvePoint(**p) for p in r.get("curve", [])]})


def training(entries: list[dict], plan) -> list[schema.Training]:
    index = {t.name: i for i, t in enumerate(plan.trains)}
    records = sorted(_by_kind(entries, "training"), key=lambda r: index.get(r["name"], len(index)))
    return [_training_record(r) for r in records]


def scaling(entries: list[dict]) -> list[schema.Scaling]:
    """The data-parallel records (issue 14), in the order they were first saved."""
    return [schema.Scaling(**{
        **r, "ranks": [schema.Rank(**k) for k in r["ranks"]],
        "step_s": schema.Stats(**r["step_s"]) if r["step_s"] else None,
        "training": _training_record(r["training"]) if r["training"] else None})
        for r in _by_kind(entries, "scaling")]


def dataset_used(dataset: dict | None, trained: list[schema.Training]) -> dict | None:
    """The dataset block with `train_used` and `test_used`: the most training and test images
    any run used (0: none)."""
    if dataset is None:
        return None
    ok = [t for t in trained if t.status == "ok"]
    return {**dataset, "train_used": max((t.train_images or 0 for t in ok), default=0),
            "test_used": max((t.test_images or 0 for t in ok), default=0)}


def write_results(out: Path, header: dict, entries: list[dict], plan, device: torch.device,
                  complete: bool) -> Path:
    """Assemble and validate results.json (plus pytest-benchmark.json) from the finished items."""
    points = [schema.CalibrationPoint(**r) for r in _by_kind(entries, "calibration")]
    cases = benchmarks(entries, plan)
    trained = training(entries, plan)
    scaled = scaling(entries)
    doc = schema.Results(
        schema_version=schema.SCHEMA_VERSION, tool=schema.TOOL, run_id=header["run_id"],
        created_at=header["created_at"],
        finished_at=results.utc_now_iso() if complete else None,
        status="complete" if complete else "partial", profile=header["profile"],
        config=header["config"], machine=schema.Machine(**header["machine"]),
        software=header["software"], commit=schema.Commit(**header["commit"]),
        dataset=schema.DatasetInfo(**dataset_used(
            header["dataset"], trained + [s.training for s in scaled if s.training])),
        calibration=calibrate.combine(device, points) if points else None,
        benchmarks=cases, training=trained, pytest_benchmark_json="pytest-benchmark.json",
        scaling=scaled)
    _write_pytest_benchmark_json(out, header, entries)
    path = out / rundir.RESULTS
    atomic.write_json_atomic(path, results.validate(doc.as_dict(), source=str(path)))
    return path


def _write_pytest_benchmark_json(out: Path, header: dict, entries: list[dict]) -> None:
    """pytest-benchmark's own file format, so `pytest-benchmark compare` reads our runs (the
    first ok repetition of each case: its format has no notion of repetitions)."""
    import pytest_benchmark
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info

    first: dict[str, dict] = {}
    for record in sorted(_by_kind(entries, "repetition"), key=lambda r: r["repetition"]):
        if "pytest_benchmark" in record:
            first.setdefault(record["name"], record["pytest_benchmark"])
    doc = {"machine_info": pytest_benchmark_generate_machine_info(),
           "commit_info": {"id": header["commit"]["sha"], "dirty": header["commit"]["dirty"],
                           "project": "mnistbench"},
           "benchmarks": list(first.values()),
           "datetime": header["created_at"], "version": pytest_benchmark.__version__}
    atomic.write_json_atomic(out / "pytest-benchmark.json", doc)


def summary(stream: TextIO, out: Path, doc: dict) -> None:
    """The closing line: how many cases and training runs ended in each status."""
    counts: dict[str, int] = {}
    for record in doc["benchmarks"] + doc["training"] + doc.get("scaling", []):
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"mnistbench: finished {out}: {text}", file=stream)
