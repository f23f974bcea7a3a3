"""The timed half of a run: R repetitions, each one fresh worker process (bench.timing.worker).

Repetitions run one after another, never in parallel. Each runs every pending case once, in an
order shuffled from the run's seed and the repetition index, so a slow phase of the machine
spreads over all cases instead of landing on a few. A worker that dies leaves its unfinished
cases recorded as failed for that repetition; the next repetition goes on.
"""

from __future__ import annotations

import ctypes
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench.run.progress import Progress
from bench.store import atomic, rundir
from bench.system import allocator
from bench.timing.cases import Case
from bench.timing.records import repetition_entry

WORKER_LOG = "worker.log"
_PR_SET_PDEATHSIG = 1


def order(names: list[str], seed: int, repetition: int) -> list[str]:
    """This repetition's order: a shuffle seeded by the run's seed and the repetition index."""
    shuffled = list(names)
    random.Random(f"{seed}:{repetition}").shuffle(shuffled)
    return shuffled


def pending(cases: list[Case], done: set[tuple[str, int]], repetitions: int,
            calibrated: set[int]) -> dict[int, list[Case]]:
    """Per repetition, the cases it still has to time (every repetition still uncalibrated
    is pending too, even when all its cases are in)."""
    out = {}
    for rep in range(repetitions):
        todo = [c for c in cases if (c.name, rep) not in done]
        if todo or rep not in calibrated:
            out[rep] = todo
    return out


def _die_with_parent() -> None:
    """In the worker, before exec: a SIGKILLed runner takes its worker along (Linux prctl),
    so a resumed run never races an orphan writing the same progress file."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: an orphan finishes its repetition and exits


def worker_env() -> dict[str, str]:
    """The worker's environment: inductor compiles in the worker itself. Its default pool of
    compile subprocesses keeps warming up in the background for seconds after the first
    compile, and on a small machine it takes cores from the cases being timed (measured on 2
    cores: the case after the first compiled one took 3.5 s instead of 0.3 s). Freed memory
    stays in the worker (bench.system.allocator says why)."""
    return {**allocator.worker_env(), "TORCHINDUCTOR_COMPILE_THREADS": "1"}


def run_worker(job: dict, out: Path, progress: Progress) -> int:
    """Start one worker, follow its `start`/`done` lines on the progress line, return its exit
    code. Ctrl-C here is passed on to the worker, which stops at once (then KeyboardInterrupt)."""
    job_path = out / f".job-{job['repetition']}.json"
    atomic.write_json_atomic(job_path, job)
    with open(out / WORKER_LOG, "a", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bench.timing.worker", str(job_path)],
                                stdout=subprocess.PIPE, stderr=log, text=True,
                                env=worker_env(), preexec_fn=_die_with_parent)
        try:
            for line in proc.stdout:
                word, _, name = line.rstrip("\n").partition(" ")
                if word == "start":
                    progress.start(name)
                elif word == "done":
                    progress.finish_item()
            code = proc.wait()
        except KeyboardInterrupt:
            _stop(proc)
            raise
        finally:
            job_path.unlink(missing_ok=True)
    if code == 130:
        raise KeyboardInterrupt
    return code


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_repetitions(cases: list[Case], job: dict, repetitions: int, out: Path,
                    progress: Progress, on_lost: Callable[[dict], None]) -> None:
    """Time every case in every repetition not yet in the progress file."""
    entries = rundir.load_progress(out)
    done = {(e["record"]["name"], e["record"]["repetition"]) for e in entries
            if e["type"] == "repetition"}
    calibrated = {e["record"]["repetition"] for e in entries if e["type"] == "calibration"}
    for rep, todo in pending(cases, done, repetitions, calibrated).items():
        names = order([c.name for c in todo], job["seed"], rep)
        progress.say(f"mnistbench: repetition {rep + 1} of {repetitions}: {len(names)} cases "
                     "in a fresh process")
        code = run_worker({**job, "repetition": rep, "names": names,
                           "calibrate": rep not in calibrated}, out, progress)
        if code != 0:
            _record_lost(todo, rep, code, out, on_lost)


def _record_lost(todo: list[Case], rep: int, code: int, out: Path,
                 on_lost: Callable[[dict], None]) -> None:
    """Cases a dead worker never finished: failed in this repetition, with the reason."""
    finished = {(e["record"]["name"], e["record"]["repetition"])
                for e in rundir.load_progress(out) if e["type"] == "repetition"}
    for case in todo:
        if (case.name, rep) not in finished:
            on_lost(repetition_entry(case, rep, "failed", f"the worker process of repetition "
                                     f"{rep} exited with code {code} before timing this case "
                                     f"(see {WORKER_LOG})"))


def job_for(profile: str, device: str, threads: int, seed: int, out: Path) -> dict:
    """What every worker of a run shares; the repetition's own fields are added per worker."""
    return {"profile": profile, "device": device, "threads": threads, "seed": seed,
            "progress": str((out / rundir.PROGRESS).resolve())}

