"""`bmm`: the seed tutorial's formulation — weights broadcast over the batch, torch.bmm per step.

At every time step each weight matrix is expanded to one copy per batch element and
*materialised* (`.contiguous()` turns the stride-0 view into real memory), then every sequence
in the batch gets its own matrix-vector product through `torch.bmm`:

    W_ih (H, I) -> (B, H, I) copy;   (B, H, I) @ (B, I, 1) -> (B, H, 1)
    W_hh (H, H) -> (B, H, H) copy;   (B, H, H) @ (B, H, 1) -> (B, H, 1)

That is B * T * (H*I + H*H) numbers copied per layer and direction (and as many summed back in
the backward pass), where `loop` does one (B, I) @ (I, H) GEMM per step instead. The copies are
kept on purpose, faithful to the seed, so the benchmark shows what this formulation costs.
"""

from __future__ import annotations

import torch
from torch import Tensor

from implementations.rnn.base import RNNConfig, StackedRNN


def run_layer(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, relu: bool) -> tuple[Tensor, Tensor]:
    """One layer, one direction: x (T, B, I), h (B, H) -> out (T, B, H), h_last (B, H)."""
    batch = x.size(1)
    outputs = []
    for t in range(x.size(0)):
        # the seed's per-step weight copies, one per batch element (see the module docstring)
        w_ih_batch = w_ih.expand(batch, -1, -1).contiguous()  # (B, H, I)
        w_hh_batch = w_hh.expand(batch, -1, -1).contiguous()  # (B, H, H)
        pre = torch.bmm(w_ih_batch, x[t].unsqueeze(2)) + torch.bmm(w_hh_batch, h.unsqueeze(2))
        pre = pre.squeeze(2)  # (B, H)
        if b_ih is not None and b_hh is not None:
            pre = pre + b_ih + b_hh  # (H,) broadcast over the batch
        h = torch.relu(pre) if relu else torch.tanh(pre)  # (B, H)
        outputs.append(h)
    return torch.stack(outputs), h  # (T, B, H), (B, H)


def build(config: RNNConfig) -> StackedRNN:
    return StackedRNN(config, run_layer)
