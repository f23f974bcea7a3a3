"""`compile` and `compile-cudagraphs`: the `loop` style's layer function under torch.compile.

Dynamo unrolls the Python loop over time into one graph and Inductor fuses it, for the forward
and (through AOTAutograd) the backward pass. Shapes are static (`dynamic=False`): the first call
with a new input shape compiles — seconds, timed separately by the harness — and later calls
with that shape reuse the graph. `fullgraph=True` makes a graph break an error instead of a
silent partial fallback to eager code.

Each built module compiles its *own copy* of the layer function. Dynamo keeps compiled graphs
on the function's code object, shared by every torch.compile wrapper of it, and refuses more
than `torch._dynamo.config.recompile_limit` (8) of them (with fullgraph=True it raises; without,
it silently runs eager code), so a benchmark sweep that builds one module per shape would break
after eight cases. A copied code object gives each module its own cache — and its own limit:
eight graphs per module, counting every distinct (layer input shape, dtype, grad mode) its
layers see (layer 0 reads I features, later layers D*H).

`compile-cudagraphs` (CUDA only) adds mode="reduce-overhead": the compiled graphs are also
captured as CUDA graphs, replayed with one launch. Captured outputs live in a memory pool that
the next step overwrites, so every forward starts a new step
(torch.compiler.cudagraph_mark_step_begin) and returns a copy of its output, which stays valid.
Call backward before the next forward and reset gradients to None between steps
(`zero_grad(set_to_none=True)`, the optimizers' default): the gradients live in the pool too.
"""

from __future__ import annotations

import types
from typing import Any

import torch
from torch import Tensor

from implementations.rnn import loop
from implementations.rnn.base import RNNConfig, StackedRNN, require_cuda


def own_copy(fn: types.FunctionType) -> types.FunctionType:
    """`fn` with a fresh code object, so that dynamo's cache for it is this copy's alone."""
    copy = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__,
                              fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    return copy


class CudaGraphRNN(StackedRNN):
    """StackedRNN whose forward is one CUDA-graph step and returns memory the caller owns."""

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        require_cuda("compile-cudagraphs", input)
        torch.compiler.cudagraph_mark_step_begin()
        output, h_n = super().forward(input, hx)
        # output may be a captured graph's own buffer, which the next step overwrites;
        # h_n is always fresh memory (torch.stack in the driver)
        return output.clone(), h_n


def build(config: RNNConfig, mode: str | None = None, **options: Any) -> StackedRNN:
    """Args: mode: torch.compile's mode ("reduce-overhead" = CUDA graphs); options: more
    torch.compile keyword arguments (tests pass backend="eager" to check caching cheaply)."""
    run_layer = torch.compile(own_copy(loop.run_layer), dynamic=False, fullgraph=True,
                              mode=mode, **options)
    cls = CudaGraphRNN if mode == "reduce-overhead" else StackedRNN
    return cls(config, run_layer)
