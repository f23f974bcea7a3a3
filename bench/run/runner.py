"""`mnistbench run`: time every case of a profile, train its models, write results and report.

Order of work: check every input (profile, device, threads, --only, --out, data) before anything
is written; then create the run directory, take its lock, write the header, time the pending
cases (bench.timing.session), run the pending training runs (bench.training.runs), and assemble
results.json, pytest-benchmark.json and the report (bench.run.assemble). Each finished item is
appended to progress.jsonl at once, so `--resume` continues a killed run without repeating
finished work.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import torch

from bench.data.sources import Dataset
from bench.data.sources import load as load_dataset
from bench.errors import UsageError
from bench.faults import slow_cases
from bench.run import assemble, repetitions
from bench.run.options import RunOptions, compile_only, settings_of
from bench.run.progress import Progress
from bench.store import atomic, results, rundir
from bench.system.device import resolve_device, set_threads
from bench.timing.cases import Case, TrainCase, all_cases, train_cases
from bench.timing.profiles import Profile, get_profile
from bench.training.runs import run_training


class RunInterrupted(Exception):
    """Ctrl-C: the run stopped cleanly and can be resumed; the message says how."""


@dataclass(frozen=True)
class Plan:
    """Everything a run will do, decided before anything is written."""

    timed: list[Case]
    trains: list[TrainCase]

    @property
    def total(self) -> int:
        return len(self.timed) + len(self.trains)


@dataclass(frozen=True)
class RunContext:
    """One run, resolved: what every later step reads instead of a list of positionals."""

    out: Path
    header: dict  # run.json: id, config, machine, software, commit, dataset
    profile: Profile
    device: torch.device
    dataset: Dataset
    plan: Plan
    stream: TextIO
    report: bool  # render report.html at the end

    @property
    def seed(self) -> int:
        return self.header["config"]["seed"]


def run(opts: RunOptions, stream: TextIO | None = None) -> Path:
    """Carry out one run; returns the path of its results.json."""
    stream = stream or sys.stderr
    from bench.scaling import launch

    if launch.wanted(opts):  # the data-parallel profile: ranks started through torchrun's API
        return launch.run(opts, stream)
    if opts.resume and opts.out is None:
        raise UsageError("--resume needs --out DIR: the directory of the run to continue")
    out = opts.out or Path("reports") / "out" / results.new_run_id()
    rundir.check_out_dir(out, opts.resume)
    slow_cases()  # a malformed MNISTBENCH_SLOW_CASES is refused before anything is written
    settings = settings_of(opts, out)
    profile = get_profile(settings["profile"])
    only = compile_only(settings["only"])
    if opts.resume:
        done = _finish_saved(out, profile, settings, only, stream, opts.report)
        if done is not None:
            return done
    device = resolve_device(settings["device"])
    threads = set_threads(settings["threads"])
    plan = make_plan(profile, device, settings["seed"], only)
    dataset = load_dataset(settings["dataset"], settings["data_dir"])
    for note in dataset.notes:
        print(f"mnistbench: {note}", file=stream)
    prepare_kernels(plan, stream)  # after every check of the input: it may take 30 s
    out.mkdir(parents=True, exist_ok=True)
    with rundir.RunLock(out):
        header = write_header(out, opts, settings, profile, device, threads, dataset)
        return _execute(RunContext(out, header, profile, device, dataset, plan, stream,
                                   opts.report))


def make_plan(profile: Profile, device: torch.device, seed: int,
              only: re.Pattern | None) -> Plan:
    """The run's timed cases and training runs, filtered by --only (which must match one)."""
    timed = all_cases(profile, device)
    trains = train_cases(profile, device, seed)
    if only is not None:
        timed = [c for c in timed if only.search(c.name)]
        trains = [t for t in trains if only.search(t.name)]
        if not timed and not trains:
            raise UsageError(f"--only {only.pattern!r} matches no case of profile "
                             f"{profile.name!r}; `mnistbench list` shows the names (cases look "
                             "like 'rnn/native/forward/...' or 'train/resnet/projection/seed0')")
    return Plan(timed, trains)


def prepare_kernels(plan: Plan, stream: TextIO) -> None:
    """Build style bptt's compiled LSTM loops (implementations.rnn.bptt_kernel) before any
    timing when the plan times that style's LSTM on CPU, so that no timed call or worker pays
    for the build; where it cannot be built, say so once: the Python loops run instead."""
    from implementations.rnn import bptt_kernel

    if not any(c.implementation == "bptt" and c.device == "cpu" and c.params.get("cell") == "lstm"
               and not c.skip_reason for c in plan.timed):
        return
    if not bptt_kernel.built() and not bptt_kernel.disabled():
        print("mnistbench: building the compiled LSTM loops of style bptt (once per machine and "
              "torch version; about 30 s)", file=stream, flush=True)
    if bptt_kernel.load() is None:
        print(f"mnistbench: style bptt's LSTM runs its {bptt_kernel.status()}", file=stream)


def write_header(out: Path, opts: RunOptions, settings: dict, profile: Profile,
                 device: torch.device, threads: int, dataset: Dataset,
                 extra_config: dict | None = None) -> dict:
    """run.json (on --resume: read back); `extra_config`: more config keys (a scaling run's
    launch)."""
    path = out / rundir.HEADER
    if opts.resume:
        return json.loads(path.read_text(encoding="utf-8"))
    from bench.system import machine

    env = machine.collect_env(device)
    config = {"profile": profile.name, "device": device.type, "threads": threads,
              "seed": settings["seed"], "dataset": settings["dataset"], "only": settings["only"],
              "data_dir": settings["data_dir"], "requested": settings,
              "profile_table": dataclasses.asdict(profile), **(extra_config or {})}
    header = {"schema_version": results.SCHEMA_VERSION, "tool": results.TOOL,
              "run_id": out.name if opts.out is None else results.new_run_id(),
              "created_at": results.utc_now_iso(), "finished_at": None, "status": "partial",
              "profile": profile.name, "config": config, **env,
              "dataset": dataset.as_dict()}
    atomic.write_json_atomic(path, header)
    return header


def _execute(ctx: RunContext) -> Path:
    entries = rundir.load_progress(ctx.out)
    done = {rundir.entry_id(e) for e in entries}
    reps = ctx.profile.repetitions
    skipped = [c for c in ctx.plan.timed if c.skip_reason]
    runnable = [c for c in ctx.plan.timed if not c.skip_reason]
    pending_train = [t for t in ctx.plan.trains
                     if results.record_id("training", t.name, t.device) not in done]
    finished, total = _counts(ctx.plan, reps, entries)
    progress = Progress(total, finished, stream=ctx.stream)
    if entries:
        progress.say(f"mnistbench: resuming {ctx.out}: {finished} of {total} items already "
                     "done")

    def save(kind: str, record: dict) -> None:
        atomic.append_jsonl(ctx.out / rundir.PROGRESS, {"type": kind, "record": record})
        progress.finish_item()

    try:
        for case in skipped:
            if results.record_id("benchmark", case.name, case.device) not in done:
                save("benchmark", {"name": case.name, "device": case.device})
        if runnable:
            progress.say(f"mnistbench: timing {len(runnable)} cases x {reps} repetitions on "
                         f"{ctx.device.type} ({ctx.header['config']['threads']} threads)")
            job = repetitions.job_for(ctx.profile.name, ctx.device.type,
                                      ctx.header["config"]["threads"], ctx.seed, ctx.out)
            repetitions.run_repetitions(runnable, job, reps, ctx.out, progress,
                                        on_lost=lambda r: save("repetition", r))
        run_training(pending_train, ctx.profile, ctx.dataset, ctx.device, progress, save)
    except KeyboardInterrupt:
        progress.close()
        entries = rundir.load_progress(ctx.out)
        assemble.write_results(ctx.out, ctx.header, entries, ctx.plan, ctx.device,
                               complete=False)
        kept = sum(e["type"] in ("benchmark", "repetition", "training") for e in entries)
        raise RunInterrupted(f"interrupted; {kept} of {total} items are saved in "
                             f"{ctx.out}. Continue with: mnistbench run --resume --out "
                             f"{ctx.out}") from None
    progress.close()
    return _finish(ctx.out, ctx.header, ctx.plan, ctx.device, ctx.stream, ctx.report)


def _counts(plan: Plan, reps: int, entries: list[dict]) -> tuple[int, int]:
    """(items saved, items in the plan): a timed case is one item per repetition (a skipped
    case one), a training run one."""
    skipped = sum(1 for c in plan.timed if c.skip_reason)
    total = skipped + (len(plan.timed) - skipped) * reps + len(plan.trains)
    return sum(e["type"] in ("benchmark", "repetition", "training") for e in entries), total


def _finish(out: Path, header: dict, plan: Plan, device: torch.device, stream: TextIO,
            report: bool) -> Path:
    """Every item is saved: write results.json, pytest-benchmark.json and the report."""
    try:
        path = assemble.write_results(out, header, rundir.load_progress(out), plan, device,
                                      complete=True)
        assemble.summary(stream, out, results.load(path))
        if report:
            from reports.report import write_report

            for written in write_report(path):
                print(f"mnistbench: wrote {written}", file=stream)
    except KeyboardInterrupt:
        raise RunInterrupted(f"interrupted while writing the results; every item is saved in "
                             f"{out}. Finish with: mnistbench run --resume --out {out} (on any "
                             "machine: it needs neither the device nor the data)") from None
    return path


def _finish_saved(out: Path, profile: Profile, settings: dict, only: re.Pattern | None,
                  stream: TextIO, report: bool) -> Path | None:
    """--resume of a run whose items are all saved (cut while its results were written, say):
    assemble it here without its device or data, so a GPU run's directory can be finished on a
    CPU-only machine. None when something is still to run."""
    header = json.loads((out / rundir.HEADER).read_text(encoding="utf-8"))
    device = torch.device(header["config"]["device"])
    plan = make_plan(profile, device, settings["seed"], only)
    with rundir.RunLock(out):
        saved, total = _counts(plan, profile.repetitions, rundir.load_progress(out))
        if saved < total:
            return None
        print(f"mnistbench: resuming {out}: all {total} items are saved; writing the results",
              file=stream)
        return _finish(out, header, plan, device, stream, report)
