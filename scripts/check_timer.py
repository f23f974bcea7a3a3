"""Cross-check a run's timings against torch.utils.benchmark, an independent timer.

    python scripts/check_timer.py reports/out/<run-id>/results.json [--case rnn/native/forward/]

For each ok RNN case at the MNIST shape whose name matches --case, this re-measures the same
style, shape, pass and thread count with `torch.utils.benchmark.Timer(...).blocked_autorange()`
and prints both medians and their ratio. mnistbench's median should be within 10 % of it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import torch
from torch.utils import benchmark as tub

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import results  # noqa: E402
from bench.system.device import set_seed  # noqa: E402
from bench.timing.bench_rnn import make_step  # noqa: E402
from bench.timing.cases import Case  # noqa: E402


def independent_median(record: dict, threads: int, min_run_time: float) -> float:
    case = Case(record["name"], record["group"], "rnn", record["implementation"],
                record["device"], record["params"])
    set_seed(0)
    step, _ = make_step(case, torch.device(record["device"]))
    step()  # the first call (compilation for compiled styles) stays out, as in mnistbench
    timer = tub.Timer(stmt="step()", globals={"step": step}, num_threads=threads)
    return timer.blocked_autorange(min_run_time=min_run_time).median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--case", default="^rnn/native/forward/", help="regex over case names")
    parser.add_argument("--min-run-time", type=float, default=2.0)
    args = parser.parse_args()
    doc = results.load(args.results)
    threads = doc["config"]["threads"]
    torch.set_num_threads(threads)
    pattern = re.compile(args.case)
    rows = [b for b in doc["benchmarks"] if b["status"] == "ok" and pattern.search(b["name"])]
    if not rows:
        print(f"no ok case matches {args.case!r}", file=sys.stderr)
        return 2
    print(f"{'case':<52} {'mnistbench':>12} {'torch Timer':>12} {'ratio':>7}")
    for record in rows:
        ours = record["stats"]["median"]
        theirs = independent_median(record, threads, args.min_run_time)
        print(f"{record['name']:<52} {ours * 1e3:>10.4f}ms {theirs * 1e3:>10.4f}ms "
              f"{ours / theirs:>7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
