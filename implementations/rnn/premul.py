"""`premul`: the input projection of every time step in one GEMM, before the loop.

W_ih x_t + b_ih does not depend on the hidden state, so all T of them can be computed at once:

    (T, B, I) @ (I, H) -> (T, B, H)        one large GEMM instead of T small ones

The loop then carries only the truly sequential part, W_hh h_{t-1} + b_hh. This is the
"premul" runner of PyTorch's benchmarks/fastrnns, and what ATen's own CPU RNN does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from implementations.rnn.base import RNNConfig, StackedRNN


def run_layer(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, relu: bool) -> tuple[Tensor, Tensor]:
    """One layer, one direction: x (T, B, I), h (B, H) -> out (T, B, H), h_last (B, H)."""
    x_proj = F.linear(x, w_ih, b_ih)  # (T, B, H): W_ih x_t + b_ih for every t at once
    outputs = []
    for t in range(x.size(0)):
        pre = x_proj[t] + F.linear(h, w_hh, b_hh)  # (B, H)
        h = torch.relu(pre) if relu else torch.tanh(pre)  # (B, H)
        outputs.append(h)
    return torch.stack(outputs), h  # (T, B, H), (B, H)


def build(config: RNNConfig) -> StackedRNN:
    return StackedRNN(config, run_layer)
