"""What one rank does for one item: DDP train steps timed in steady state, then time to target.

Every rank holds the whole dataset resident on its device and trains on its shard of each
global batch (bench.scaling.plan). The loss a rank back-propagates is its summed cross-entropy
times W / |global batch|: DDP averages the W ranks' gradients, which makes the update the
gradient of the mean over the global batch, exactly as on one device, even when the shards of
the last, short batch differ in size.

The communication share comes from a DDP comm hook that wraps torch's own all-reduce hook
(`default_hooks.allreduce_hook`) and notes when each gradient bucket's all-reduce was launched
and when it completed (CUDA events on GPUs); per step, the time with an all-reduce in flight.
DDP overlaps that with the backward pass, so the exposed share is measured too: the same step
under `no_sync()` (no all-reduce at all) against the synchronised step.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks
from torch.nn.parallel import DistributedDataParallel

from bench.data.tensors import Tensors
from bench.scaling.plan import shard
from bench.store.schema import CurvePoint, Epoch, Training
from bench.system.device import synchronize
from bench.timing.profiles import ScalingSpec
from bench.training.evaluation import count_correct
from bench.training.modelinfo import count_params, flops_per_image
from bench.training.optim import lr_factor
from bench.training.speed import memory_format
from bench.training.trainer import (
    Clock,
    TrainConfig,
    eval_points,
    make_loop,
    mean_or_none,
    passes,
)


@dataclass(frozen=True)
class Member:
    """This rank inside the world of one item (ranks 0 .. W-1 of the launch)."""

    rank: int
    world_size: int
    group: dist.ProcessGroup
    device: torch.device


@dataclass(frozen=True)
class Window:
    """Steady-state steps on this rank, in seconds."""

    step_s: list[float]  # each timed step, the device synchronised around it
    comm_s: list[float]  # per timed step: time with a gradient all-reduce in flight
    nosync_s: list[float]  # each step under no_sync()


class CommTimer:
    """A DDP comm hook: torch's all-reduce hook, noting each bucket's launch and completion."""

    def __init__(self, member: Member) -> None:
        self.member = member
        self.cuda = member.device.type == "cuda"
        self.spans: list[tuple[object, object]] = []
        self.start: object = None

    def _mark(self) -> object:
        if not self.cuda:
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        # This rank's device named explicitly: a then-callback may run on another thread, with
        # the device's current stream set to one that waits for the all-reduce.
        event.record(torch.cuda.current_stream(self.member.device))
        return event

    def hook(self, state, bucket):  # no annotations: DDP checks them, and they are strings here
        launched = self._mark()
        future = default_hooks.allreduce_hook(self.member.group, bucket)

        def completed(done: torch.futures.Future) -> torch.Tensor:
            self.spans.append((launched, self._mark()))
            return done.value()
        return future.then(completed)

    def begin_step(self) -> None:
        self.spans, self.start = [], self._mark()

    def step_comm_s(self) -> float:
        """Seconds of the last step with an all-reduce in flight (the device synchronised)."""
        if self.cuda:
            spans = [(self.start.elapsed_time(a) / 1e3, self.start.elapsed_time(b) / 1e3)
                     for a, b in self.spans]
        else:
            spans = list(self.spans)
        return union_length(spans)


def union_length(spans: list[tuple[float, float]]) -> float:
    """Total length covered by the intervals (overlaps counted once)."""
    total, end = 0.0, -math.inf
    for a, b in sorted(spans):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def wrap(model: torch.nn.Module, member: Member, config: TrainConfig) -> DistributedDataParallel:
    """The model on this rank's device inside DDP (rank 0's weights and buffers broadcast)."""
    model.to(device=member.device, memory_format=memory_format(config))
    ids = [member.device.index] if member.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, process_group=member.group)


def step(ddp: DistributedDataParallel, optimizer: torch.optim.Optimizer, x: torch.Tensor,
         y: torch.Tensor, batch: torch.Tensor, member: Member, config: TrainConfig,
         lr: float) -> torch.Tensor:
    """One data-parallel step on this rank's shard of `batch`; its summed loss (no sync)."""
    local = shard(batch, member.rank, member.world_size)  # (b,) of the global (B,)
    for group in optimizer.param_groups:
        group["lr"] = lr
    summed = F.cross_entropy(ddp(x[local]), y[local], reduction="sum",
                             label_smoothing=config.label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    (summed * (member.world_size / batch.numel())).backward()  # DDP averages: the global mean
    if config.grad_clip is not None:  # on the averaged gradient, the same on every rank
        torch.nn.utils.clip_grad_norm_(ddp.parameters(), config.grad_clip, foreach=True)
    optimizer.step()
    return summed.detach()


def group_barrier(member: Member) -> None:
    """Line the item's ranks up (an all-reduce of one element: gloo and NCCL alike)."""
    dist.all_reduce(torch.zeros(1, device=member.device), group=member.group)
    synchronize(member.device)


def _batches(n: int, batch: int, seed: int, device: torch.device) -> Iterator[torch.Tensor]:
    """Full global batches from epoch after epoch of seeded permutations (the same on every
    rank): each timed step trains `batch` images (the whole set, if it is smaller)."""
    generator = torch.Generator().manual_seed(seed)
    full = max(1, n // batch) * min(batch, n)
    while True:
        order = torch.randperm(n, generator=generator).to(device)
        yield from order[:full].split(min(batch, n))


def _timed(run: Callable[[], None], device: torch.device) -> float:
    synchronize(device)
    begin = time.perf_counter()
    run()
    synchronize(device)
    return time.perf_counter() - begin


def timed_window(model: torch.nn.Module, tensors: Tensors, config: TrainConfig,
                 member: Member, spec: ScalingSpec) -> Window:
    """Warm-up steps, then timed steps (with their all-reduce time), then no_sync() steps."""
    ddp = wrap(model, member, config)
    timer = CommTimer(member)
    ddp.register_comm_hook(None, timer.hook)
    loop = make_loop(ddp.module, tensors, config)  # the optimizer and the training set
    optimizer, x, y = loop.optimizer, loop.x, loop.y
    batches = _batches(y.numel(), config.batch_size, config.seed + 1, member.device)
    counter = itertools.count()  # the LR follows the start of a whole run's schedule

    def one() -> None:
        lr = config.lr * lr_factor(config.schedule, next(counter), loop.total_steps)
        step(ddp, optimizer, x, y, next(batches), member, config, lr)
    for _ in range(spec.warmup_steps):
        one()
    timed = _window_steps(_timed(one, member.device), member, spec)
    group_barrier(member)
    step_s, comm_s = [], []
    for _ in range(timed):
        timer.begin_step()
        step_s.append(_timed(one, member.device))
        comm_s.append(timer.step_comm_s())
    with ddp.no_sync():  # each rank on its own gradients: this model is thrown away after
        nosync_s = [_timed(one, member.device)
                    for _ in range(max(spec.nosync_steps, timed // 2))]
    return Window(step_s, comm_s, nosync_s)


MAX_TIMED_STEPS = 2000  # a bound on the window of a very fast step


def _window_steps(probe_s: float, member: Member, spec: ScalingSpec) -> int:
    """How many steps to time: at least `timed_steps`, enough to fill `window_s` at the probe
    step's pace; rank 0's choice, broadcast so every rank takes as many steps."""
    wanted = min(MAX_TIMED_STEPS, max(spec.timed_steps, math.ceil(spec.window_s / probe_s)))
    count = torch.tensor([wanted], device=member.device)
    dist.broadcast(count, src=0, group=member.group)
    return int(count.item())


@torch.no_grad()
def evaluate(ddp: DistributedDataParallel, tensors: Tensors, config: TrainConfig,
             member: Member, loss_sum: torch.Tensor) -> tuple[float, float]:
    """(test accuracy over the whole test set, the summed training loss of every rank): each
    rank scores its shard of the test set, with rank 0's BatchNorm statistics."""
    module = ddp.module
    for buffer in module.buffers():
        dist.broadcast(buffer, src=0, group=member.group)
    x = tensors.x_test[member.rank::member.world_size].contiguous(
        memory_format=memory_format(config))
    y = tensors.y_test[member.rank::member.world_size]
    correct = count_correct(module, x, y, config.eval_batch_size)
    totals = torch.stack([correct.double(), loss_sum.double()])
    dist.all_reduce(totals, group=member.group)
    return totals[0].item() / tensors.y_test.numel(), totals[1].item()




class TargetRun:
    """The time-to-target run of one item: the trainer's evaluation points and records, with
    each step data-parallel; rank 0's clock, evaluation off it."""

    def __init__(self, model: torch.nn.Module, tensors: Tensors, config: TrainConfig,
                 member: Member, status: Callable[[str], None]) -> None:
        self.model, self.tensors, self.config, self.member = model, tensors, config, member
        self.status = status
        self.params_count = count_params(model)
        self.flops = flops_per_image(model.to(member.device), member.device)
        self.ddp = wrap(model, member, config)
        loop = make_loop(self.ddp.module, tensors, config)  # the optimizer and the training set
        self.optimizer, self.x, self.y = loop.optimizer, loop.x, loop.y
        self.n, self.total_steps = self.y.numel(), loop.total_steps
        self.steps = math.ceil(self.n / config.batch_size)
        self.clock, self.curve, self.epochs = Clock(), [], []

    def _segment(self, order: torch.Tensor, epoch: int, start: int, stop: int) -> float:
        cfg, total = self.config, self.total_steps
        loss = torch.zeros((), device=self.member.device)
        group_barrier(self.member)  # every rank starts the segment together, off the clock
        synchronize(self.member.device)
        begin = time.perf_counter()
        for i in range(start, stop):
            batch = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            lr = cfg.lr * lr_factor(cfg.schedule, (epoch - 1) * self.steps + i, total)
            loss += step(self.ddp, self.optimizer, self.x, self.y, batch, self.member, cfg, lr)
        synchronize(self.member.device)
        self.clock.train_s += time.perf_counter() - begin
        return self._evaluate(loss, min(self.n, stop * cfg.batch_size) - start * cfg.batch_size)

    def _evaluate(self, loss: torch.Tensor, images: int) -> float:
        begin = time.perf_counter()
        acc, loss_sum = evaluate(self.ddp, self.tensors, self.config, self.member, loss)
        self.clock.eval_s += time.perf_counter() - begin
        self.clock.seen += images
        self.curve.append(CurvePoint(self.clock.seen, self.clock.seen / self.n,
                                     self.clock.train_s, acc, mean_or_none(loss_sum, images)))
        if self.clock.time_to_target is None and acc >= self.config.target_acc:
            self.clock.time_to_target = self.clock.train_s
        self.status(f"at {self.clock.seen / self.n:.2f} epochs  test acc {acc:.2%}")
        return loss_sum

    def _epoch(self, epoch: int, order: torch.Tensor) -> bool:
        """Train one epoch between its evaluation points; True when the run stops here."""
        done, begin_s, begin_seen, loss_total = 0, self.clock.train_s, self.clock.seen, 0.0
        stop_now = False
        steps_left = self.total_steps - (epoch - 1) * self.steps
        for stop in eval_points(self.steps, self.config.evals_per_epoch, steps_left):
            loss_total += self._segment(order, epoch, done, stop)
            done = stop
            stop_now = self.config.stop_at_target and self.clock.time_to_target is not None
            if stop_now:
                break
        trained = self.clock.seen - begin_seen
        self.epochs.append(Epoch(epoch, self.clock.train_s - begin_s,
                                 mean_or_none(loss_total, trained), self.curve[-1].test_acc,
                                 fraction=trained / self.n))
        return stop_now

    def run(self, name: str, model_name: str, variant: str | None) -> Training:
        generator = torch.Generator().manual_seed(self.config.seed)  # the same on every rank
        for epoch in range(1, passes(self.total_steps, self.steps) + 1):
            order = torch.randperm(self.n, generator=generator).to(self.member.device)  # (N,)
            if self._epoch(epoch, order):
                break
        clock = self.clock
        return Training(
            name=name, model=model_name, variant=variant, device=self.member.device.type,
            seed=self.config.seed, status="ok", error=None, params_count=self.params_count,
            flops=self.flops, epochs=self.epochs, time_to_target_s=clock.time_to_target,
            target_acc=self.config.target_acc, train_images=self.n,
            test_images=self.tensors.y_test.numel(), images_per_s=clock.seen / clock.train_s,
            curve=self.curve, reached_target=clock.time_to_target is not None,
            eval_s=clock.eval_s, compile_s=None, options=self.config.options())
