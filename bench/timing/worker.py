"""One repetition of a run in a fresh process: `python -m bench.timing.worker JOB.json`.

The runner writes a job (profile, device, threads, seed, repetition, the case names in this
repetition's order, where to write) and starts one worker per repetition, one after another.
The worker times the reference GEMM (bench.timing.calibrate), then every case once through
pytest-benchmark (counting a case's FLOPs only where no earlier repetition recorded them),
appending each result to the run's progress.jsonl as it finishes (fsynced, so a killed run
loses at most the case in flight). It tells the runner what it is doing on stdout, one line at
a time: `start NAME` and `done NAME`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

from bench.store import atomic
from bench.system.device import quiet_cuda_home_notice, set_threads
from bench.timing import calibrate
from bench.timing.cases import all_cases
from bench.timing.profiles import get_profile
from bench.timing.session import time_cases


def tell(line: str) -> None:
    """One line to the runner, on the process's own stdout: pytest captures sys.stdout while a
    case runs, and the session sends the rest of it to pytest.log."""
    sys.__stdout__.write(line + "\n")
    sys.__stdout__.flush()


def run_job(job: dict) -> None:
    device = torch.device(job["device"])
    set_threads(job["threads"])
    progress = Path(job["progress"])
    repetition = job["repetition"]
    profile = get_profile(job["profile"])
    if job["calibrate"]:
        point = calibrate.measure(device, repetition)
        atomic.append_jsonl(progress, {"type": "calibration", "record": point.as_dict()})
    by_name = {case.name: case for case in all_cases(profile, device)}
    cases = [by_name[name] for name in job["names"]]

    def started(case) -> None:
        tell(f"start {case.name}")

    def finished(record: dict) -> None:
        atomic.append_jsonl(progress, {"type": "repetition", "record": record})
        tell(f"done {record['name']}")

    time_cases(cases, profile, device, job["seed"], repetition, progress.parent,
               on_start=started, on_record=finished, counted=flops_recorded(progress))


def flops_recorded(progress: Path) -> frozenset[str]:
    """The cases whose FLOPs an earlier repetition of this run already recorded: each case's
    count is the same in every repetition, and the run keeps the first."""
    if not progress.exists():
        return frozenset()
    names = set()
    for entry in atomic.read_jsonl(progress):
        record = entry.get("record") or {}
        if entry.get("type") == "repetition" and record.get("flops"):
            names.add(record["name"])
    return frozenset(names)


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    quiet_cuda_home_notice()
    try:
        run_job(job)
    except KeyboardInterrupt:
        return 130
    return 0


def leave(code: int) -> None:
    """Exit without the interpreter's teardown. Everything the worker writes is on disk by now
    (each record fsynced, pytest.log closed), and the teardown of a process that imported torch,
    dynamo and inductor took 1.3-1.9 s on the 2-core VM after its last case, once per
    repetition (0.55 s from the last case to the exit without it)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    leave(main(sys.argv[1:]))
