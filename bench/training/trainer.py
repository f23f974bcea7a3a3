"""The trainer: mini-batch training on data resident on the device, evaluated at fixed points.

    from bench.data.sources import load
    from bench.data.tensors import to_tensors
    from bench.training import trainer as train
    tensors = to_tensors(load(), "cpu")
    record = train.train(model, tensors, train.TrainConfig(epochs=2, stop_at_target=True), "cpu",
                         model_name="resnet", variant="projection")
    record.as_dict()   # a bench.store.schema.Training: the training[] entry of results.json

Time to accuracy (issue #12, MLPerf-style): the model is evaluated on the whole test set
`evals_per_epoch` times per epoch, after equal shares of the epoch's steps (`eval_points`). The
training clock stops around every evaluation (its cost goes to `eval_s`), and around compilation
(`compile_s`), so `time_s` and `time_to_target_s` are training time only. With `stop_at_target` a
run ends at the first point that reaches `target_acc`; `epochs` is the cap, and the LR schedule
spans the cap whether or not the run stops early, so a run's first points do not depend on it.
The cap may be a fraction: 0.75 trains the first three quarters of one seeded permutation of the
whole training set (every image equally likely to be seen), the last point at the cap.

The step loop adds as little as it can to a bare forward + backward + step: batches are index
slices of one seeded permutation per epoch, the loss is summed on the device and read only at
progress ticks and evaluation points (no per-step `.item()` sync), and the LR is a pure function
of the step. `bench/training/bench_trainer_overhead.py` measures what is left.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bench.data.tensors import Tensors
from bench.errors import UsageError
from bench.store.schema import CurvePoint, Epoch, Training
from bench.system.device import set_seed, synchronize
from bench.training.evaluation import balanced, evaluate, recompute_bn_stats
from bench.training.modelinfo import count_params, flops_per_image
from bench.training.optim import (  # noqa: F401 - WARMUP_*: part of the trainer's interface
    OPTIMIZERS,
    SCHEDULES,
    WARMUP_FRACTION,
    WARMUP_START,
    lr_factor,
    make_optimizer,
)
from bench.training.speed import compiled_forward, memory_format

PROGRESS_INTERVAL_S = 0.25  # at most ~4 progress lines a second


@dataclass(frozen=True)
class TrainConfig:
    # the cap, in epochs; the schedule spans it. A fraction stops part-way through the last pass
    epochs: float = 2
    batch_size: int = 128  # small enough for many updates per epoch, big enough to keep BLAS busy
    optimizer: str = "sgd"  # sgd (the CNNs) | adam | rmsprop (the row-by-row RNN)
    lr: float = 0.1  # peak LR; onecycle's warm-up makes this safe from the first step
    momentum: float = 0.9  # SGD only: the standard momentum for ResNets (He et al. 2015, §3.4)
    nesterov: bool = True  # SGD only: a free, slightly faster-converging variant of momentum
    weight_decay: float = 5e-4  # light L2; a short schedule needs little regularisation
    schedule: str = "onecycle"  # warm-up then cosine decay: the best accuracy in few epochs
    grad_clip: float | None = None  # clip the global gradient norm (RNNs' exploding gradients)
    # cross-entropy against targets moved this share towards uniform (Szegedy et al. 2016);
    # the recorded train loss is the smoothed one, the test accuracy is unaffected
    label_smoothing: float = 0.0
    evals_per_epoch: int = 4  # evaluation points per epoch: 4 = every quarter epoch (issue #12)
    target_acc: float = 0.99  # the time-to-target bar (MNIST's classic "99 %")
    stop_at_target: bool = False  # stop at the first point >= target (MLPerf time-to-train)
    seed: int = 0  # seeds the shuffling and any randomness inside the model
    train_limit: int | None = None  # use a class-balanced subset of this many training images
    # evaluate on a class-balanced subset of this many test images (None: all of them): a short,
    # indicative run spends almost as much on evaluating as on training otherwise (quick: the
    # 10k test images took 37 s of its 98-s training phase on 2 cores, the trainings 50 s)
    test_limit: int | None = None
    # "precise BN" (Wu & Johnson 2021): before each evaluation, replace every BatchNorm layer's
    # running statistics by the plain average of its batch statistics over the first this many
    # training images (0: off), off the training clock. After a few dozen large steps the
    # running averages lag the weights: quick's 32-step MobileNetV2 scored 11.35 % (chance) in
    # eval mode against 83 % with its batch statistics, and 83.0 % with the averages recomputed
    # over 4096 images.
    precise_bn: int = 0
    # evaluation batch: measured on 2 cores, ResNet-8 over the 10k test images in NHWC took
    # 3.0 s at 128, 3.6 s at 256, 6.2 s at 1000 (and 10-34 s in NCHW at those sizes)
    eval_batch_size: int = 256
    channels_last: bool = False  # NHWC activations for the convolutions (bench.training.speed)
    compile: bool = False  # torch.compile the model, compiled before the clock starts

    def __post_init__(self) -> None:
        for name, allowed in (("schedule", SCHEDULES), ("optimizer", OPTIMIZERS)):
            if getattr(self, name) not in allowed:
                raise UsageError(f"unknown {name} {getattr(self, name)!r}: "
                                 f"choose one of {', '.join(allowed)}")
        if not (isinstance(self.epochs, (int, float)) and not isinstance(self.epochs, bool)
                and math.isfinite(self.epochs)
                and self.epochs > 0):
            raise UsageError(f"training epochs must be a positive number, got {self.epochs}")
        for name in ("batch_size", "eval_batch_size", "evals_per_epoch"):
            if getattr(self, name) < 1:
                raise UsageError(f"training {name} must be a positive integer, "
                                 f"got {getattr(self, name)}")
        for name in ("train_limit", "test_limit"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise UsageError(f"{name} must be a positive number of images, "
                                 f"got {getattr(self, name)}")
        if self.precise_bn < 0:
            raise UsageError(f"precise_bn must be a number of images >= 0, got {self.precise_bn}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise UsageError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise UsageError(f"grad_clip must be a positive norm or None, got {self.grad_clip}")

    def options(self) -> dict:
        """Every trainer choice but the seed: equal options mean comparable runs."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "seed"}


def eval_points(steps_per_epoch: int, evals_per_epoch: int,
                steps_left: int | None = None) -> list[int]:
    """The step counts within an epoch after which the model is evaluated: equal shares of the
    epoch, the last one its end (fewer points when the epoch has fewer steps than asked). With
    `steps_left` below the epoch's steps (a fractional cap ends in this epoch), the points before
    it and then `steps_left` itself: the run is evaluated where it ends."""
    points = sorted({max(1, round(k * steps_per_epoch / evals_per_epoch))
                     for k in range(1, evals_per_epoch + 1)})
    if steps_left is None or steps_left >= steps_per_epoch:
        return points
    return [p for p in points if p < steps_left] + [max(1, steps_left)]


def total_steps(config: TrainConfig, images: int) -> int:
    """The steps the cap allows (the schedule's length): `epochs` passes of `images`, rounded to
    whole steps, at least one."""
    return max(1, round(config.epochs * math.ceil(images / config.batch_size)))


def passes(steps: int, steps_per_epoch: int) -> int:
    """How many epochs (permutations) `steps` reach into (`total_steps`): 0.75 of an epoch's
    steps -> 1, 2 epochs' -> 2, 2.5 -> 3. Counted from the steps, so no epoch is begun that the
    rounded cap leaves no step in."""
    return max(1, math.ceil(steps / steps_per_epoch))


class _Ticker:
    """Calls `progress` at most once per PROGRESS_INTERVAL_S; `due()` is cheap when it is None."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self.progress = progress
        self.next_at = 0.0

    def due(self) -> bool:
        return self.progress is not None and time.perf_counter() >= self.next_at

    def emit(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)
            self.next_at = time.perf_counter() + PROGRESS_INTERVAL_S


@dataclass
class EpochLoop:
    """What `train_steps` needs; built once per `train` call (and by the overhead benchmark)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    x: torch.Tensor  # (N, 1, 28, 28) on the device
    y: torch.Tensor  # (N,)
    config: TrainConfig
    total_steps: int
    ticker: _Ticker
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None  # compiled model, else model

    def __post_init__(self) -> None:
        if self.forward is None:
            self.forward = self.model


def train_steps(loop: EpochLoop, order: torch.Tensor, start: int, stop: int, first_step: int,
                label: str) -> torch.Tensor:
    """Steps `start` .. `stop - 1` of one pass over `loop.x` in the order of `order` (indices on
    the device); returns their summed loss as a 0-dim device tensor (no sync). `first_step` is
    the global step of step `start`, for the schedule."""
    cfg, n = loop.config, order.numel()
    steps = math.ceil(n / cfg.batch_size)
    loss_sum = torch.zeros((), device=loop.x.device)
    params = [p for group in loop.optimizer.param_groups for p in group["params"]]
    loop.model.train()
    for i in range(start, stop):
        idx = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]  # (B,)
        lr = cfg.lr * lr_factor(cfg.schedule, first_step + i - start, loop.total_steps)
        for group in loop.optimizer.param_groups:
            group["lr"] = lr
        loss = F.cross_entropy(loop.forward(loop.x[idx]), loop.y[idx],
                               label_smoothing=cfg.label_smoothing)
        loop.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip is not None:  # foreach, no sync: the norm stays on the device
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip, foreach=True)
        loop.optimizer.step()
        loss_sum.add_(loss.detach(), alpha=idx.numel())
        if loop.ticker.due():
            seen = min(n, (i + 1) * cfg.batch_size) - start * cfg.batch_size
            loop.ticker.emit(f"{label}  step {i + 1}/{steps}  loss {loss_sum.item() / seen:.3f}")
    return loss_sum


def train_epoch(loop: EpochLoop, order: torch.Tensor, first_step: int, label: str) -> torch.Tensor:
    """One whole pass (`train_steps` over every step); returns the summed loss (no sync)."""
    steps = math.ceil(order.numel() / loop.config.batch_size)
    return train_steps(loop, order, 0, steps, first_step, label)


def _training_set(tensors: Tensors, limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    return balanced(tensors.x_train, tensors.y_train, limit)


def make_loop(model: nn.Module, tensors: Tensors, config: TrainConfig,
              progress: Callable[[str], None] | None = None) -> EpochLoop:
    """The optimizer and training set for `config`; `model` must already be on the device."""
    x, y = _training_set(tensors, config.train_limit)
    x = x.contiguous(memory_format=memory_format(config))
    return EpochLoop(model, make_optimizer(model, config), x, y, config,
                     total_steps(config, y.numel()),
                     _Ticker(progress))


@dataclass
class Clock:
    """Training time, evaluation time, and the curve so far."""

    train_s: float = 0.0
    eval_s: float = 0.0
    seen: int = 0
    time_to_target: float | None = None


def mean_or_none(total: float, count: int) -> float | None:
    return total / count if count and math.isfinite(total) else None  # null: a diverged run


def _segment(loop: EpochLoop, order: torch.Tensor, start: int, stop: int, first_step: int,
             label: str) -> tuple[float, float]:
    """(wall seconds, summed loss) of `train_steps`, the device synchronised around it."""
    synchronize(loop.x.device)
    begin = time.perf_counter()
    loss_sum = train_steps(loop, order, start, stop, first_step, label)
    synchronize(loop.x.device)
    return time.perf_counter() - begin, loss_sum.item()


def _evaluate_timed(loop: EpochLoop, x_test: torch.Tensor, y_test: torch.Tensor,
                    clock: Clock) -> float:
    """Test accuracy, its wall time added to `clock.eval_s` (never to the training clock)."""
    synchronize(x_test.device)
    begin = time.perf_counter()
    if loop.config.precise_bn:
        recompute_bn_stats(loop.model, loop.x, loop.config.precise_bn,
                           loop.config.eval_batch_size)
    acc = evaluate(loop.model, x_test, y_test, loop.config.eval_batch_size)
    clock.eval_s += time.perf_counter() - begin
    return acc


def _run_epoch(loop: EpochLoop, tensors: Tensors, epoch: int, order: torch.Tensor,
               clock: Clock, curve: list[CurvePoint]) -> tuple[Epoch, bool]:
    """Train one epoch in segments between evaluation points; (its record, stop now?)."""
    cfg, n = loop.config, order.numel()
    steps = math.ceil(n / cfg.batch_size)
    label, done, time_s, loss_total, acc = f"epoch {epoch}/{cfg.epochs:g}", 0, 0.0, 0.0, 0.0
    x_test, y_test = balanced(tensors.x_test, tensors.y_test, cfg.test_limit)
    x_test = x_test.contiguous(memory_format=memory_format(cfg))
    for stop in eval_points(steps, cfg.evals_per_epoch, loop.total_steps - (epoch - 1) * steps):
        seg_s, loss = _segment(loop, order, done, stop, (epoch - 1) * steps + done, label)
        images = min(n, stop * cfg.batch_size) - done * cfg.batch_size
        clock.train_s, clock.seen = clock.train_s + seg_s, clock.seen + images
        time_s += seg_s
        acc = _evaluate_timed(loop, x_test, y_test, clock)
        loss_total += loss
        curve.append(CurvePoint(clock.seen, clock.seen / n, clock.train_s, acc,
                                mean_or_none(loss, images)))
        loop.ticker.emit(f"{label}  at {clock.seen / n:.2f} epochs  test acc {acc:.2%}")
        done = stop
        if clock.time_to_target is None and acc >= cfg.target_acc:
            clock.time_to_target = clock.train_s
            if cfg.stop_at_target:
                break
    trained = min(n, done * cfg.batch_size)
    record = Epoch(epoch, time_s, mean_or_none(loss_total, trained), acc, fraction=trained / n)
    return record, cfg.stop_at_target and clock.time_to_target is not None


def train(model: nn.Module, tensors: Tensors, config: TrainConfig, device: torch.device | str,
          progress: Callable[[str], None] | None = None, *, model_name: str = "model",
          variant: str = "") -> Training:
    """Train `model` (moved to `device`) on `tensors`, evaluating it on the whole test set (or
    `config.test_limit` of it) at every evaluation point. Seeds everything from `config.seed`
    first (build the model under your own seed: its initial weights are yours). `progress` gets
    short status lines, at most ~4 a second. `model_name` and `variant` only label the record
    (e.g. "resnet", "projection")."""
    device = torch.device(device)
    set_seed(config.seed)
    model.to(device=device, memory_format=memory_format(config))
    params_count, flops = count_params(model), flops_per_image(model, device)
    loop = make_loop(model, tensors, config, progress)
    compile_s = None
    if config.compile:
        loop.forward, compile_s = compiled_forward(model, loop.x, loop.y, config.batch_size)
    generator = torch.Generator().manual_seed(config.seed)  # CPU: the same order on every device
    n, clock = loop.y.numel(), Clock()
    epochs: list[Epoch] = []
    curve: list[CurvePoint] = []
    for epoch in range(1, passes(loop.total_steps, math.ceil(n / config.batch_size)) + 1):
        order = torch.randperm(n, generator=generator).to(device)  # (N,)
        record, stop = _run_epoch(loop, tensors, epoch, order, clock, curve)
        epochs.append(record)
        if stop:
            break
    return Training(
        name=f"train/{model_name}/{variant}/seed{config.seed}", model=model_name,
        variant=variant, device=device.type, seed=config.seed, status="ok", error=None,
        params_count=params_count, flops=flops, epochs=epochs,
        time_to_target_s=clock.time_to_target, target_acc=config.target_acc, train_images=n,
        test_images=min(tensors.y_test.numel(), config.test_limit or tensors.y_test.numel()),
        images_per_s=clock.seen / clock.train_s,
        curve=curve, reached_target=clock.time_to_target is not None, eval_s=clock.eval_s,
        compile_s=compile_s, options=config.options())
