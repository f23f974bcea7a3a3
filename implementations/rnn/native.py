"""`native` and `native-nocudnn`: torch.nn.RNN / LSTM / GRU themselves, the baseline.

On CUDA, they run cuDNN's fused RNN kernels; on CPU, ATen's C++ loop (input projection for
all steps in one GEMM, then the recurrence) — or, for a float32 LSTM, oneDNN's fused LSTM.
`native-nocudnn` is the same module run with cuDNN disabled, so CUDA takes ATen's generic
path — the "aten" runner of PyTorch's benchmarks/fastrnns. The two differ only in a context
manager (data, not a copied class).

The context wraps forward only, and that is enough for backward too: autograd records the ops
that forward actually ran. Under cuDNN that is one _cudnn_rnn node (whose backward calls cuDNN);
with cuDNN disabled it is ATen's matmuls, adds and tanh/relu, whose backwards never touch
cuDNN, whatever the cuDNN flag says when backward runs. (tests/test_rnn_gpu.py checks the
recorded graph.)
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from implementations.rnn.base import RNNConfig, require_cuda
from implementations.rnn.checks import check_forward_args

# cudnn.flags() sets every flag it takes, resetting benchmark/deterministic/TF32 to its own
# defaults for the duration unless told None ("keep"); the names differ between torch versions.
_KEEP_OTHER_FLAGS = {name: None for name in inspect.signature(torch.backends.cudnn.flags).parameters
                     if name != "enabled"}


def cudnn_disabled() -> AbstractContextManager[None]:
    """torch.backends.cudnn.flags(enabled=False) that leaves every other cuDNN flag alone."""
    return torch.backends.cudnn.flags(enabled=False, **_KEEP_OTHER_FLAGS)


class _Native(nn.RNNBase):
    """An nn.RNN / LSTM / GRU with this package's input checks, run inside `context()`."""

    def __init__(self, config: RNNConfig, context: Callable[[], AbstractContextManager[None]],
                 cuda_only: str | None = None) -> None:
        # nn.LSTM and nn.GRU take no nonlinearity (RNNConfig refuses a non-default one)
        extra = {"nonlinearity": config.nonlinearity} if config.cell == "rnn" else {}
        super().__init__(config.input_size, config.hidden_size, num_layers=config.num_layers,
                         bias=config.bias, batch_first=config.batch_first,
                         dropout=config.dropout, bidirectional=config.bidirectional, **extra)
        self.config = config
        self.context = context
        self.cuda_only = cuda_only  # the style's name when it must refuse other devices
        self.recorded_warnings: list[str] = []

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        if not isinstance(input, PackedSequence):  # nn.RNN's own extra, left to it
            check_forward_args(self.config, self.weight_ih_l0, input, hx)
        if self.cuda_only:
            require_cuda(self.cuda_only, input)
        with self.context():
            return super().forward(input, hx)


class NativeRNN(_Native, nn.RNN):
    pass


class NativeLSTM(_Native, nn.LSTM):
    pass


class NativeGRU(_Native, nn.GRU):
    pass


CLASSES = {"rnn": NativeRNN, "lstm": NativeLSTM, "gru": NativeGRU}


def build(config: RNNConfig, cudnn: bool = True) -> nn.RNNBase:
    if cudnn:
        return CLASSES[config.cell](config, contextlib.nullcontext)
    return CLASSES[config.cell](config, cudnn_disabled, cuda_only="native-nocudnn")
