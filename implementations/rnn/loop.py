"""`loop`: the reference style — a Python loop over time steps with two small matmuls per step.

This is the recurrence exactly as written on paper, one time step after the other:

    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

Every step launches its own input GEMM, so nothing is shared across steps; `premul` hoists that
GEMM out of the loop, and `jit` / `compile` hand this very function to TorchScript /
torch.compile. The layer stack, directions and dropout live in `base.StackedRNN`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from implementations.rnn.base import RNNConfig, StackedRNN


# TorchScript (the `jit` style) compiles this function: fully annotated, no closures.
def run_layer(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, relu: bool) -> tuple[Tensor, Tensor]:
    """One layer, one direction: x (T, B, I), h (B, H) -> out (T, B, H), h_last (B, H)."""
    outputs = []
    for t in range(x.size(0)):
        # W_ih: (H, I), W_hh: (H, H); F.linear(a, W, b) = a @ W.T + b
        pre = F.linear(x[t], w_ih, b_ih) + F.linear(h, w_hh, b_hh)  # (B, H)
        h = torch.relu(pre) if relu else torch.tanh(pre)  # (B, H)
        outputs.append(h)
    return torch.stack(outputs), h  # (T, B, H), (B, H)


def build(config: RNNConfig) -> StackedRNN:
    return StackedRNN(config, run_layer)
