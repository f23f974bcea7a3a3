"""The trainer: mini-batch SGD with momentum on data resident on the device, one record per epoch.

    from bench.data.sources import load
    from bench.data.tensors import to_tensors
    from bench.training import trainer as train
    tensors = to_tensors(load(), "cpu")
    record = train.train(model, tensors, train.TrainConfig(epochs=2), "cpu",
                         model_name="resnet", variant="projection")
    record.as_dict()   # a bench.store.schema.Training: the training[] entry of results.json

The step loop adds as little as it can to a bare forward + backward + step: batches are index
slices of one seeded permutation per epoch, the loss is summed on the device and read only at
progress ticks and epoch ends (no per-step `.item()` sync), and the LR is a pure function of the
step. `bench/training/bench_trainer_overhead.py` measures what is left.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bench.data.tensors import Tensors, select_balanced
from bench.errors import UsageError
from bench.store.schema import Epoch, Training
from bench.system.device import set_seed, synchronize
from bench.training.modelinfo import count_params, flops_per_image

SCHEDULES = ("onecycle", "cosine", "step", "constant")
WARMUP_FRACTION = 0.25  # onecycle: share of the steps spent ramping up (Smith & Topin 2017)
WARMUP_START = 1 / 25  # onecycle: first LR as a fraction of the peak (torch's div_factor)
PROGRESS_INTERVAL_S = 0.25  # at most ~4 progress lines a second


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 2  # enough for ResNet-8 and MobileNetV2 to reach 99 % on the full MNIST
    batch_size: int = 128  # small enough for many updates per epoch, big enough to keep BLAS busy
    lr: float = 0.1  # peak LR; onecycle's warm-up makes this safe from the first step
    momentum: float = 0.9  # the standard SGD momentum for ResNets (He et al. 2015, §3.4)
    nesterov: bool = True  # a free, slightly faster-converging variant of momentum
    weight_decay: float = 5e-4  # light L2; a short schedule needs little regularisation
    schedule: str = "onecycle"  # warm-up then cosine decay: the best accuracy in few epochs
    target_acc: float = 0.99  # the time-to-target bar (MNIST's classic "99 %")
    stop_at_target: bool = False  # stop early (MLPerf-style time-to-train) instead of all epochs
    seed: int = 0  # seeds the shuffling and any randomness inside the model
    train_limit: int | None = None  # use a class-balanced subset of this many training images
    eval_batch_size: int = 1000  # evaluation is batched to bound memory, not for speed

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise UsageError(f"unknown LR schedule {self.schedule!r}: "
                             f"choose one of {', '.join(SCHEDULES)}")
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise UsageError(f"training {name} must be a positive integer, "
                                 f"got {getattr(self, name)}")
        if self.train_limit is not None and self.train_limit < 1:
            raise UsageError(f"train_limit must be a positive number of images, "
                             f"got {self.train_limit}")


def lr_factor(schedule: str, step: int, total_steps: int) -> float:
    """The LR at `step` (0-based) of `total_steps`, as a fraction of the peak LR."""
    p = step / max(1, total_steps)  # progress through training, 0 .. 1
    if schedule == "onecycle":
        if p < WARMUP_FRACTION:
            return WARMUP_START + (1 - WARMUP_START) * p / WARMUP_FRACTION
        p = (p - WARMUP_FRACTION) / (1 - WARMUP_FRACTION)
        return 0.5 * (1 + math.cos(math.pi * p))
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * p))
    if schedule == "step":
        return 0.1 ** ((p >= 0.5) + (p >= 0.75))  # ÷10 at 50 % and 75 % (the CIFAR ResNet habit)
    return 1.0


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
    """What `train_epoch` needs; built once per `train` call (and by the overhead benchmark)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    x: torch.Tensor  # (N, 1, 28, 28) on the device
    y: torch.Tensor  # (N,)
    config: TrainConfig
    total_steps: int
    ticker: _Ticker


def train_epoch(loop: EpochLoop, order: torch.Tensor, first_step: int, label: str) -> torch.Tensor:
    """One pass over `loop.x` in the order of `order` (indices on the device); returns the summed
    loss as a 0-dim device tensor (no sync). `first_step` is the global step the epoch starts at."""
    cfg, n = loop.config, order.numel()
    steps = math.ceil(n / cfg.batch_size)
    loss_sum = torch.zeros((), device=loop.x.device)
    loop.model.train()
    for i in range(steps):
        idx = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]  # (B,)
        lr = cfg.lr * lr_factor(cfg.schedule, first_step + i, loop.total_steps)
        for group in loop.optimizer.param_groups:
            group["lr"] = lr
        loss = F.cross_entropy(loop.model(loop.x[idx]), loop.y[idx])
        loop.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        loop.optimizer.step()
        loss_sum.add_(loss.detach(), alpha=idx.numel())
        if loop.ticker.due():
            seen = min(n, (i + 1) * cfg.batch_size)
            loop.ticker.emit(f"{label}  step {i + 1}/{steps}  loss {loss_sum.item() / seen:.3f}")
    return loss_sum


def _timed_epoch(loop: EpochLoop, order: torch.Tensor, first_step: int,
                 label: str) -> tuple[float, torch.Tensor]:
    """(wall seconds, summed loss) of one `train_epoch`, the device synchronised around it."""
    device = loop.x.device
    synchronize(device)
    start = time.perf_counter()
    loss_sum = train_epoch(loop, order, first_step, label)
    synchronize(device)
    return time.perf_counter() - start, loss_sum


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    """Test accuracy (fraction 0..1) in eval mode, batched; one sync at the end."""
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for start in range(0, y.numel(), batch_size):
        logits = model(x[start:start + batch_size])  # (B, 10)
        correct += (logits.argmax(dim=1) == y[start:start + batch_size]).sum()
    model.train()
    return correct.item() / y.numel()


def _training_set(tensors: Tensors, limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = tensors.x_train, tensors.y_train
    if limit is None or limit >= y.numel():
        return x, y
    keep = select_balanced(y.cpu(), limit).to(y.device)  # the same subset to_tensors would keep
    return x[keep], y[keep]


def make_loop(model: nn.Module, tensors: Tensors, config: TrainConfig,
              progress: Callable[[str], None] | None = None) -> EpochLoop:
    """The optimizer and training set for `config`; `model` must already be on the device."""
    x, y = _training_set(tensors, config.train_limit)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                nesterov=config.nesterov, weight_decay=config.weight_decay)
    total_steps = config.epochs * math.ceil(y.numel() / config.batch_size)
    return EpochLoop(model, optimizer, x, y, config, total_steps, _Ticker(progress))


def train(model: nn.Module, tensors: Tensors, config: TrainConfig, device: torch.device | str,
          progress: Callable[[str], None] | None = None, *, model_name: str = "model",
          variant: str = "") -> Training:
    """Train `model` (moved to `device`) on `tensors` and evaluate it on the whole test set after
    every epoch. Seeds everything from `config.seed` first (build the model under your own seed:
    its initial weights are yours). `progress` gets short status lines, at most ~4 a second.
    `model_name` and `variant` only label the record (e.g. "resnet", "projection")."""
    device = torch.device(device)
    set_seed(config.seed)
    model.to(device)
    params_count, flops = count_params(model), flops_per_image(model, device)
    loop = make_loop(model, tensors, config, progress)
    generator = torch.Generator().manual_seed(config.seed)  # CPU: the same order on every device
    n, steps_per_epoch = loop.y.numel(), math.ceil(loop.y.numel() / config.batch_size)
    epochs: list[Epoch] = []
    elapsed, time_to_target = 0.0, None
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(n, generator=generator).to(device)  # (N,)
        label = f"epoch {epoch}/{config.epochs}"
        time_s, loss_sum = _timed_epoch(loop, order, (epoch - 1) * steps_per_epoch, label)
        elapsed += time_s
        acc = evaluate(model, tensors.x_test, tensors.y_test, config.eval_batch_size)
        epochs.append(Epoch(epoch, time_s, loss_sum.item() / n, acc))
        loop.ticker.emit(f"{label}  loss {epochs[-1].train_loss:.3f}  test acc {acc:.2%}")
        if time_to_target is None and acc >= config.target_acc:
            time_to_target = elapsed
            if config.stop_at_target:
                break
    return Training(
        name=f"train/{model_name}/{variant}/seed{config.seed}", model=model_name,
        variant=variant, device=device.type, seed=config.seed, status="ok", error=None,
        params_count=params_count, flops=flops, epochs=epochs, time_to_target_s=time_to_target,
        target_acc=config.target_acc, train_images=n, test_images=tensors.y_test.numel(),
        images_per_s=n * len(epochs) / elapsed)
