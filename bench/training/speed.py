"""Trainer speed options that change how a step runs, never what it computes (issue #12).

- channels-last: activations in NHWC, the layout oneDNN's CPU convolutions prefer;
- compile: `torch.compile` of the model's forward (and so of its backward), compiled before the
  training clock starts on dummy batches of every batch size the run will see, so the compile
  cost is recorded apart (`compile_s`) and the clock times steady-state steps only.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from bench.system.device import synchronize


def memory_format(config) -> torch.memory_format:
    """The layout of a run's model and images: channels-last when the config asks for it."""
    return torch.channels_last if config.channels_last else torch.contiguous_format


def compiled_forward(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                     batch_size: int) -> tuple[Callable[[torch.Tensor], torch.Tensor], float]:
    """(the compiled model, seconds spent compiling). Static shapes (`dynamic=False`): one graph
    for full batches and one for the epoch's short last batch, each compiled here by a forward +
    backward whose effects (gradients, BN statistics) are undone, so training starts from exactly
    the state the eager run would."""
    compiled = torch.compile(model, dynamic=False)
    state = copy.deepcopy(model.state_dict())
    sizes = {min(batch_size, y.numel()), y.numel() % batch_size} - {0}
    synchronize(x.device)
    start = time.perf_counter()
    was_training = model.training
    model.train()
    for size in sorted(sizes, reverse=True):
        F.cross_entropy(compiled(x[:size]), y[:size]).backward()
    synchronize(x.device)
    seconds = time.perf_counter() - start
    model.zero_grad(set_to_none=True)
    model.load_state_dict(state)
    model.train(was_training)
    return compiled, seconds
