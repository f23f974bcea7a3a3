"""The profiles of `mnistbench run`: one table of data, no code paths.

A profile says which shapes the RNN styles are timed at, which CNN variants are timed, how many
rounds pytest-benchmark takes, and which models are trained for how long. `bench.cases` turns a
profile into the list of cases; nothing else looks at a profile's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.errors import UsageError


@dataclass(frozen=True)
class RnnShape:
    """One RNN timing shape. The MNIST shape reads an image row by row: 28 steps of 28 pixels."""

    batch: int = 64
    seq_len: int = 28
    input_size: int = 28
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False


MNIST_SHAPE = RnnShape()  # always timed, in every profile (issue #4)


@dataclass(frozen=True)
class TrainSpec:
    """One training run: a CNN variant (family, shortcut) or an RNN classifier (style)."""

    kind: str  # "cnn" | "rnn"
    # cnn family and shortcut, or "rnn-classifier" and the RNN style; for a CNN, None and None
    # stand for every registered variant (implementations.cnn.variants(), expanded by
    # bench.timing.cases), so a variant added there is trained without touching this table
    model: str | None
    variant: str | None
    epochs: int
    train_limit: int | None  # None = the whole training set; evaluation always uses all test images
    seeds: tuple[int, ...] = (0,)
    batch_size: int = 128
    lr: float | None = None  # None = the trainer's default (tuned for the CNNs)


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    rnn_passes: tuple[str, ...]
    # Sweeps vary one field of the MNIST shape; key = the field, value = the values tried.
    # Sweeps are timed for the forward pass only (the pass where the styles differ most).
    rnn_sweeps: dict[str, tuple[int, ...]]
    rnn_sweep_styles: tuple[str, ...] | None  # None = every style available on the device
    cnn_variants: tuple[tuple[str, str], ...] | None  # None = every registered variant
    cnn_passes: tuple[str, ...]
    cnn_batch: int
    train: tuple[TrainSpec, ...]
    # pytest-benchmark, in each repetition: at least this many rounds, or more while the case's
    # time budget lasts.
    min_rounds: int
    max_time_s: float
    warmup_rounds: int
    # Every timed case is measured in this many repetitions, each a fresh worker process that
    # runs every case once in its own shuffled order (issue #11): the spread between processes
    # is what a verdict must survive, and no verdict is drawn from fewer than two.
    repetitions: int
    target_acc: float = 0.99


def _cnn_runs(variants, epochs, train_limit, seeds=(0,)) -> tuple[TrainSpec, ...]:
    return tuple(TrainSpec("cnn", fam, sc, epochs, train_limit, seeds) for fam, sc in variants)


_SMOKE_CNN = (("resnet", "projection"), ("resnet", "zeropad"),
              ("mobilenetv2", "paper"), ("mobilenetv2", "projection"))
_ALL_CNN = ((None, None),)  # every registered variant

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        summary="every CPU style at the MNIST shape, 2 CNN variants per family, one short "
                "training per family (<= 60 s on 2 cores, warm compile cache)",
        rnn_passes=("forward", "forward_backward"),
        rnn_sweeps={},
        rnn_sweep_styles=None,
        cnn_variants=_SMOKE_CNN,
        cnn_passes=("inference", "train_step"),
        cnn_batch=64,
        # 64 SGD steps per model: enough to learn well above chance, short enough for CI.
        train=(TrainSpec("cnn", "resnet", "projection", 1, 8192),
               TrainSpec("cnn", "mobilenetv2", "paper", 1, 8192)),
        min_rounds=5,
        max_time_s=0.08,
        warmup_rounds=2,
        repetitions=2,
    ),
    "quick": Profile(
        name="quick",
        summary="all styles and variants, a sequence-length sweep, a short training of every "
                "CNN variant and one RNN classifier (<= 5 min on 2 cores)",
        rnn_passes=("forward", "forward_backward"),
        rnn_sweeps={"seq_len": (7, 14, 28, 56, 112)},
        rnn_sweep_styles=None,
        cnn_variants=None,
        cnn_passes=("inference", "train_step"),
        cnn_batch=64,
        # 128 SGD steps per CNN variant, enough to tell the variants' accuracy apart roughly;
        # the row-by-row RNN needs a smaller step (measured, 2 epochs of full MNIST: lr 0.05 ->
        # 68 %, lr 0.02 -> 95 %) and more of them.
        train=_cnn_runs(_ALL_CNN, 1, 16384) + (
            TrainSpec("rnn", "rnn-classifier", "native", 2, None, batch_size=64, lr=0.02),),
        min_rounds=7,
        max_time_s=0.15,
        warmup_rounds=3,
        repetitions=3,
    ),
    "full": Profile(
        name="full",
        summary="sweeps over sequence length, hidden size and batch; every variant trained on "
                "full MNIST with 3 seeds (minutes on a GPU, hours on a CPU)",
        rnn_passes=("forward", "forward_backward"),
        rnn_sweeps={"seq_len": (7, 14, 28, 56, 112, 224),
                    "hidden_size": (32, 64, 128, 256, 512),
                    "batch": (1, 16, 64, 256, 1024)},
        rnn_sweep_styles=None,
        cnn_variants=None,
        cnn_passes=("inference", "train_step"),
        cnn_batch=128,
        train=_cnn_runs(_ALL_CNN, 8, None, seeds=(0, 1, 2)) + tuple(
            TrainSpec("rnn", "rnn-classifier", style, 8, None, (0,), batch_size=64, lr=0.02)
            for style in ("native", "premul")),
        min_rounds=20,
        max_time_s=1.0,
        warmup_rounds=5,
        repetitions=5,
    ),
}

DEFAULT_PROFILE = "quick"


def get_profile(name: str) -> Profile:
    """The profile called `name`, or a UsageError naming the valid ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(f"unknown profile {name!r}: choose one of "
                         f"{', '.join(PROFILES)}") from None
