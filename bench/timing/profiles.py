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
    cell: str = "rnn"  # "rnn" | "lstm" | "gru" (implementations.rnn.CELLS)


MNIST_SHAPE = RnnShape()  # always timed, in every profile (issue #4), for every cell (issue #13)
# PyTorch's benchmarks/fastrnns LSTM: its published timings (../shared/ANCHORS.md) are at this
# shape. The seed's `bmm` copies the weights per batch element and step: at this shape its
# forward + backward keeps ~25 GB alive, more than the machines this runs on, so it sits out.
FASTRNNS_SHAPE = RnnShape(batch=64, seq_len=100, input_size=512, hidden_size=512, cell="lstm")


@dataclass(frozen=True)
class TrainSpec:
    """One training run: a CNN variant (family, shortcut) or an RNN classifier (style)."""

    kind: str  # "cnn" | "rnn"
    # cnn family and shortcut, or "rnn-classifier" and the RNN style; for a CNN, None and None
    # stand for every registered variant (implementations.cnn.variants(), expanded by
    # bench.timing.cases), so a variant added there is trained without touching this table;
    # for the RNN classifier, variant None stands for every style that runs on the run's device
    # (implementations.rnn.styles(device), issue 13)
    model: str | None
    variant: str | None
    epochs: float  # the cap (bench.training.trainer.TrainConfig.epochs): may be a fraction
    train_limit: int | None  # None = the whole training set (evaluation: the trainer's test_limit)
    seeds: tuple[int, ...] = (0,)
    batch_size: int = 128
    lr: float | None = None  # None = the trainer's default (tuned for the CNNs)
    # Any other bench.training.trainer.TrainConfig field, as (name, value) pairs: the optimizer,
    # schedule, stop_at_target, ... Every record keeps the resulting choices in `options`.
    trainer: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    rnn_passes: tuple[str, ...]
    # Every style x pass is timed at the MNIST shape for each of these cells; sweeps are for
    # the vanilla RNN only (budgets drop sweep points before they drop cells).
    rnn_cells: tuple[str, ...]
    # Further shapes timed for every style but those listed with the shape (and the reason).
    rnn_extra_shapes: tuple[tuple[RnnShape, tuple[str, ...], str], ...]
    # Sweeps vary one field of the MNIST shape; key = the field, value = the values tried.
    # Sweeps are timed for the forward pass only (the pass where the styles differ most).
    rnn_sweeps: dict[str, tuple[int, ...]]
    rnn_sweep_styles: tuple[str, ...] | None  # None = every style available on the device
    # (cell, style, why): a style that sits out at a cell's MNIST shape in this profile; its case
    # is recorded as skipped with the reason (a budget, never a silent gap)
    rnn_sitouts: tuple[tuple[str, str, str], ...]
    cnn_variants: tuple[tuple[str, str], ...] | None  # None = every registered variant
    cnn_passes: tuple[str, ...]
    cnn_batch: int
    train: tuple[TrainSpec, ...]
    # Every timed case is measured in this many repetitions, each a fresh worker process that
    # runs every case in its own shuffled order (issue #11): the spread between processes is
    # what a verdict must survive, and no verdict is drawn from fewer than two.
    repetitions: int
    # Inside a repetition, every case is timed in this many passes over all cases (each pass in
    # its own shuffled order), so its rounds are spread over the whole repetition rather than
    # one moment of it (bench.timing.harness).
    blocks: int
    # pytest-benchmark, in each pass: rounds while max_time_s lasts, at least min_rounds; the
    # first pass (the case just built) warms up with warmup_rounds calls, later ones with one.
    min_rounds: int
    max_time_s: float
    warmup_rounds: int
    # a case whose rounds took this long in a repetition skips its middle passes (the first and
    # last always run): what the slowest steps (the seed's bmm, ~0.75 s a call) may cost
    case_budget_s: float = float("inf")
    target_acc: float = 0.99


# smoke and quick evaluate once, at the end of their short runs: a full test-set evaluation
# costs more than a 64-step epoch on the 2-core machine (measured: 4 evaluations 31 s, the
# training itself 10 s, ResNet-8 on 8192 images). And on 2048 class-balanced test images, not
# 10000: quick's evaluations took 37 s of its 98-s training phase on the whole test set, 19 s on
# 2000 (quick took 317 s, then 286 s). 2048 is 8 evaluation batches of 256, so a compiling style
# compiles one evaluation shape, not two. Their accuracies are indicative (the report says so);
# the study evaluates on every test image.
SHORT_TEST_IMAGES = 2048
ONE_EVALUATION: tuple[tuple[str, object], ...] = (("evals_per_epoch", 1),
                                                  ("test_limit", SHORT_TEST_IMAGES))
# Their CNN runs use NHWC activations, as the study does: in NCHW one evaluation of the 10k test
# images took 10-34 s on 2 cores (ResNet-8), in NHWC 3-6 s. BatchNorm's running statistics are
# recomputed over the training images before the evaluation (the trainer's precise_bn): after
# 32 large steps they lag the weights, and MobileNetV2 scored chance (11.35 %) without it.
SHORT_CNN = ONE_EVALUATION + (("channels_last", True), ("precise_bn", 2048))


def _cnn_runs(variants, epochs, train_limit, seeds=(0,)) -> tuple[TrainSpec, ...]:
    return tuple(TrainSpec("cnn", fam, sc, epochs, train_limit, seeds, trainer=SHORT_CNN)
                 for fam, sc in variants)


# The dimension-matching study (issue #12), MLPerf-style: every CNN variant trained until the
# first quarter-epoch evaluation on the whole test set reaches 99 %, capped at 0.875 epoch (the
# LR schedule spans the cap; the last point is at the cap), 5 seeds each, batch 64 at peak LR
# 0.4. The trainer's options are the same for every variant. Measured on a 2-core AVX2 machine
# (class-balanced subsets standing in for the fraction of a pass, one process per run):
# - batch 128 (the recipe before): resnet/plain after 0.6 epoch 98.74-98.83 % (3 seeds), after
#   0.7 epoch 98.87 % (2 seeds), after 1 epoch 99.10-99.19 %; so time to 99 % was a whole epoch;
# - batch 64, peak LR 0.4: resnet/plain after 0.6 epoch 98.97 and 99.09 %, after 0.7 epoch
#   99.09-99.19 % (3 seeds, 40-42 s of training), after 1 epoch 99.26-99.30 %; per image a step
#   at batch 64 cost the same as at 128; peak LR 0.2 at batch 64: 98.82-99.04 %.
# The cap: at 0.75 epoch resnet/projection (the variant that misses most) reached 99 % in 3 of
# 5 seeds on that machine (98.98 % twice) and 4 of 5 on a 2-core AVX-512 one (seed 2: 98.98 %,
# the same on a rerun); at 0.875 it reached it in all 5 there (99.23, 99.21, 99.09, 99.13,
# 99.14 %; seeds 1 and 3 already at the 0.75 point), in a median 22.7 s of training against
# 19.7 s at the 0.75 cap.
# (Before: one epoch at peak LR 0.4, resnet/zeropad seed 0, onecycle over 1 epoch at batch 128:
# lr 0.1 -> 98.59 %, 0.2 -> 98.93 %, 0.4 -> 99.05 %.)
STUDY_CNN_EPOCHS = 0.875
STUDY_CNN_BATCH = 64
STUDY_CNN_LR = 0.4
STUDY_SEEDS = (0, 1, 2, 3, 4)
CNN_TIME_TO_TARGET: tuple[tuple[str, object], ...] = (
    ("stop_at_target", True),
    ("evals_per_epoch", 4),  # evaluated every quarter epoch; the time-to-target resolution
    # NHWC activations: faster per image in every interleaved comparison on the 2-core machine
    # (ResNet-8, batch 128 and 256), the same results (tests/test_train_curve.py). torch.compile
    # stays off: 20-70 s per compile there, more than it saved over a 1-2 epoch run.
    ("channels_last", True),
    # Smoothed targets: measured on resnet/projection, the variant that missed 99 % most, seeds
    # 0-4 after the 1-epoch cap: 98.94, 99.19, 98.84, 98.91, 98.87 % without, 99.12, 99.18,
    # 99.07, 99.02, 98.98 % with 0.1 (resnet/zeropad seeds 1 and 3: 98.98 -> 99.09, 98.89 ->
    # 99.03). Tried on seeds 0, 2, 4 and not better: a 10 % warm-up (98.74, 98.74, 99.01), peak LR
    # 0.8 (99.00, 99.05, 98.60), a linear decay after a 15 % warm-up (99.03, 98.72, 98.93).
    ("label_smoothing", 0.1),
)
# The row-by-row RNN classifier (a vanilla tanh RNN, 28 steps of 28 pixels, hidden 128): SGD
# stalls it (lr 0.02, 2 epochs: 94.9 %); Adam with the global gradient norm clipped at 1 (the
# usual guard against a vanilla RNN's exploding gradients) and the onecycle warm-up trains it.
# Measured (seed 0, lr 0.002, batch 64): 5 epochs 97.04 %, 15 epochs 97.77 % (>= 97.5 % from
# epoch 12 of 15); 8 epochs (seed 1) 97.22 %.
RNN_CLASSIFIER: tuple[tuple[str, object], ...] = (
    ("optimizer", "adam"),
    ("weight_decay", 0.0),
    ("grad_clip", 1.0),
    ("evals_per_epoch", 1),
)
RNN_EPOCHS = 15


def _rnn_classifier(style: str, seeds: tuple[int, ...] = (0,)) -> TrainSpec:
    return TrainSpec("rnn", "rnn-classifier", style, RNN_EPOCHS, None, seeds, batch_size=64,
                     lr=0.002, trainer=RNN_CLASSIFIER)


# Trained with every implementation (issue 13): the classifier in every style of the run's
# device, each from native's initial weights for the seed (bench.training.runs.rnn_classifier)
# with one trainer, so their curves should coincide and only their wall times differ. A model
# name of its own keeps these runs apart from the longer native run (names and report labels).
RNN_STYLES_MODEL = "rnn-classifier-styles"
# Measured on the 2-core machine, 2 threads, styles interleaved in one process (a step: batch
# 64, Adam, clipping; an evaluation: the 10k test images): native 10.7 ms a step, premul 13.8,
# loop 12.7, jit 12.8, bptt 6.3, compile 8.8 (plus ~3.5 s compiling its train step, off the
# clock, and ~2 s its evaluation shapes), the seed's bmm 140 (13x native); an evaluation
# 0.2-0.3 s, bmm's 5.8 s. All seven styles together: ~0.2 s a step, ~7.6 s an evaluation.
# bmm trains as many steps as the others (never fewer): the common run is what bmm can afford.
# quick: 32 steps and one evaluation per style (64 steps took 26-30 s in all, 51.16 % in every
# style; halved for quick's budget: their agreement is the point, not the accuracy). The
# study: 256 steps and 4 evaluations per style, 100 s in all (measured: bmm 66 s of it, 39 s
# training and 26 s evaluating), 75 % accuracy, of the study's 45 minutes.
QUICK_STYLE_IMAGES = 2048  # 32 steps of 64
STUDY_STYLE_IMAGES = 16384  # 256 steps of 64


def _rnn_every_style(train_limit: int, evals: int, test_limit: int | None = None) -> TrainSpec:
    """One epoch of `train_limit` images per style (the onecycle schedule spans it), `evals`
    evaluation points on the whole test set (or `test_limit` images of it)."""
    return TrainSpec("rnn", RNN_STYLES_MODEL, None, 1, train_limit, batch_size=64, lr=0.002,
                     trainer=RNN_CLASSIFIER + (("evals_per_epoch", evals),
                                               ("test_limit", test_limit)))


_STUDY_TRAIN = (TrainSpec("cnn", None, None, STUDY_CNN_EPOCHS, None, STUDY_SEEDS,
                          batch_size=STUDY_CNN_BATCH, lr=STUDY_CNN_LR,
                          trainer=CNN_TIME_TO_TARGET),
                _rnn_classifier("native"), _rnn_every_style(STUDY_STYLE_IMAGES, 4))

# smoke's budget (75 s on 2 cores) leaves out, for the LSTM and GRU only, the two styles that
# cost most per repetition (measured there): the seed's bmm copies every weight per batch
# element and step, 0.5-0.8 s a forward + backward with their stacked gates; compile spends
# 1.5-2 s per fresh worker loading its compiled graphs. Both are timed in quick and full.
_SMOKE_SITOUTS = tuple(
    (cell, style, f"smoke's budget: {why}; timed in quick and full")
    for cell in ("lstm", "gru")
    for style, why in (("bmm", "0.5-0.8 s a call on 2 cores"),
                       ("compile", "1.5-2 s a worker to load its compiled graphs")))

# ResNet's two dimension-matching options and MobileNetV2's paper rule (its other variants cost
# 0.2 s a train step on 2 cores, more than smoke's budget has left)
_SMOKE_CNN = (("resnet", "projection"), ("resnet", "zeropad"), ("mobilenetv2", "paper"))
_ALL_CNN = ((None, None),)  # every registered variant

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        summary="every CPU style x cell at the MNIST shape (forward + backward; LSTM and "
                "GRU without bmm and compile), 3 CNN variants, one short training, 4 "
                "repetitions (CI and sanity; <= 75 s on 2 cores, warm compile cache)",
        # forward + backward only: with three cells, both passes and two repetitions smoke
        # took 158 s on the 2-core machine; this pass covers the forward's work too
        rnn_passes=("forward_backward",),
        rnn_cells=("rnn", "lstm", "gru"),
        rnn_extra_shapes=(),
        rnn_sweeps={},
        rnn_sweep_styles=None,
        rnn_sitouts=_SMOKE_SITOUTS,
        cnn_variants=_SMOKE_CNN,
        cnn_passes=("inference", "train_step"),
        cnn_batch=64,
        # one short training (32 SGD steps, then one evaluation of the 10k test images): enough
        # to show the trainer learns; MobileNetV2's run alone took 36 s of the 158
        train=_cnn_runs((("resnet", "projection"),), 1, 4096),
        # 4 repetitions of 5 passes, as quick (they were 3 of 5, and 2 of 7 before): over the
        # stored pairs of issue #11 smoke's CNN cases missed 3 of 48 slowdowns of 1.3x, quick's
        # none of 51. On six smoke series of the 2-core VM at 4 x 5, the same runs cut to 3
        # repetitions (or to 4 of 4 passes) caught 1 slowed case fewer and called more
        # unchanged ones (docs/architecture.md). 10 ms of rounds a pass, as quick, so smoke
        # times no case longer than quick does: 48-60 s on that VM without the report, since
        # workers skip the interpreter's teardown (bench.timing.worker.leave)
        repetitions=4,
        blocks=5,
        min_rounds=1,
        max_time_s=0.01,
        warmup_rounds=1,
        case_budget_s=0.6,
    ),
    "quick": Profile(
        name="quick",
        summary="all styles and variants, a 3-point sequence-length sweep, a short training "
                "of every CNN variant and of the RNN classifier in every style, 5 repetitions "
                "(<= 5 min on 2 cores)",
        rnn_passes=("forward", "forward_backward"),
        rnn_cells=("rnn", "lstm", "gru"),
        rnn_extra_shapes=(),
        # 3 points over an 8x range: 112 steps cost 6 s a repetition on 2 cores, 56 about 3
        rnn_sweeps={"seq_len": (7, 28, 56)},
        rnn_sweep_styles=None,
        rnn_sitouts=(),
        cnn_variants=None,
        cnn_passes=("inference", "train_step"),
        cnn_batch=64,
        # 32 SGD steps per CNN variant (4096 images) and a short run of the RNN classifier in
        # every style: indicative accuracies within quick's budget (the report says so, and
        # names the study profile that gives the real verdict). Measured on 2 cores: 16384
        # images and 5 sweep points took quick to 353 s; 4096 and 3 points, 262-317 s. The same
        # machine runs 25-30 % slower for an hour at a time: quick took 336-349 s then (sweep to
        # 112, 64 steps per RNN style), hence the shorter sweep and style runs.
        train=_cnn_runs(_ALL_CNN, 1, 4096) + (_rnn_every_style(QUICK_STYLE_IMAGES, 1,
                                                                SHORT_TEST_IMAGES),),
        # 4 repetitions of 5 passes, not 3 of 7: the noise that decides a verdict is between
        # processes and over minutes, not between passes. Over the 96 stored quick pairs of the
        # 2-core VM (issue #11), keeping 2 of each run's 3 repetitions (14 passes a case) missed
        # 13 of 125 slowed cases and called 18 unchanged ones, 472 undecided; keeping 5 of the 7
        # passes of all 3 (15) missed 1 and called 3, 95 undecided; all 21: 2, 2, 52. On that
        # VM a repetition costs ~14 s besides its passes (a fresh process builds every case).
        # 5 repetitions, not 4: two quick series at 6 repetitions, each also cut to its first 5
        # and first 4, caught 22, 23 and 21 of 24 slowed cases at 6, 5 and 4, and called 0, 0
        # and 1 unchanged case in their 12 A/A pairs; a run took 170-193 s, at 4 154-179 s.
        repetitions=5,
        blocks=5,
        min_rounds=1,
        max_time_s=0.01,
        warmup_rounds=2,
        case_budget_s=1.0,
    ),
    "full": Profile(
        name="full",
        summary="sweeps over sequence length, hidden size and batch; the shortcuts study's "
                "training (every CNN variant to 99 %, 5 seeds, the RNN classifier in every "
                "style) and the RNN classifier in native and premul for 15 epochs",
        rnn_passes=("forward", "forward_backward"),
        rnn_cells=("rnn", "lstm", "gru"),
        rnn_extra_shapes=((FASTRNNS_SHAPE, ("bmm",), "its weight copies need ~25 GB at this "
                                                      "shape"),),
        rnn_sweeps={"seq_len": (7, 14, 28, 56, 112, 224),
                    "hidden_size": (32, 64, 128, 256, 512),
                    "batch": (1, 16, 64, 256, 1024)},
        rnn_sweep_styles=None,
        rnn_sitouts=(),
        cnn_variants=None,
        cnn_passes=("inference", "train_step"),
        cnn_batch=128,
        # the study's training runs (shortcuts, below), and the RNN classifier in another style
        train=_STUDY_TRAIN + (_rnn_classifier("premul"),),
        repetitions=5,
        blocks=10,
        min_rounds=2,
        max_time_s=0.05,
        warmup_rounds=5,
        case_budget_s=5.0,
    ),
    "shortcuts": Profile(
        name="shortcuts",
        summary="the dimension-matching study (issue #12): every CNN variant trained to 99 % "
                "with 5 seeds on full MNIST, the RNN classifier (15 epochs native, 256 steps "
                "in every style), and every variant's timed inference and train step "
                "(on the 2-core machine the goal is 45 min)",
        rnn_passes=(),
        rnn_cells=(),
        rnn_extra_shapes=(),
        rnn_sweeps={},
        rnn_sweep_styles=None,
        rnn_sitouts=(),
        cnn_variants=None,
        cnn_passes=("inference", "train_step"),
        cnn_batch=64,
        train=_STUDY_TRAIN,
        repetitions=3,
        blocks=8,
        min_rounds=1,
        max_time_s=0.01,
        warmup_rounds=2,
        case_budget_s=1.0,
    ),
}


# --- The data-parallel scaling profile (issue 14) ---------------------------------------------
@dataclass(frozen=True)
class ScalingSpec:
    """How `run --profile scaling` measures each model at each world size (bench.scaling)."""

    # DDP steps run before the clock starts: allocator, oneDNN/cuDNN choices, gloo/NCCL buffers
    warmup_steps: int
    timed_steps: int  # steady-state steps, each timed: time per step, images/s, comm share
    # ... or more, until they take this long: a 20 ms step needs more than 20 samples to stand
    # above a busy machine's noise (rank 0 decides from one probe step, then tells the others)
    window_s: float
    nosync_steps: int  # the same step under DDP no_sync() (no all-reduce), timed; or half as
    # many as the timed steps, when that is more
    # A collective that waits longer than this fails the world size (a rank that hangs, or a
    # node lost without its process dying; a rank that dies is seen by the launcher at once).
    collective_timeout_s: int
    rdzv_timeout_s: int  # the default --rdzv-timeout: every node must join within this


# One global batch at every world size (per-rank batch = global / world size): the updates
# are the single-device ones, so time-to-target compares like with like (bench.scaling.plan
# states the LR rule). 128: the trainer's CNN batch; 64 per rank at world size 2.
SCALING_BATCH = 128
SCALING_CNN_EPOCHS = 1  # the cap at which the figures below were measured
# The ResNet-8 without shortcuts: after one epoch at the study's peak LR 0.4 it has the widest
# margin over 99 % of the ResNet variants for seed 0 (99.09 %; zeropad 99.03 %, and 99.00 % vs
# 98.97 % at world sizes 1 and 2 on the 2-core CPU), and the fastest step on the CPU.
_SCALING_CNN = (("resnet", "plain"),)
# Half-epoch evaluations: one of the 10k test images takes about 5 s on one CPU core.
_SCALING_CNN_TRAINER = (("stop_at_target", True), ("evals_per_epoch", 2),
                        ("channels_last", True))
# The row-by-row RNN classifier never reaches 99 % (97.8 % after 15 epochs, the full profile),
# so its target here is 94 %, below what its 2-epoch cap reaches (95.2 % and 95.0 % at world
# sizes 1 and 2 on the 2-core CPU): its time to target then compares world sizes as the CNN's
# does. Later pairs win over RNN_CLASSIFIER's.
SCALING_RNN_TARGET = 0.94
_SCALING_RNN_TRAINER = RNN_CLASSIFIER + (("evals_per_epoch", 2), ("stop_at_target", True),
                                         ("target_acc", SCALING_RNN_TARGET))
SCALING: dict[str, ScalingSpec] = {
    "scaling": ScalingSpec(warmup_steps=5, timed_steps=20, window_s=3.0, nosync_steps=10,
                           collective_timeout_s=300, rdzv_timeout_s=300),
}
PROFILES["scaling"] = Profile(
    name="scaling",
    summary="data-parallel training (DDP through torchrun, gloo on CPU, NCCL on GPU) of a "
            "ResNet and the RNN classifier at world sizes 1, 2, 4, ... up to --nproc-per-node "
            "x nodes: images/s, efficiency, communication share, time to target",
    rnn_passes=(),
    rnn_cells=(),
    rnn_extra_shapes=(),
    rnn_sweeps={},
    rnn_sweep_styles=None,
    rnn_sitouts=(),
    # No case is timed by the harness: the measured step is the DDP train step of these
    # models at the global batch (bench.scaling, with SCALING's step counts).
    cnn_variants=_SCALING_CNN,
    cnn_passes=("train_step",),
    cnn_batch=SCALING_BATCH,
    train=tuple(TrainSpec("cnn", family, shortcut, SCALING_CNN_EPOCHS, None,
                          batch_size=SCALING_BATCH, lr=STUDY_CNN_LR,
                          trainer=_SCALING_CNN_TRAINER) for family, shortcut in _SCALING_CNN)
    + (TrainSpec("rnn", "rnn-classifier", "native", 2, None, batch_size=SCALING_BATCH,
                 lr=0.003, trainer=_SCALING_RNN_TRAINER),),
    repetitions=2,
    blocks=2,
    min_rounds=3,
    max_time_s=0.05,
    warmup_rounds=1,
)

DEFAULT_PROFILE = "quick"


def get_profile(name: str) -> Profile:
    """The profile called `name`, or a UsageError naming the valid ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(f"unknown profile {name!r}: choose one of "
                         f"{', '.join(PROFILES)}") from None
