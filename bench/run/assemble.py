"""The files a run leaves: results.json (validated), pytest-benchmark.json, the closing summary."""

from __future__ import annotations

from pathlib import Path

from bench.store import atomic, results, rundir


def _ordered(entries: list[dict], kind: str, order: list[str]) -> list[dict]:
    """The records of one kind, in plan order (a resumed run appends out of order)."""
    index = {name: i for i, name in enumerate(order)}
    records = [e["record"] for e in entries if e["type"] == kind]
    return sorted(records, key=lambda r: index.get(r["name"], len(index)))


def write_results(out: Path, header: dict, entries: list[dict], plan, complete: bool) -> Path:
    """Assemble and validate results.json (plus pytest-benchmark.json) from the finished items."""
    benchmarks = _ordered(entries, "benchmark", [c.name for c in plan.timed])
    training = _ordered(entries, "training", [t.name for t in plan.trains])
    body = {**header, "status": "complete" if complete else "partial",
            "finished_at": results.utc_now_iso() if complete else None,
            "benchmarks": [{k: v for k, v in r.items() if k != "pytest_benchmark"}
                           for r in benchmarks],
            "training": training, "pytest_benchmark_json": "pytest-benchmark.json"}
    _write_pytest_benchmark_json(out, header, benchmarks)
    path = out / rundir.RESULTS
    atomic.write_json_atomic(path, results.validate(body, source=str(path)))
    return path


def _write_pytest_benchmark_json(out, header, benchmarks) -> None:
    """pytest-benchmark's own file format, so `pytest-benchmark compare` reads our runs."""
    import pytest_benchmark
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info

    doc = {"machine_info": pytest_benchmark_generate_machine_info(),
           "commit_info": {"id": header["commit"]["sha"], "dirty": header["commit"]["dirty"],
                           "project": "mnistbench"},
           "benchmarks": [r["pytest_benchmark"] for r in benchmarks if "pytest_benchmark" in r],
           "datetime": header["created_at"], "version": pytest_benchmark.__version__}
    atomic.write_json_atomic(out / "pytest-benchmark.json", doc)


def summary(stream, out, entries) -> None:
    counts: dict[str, int] = {}
    for entry in entries:
        status = entry["record"].get("status", "ok")
        counts[status] = counts.get(status, 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"mnistbench: finished {out}: {text}", file=stream)
