"""Train every CNN variant (or a chosen few, or the RNN classifier) and print one table.

    .venv/bin/python scripts/train_variants.py --data-dir ../shared/data/mnist --epochs 1
    .venv/bin/python scripts/train_variants.py --data-dir ../shared/data/mnist --epochs 2 \\
        --variants resnet/projection --threads 1 --stop-at-target --seeds 0 1 2 3 4
    .venv/bin/python scripts/train_variants.py --data-dir ../shared/data/mnist --rnn native \\
        --optimizer adam --lr 0.002 --weight-decay 0 --grad-clip 1 --batch-size 64 --epochs 4

Columns: parameters, forward MFLOPs per image, mean training seconds per epoch (evaluation
excluded), the training time to reach --target, and the test accuracy at every evaluation point
(--evals-per-epoch per epoch). --json FILE keeps every record (curve and options included).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree

from bench.data.sources import load  # noqa: E402
from bench.data.tensors import to_tensors  # noqa: E402
from bench.errors import UsageError  # noqa: E402
from bench.store.schema import Training  # noqa: E402
from bench.system import DEVICE_CHOICES  # noqa: E402
from bench.system.device import resolve_device, set_seed, set_threads  # noqa: E402
from bench.training.trainer import OPTIMIZERS, SCHEDULES, TrainConfig, train  # noqa: E402
from implementations import cnn  # noqa: E402

DEFAULTS = TrainConfig()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="folder with the four MNIST IDX files "
                   "(default: bench.data.sources.load's order)")
    p.add_argument("--device", default="cpu", choices=DEVICE_CHOICES)
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    p.add_argument("--variants", nargs="*", help="family/shortcut names (default: all)")
    p.add_argument("--epochs", type=float, default=DEFAULTS.epochs)
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    p.add_argument("--lr", type=float, default=DEFAULTS.lr)
    p.add_argument("--schedule", default=DEFAULTS.schedule, choices=SCHEDULES)
    p.add_argument("--target", type=float, default=DEFAULTS.target_acc)
    p.add_argument("--stop-at-target", action="store_true",
                   help="stop each run at the epoch that reaches --target (time-to-train)")
    p.add_argument("--train-limit", type=int, help="use this many training images")
    p.add_argument("--seeds", type=int, nargs="+", default=[DEFAULTS.seed])
    p.add_argument("--optimizer", default=DEFAULTS.optimizer, choices=OPTIMIZERS)
    p.add_argument("--weight-decay", type=float, default=DEFAULTS.weight_decay)
    p.add_argument("--grad-clip", type=float, default=DEFAULTS.grad_clip)
    p.add_argument("--label-smoothing", type=float, default=DEFAULTS.label_smoothing)
    p.add_argument("--evals-per-epoch", type=int, default=DEFAULTS.evals_per_epoch)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--compile", action="store_true", help="torch.compile the model first")
    p.add_argument("--rnn", metavar="STYLE", help="train the row-by-row RNN classifier instead")
    p.add_argument("--json", help="append every record as one JSON line to this file")
    p.add_argument("--n", type=int, help="resnet depth parameter (6n+2 layers)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p.parse_args(argv)


def chosen_variants(names: list[str] | None) -> list[tuple[str, str]]:
    if not names:
        return cnn.variants()
    pairs = [tuple(name.split("/", 1)) for name in names]
    unknown = [f"{f}/{s}" for f, s in pairs if (f, s) not in cnn.variants()]
    if unknown:
        known = " ".join(f"{f}/{s}" for f, s in cnn.variants())
        raise SystemExit(f"unknown variant(s) {', '.join(unknown)}; known: {known}")
    return pairs


def progress_printer(name: str, quiet: bool):
    last = [0.0]

    def show(message: str) -> None:  # one line every 5 s is enough for a log
        if not quiet and time.perf_counter() - last[0] >= 5:
            print(f"  {name}: {message}", file=sys.stderr, flush=True)
            last[0] = time.perf_counter()

    return show


def row(record: Training) -> str:
    accs = " ".join(f"{p.test_acc * 100:.2f}" for p in record.curve)
    per_epoch = sum(e.time_s for e in record.epochs) / sum(e.fraction for e in record.epochs)
    ttt = "-" if record.time_to_target_s is None else f"{record.time_to_target_s:.0f}"
    return (f"{record.model + '/' + record.variant:<24} {record.seed:>4} {record.params_count:>8} "
            f"{record.flops / 1e6:>7.2f} {per_epoch:>8.1f} {ttt:>7}   {accs}")


def build(family: str, shortcut: str, n: int | None):
    if family == "rnn-classifier":
        from implementations.classifier import RowRNNClassifier

        return RowRNNClassifier(shortcut)
    return cnn.build(family, shortcut, **({"n": n} if family == "resnet" and n else {}))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = resolve_device(args.device)
    threads = set_threads(args.threads)
    config = dataclasses.replace(
        DEFAULTS, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        schedule=args.schedule, target_acc=args.target, stop_at_target=args.stop_at_target,
        optimizer=args.optimizer, weight_decay=args.weight_decay, grad_clip=args.grad_clip,
        label_smoothing=args.label_smoothing,
        evals_per_epoch=args.evals_per_epoch, channels_last=args.channels_last,
        compile=args.compile)  # checked before the data is read: bad options fail at once
    ds = load(data_dir=args.data_dir)
    tensors = to_tensors(ds, device, train_limit=args.train_limit)
    print(f"# {ds.name} from {ds.source} ({len(tensors.y_train)} train / {len(tensors.y_test)} "
          f"test), device {device.type}, {threads} threads, {config}")
    print(f"{'variant':<24} {'seed':>4} {'params':>8} {'MFLOPs':>7} {'s/epoch':>8} {'ttt_s':>7}   "
          f"test acc % at each evaluation point")
    runs = [("rnn-classifier", args.rnn)] if args.rnn else chosen_variants(args.variants)
    for (family, shortcut), seed in ((v, s) for v in runs for s in args.seeds):
        set_seed(seed)  # the same initial weights for every run of a variant and seed
        model = build(family, shortcut, args.n)
        record = train(model, tensors, dataclasses.replace(config, seed=seed), device,
                       progress_printer(f"{family}/{shortcut}", args.quiet),
                       model_name=family, variant=shortcut)
        print(row(record), flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(record.as_dict()) + "\n")
    return 0


def cli(argv: list[str] | None = None) -> int:
    """main(), with bad input (a trainer option out of range, a missing data directory) as one
    line and exit 2, as mnistbench itself answers it."""
    try:
        return main(argv)
    except UsageError as exc:
        print(f"train_variants: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(cli())
