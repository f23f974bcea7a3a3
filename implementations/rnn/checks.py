"""The forward-time input checks every style shares: refuse what nn.RNN/LSTM/GRU refuse.

Each refusal is one ValueError sentence that says what was passed and what to pass instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

if TYPE_CHECKING:
    from implementations.rnn.base import RNNConfig


def check_forward_args(config: RNNConfig, weight: Tensor, input: Any, hx: Any) -> None:
    """input (T, B, I) / (B, T, I) / unbatched (T, I); hx h0, or (h0, c0) for an LSTM."""
    if isinstance(input, PackedSequence):
        raise ValueError("PackedSequence input is supported by style 'native' only: pad it "
                         "(torch.nn.utils.rnn.pad_packed_sequence) or build style 'native'")
    if not isinstance(input, Tensor):
        raise ValueError(f"input must be a torch.Tensor, got {type(input).__name__}")
    layout = "(batch, seq, feature)" if config.batch_first else "(seq, batch, feature)"
    if input.dim() not in (2, 3):
        raise ValueError(f"input must be 3-D {layout}, or 2-D (seq, feature) for one unbatched "
                         f"sequence, got shape {tuple(input.shape)}")
    if input.size(-1) != config.input_size:
        raise ValueError(f"input has {input.size(-1)} features per step but the RNN was built "
                         f"with input_size={config.input_size}")
    steps = input.size(0) if input.dim() == 2 or not config.batch_first else input.size(1)
    if steps == 0:
        raise ValueError("input has no time steps: pass a sequence of length 1 or more")
    if input.dtype != weight.dtype:
        raise ValueError(f"input dtype {input.dtype} does not match the weights' {weight.dtype}: "
                         f"convert one of them with .to()")
    if hx is not None:
        batch = () if input.dim() == 2 else (input.size(0 if config.batch_first else 1),)
        for name, state in _states(config, hx):
            _check_state(config, batch, name, state)


def _states(config: RNNConfig, hx: Any) -> list[tuple[str, Any]]:
    """[("hx", h0)], or for an LSTM [("h0", h0), ("c0", c0)]; refuses the other structure."""
    if config.cell != "lstm":
        if not isinstance(hx, Tensor):
            raise ValueError(f"hx of a {config.cell.upper()} must be one tensor h0, got "
                             f"{type(hx).__name__}: only an LSTM takes a tuple (h0, c0)")
        return [("hx", hx)]
    if not isinstance(hx, tuple | list) or len(hx) != 2:
        raise ValueError(f"hx of an LSTM must be a tuple (h0, c0) of two tensors, got "
                         f"{type(hx).__name__}")
    return [("h0", hx[0]), ("c0", hx[1])]


def _check_state(config: RNNConfig, batch: tuple[int, ...], name: str, state: Any) -> None:
    expected = (config.num_layers * config.num_directions, *batch, config.hidden_size)
    if not isinstance(state, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape {expected}, got "
                         f"{type(state).__name__}")
    if tuple(state.shape) != expected:
        raise ValueError(f"{name} must have shape {expected} (num_layers * num_directions, "
                         f"{'' if batch else 'no '}batch, hidden_size), "
                         f"got {tuple(state.shape)}")
