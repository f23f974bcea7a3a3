"""The results records of timed cases, built through bench.store.schema.

A worker process produces one `repetition` entry per case (`repetition_entry`); once every
repetition is in, `benchmark_record` folds a case's entries into its `Benchmark`: pooled
statistics, each repetition's own, the spread between them, FLOPs and GFLOP/s.
"""

from __future__ import annotations

from bench.store import schema
from bench.timing import stats
from bench.timing.cases import Case

_STAT_KEYS = ("min", "max", "mean", "stddev", "median", "iqr", "q1", "q3", "rounds")


def repetition_entry(case: Case, repetition: int, status: str, error: str | None = None,
                     samples: list[float] | None = None, first_call_s: float | None = None,
                     flops: float | None = None, warnings: list[str] | None = None,
                     native: dict | None = None, passes: list[dict] | None = None) -> dict:
    """One case in one repetition, as the worker appends it to progress.jsonl.

    An ok case brings its timed rounds (`samples`, seconds, pooled over the repetition's
    passes), its first call and pytest-benchmark's own record of its last pass (`native`),
    whose statistics are replaced by those of the pooled rounds.
    """
    rep = schema.Repetition(repetition, status, error, None, None)
    entry = {"name": case.name, "device": case.device, "warnings": list(warnings or []),
             "flops": flops}
    if samples:
        summary = stats.summary(samples)
        rep = schema.Repetition(repetition, status, error,
                                schema.Stats(**{k: summary[k] for k in _STAT_KEYS},
                                             samples=list(samples)), first_call_s,
                                [schema.Pass(**p) for p in passes or []])
        if native is not None:
            pooled = stats.pytest_benchmark_stats(samples)
            native = {**native, "params": {"case": case.name}, "param": case.name,
                      "stats": {**native.get("stats", {}), **pooled, "data": list(samples)}}
            entry["pytest_benchmark"] = native  # pytest-benchmark's JSON wants plain values
    return {**entry, **rep.as_dict()}


def benchmark_record(case: Case, entries: list[dict], compiles: bool) -> schema.Benchmark:
    """A case over its repetitions (in repetition order); skipped when it has none to run."""
    entries = sorted(entries, key=lambda e: e["repetition"])
    reps = [schema.Repetition(e["repetition"], e["status"], e["error"],
                              schema.Stats(**e["stats"]) if e["stats"] else None,
                              e["first_call_s"],
                              [schema.Pass(**p) for p in e.get("passes", [])])
            for e in entries]
    ok = [r for r in reps if r.status == "ok"]
    failed = [r for r in reps if r.status == "failed"]
    status = "skipped" if case.skip_reason else "failed" if failed or not ok else "ok"
    error = case.skip_reason or (failed[0].error if failed else None)
    if status == "failed" and error is None:
        error = "no repetition finished"
    pooled = stats.summary([s for r in ok for s in r.stats.samples]) if ok else None
    medians = [r.stats.median for r in ok]
    first = reps[0].first_call_s if reps else None
    flops = next((e["flops"] for e in entries if e.get("flops")), None)
    warnings = sorted({w for e in entries for w in e.get("warnings", [])})
    return schema.Benchmark(
        name=case.name, group=case.groups[0], groups=list(case.groups),
        implementation=case.implementation, device=case.device, params=dict(case.params),
        status=status, error=error, warnings=warnings,
        stats=schema.Stats(**pooled) if pooled else None, repetitions=reps,
        spread=stats.spread(medians) if ok else None, unstable=stats.unstable(medians),
        noisy=bool(pooled and stats.noisy(pooled["iqr"], pooled["median"])),
        compile_s=first if compiles else None, first_call_s=first, flops=flops,
        gflops=flops / pooled["median"] / 1e9 if flops and pooled else None)
