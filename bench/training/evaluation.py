"""Evaluation for the trainer: accuracy in eval mode, a class-balanced subset, precise BN.

Every evaluation runs off the training clock (bench.training.trainer stops it around them).
"""

from __future__ import annotations

import torch
from torch import nn

from bench.data.tensors import select_balanced


@torch.no_grad()
def count_correct(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  batch_size: int) -> torch.Tensor:
    """How many of `x` the model classifies as `y`, in eval mode, batched (a device tensor: no
    sync); the model is back in train mode after."""
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for start in range(0, y.numel(), batch_size):
        logits = model(x[start:start + batch_size])  # (B, 10)
        correct += (logits.argmax(dim=1) == y[start:start + batch_size]).sum()
    model.train()
    return correct


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    """Test accuracy (fraction 0..1) in eval mode, batched; one sync at the end."""
    return count_correct(model, x, y, batch_size).item() / y.numel()


def balanced(x: torch.Tensor, y: torch.Tensor,
             limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The class-balanced first `limit` of (x, y) (bench.data.tensors.select_balanced), or all of
    them without a limit."""
    if limit is None or limit >= y.numel():
        return x, y
    keep = select_balanced(y.cpu(), limit).to(y.device)  # the same subset to_tensors would keep
    return x[keep], y[keep]


@torch.no_grad()
def recompute_bn_stats(model: nn.Module, x: torch.Tensor, images: int, batch_size: int) -> None:
    """Precise BN: every BatchNorm layer's running mean and variance become the plain average of
    its batch statistics over the first `images` of `x` (train-mode forwards, no gradients, the
    weights untouched); the model is back in train mode after."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
             and m.track_running_stats]
    if not norms or images < 1:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
    model.train()
    for start in range(0, min(images, x.shape[0]), batch_size):
        model(x[start:min(start + batch_size, images)])
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
