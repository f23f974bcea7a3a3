"""`premul`: the input projection of every time step in one GEMM, before the loop.

W_ih x_t + b_ih does not depend on the hidden state, so all T of them can be computed at once
(G gate blocks: 1 for an RNN, 4 for an LSTM, 3 for a GRU):

    (T, B, I) @ (I, G*H) -> (T, B, G*H)        one large GEMM instead of T small ones

The loop then carries only the truly sequential part, W_hh h_{t-1} + b_hh, and the cell
(`cells.step`). This is the
"premul" runner of PyTorch's benchmarks/fastrnns, and what ATen's own CPU RNN does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from implementations.rnn import cells
from implementations.rnn.base import RNNConfig, StackedRNN


def run_layer(x: Tensor, state: list[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, mode: str) -> tuple[Tensor, list[Tensor]]:
    """One layer, one direction: x (T, B, I), state [h] / [h, c] (B, H) -> (T, B, H), state."""
    x_proj = F.linear(x, w_ih, b_ih)  # (T, B, G*H): W_ih x_t + b_ih for every t at once
    outputs = []
    for t in range(x.size(0)):
        gh = F.linear(state[0], w_hh, b_hh)  # (B, G*H)
        state = cells.step(mode, x_proj[t], gh, state)  # [h] or [h, c], (B, H) each
        outputs.append(state[0])
    return torch.stack(outputs), state  # (T, B, H), [(B, H)]


def build(config: RNNConfig) -> StackedRNN:
    return StackedRNN(config, run_layer)
