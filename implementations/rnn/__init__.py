"""The RNN registry: every style of RNN, LSTM and GRU by name, read by the CLI, benchmarks, report.

    build(style, input_size, hidden_size, ..., cell="rnn") -> nn.Module   torch.nn.RNN's interface
    styles(device=None, cell="rnn") -> list[str]                what runs for that cell there
    describe() -> list[StyleInfo]                                one record per style
    CELLS = ("rnn", "lstm", "gru")                               nn.RNN, nn.LSTM, nn.GRU

Every style has torch.nn.RNN's (LSTM's, GRU's) parameter names, shapes and init, and its forward
semantics; they differ only in how one layer's loop over time is computed (see each module's
docstring).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from implementations.rnn import bmm, bptt, compiled, jit, loop, native, premul
from implementations.rnn.base import CELLS, RNNConfig

__all__ = ["CELLS", "StyleInfo", "build", "describe", "styles"]

CPU_AND_CUDA = ("cpu", "cuda")
CUDA_ONLY = ("cuda",)


@dataclass(frozen=True)
class StyleInfo:
    name: str  # registry name, e.g. "premul"
    summary: str  # one line for tables and `mnistbench list`
    devices: tuple[str, ...]  # device types it runs on: ("cpu", "cuda") or ("cuda",)
    deprecated: bool = False  # built on an API that upstream deprecates (TorchScript)
    compiles: bool = False  # the first call per input shape compiles (harness times it apart)
    cells: tuple[str, ...] = CELLS  # the cells it builds: "rnn", "lstm", "gru"
    baseline: bool = False  # the style every other one is compared against (reports read this)
    double_backward: bool = True  # gradients are themselves differentiable (create_graph=True)


@dataclass(frozen=True)
class _Style:
    info: StyleInfo
    make: Callable[[RNNConfig], nn.Module]


_STYLES: dict[str, _Style] = {s.info.name: s for s in (
    _Style(StyleInfo("loop", "Python loop over time steps, two matmuls per step (reference)",
                     CPU_AND_CUDA), loop.build),
    _Style(StyleInfo("bmm", "seed tutorial: weights copied per batch element every step, "
                     "torch.bmm", CPU_AND_CUDA), bmm.build),
    _Style(StyleInfo("premul", "input projection for all steps in one GEMM, loop carries only "
                     "the recurrence", CPU_AND_CUDA), premul.build),
    _Style(StyleInfo("jit", "TorchScript-scripted loop (torch.jit.script is deprecated "
                     "upstream)", CPU_AND_CUDA, deprecated=True), jit.build),
    _Style(StyleInfo("compile", "torch.compile of the loop, static shapes (compiles per input "
                     "shape)", CPU_AND_CUDA, compiles=True), compiled.build),
    _Style(StyleInfo("compile-cudagraphs", "torch.compile mode=reduce-overhead: compiled loop "
                     "replayed as CUDA graphs", CUDA_ONLY, compiles=True),
           partial(compiled.build, mode="reduce-overhead")),
    _Style(StyleInfo("bptt", "autograd.Function per layer, hand-written backward through time "
                     "(no double backward)", CPU_AND_CUDA, double_backward=False), bptt.build),
    _Style(StyleInfo("native", "torch.nn.RNN/LSTM/GRU: cuDNN on CUDA, ATen's C++ loop on CPU",
                     CPU_AND_CUDA, baseline=True), native.build),
    _Style(StyleInfo("native-nocudnn", "torch.nn.RNN/LSTM/GRU with cuDNN disabled: ATen's "
                     "generic CUDA path", CUDA_ONLY), partial(native.build, cudnn=False)),
)}


def build(style: str, input_size: int, hidden_size: int, num_layers: int = 1,
          nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
          dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
          cell: str = "rnn") -> nn.Module:
    """A `style` RNN, LSTM or GRU (`cell`) with torch.nn's arguments, parameters and semantics.

    Raises:
        ValueError: unknown style or cell, proj_size other than 0, nonlinearity for an LSTM or
            GRU, or an argument torch.nn refuses.
    """
    if style not in _STYLES:
        raise ValueError(f"unknown RNN style {style!r}: choose one of {', '.join(_STYLES)}")
    if proj_size != 0:
        raise ValueError(f"proj_size={proj_size!r} is not supported: no style here builds an "
                         "LSTM with projections (nn.RNN and nn.GRU have none); use proj_size=0, "
                         "or torch.nn.LSTM(proj_size=...) directly")
    config = RNNConfig(input_size, hidden_size, num_layers, nonlinearity, bias, batch_first,
                       dropout, bidirectional, cell)
    return _STYLES[style].make(config)


def styles(device: str | torch.device | None = None, cell: str = "rnn", *,
           here: bool = True) -> list[str]:
    """The styles that build `cell` and run on `device` (None: this machine's CPU), in order;
    with here=False, those registered for that kind of device whether or not this machine has
    one (what a run made on a GPU planned, read back on a CPU-only machine)."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}: choose one of {', '.join(map(repr, CELLS))}")
    kind = torch.device("cpu" if device is None else device).type
    if here and kind == "cuda" and not torch.cuda.is_available():
        return []
    return [name for name, style in _STYLES.items()
            if kind in style.info.devices and cell in style.info.cells]


def describe() -> list[StyleInfo]:
    """One StyleInfo per registered style, in registry order."""
    return [style.info for style in _STYLES.values()]
