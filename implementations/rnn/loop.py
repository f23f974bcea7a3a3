"""`loop`: the reference style — a Python loop over time steps with two small matmuls per step.

This is the recurrence exactly as written on paper, one time step after the other (G gate
blocks: 1 for an RNN, 4 for an LSTM, 3 for a GRU; the cell equations are in `cells.py`):

    gx = W_ih x_t + b_ih  (B, G*H);   gh = W_hh h_{t-1} + b_hh  (B, G*H)
    s_t = cell(gx, gh, s_{t-1})

Every step launches its own input GEMM, so nothing is shared across steps; `premul` hoists that
GEMM out of the loop, and `jit` / `compile` hand this very function to TorchScript /
torch.compile. The layer stack, directions and dropout live in `base.StackedRNN`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from implementations.rnn import cells
from implementations.rnn.base import RNNConfig, StackedRNN


# TorchScript (the `jit` style) compiles this function: fully annotated, no closures.
def run_layer(x: Tensor, state: list[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, mode: str) -> tuple[Tensor, list[Tensor]]:
    """One layer, one direction: x (T, B, I), state [h] / [h, c] (B, H) -> (T, B, H), state."""
    outputs = []
    for t in range(x.size(0)):
        # W_ih: (G*H, I), W_hh: (G*H, H); F.linear(a, W, b) = a @ W.T + b
        gx = F.linear(x[t], w_ih, b_ih)  # (B, G*H)
        gh = F.linear(state[0], w_hh, b_hh)  # (B, G*H)
        state = cells.step(mode, gx, gh, state)  # [h] or [h, c], (B, H) each
        outputs.append(state[0])
    return torch.stack(outputs), state  # (T, B, H), [(B, H)]


def build(config: RNNConfig) -> StackedRNN:
    return StackedRNN(config, run_layer)
