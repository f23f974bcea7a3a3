"""What every RNN style shares: the configuration, nn.RNN's parameters and the layer driver.

A vanilla (Elman) RNN layer computes, for t = 0 .. T-1,

    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        act = tanh or relu

A style is one function that runs this recurrence for one layer in one direction:

    run_layer(x, h, w_ih, w_hh, b_ih, b_hh, relu) -> (out, h_last)
        x (T, B, I), h (B, H)  ->  out (T, B, H) holding every h_t, h_last (B, H)

`StackedRNN` owns everything else, once for all styles: torch.nn.RNN's parameter names, shapes
and initialisation (so `load_state_dict(nn.RNN(...).state_dict())` works, strict), input checks,
batch_first and unbatched input, the stack of layers, the reverse direction (the same recurrence
over the time-flipped sequence) and dropout between layers in training mode.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

NONLINEARITIES = ("tanh", "relu")

# (x, h, w_ih, w_hh, b_ih, b_hh, relu) -> (out, h_last); see the module docstring.
LayerFn = Callable[..., tuple[Tensor, Tensor]]


@dataclass(frozen=True)
class RNNConfig:
    """torch.nn.RNN's constructor arguments, checked once (every error is a ValueError)."""

    input_size: int
    hidden_size: int
    num_layers: int = 1
    nonlinearity: str = "tanh"  # "tanh" | "relu", as nn.RNN
    bias: bool = True  # False: no bias_* parameters at all, as nn.RNN
    batch_first: bool = False  # input/output (B, T, F) instead of (T, B, F); h stays (L*D, B, H)
    dropout: float = 0.0  # on every layer's output but the last, in training mode only
    bidirectional: bool = False

    def __post_init__(self) -> None:
        for name in ("input_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.nonlinearity not in NONLINEARITIES:
            raise ValueError(f"unknown nonlinearity {self.nonlinearity!r}: "
                             f"choose one of {', '.join(map(repr, NONLINEARITIES))}")
        for name in ("bias", "batch_first", "bidirectional"):
            value = getattr(self, name)
            if not isinstance(value, bool) and value in (0, 1):  # nn.RNN takes 0/1 as flags
                object.__setattr__(self, name, bool(value))
            elif not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        p = self.dropout
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1], got {p!r}")

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1


def parameter_names(config: RNNConfig) -> list[tuple[str, ...]]:
    """nn.RNN's parameter names, one tuple per (layer, direction) in nn.RNN's order.

    Each tuple is (weight_ih, weight_hh[, bias_ih, bias_hh]) for layer l, direction d, e.g.
    ("weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse").
    """
    kinds = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if config.bias else [])
    return [tuple(f"{kind}_l{layer}{'_reverse' if direction else ''}" for kind in kinds)
            for layer in range(config.num_layers) for direction in range(config.num_directions)]


def add_parameters(module: nn.Module, config: RNNConfig) -> list[tuple[str, ...]]:
    """Register nn.RNN's parameters on `module` (names, shapes, order) and initialise them.

    Registration order equals nn.RNN's and the init draws from the same generator in the same
    order, so under the same seed the values equal a freshly built nn.RNN's too.
    """
    names = parameter_names(config)
    hidden = config.hidden_size
    for index, group in enumerate(names):
        layer = index // config.num_directions
        # layer 0 reads the input; later layers read the previous layer's (T, B, D*H) output
        layer_input = config.input_size if layer == 0 else hidden * config.num_directions
        shapes = [(hidden, layer_input), (hidden, hidden), (hidden,), (hidden,)][:len(group)]
        for name, shape in zip(group, shapes, strict=True):
            module.register_parameter(name, nn.Parameter(torch.empty(shape)))
    # nn.RNN.reset_parameters: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))
    bound = 1.0 / math.sqrt(hidden)
    for parameter in module.parameters():
        nn.init.uniform_(parameter, -bound, bound)
    return names


def check_forward_args(config: RNNConfig, weight: Tensor, input: Tensor,
                       hx: Tensor | None) -> None:
    """Refuse what nn.RNN refuses, each with one ValueError sentence saying what to pass."""
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
        expected = (config.num_layers * config.num_directions, *batch, config.hidden_size)
        if tuple(hx.shape) != expected:
            raise ValueError(f"hx must have shape {expected} (num_layers * num_directions, "
                             f"{'' if batch else 'no '}batch, hidden_size), "
                             f"got {tuple(hx.shape)}")


class StackedRNN(nn.Module):
    """torch.nn.RNN's interface and parameters around one style's `run_layer` function.

    forward(input, hx=None) -> (output, h_n), shapes as nn.RNN:
        input (T, B, I) [(B, T, I) if batch_first] or unbatched (T, I)
        hx    (L*D, B, H) or unbatched (L*D, H); zeros when None
        output (T, B, D*H) [(B, T, D*H) if batch_first] or unbatched (T, D*H)
        h_n   (L*D, B, H) or unbatched (L*D, H)
    """

    def __init__(self, config: RNNConfig, run_layer: LayerFn) -> None:
        super().__init__()
        if config.dropout > 0 and config.num_layers == 1:
            # nn.RNN's own warning for the same argument mistake
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={config.dropout} and num_layers=1", stacklevel=3)
        self.config = config
        self.run_layer = run_layer
        # nn.RNN's attributes, for code that reads them
        self.mode = "RNN_RELU" if config.nonlinearity == "relu" else "RNN_TANH"
        for name in ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias",
                     "batch_first", "bidirectional"):
            setattr(self, name, getattr(config, name))
        self.dropout = float(config.dropout)
        self.proj_size = 0
        self.recorded_warnings: list[str] = []  # warnings a style swallowed on purpose
        self._names = add_parameters(self, config)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_forward_args(self.config, self.weight_ih_l0, input, hx)
        unbatched = input.dim() == 2
        x = input.unsqueeze(1) if unbatched else input  # (T, 1, I) for one sequence
        if self.batch_first and not unbatched:
            x = x.transpose(0, 1)  # (T, B, I)
        if hx is None:
            hx = x.new_zeros(len(self._names), x.size(1), self.hidden_size)  # (L*D, B, H)
        elif unbatched:
            hx = hx.unsqueeze(1)  # (L*D, 1, H)
        output, h_n = self._run_layers(x, hx)  # (T, B, D*H), (L*D, B, H)
        if unbatched:
            return output.squeeze(1), h_n.squeeze(1)  # (T, D*H), (L*D, H)
        if self.batch_first:
            output = output.transpose(0, 1)  # (B, T, D*H)
        return output, h_n

    def _run_layers(self, x: Tensor, hx: Tensor) -> tuple[Tensor, Tensor]:
        """x (T, B, I), hx (L*D, B, H) -> output (T, B, D*H), h_n (L*D, B, H)."""
        finals: list[Tensor] = []
        for layer in range(self.num_layers):
            x, layer_finals = self._run_layer(layer, x, hx)  # (T, B, D*H), D x (B, H)
            finals.extend(layer_finals)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)  # as ATen's _rnn_impl
        return x, torch.stack(finals)

    def _run_layer(self, layer: int, x: Tensor, hx: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Every direction of one layer: x (T, B, I_l) -> (T, B, D*H), D final states (B, H)."""
        outputs, finals = [], []
        for direction in range(self.config.num_directions):
            index = layer * self.config.num_directions + direction  # nn.RNN's h0/h_n order
            w_ih, w_hh, *biases = [getattr(self, name) for name in self._names[index]]
            b_ih, b_hh = biases or (None, None)
            # the reverse direction is the same recurrence over the time-flipped sequence
            seq = x.flip(0) if direction else x  # (T, B, I_l)
            out, h_last = self.run_layer(seq, hx[index], w_ih, w_hh, b_ih, b_hh,
                                         self.nonlinearity == "relu")
            outputs.append(out.flip(0) if direction else out)  # (T, B, H), in time order
            finals.append(h_last)  # (B, H)
        return torch.cat(outputs, dim=2) if len(outputs) > 1 else outputs[0], finals

    def extra_repr(self) -> str:
        c = self.config
        return (f"{c.input_size}, {c.hidden_size}, num_layers={c.num_layers}, "
                f"nonlinearity={c.nonlinearity!r}, bias={c.bias}, batch_first={c.batch_first}, "
                f"dropout={c.dropout}, bidirectional={c.bidirectional}")


def require_cuda(style: str, input: Tensor) -> None:
    """Stop a CUDA-only style from silently running (as something else) on another device."""
    if isinstance(input, Tensor) and input.device.type != "cuda":
        raise ValueError(f"style {style!r} runs on CUDA only but the input is on "
                         f"{input.device.type}: move module and input to a CUDA device, or pick "
                         f"a style from implementations.rnn.styles({input.device.type!r})")
