"""The trainer's optimizers and LR schedules, chosen by name in its TrainConfig.

The LR is a pure function of the step (`lr_factor`), set on the optimizer before every step, so
a run's schedule is fixed by its config alone and resuming or stopping early cannot bend it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

SCHEDULES = ("onecycle", "cosine", "step", "constant")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
WARMUP_FRACTION = 0.25  # onecycle: share of the steps spent ramping up (Smith & Topin 2017)
WARMUP_START = 1 / 25  # onecycle: first LR as a fraction of the peak (torch's div_factor)


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


def make_optimizer(model: nn.Module, config) -> torch.optim.Optimizer:
    """`config.optimizer` over the model's parameters (`config`: a trainer TrainConfig)."""
    params, wd = model.parameters(), config.weight_decay
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=wd)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=config.lr, weight_decay=wd)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                           nesterov=config.nesterov, weight_decay=wd)
