"""The RNN registry: every style of vanilla RNN by name, read by the CLI, benchmarks and report.

    build(style, input_size, hidden_size, ...) -> nn.Module     torch.nn.RNN's interface
    styles(device=None) -> list[str]                             what runs on that device
    describe() -> list[StyleInfo]                                one record per style

Every style has torch.nn.RNN's parameter names, shapes and init, and its forward semantics;
they differ only in how one layer's loop over time is computed (see each module's docstring).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from implementations.rnn import bmm, compiled, jit, loop, native, premul
from implementations.rnn.base import RNNConfig

__all__ = ["StyleInfo", "build", "describe", "styles"]

CPU_AND_CUDA = ("cpu", "cuda")
CUDA_ONLY = ("cuda",)


@dataclass(frozen=True)
class StyleInfo:
    name: str  # registry name, e.g. "premul"
    summary: str  # one line for tables and `mnistbench list`
    devices: tuple[str, ...]  # device types it runs on: ("cpu", "cuda") or ("cuda",)
    deprecated: bool = False  # built on an API that upstream deprecates (TorchScript)
    compiles: bool = False  # the first call per input shape compiles (harness times it apart)


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
    _Style(StyleInfo("native", "torch.nn.RNN: cuDNN on CUDA, ATen's C++ loop on CPU",
                     CPU_AND_CUDA), native.build),
    _Style(StyleInfo("native-nocudnn", "torch.nn.RNN with cuDNN disabled: ATen's generic "
                     "CUDA path", CUDA_ONLY), partial(native.build, cudnn=False)),
)}


def build(style: str, input_size: int, hidden_size: int, num_layers: int = 1,
          nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
          dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0) -> nn.Module:
    """A `style` RNN with torch.nn.RNN's arguments, parameters and forward semantics.

    Raises:
        ValueError: unknown style, proj_size other than 0, or an argument nn.RNN refuses.
    """
    if style not in _STYLES:
        raise ValueError(f"unknown RNN style {style!r}: choose one of {', '.join(_STYLES)}")
    if proj_size != 0:
        raise ValueError(f"proj_size={proj_size!r} is not supported: a vanilla RNN has no "
                         "projection (nn.RNN allows it only for LSTM); use proj_size=0")
    config = RNNConfig(input_size, hidden_size, num_layers, nonlinearity, bias, batch_first,
                       dropout, bidirectional)
    return _STYLES[style].make(config)


def styles(device: str | torch.device | None = None) -> list[str]:
    """The styles that can run on `device` (None: this machine's CPU), in registry order."""
    kind = torch.device("cpu" if device is None else device).type
    if kind == "cuda" and not torch.cuda.is_available():
        return []
    return [name for name, style in _STYLES.items() if kind in style.info.devices]


def describe() -> list[StyleInfo]:
    """One StyleInfo per registered style, in registry order."""
    return [style.info for style in _STYLES.values()]
