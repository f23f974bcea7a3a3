"""How much the trainer adds to a bare training step (pytest-benchmark; not part of the test suite).

    .venv/bin/python -m pytest bench/training/bench_trainer_overhead.py --benchmark-only \
        -p no:cacheprovider

Both cases run STEPS steps of ResNet-8 (projection) at batch BATCH on one resident batch:
  bare     forward + cross-entropy + backward + SGD step, nothing else
  trainer  bench.train.train_epoch, the trainer's own timed loop, over the same batch tiled
           STEPS times: it adds the index gather, the LR schedule, the on-device loss sum and the
           progress check.
Compare the two means (same group, same unit: STEPS steps); `extra_info["per_step_s"]` holds the
mean per step. The trainer's goal is to stay within 5 % of the bare step.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from bench.data.tensors import Tensors
from bench.system.device import set_seed, synchronize
from bench.training.trainer import TrainConfig, make_loop, train_epoch
from implementations import cnn

STEPS = 10  # steps per round; rounds are whole epochs of the trainer's loop
BATCH = 128
ROUNDS = {"cpu": 5, "cuda": 30}  # a GPU round takes milliseconds: more rounds, steadier mean
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _model_and_batch(device: torch.device) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    set_seed(0)
    model = cnn.build("resnet", "projection").to(device).train()
    x = torch.randn(BATCH, 1, 28, 28, device=device)  # (B, 1, 28, 28)
    y = torch.randint(0, 10, (BATCH,), device=device)  # (B,)
    return model, x, y


def _record(benchmark) -> None:
    benchmark.extra_info["steps_per_round"] = STEPS
    benchmark.extra_info["per_step_s"] = benchmark.stats.stats.mean / STEPS


@pytest.mark.benchmark(group="train-overhead")
@pytest.mark.parametrize("device", DEVICES)
def test_bare(benchmark, device):
    device = torch.device(device)
    model, x, y = _model_and_batch(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                                weight_decay=5e-4)

    def steps() -> None:
        for _ in range(STEPS):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        synchronize(device)

    benchmark.pedantic(steps, rounds=ROUNDS[device.type], warmup_rounds=1)
    _record(benchmark)


@pytest.mark.benchmark(group="train-overhead")
@pytest.mark.parametrize("device", DEVICES)
def test_trainer(benchmark, device):
    device = torch.device(device)
    model, x, y = _model_and_batch(device)
    tiled = Tensors(x.repeat(STEPS, 1, 1, 1), y.repeat(STEPS), x, y)  # (STEPS * B, 1, 28, 28)
    config = dataclasses.replace(TrainConfig(), lr=0.01, batch_size=BATCH)
    loop = make_loop(model, tiled, config)
    order = torch.randperm(STEPS * BATCH, generator=torch.Generator().manual_seed(0)).to(device)

    def steps() -> None:
        train_epoch(loop, order, 0, "overhead")
        synchronize(device)

    benchmark.pedantic(steps, rounds=ROUNDS[device.type], warmup_rounds=1)
    _record(benchmark)
