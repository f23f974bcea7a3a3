"""`mnistbench run`: time every case of a profile, train its models, write results and report.

Order of work: check every input (profile, device, threads, --out, data) before anything is
written; then create the run directory, take its lock, write the header, run the pending timed
cases through pytest-benchmark (bench/bench_*.py), run the pending training runs, and assemble
results.json, pytest-benchmark.json and the report. Each finished case is appended to
progress.jsonl at once, so `--resume` continues a killed run without repeating finished work.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench import cases as cases_mod
from bench import data, results, rundir
from bench.device import resolve_device, set_threads
from bench.errors import UsageError
from bench.harness import HarnessPlugin, module_paths, skipped_record
from bench.profiles import DEFAULT_PROFILE, get_profile
from bench.progress import Progress
from bench.training import run_training

DEFAULTS = {"profile": DEFAULT_PROFILE, "device": "auto", "dataset": "mnist", "seed": 0,
            "threads": None, "data_dir": None, "only": None}


class RunInterrupted(Exception):
    """Ctrl-C: the run stopped cleanly and can be resumed; the message says how."""


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for; None = not given (so --resume can tell conflicts from defaults)."""

    profile: str | None = None
    device: str | None = None
    out: Path | None = None
    data_dir: str | None = None
    dataset: str | None = None
    resume: bool = False
    threads: int | None = None
    seed: int | None = None
    only: str | None = None  # a regular expression over case names: run only those that match
    report: bool = True


def _given(opts: RunOptions) -> dict:
    return {k: getattr(opts, k) for k in DEFAULTS if getattr(opts, k) is not None}


def _settings(opts: RunOptions, out: Path) -> dict:
    """The run's settings: the defaults overlaid with what was given — or, on --resume, the
    stored run's settings, refusing any given option that contradicts them."""
    if not opts.resume:
        return {**DEFAULTS, **_given(opts)}
    stored = json.loads((out / rundir.HEADER).read_text(encoding="utf-8"))["config"]
    requested = stored.get("requested", {})
    for key, value in _given(opts).items():
        if requested.get(key) != value and stored.get(key) != value:
            raise UsageError(f"--resume: the run in {out} used --{key.replace('_', '-')} "
                             f"{requested.get(key)!r}, not {value!r}; drop the option to continue "
                             "it as it started")
    return {**DEFAULTS, **requested}


def run(opts: RunOptions, stream=None) -> Path:
    """Carry out one run; returns the path of its results.json."""
    stream = stream or sys.stderr
    if opts.resume and opts.out is None:
        raise UsageError("--resume needs --out DIR: the directory of the run to continue")
    out = opts.out or Path("reports") / "out" / results.new_run_id()
    rundir.check_out_dir(out, opts.resume)
    settings = _settings(opts, out) if opts.resume else {**DEFAULTS, **_given(opts)}
    profile = get_profile(settings["profile"])
    only = _compile_only(settings["only"])
    device = resolve_device(settings["device"])
    threads = set_threads(settings["threads"])
    plan = _plan(profile, device, settings["seed"], only)
    dataset = data.load(settings["dataset"], settings["data_dir"])
    for note in dataset.notes:
        print(f"mnistbench: {note}", file=stream)
    out.mkdir(parents=True, exist_ok=True)
    with rundir.RunLock(out):
        header = _header(out, opts, settings, profile, device, threads, dataset)
        return _execute(out, header, plan, profile, device, dataset, stream, opts.report)


def _plan(profile, device, seed: int, only: re.Pattern | None) -> tuple[list, list]:
    """The run's timed cases and training runs, filtered by --only (which must match one)."""
    timed = cases_mod.all_cases(profile, device)
    trains = cases_mod.train_cases(profile, device, seed)
    if only is None:
        return timed, trains
    timed = [c for c in timed if only.search(c.name)]
    trains = [t for t in trains if only.search(t.name)]
    if not timed and not trains:
        raise UsageError(f"--only {only.pattern!r} matches no case of profile {profile.name!r}; "
                         "`mnistbench list` shows the names (cases look like "
                         "'rnn/native/forward/...' or 'train/resnet/projection/seed0')")
    return timed, trains


def _compile_only(pattern: str | None) -> re.Pattern | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--only {pattern!r} is not a valid regular expression ({exc}); "
                         "e.g. --only 'rnn/(loop|native)/'") from None


def _header(out, opts, settings, profile, device, threads, dataset) -> dict:
    path = out / rundir.HEADER
    if opts.resume:
        return json.loads(path.read_text(encoding="utf-8"))
    from bench import machine

    env = machine.collect_env(device)
    config = {"profile": profile.name, "device": device.type, "threads": threads,
              "seed": settings["seed"], "dataset": settings["dataset"], "only": settings["only"],
              "data_dir": settings["data_dir"], "requested": settings,
              "profile_table": dataclasses.asdict(profile)}
    header = {"schema_version": results.SCHEMA_VERSION, "tool": results.TOOL,
              "run_id": out.name if opts.out is None else results.new_run_id(),
              "created_at": results.utc_now_iso(), "finished_at": None, "status": "partial",
              "profile": profile.name, "config": config, **env,
              "dataset": dataset.as_dict()}
    results.write_json_atomic(path, header)
    return header


def _execute(out, header, plan, profile, device, dataset, stream, report) -> Path:
    timed, trains = plan
    entries = rundir.load_progress(out)
    done = {rundir.record_key(e) for e in entries}
    pending = [c for c in timed if f"benchmark:{c.name}@{c.device}" not in done]
    pending_train = [t for t in trains if f"training:{t.name}@{t.device}" not in done]
    total = len(timed) + len(trains)
    progress = Progress(total, total - len(pending) - len(pending_train), stream=stream)
    if entries:
        progress.say(f"mnistbench: resuming {out}: {len(entries)} of {total} items already done")

    def save(kind: str, record: dict) -> None:
        entry = {"type": kind, "record": record}
        results.append_jsonl(out / rundir.PROGRESS, entry)
        entries.append(entry)
        progress.finish_item()

    try:
        _time_cases(pending, profile, device, header, out, progress, save)
        run_training(pending_train, profile, dataset, device, progress, save)
    except KeyboardInterrupt:
        progress.close()
        _write_results(out, header, entries, timed, trains, complete=False)
        raise RunInterrupted(f"interrupted; {len(entries)} of {total} items are saved in {out}. "
                             f"Continue with: mnistbench run --resume --out {out}") from None
    progress.close()
    path = _write_results(out, header, entries, timed, trains, complete=True)
    _summary(stream, out, entries)
    if report:
        from reports.render import write_report

        for written in write_report(path):
            print(f"mnistbench: wrote {written}", file=stream)
    return path


def _time_cases(pending, profile, device, header, out, progress, save) -> None:
    from implementations import rnn

    for case in [c for c in pending if c.skip_reason]:
        progress.start(case.name)
        save("benchmark", skipped_record(case))
    runnable = [c for c in pending if not c.skip_reason]
    if not runnable:
        return
    progress.say(f"mnistbench: timing {len(runnable)} cases on {device.type} "
                 f"({header['config']['threads']} threads)")
    compiling = {info.name for info in rnn.describe() if info.compiles}
    plugin = HarnessPlugin(runnable, device, header["config"]["seed"], compiling,
                           on_start=lambda c: progress.start(c.name),
                           on_record=lambda r: save("benchmark", r))
    args = [*module_paths(), "-q", "-p", "no:cacheprovider", "-c", os.devnull,
            "--rootdir", str(out), "--capture=sys", "--benchmark-sort=name",
            f"--benchmark-min-rounds={profile.min_rounds}",
            f"--benchmark-max-time={profile.max_time_s}", "--benchmark-warmup=on",
            f"--benchmark-warmup-iterations={profile.warmup_rounds}"]
    with open(out / "pytest.log", "a", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log):
        code = pytest.main(args, plugins=[plugin])
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise RuntimeError(f"pytest could not run the benchmark modules (exit {int(code)}); "
                           f"see {out / 'pytest.log'}")


def _ordered(entries, kind, order) -> list[dict]:
    index = {name: i for i, name in enumerate(order)}
    records = [e["record"] for e in entries if e["type"] == kind]
    return sorted(records, key=lambda r: index.get(r["name"], len(index)))


def _write_results(out, header, entries, timed, trains, complete: bool) -> Path:
    benchmarks = _ordered(entries, "benchmark", [c.name for c in timed])
    training = _ordered(entries, "training", [t.name for t in trains])
    body = {**header, "status": "complete" if complete else "partial",
            "finished_at": results.utc_now_iso() if complete else None,
            "benchmarks": [{k: v for k, v in r.items() if k != "pytest_benchmark"}
                           for r in benchmarks],
            "training": training, "pytest_benchmark_json": "pytest-benchmark.json"}
    _write_pytest_benchmark_json(out, header, benchmarks)
    path = out / rundir.RESULTS
    results.write_json_atomic(path, results.validate(body, source=str(path)))
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
    results.write_json_atomic(out / "pytest-benchmark.json", doc)


def _summary(stream, out, entries) -> None:
    counts: dict[str, int] = {}
    for entry in entries:
        status = entry["record"].get("status", "ok")
        counts[status] = counts.get(status, 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"mnistbench: finished {out}: {text}", file=stream)
