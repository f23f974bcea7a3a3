"""`jit`: the `loop` style's layer function compiled by TorchScript (torch.jit.script).

TorchScript is deprecated upstream (torch.jit.script warns with a FutureWarning in recent
releases) but it is kept: it is the classic way to speed up such a loop, and the benchmark shows
what it still buys. Only the per-layer loop is scripted; the layer stack, directions and dropout
stay in Python (`base.StackedRNN`), so `model.train()` / `model.eval()` keep working.

The deprecation warning is caught when scripting and kept on every built module as
`recorded_warnings` (list of str) instead of being printed at users; the benchmark harness copies
it into the results.
"""

from __future__ import annotations

import functools
import warnings

import torch
from torch import Tensor

from implementations.rnn import loop
from implementations.rnn.base import RNNConfig, StackedRNN


@functools.cache
def scripted_loop() -> tuple[torch.jit.ScriptFunction, tuple[str, ...]]:
    """`loop.run_layer` scripted once per process, with the text of the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scripted = torch.jit.script(loop.run_layer)
    # each function it compiles (the loop, cells.step) may warn: keep each message once
    return scripted, tuple(dict.fromkeys(str(w.message) for w in caught))


def run_layer(x: Tensor, state: list[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, mode: str) -> tuple[Tensor, list[Tensor]]:
    """`loop.run_layer` run by TorchScript: x (T, B, I), state [h] / [h, c] -> (T, B, H), state.

    A plain function around the ScriptFunction, so that modules stay deep-copyable and
    picklable (a ScriptFunction is neither).
    """
    return scripted_loop()[0](x, state, w_ih, w_hh, b_ih, b_hh, mode)


def build(config: RNNConfig) -> StackedRNN:
    module = StackedRNN(config, run_layer)
    module.recorded_warnings = list(scripted_loop()[1])
    return module
