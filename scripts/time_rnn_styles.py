"""Time RNN styles x cells at one shape, each measurement in a fresh process, interleaved.

    .venv/bin/python scripts/time_rnn_styles.py --styles native bptt --cells rnn lstm gru
    .venv/bin/python scripts/time_rnn_styles.py --styles native premul --passes forward -r 5

Every (repeat, cell, pass, style) is one subprocess that builds the style, warms it up and times
it with torch.utils.benchmark.Timer.blocked_autorange; the styles alternate within each repeat
(and their order flips every repeat), so drift on a shared machine hits them alike. Printed:
the median over repeats of each process's median, the min-max range over repeats, and the ratio
to the baseline style (`StyleInfo.baseline`, i.e. native) when it was timed too. Passes as in
bench/timing/bench_rnn.py: `forward` under no_grad, `forward_backward` from a fixed gradient.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(args: argparse.Namespace, style: str, cell: str, pass_: str) -> float:
    """One process's median seconds per call."""
    import torch
    from torch.utils.benchmark import Timer

    sys.path.insert(0, str(ROOT))
    from implementations import rnn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = rnn.build(style, args.input, args.hidden, num_layers=args.layers, cell=cell)
    x = torch.randn(args.steps, args.batch, args.input)  # (T, B, I)
    grad = torch.randn(args.steps, args.batch, args.hidden)  # (T, B, H)

    def forward() -> None:
        with torch.no_grad():
            model(x)

    def forward_backward() -> None:
        torch.autograd.backward(model(x)[0], grad)

    step = forward if pass_ == "forward" else forward_backward
    for _ in range(3):  # warm-up (and compile, for compiling styles)
        step()
    return Timer("step()", globals={"step": step}).blocked_autorange(
        min_run_time=args.min_run_time).median


def spawn(args: argparse.Namespace, style: str, cell: str, pass_: str) -> float:
    command = [sys.executable, __file__, "--worker", style, cell, pass_, *shape_args(args)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{style}/{cell}/{pass_} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["median_s"]


def shape_args(args: argparse.Namespace) -> list[str]:
    names = ("batch", "steps", "input", "hidden", "layers", "threads", "min_run_time")
    return [part for name in names
            for part in (f"--{name.replace('_', '-')}", str(getattr(args, name)))]


def report(args: argparse.Namespace, times: dict[tuple[str, str, str], list[float]]) -> None:
    sys.path.insert(0, str(ROOT))
    from implementations import rnn

    baseline = next(info.name for info in rnn.describe() if info.baseline)
    print(f"T={args.steps} B={args.batch} I={args.input} H={args.hidden} L={args.layers} "
          f"threads={args.threads}, {args.repeats} fresh processes each; ms: median [min-max]")
    for (cell, pass_, style), values in times.items():
        median = statistics.median(values)
        line = (f"{cell:5} {pass_:17} {style:10} {median * 1e3:8.3f} "
                f"[{min(values) * 1e3:.3f}-{max(values) * 1e3:.3f}]")
        base = times.get((cell, pass_, baseline))
        if base and style != baseline:
            ratios = [v / b for v, b in zip(values, base, strict=True)]  # same repeat: paired
            line += (f"   x{median / statistics.median(base):.3f} of {baseline} "
                     f"(paired [{min(ratios):.3f}-{max(ratios):.3f}])")
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=["native", "bptt"])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--passes", nargs="+", default=["forward", "forward_backward"],
                        choices=["forward", "forward_backward"])
    parser.add_argument("-r", "--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=28)
    parser.add_argument("--input", type=int, default=28)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-run-time", type=float, default=1.0)
    parser.add_argument("--worker", nargs=3, metavar=("STYLE", "CELL", "PASS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps({"median_s": measure(args, *args.worker)}))
        return
    times: dict[tuple[str, str, str], list[float]] = {
        (cell, pass_, style): [] for cell in args.cells for pass_ in args.passes
        for style in args.styles}
    for repeat in range(args.repeats):
        order = args.styles if repeat % 2 == 0 else args.styles[::-1]
        for cell in args.cells:
            for pass_ in args.passes:
                for style in order:
                    times[cell, pass_, style].append(spawn(args, style, cell, pass_))
    report(args, times)


if __name__ == "__main__":
    main()
