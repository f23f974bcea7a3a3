"""`bmm`: the seed tutorial's formulation — weights broadcast over the batch, torch.bmm per step.

At every time step each weight matrix is expanded to one copy per batch element and
*materialised* (`.contiguous()` turns the stride-0 view into real memory), then every sequence
in the batch gets its own matrix-vector product through `torch.bmm` (G gate blocks: 1 for an
RNN, 4 for an LSTM, 3 for a GRU; the cell equations are in `cells.py`):

    W_ih (G*H, I) -> (B, G*H, I) copy;   (B, G*H, I) @ (B, I, 1) -> (B, G*H, 1)
    W_hh (G*H, H) -> (B, G*H, H) copy;   (B, G*H, H) @ (B, H, 1) -> (B, G*H, 1)

That is B * T * G * (H*I + H*H) numbers copied per layer and direction (and as many summed back in
the backward pass), where `loop` does one (B, I) @ (I, H) GEMM per step instead. The copies are
kept on purpose, faithful to the seed, so the benchmark shows what this formulation costs.
"""

from __future__ import annotations

import torch
from torch import Tensor

from implementations.rnn import cells
from implementations.rnn.base import RNNConfig, StackedRNN


def run_layer(x: Tensor, state: list[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, mode: str) -> tuple[Tensor, list[Tensor]]:
    """One layer, one direction: x (T, B, I), state [h] / [h, c] (B, H) -> (T, B, H), state."""
    batch = x.size(1)
    outputs = []
    for t in range(x.size(0)):
        # the seed's per-step weight copies, one per batch element (see the module docstring)
        w_ih_batch = w_ih.expand(batch, -1, -1).contiguous()  # (B, G*H, I)
        w_hh_batch = w_hh.expand(batch, -1, -1).contiguous()  # (B, G*H, H)
        gx = torch.bmm(w_ih_batch, x[t].unsqueeze(2)).squeeze(2)  # (B, G*H)
        gh = torch.bmm(w_hh_batch, state[0].unsqueeze(2)).squeeze(2)  # (B, G*H)
        if b_ih is not None and b_hh is not None:
            gx, gh = gx + b_ih, gh + b_hh  # (G*H,) broadcast over the batch
        state = cells.step(mode, gx, gh, state)  # [h] or [h, c], (B, H) each
        outputs.append(state[0])
    return torch.stack(outputs), state  # (T, B, H), [(B, H)]


def build(config: RNNConfig) -> StackedRNN:
    return StackedRNN(config, run_layer)
