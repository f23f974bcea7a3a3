"""One time step of each cell, given its two gate pre-activations; shared by the eager styles.

The styles differ in how they compute, per step t and with G gate blocks of H rows each,

    gx = W_ih x_t + b_ih          (B, G*H)
    gh = W_hh h_{t-1} + b_hh      (B, G*H)

and hand both to `step`, which applies the cell exactly as torch.nn documents it:

    RNN_TANH / RNN_RELU   h = act(gx + gh)
    LSTM  (i, f, g, o)    i, f, o = sigmoid(gx + gh)[i, f, o];  g = tanh(gx + gh)[g]
                          c = f * c_{t-1} + i * g;   h = o * tanh(c)
    GRU   (r, z, n)       r, z = sigmoid(gx_r + gh_r), sigmoid(gx_z + gh_z)
                          n = tanh(gx_n + r * gh_n);  h = (1 - z) * n + z * h_{t-1}

The GRU's reset gate multiplies the whole recurrent term W_hn h + b_hn, which is why gx and gh
stay apart until here. TorchScript compiles this with the `jit` style's loop: annotated, no
closures, the state a list ([h], or [h, c] for an LSTM).
"""

from __future__ import annotations

import torch
from torch import Tensor


def step(mode: str, gx: Tensor, gh: Tensor, state: list[Tensor]) -> list[Tensor]:
    """gx, gh (B, G*H), state [h] or [h, c] (B, H) -> the next state, the same structure."""
    if mode == "LSTM":
        i, f, g, o = (gx + gh).chunk(4, 1)  # (B, H) each
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return [torch.sigmoid(o) * torch.tanh(c), c]
    if mode == "GRU":
        x_r, x_z, x_n = gx.chunk(3, 1)  # (B, H) each
        h_r, h_z, h_n = gh.chunk(3, 1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return [(1 - z) * n + z * state[0]]
    pre = gx + gh  # (B, H)
    return [torch.relu(pre) if mode == "RNN_RELU" else torch.tanh(pre)]
