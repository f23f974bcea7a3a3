"""Cross-check a run's RNN timings against torch.utils.benchmark, in fresh processes, interleaved.

    python scripts/check_timer.py reports/out/<run-id>/results.json [--case REGEX]
        [--processes 3] [--bursts 6] [--min-run-time 0.1]

For every ok RNN case of each cell's main group (the MNIST shape; forward and forward + backward
by default) this re-measures the same style, shape, pass and thread count with
`torch.utils.benchmark.Timer(...).blocked_autorange()`, in --processes fresh processes run one
after another; each builds every case, then times each in --bursts shuffled passes over all of
them (as mnistbench's repetitions and passes do). It prints the suite's median, the median of the
per-process Timer medians, their ratio, and whether the suite is within 10 % of the independent
timer. Exit 1 when a case is not."""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOLERANCE = 0.10


def _worker(spec: dict) -> None:
    """One process: build every case, then time each in `bursts` passes over all of them (each
    pass shuffled), one blocked_autorange a burst; print {name: median over its bursts}. Bursts
    spread over the process's life, as mnistbench's passes do: the shared machine has slow
    phases of seconds, and one burst per case lands in one or not."""
    import torch
    from torch.utils import benchmark as tub

    from bench.system.device import set_seed
    from bench.timing.bench_rnn import make_step
    from bench.timing.cases import Case

    torch.set_num_threads(spec["threads"])
    timers = {}
    for record in spec["cases"]:
        case = Case(record["name"], tuple(record.get("groups", [record["group"]])), "rnn",
                    record["implementation"], record["device"], record["params"])
        set_seed(0)
        step, _ = make_step(case, torch.device(record["device"]))
        step()  # the first call (compilation for compiled styles) stays out, as in mnistbench
        timers[record["name"]] = tub.Timer(stmt="step()", globals={"step": step},
                                           num_threads=spec["threads"])
    bursts: dict[str, list[float]] = {name: [] for name in timers}
    names = list(timers)
    for k in range(spec["bursts"]):
        random.Random(f"{spec['seed']}:{k}").shuffle(names)
        for name in names:
            timer = timers[name]
            bursts[name].append(timer.blocked_autorange(min_run_time=spec["min_run_time"]).median)
    print(json.dumps({name: statistics.median(values) for name, values in bursts.items()}))


def _measure(cases: list[dict], threads: int, processes: int, min_run_time: float,
             bursts: int, seed: int = 0) -> dict[str, list[float]]:
    medians: dict[str, list[float]] = {c["name"]: [] for c in cases}
    for p in range(processes):
        shuffled = list(cases)
        random.Random(f"{seed}:{p}").shuffle(shuffled)
        keys = ("name", "group", "groups", "implementation", "device", "params")
        spec = {"cases": [{k: c.get(k) for k in keys} for c in shuffled], "threads": threads,
                "min_run_time": min_run_time,
                "bursts": bursts, "seed": f"{seed}:{p}"}
        proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        for name, value in json.loads(proc.stdout.strip().splitlines()[-1]).items():
            medians[name].append(value)
        print(f"process {p + 1}/{processes} done", file=sys.stderr)
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="?")
    parser.add_argument("--case", default=r"/(forward|forward_backward)/",
                        help="regex over case names (default: both passes)")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--bursts", type=int, default=6,
                        help="timed bursts per case in each process (default 6)")
    parser.add_argument("--min-run-time", type=float, default=0.1,
                        help="blocked_autorange's min_run_time of one burst (default 0.1 s)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(json.loads(args.worker))
        return 0
    from bench.store import results

    doc = results.load(args.results)
    threads = doc["config"]["threads"]
    pattern = re.compile(args.case)
    main_groups = {"rnn", "lstm", "gru"}  # each cell's MNIST-shape group (bench.timing.cases)
    cases = [b for b in doc["benchmarks"] if b["status"] == "ok"
             and main_groups & set(b.get("groups") or [b["group"]])
             and pattern.search(b["name"])]
    if not cases:
        print(f"no ok RNN case of the main group matches {args.case!r}", file=sys.stderr)
        return 2
    independent = _measure(cases, threads, args.processes, args.min_run_time, args.bursts)
    print(f"{'case':<56} {'mnistbench':>11} {'torch Timer':>12} {'ratio':>6}  within 10 %")
    worst = 0.0
    for record in cases:
        ours = record["stats"]["median"]
        theirs = statistics.median(independent[record["name"]])
        ratio = ours / theirs
        worst = max(worst, abs(ratio - 1))
        print(f"{record['name']:<56} {ours * 1e3:>9.4f}ms {theirs * 1e3:>10.4f}ms "
              f"{ratio:>6.3f}  {'yes' if abs(ratio - 1) <= TOLERANCE else 'NO'}")
    print(f"largest deviation: {worst:.1%} over {len(cases)} cases, {args.processes} processes "
          f"x {args.bursts} bursts")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    raise SystemExit(main())
