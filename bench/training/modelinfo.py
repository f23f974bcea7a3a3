"""Model size and cost: parameter count and forward FLOPs per image.

FLOPs come from torch.utils.flop_counter.FlopCounterMode (a multiply-add counts as 2 FLOPs; only
the ops it has formulas for — matmul, convolution, attention — are counted, so element-wise work
such as BN and activations is not), never from a hand count, so a model change can't go stale here.
Compiled modules are counted eagerly: torch.compile refuses to trace under a dispatch mode, and
the eager graph does the same arithmetic.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

IMAGE_SHAPE = (1, 1, 28, 28)  # one MNIST image, NCHW


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not); buffers such as BN statistics are not counted."""
    return sum(p.numel() for p in model.parameters())


def flops_per_image(model: nn.Module, device: torch.device | str = "cpu") -> int:
    """Forward FLOPs for one (1, 1, 28, 28) image, in eval mode without grad.

    The model is put back in the train/eval mode it was in; its parameters must be on `device`.
    """
    was_training = model.training
    x = torch.zeros(IMAGE_SHAPE, device=device)  # (1, 1, 28, 28)
    model.eval()
    try:
        with (warnings.catch_warnings(), torch.compiler.set_stance("force_eager"),
              torch.no_grad(), FlopCounterMode(display=False) as counter):
            # FlopCounterMode's own global module hooks make torch.compile'd modules warn.
            warnings.filterwarnings("ignore", message=r"Using `torch.compile\(module\)` when")
            model(x)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())


def step_flops(step) -> int:
    """FLOPs of one call of `step()` (forward, and backward when the step runs it), counted
    eagerly under FlopCounterMode; the step's own device synchronisation is harmless here."""
    with (warnings.catch_warnings(), torch.compiler.set_stance("force_eager"),
          FlopCounterMode(display=False) as counter):
        warnings.filterwarnings("ignore", message=r"Using `torch.compile\(module\)` when")
        step()
    return int(counter.get_total_flops())
