"""The `mnistbench` command line (also `python -m bench`).

    mnistbench run [--profile smoke|quick|full|shortcuts|scaling] [--device cpu|cuda|auto]
                   [--out DIR] [--data-dir DIR] [--dataset mnist|fashion-mnist] [--resume]
                   [--threads N] [--seed S] [--only REGEX] [--no-report]
                   [--nproc-per-node N] [--nnodes M] [--rdzv-endpoint HOST:PORT]
                   [--rdzv-timeout S] [--backend gloo|nccl]          (--profile scaling)
    mnistbench report RESULTS.json [-o REPORT.html]
    mnistbench compare RESULTS.json RESULTS.json [...] [-o COMPARE.html] [--fail-on-regression]
                       [--json VERDICTS.json]
    mnistbench env [--json]
    mnistbench list
    mnistbench data [--data-dir DIR] [--dataset NAME] [--verify]

This is the only place that turns errors into exit codes: 0 success, 2 bad input (one line on
stderr, no traceback), 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from bench.errors import UsageError


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as a UsageError (one line, exit 2) instead of usage."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _path(text: str) -> Path:
    """A path argument; an empty one would silently mean the current directory."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)


def _dir_text(text: str) -> str:
    _path(text)
    return text


def build_parser() -> argparse.ArgumentParser:
    from bench.data.specs import DATASETS
    from bench.system import DEVICE_CHOICES
    from bench.timing.profiles import PROFILES, SCALING

    parser = _Parser(prog="mnistbench", description="Which implementation of this network is "
                     "fastest on this hardware, and what does it cost in accuracy?")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="time and train everything in a profile; write results "
                         "and a report")
    run.add_argument("--profile", choices=list(PROFILES), default=None,
                     help="smoke (<= 75 s), quick (default, <= 5 min on 2 cores), full")
    run.add_argument("--device", choices=DEVICE_CHOICES, default=None,
                     help="where to run (default auto: cuda when present)")
    run.add_argument("--out", type=_path, default=None,
                     help="run directory (default reports/out/<run-id>/); never overwritten")
    run.add_argument("--data-dir", type=_dir_text, default=None,
                     help="directory holding the MNIST IDX files")
    run.add_argument("--dataset", choices=list(DATASETS), default=None)
    run.add_argument("--resume", action="store_true", help="continue the run in --out")
    run.add_argument("--threads", type=_positive_int, default=None,
                     help="torch intra-op threads (default: torch's choice, recorded)")
    run.add_argument("--seed", type=_seed, default=None, help="base seed (default 0)")
    run.add_argument("--only", default=None, metavar="REGEX",
                     help="run only the cases whose names match, e.g. 'rnn/(loop|native)/' or "
                          "'^train/'")
    run.add_argument("--no-report", dest="report", action="store_false",
                     help="write results.json only")
    scaling = run.add_argument_group(
        "data-parallel (--profile scaling)", "ranks started through torchrun's API; or start "
        "them with torchrun itself: torchrun --nnodes M --nproc-per-node N --rdzv-backend c10d "
        "--rdzv-endpoint HOST:PORT -m bench run --profile scaling")
    scaling.add_argument("--nproc-per-node", type=_positive_int, default=None, metavar="N",
                         help="ranks per node, one device each (default: every GPU; on the "
                              "CPU every core at --threads per rank); world sizes 1, 2, 4, "
                              "... up to N x nodes")
    scaling.add_argument("--nnodes", type=_positive_int, default=None, metavar="M",
                         help="nodes; run the same command on each (default 1)")
    scaling.add_argument("--rdzv-endpoint", default=None, metavar="HOST:PORT",
                         help="the c10d rendezvous, the same on every node (needed for "
                              "--nnodes > 1)")
    scaling.add_argument("--rdzv-timeout", type=_positive_int, default=None, metavar="S",
                         help="seconds for every node to join (default "
                              f"{SCALING['scaling'].rdzv_timeout_s})")
    scaling.add_argument("--backend", choices=("gloo", "nccl"), default=None,
                         help="torch.distributed backend (default: nccl on CUDA, gloo on CPU)")

    report = sub.add_parser("report", help="render one results.json as a self-contained HTML")
    report.add_argument("results", type=_path)
    report.add_argument("-o", "--output", type=_path, default=None)

    compare = sub.add_parser("compare", help="compare runs (other machines, or a regression "
                             "check on the same one)")
    compare.add_argument("results", type=_path, nargs="+")
    compare.add_argument("-o", "--output", type=_path, default=Path("compare.html"))
    compare.add_argument("--fail-on-regression", action="store_true",
                         help="exit 1 when a same-hardware case is slower beyond the noise")
    compare.add_argument("--json", type=_path, default=None, metavar="FILE",
                         help="also write the verdicts for machines (a CI gate) as JSON")

    env = sub.add_parser("env", help="the hardware/software metadata recorded in results")
    env.add_argument("--json", action="store_true", help="print the exact JSON block")
    env.add_argument("--device", choices=DEVICE_CHOICES, default="auto")

    sub.add_parser("list", help="implementations and variants available on this machine")

    data = sub.add_parser("data", help="locate, fetch and check the dataset")
    data.add_argument("--data-dir", type=_dir_text, default=None)
    data.add_argument("--dataset", choices=list(DATASETS), default="mnist")
    data.add_argument("--verify", action="store_true",
                      help="require the known checksums of the standard files")
    return parser


def cmd_run(args) -> int:
    from bench.run.runner import RunOptions, run

    run(RunOptions(profile=args.profile, device=args.device, out=args.out,
                   data_dir=args.data_dir, dataset=args.dataset, resume=args.resume,
                   threads=args.threads, seed=args.seed, only=args.only,
                   report=args.report, nproc_per_node=args.nproc_per_node,
                   nnodes=args.nnodes, rdzv_endpoint=args.rdzv_endpoint,
                   rdzv_timeout=args.rdzv_timeout, backend=args.backend))
    return 0


def _check_inputs(paths: list[Path]) -> None:
    """Every results file is ours, readable and valid before any output is touched."""
    from bench.store import results

    for path in paths:
        results.load(path)


def _check_output(out: Path, inputs: list[Path]) -> None:
    """Refuse an -o that cannot be written, or that would overwrite an input, before rendering."""
    try:
        _check_output_path(out, inputs)
    except OSError as exc:
        raise UsageError(f"-o {out}: cannot inspect it ({exc.strerror or exc}); choose another "
                         "output path") from None


def _check_output_path(out: Path, inputs: list[Path]) -> None:
    if out.is_dir():
        raise UsageError(f"-o {out} is a directory; give a file path inside it")
    if out.exists() and any(out.samefile(path) for path in inputs):
        raise UsageError(f"-o {out} is one of the input results files and would be overwritten; "
                         "choose another output path")
    nearest = next(p for p in out.parents if p.exists())  # "." or "/" at the latest
    if not nearest.is_dir():
        raise UsageError(f"-o {out}: {nearest} is a file, so nothing can be written under it; "
                         "choose another output path")
    if nearest != out.parent:
        raise UsageError(f"-o {out}: the directory {out.parent} does not exist; create it first "
                         "or choose another output path")
    from bench.store.atomic import check_writable

    check_writable(out.parent, f"-o {out}", "choose a writable output path")


def cmd_report(args) -> int:
    _check_inputs([args.results])
    if args.output is not None:
        _check_output(args.output, [args.results])
    from reports.report import write_report

    for path in write_report(args.results, args.output):
        print(f"wrote {path}")
    return 0


def cmd_compare(args) -> int:
    if len(args.results) < 2:
        raise UsageError("compare needs at least two results files; pass two or more, e.g. "
                         "`mnistbench compare a/results.json b/results.json`")
    _check_inputs(args.results)
    _check_output(args.output, args.results)
    from reports.compare import write_compare

    lines: list[str] = []
    code = write_compare(args.results, args.output, args.fail_on_regression, args.json,
                         echo=lines.append)
    print(f"wrote {args.output}")
    if args.json is not None:
        print(f"wrote {args.json}")
    print("\n".join(lines), flush=True)
    if code:
        print("mnistbench: --fail-on-regression: a case on the same hardware is slower beyond "
              "the noise (listed above); exit 1", file=sys.stderr)
    return code


def cmd_env(args) -> int:
    from bench.system.device import resolve_device
    from bench.system.machine import collect_env, format_env

    env = collect_env(resolve_device(args.device))
    if args.json:
        print(json.dumps(env, indent=2))
    else:
        print(format_env(env["machine"], env["software"], env["commit"]))
    return 0


def cmd_list(args) -> int:
    import torch

    from implementations import cnn, rnn

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print("RNN styles (implementations.rnn), per cell: where each runs on this machine")
    print(f"  {'style':<20}" + "".join(f"{cell:<14}" for cell in rnn.CELLS) + "what it is")
    for info in rnn.describe():
        cells = []
        for cell in rnn.CELLS:
            here = [d for d in devices if info.name in rnn.styles(d, cell=cell)]
            needs = f"({'/'.join(info.devices)})" if cell in info.cells else "-"
            cells.append(f"{'+'.join(here) if here else needs:<14}")
        flags = ("  [deprecated upstream]" if info.deprecated else "") + (
            "" if info.double_backward else "  [no double backward]") + (
            "  [baseline]" if info.baseline else "")
        print(f"  {info.name:<20}" + "".join(cells) + f"{info.summary}{flags}")
    from implementations.rnn import bptt_kernel

    print(f"  bptt's compiled LSTM loops here: {bptt_kernel.status()}")
    print("CNN variants (implementations.cnn):")
    for info in cnn.describe():
        print(f"  {info.family + '/' + info.shortcut:<24} {info.summary}")
    return 0


def cmd_data(args) -> int:
    from bench.data.command import data_command

    for line in data_command(args.data_dir, args.verify, args.dataset):
        print(line)
    return 0


COMMANDS = {"run": cmd_run, "report": cmd_report, "compare": cmd_compare, "env": cmd_env,
            "list": cmd_list, "data": cmd_data}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "run":
            from bench.system.device import quiet_cuda_home_notice
            quiet_cuda_home_notice()
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"mnistbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mnistbench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: say so briefly, trace only on request
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    from bench.run.runner import RunInterrupted

    if isinstance(exc, RunInterrupted):
        print(f"mnistbench: {exc}", file=sys.stderr)
        return 130
    if os.environ.get("MNISTBENCH_DEBUG"):
        traceback.print_exc()
    else:
        print(f"mnistbench: internal error: {type(exc).__name__}: {exc} "
              "(set MNISTBENCH_DEBUG=1 for the traceback)", file=sys.stderr)
    return 1
