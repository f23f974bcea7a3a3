"""The results record of one timed case: ok (pytest-benchmark's statistics), failed or skipped."""

from __future__ import annotations

from bench.timing.cases import Case
from bench.timing.stats import noisy

_STAT_KEYS = ("min", "max", "mean", "stddev", "median", "iqr", "q1", "q3", "rounds")


def base_record(case: Case) -> dict:
    return {"name": case.name, "group": case.group, "implementation": case.implementation,
            "device": case.device, "params": dict(case.params), "stats": None,
            "compile_s": None, "status": "failed", "error": None, "noisy": False,
            "warnings": []}


def skipped_record(case: Case) -> dict:
    return {**base_record(case), "status": "skipped", "error": case.skip_reason}


def ok_record(case: Case, benchmark, compiles: bool) -> dict:
    """A finished case: pytest-benchmark's statistics plus the raw per-call samples."""
    meta = benchmark.stats  # pytest_benchmark.stats.Metadata
    summary = meta.stats.as_dict()
    stats = {key: summary[key] for key in _STAT_KEYS}
    stats["samples"] = list(meta.stats.data)
    record = {**base_record(case), "stats": stats, "status": "ok",
              "warnings": benchmark.extra_info.get("warnings", []),
              "noisy": noisy(stats["iqr"], stats["median"])}
    if compiles:
        record["compile_s"] = benchmark.extra_info["first_call_s"]
    record["first_call_s"] = benchmark.extra_info["first_call_s"]
    native = meta.as_dict(include_data=True)
    native["params"] = {"case": case.name}  # pytest-benchmark's JSON wants plain values
    native["param"] = case.name
    record["pytest_benchmark"] = native
    return record
