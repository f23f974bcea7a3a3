"""What every RNN style shares: the configuration, nn.RNN/LSTM/GRU's parameters and the driver.

A recurrent layer computes, for t = 0 .. T-1, the state s_t from x_t and s_{t-1}. The cells
(equations in `cells.py`; G gate blocks stacked in W_ih (G*H, I) and W_hh (G*H, H)):

    rnn  (G=1)  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)           s = h
    lstm (G=4)  gates i, f, g, o;  c_t = f*c_{t-1} + i*g;  h_t = o*tanh(c_t)  s = (h, c)
    gru  (G=3)  gates r, z, n;     h_t = (1 - z)*n + z*h_{t-1}             s = h

A style is one function that runs this recurrence for one layer in one direction:

    run_layer(x, state, w_ih, w_hh, b_ih, b_hh, mode) -> (out, state_last)
        x (T, B, I); state [h] or, for an LSTM, [h, c], each (B, H); b_* None without bias
        mode: nn.RNNBase's own name of the cell, "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU"
        -> out (T, B, H) holding every h_t, state_last: the state at T-1, as `state`

`StackedRNN` owns everything else, once for all styles and cells: nn.RNN/LSTM/GRU's parameter
names, shapes and initialisation (so `load_state_dict(nn.LSTM(...).state_dict())` works,
strict), input checks, batch_first and unbatched input, the stack of layers, the reverse
direction (the same recurrence over the time-flipped sequence) and dropout between layers in
training mode.
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

from implementations.rnn.checks import check_forward_args

CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # gate blocks stacked in W_ih, W_hh (nn's order)
NONLINEARITIES = ("tanh", "relu")

# (x, state, w_ih, w_hh, b_ih, b_hh, mode) -> (out, state_last); see the module docstring.
LayerFn = Callable[..., tuple[Tensor, list[Tensor]]]
# h_n, or (h_n, c_n) for an LSTM: what forward returns beside the output, and takes as hx
State = Tensor | tuple[Tensor, Tensor]


@dataclass(frozen=True)
class RNNConfig:
    """nn.RNN/LSTM/GRU's constructor arguments, checked once (every error is a ValueError)."""

    input_size: int
    hidden_size: int
    num_layers: int = 1
    nonlinearity: str = "tanh"  # "tanh" | "relu", as nn.RNN; an LSTM or GRU fixes its own
    bias: bool = True  # False: no bias_* parameters at all, as nn.RNN
    batch_first: bool = False  # input/output (B, T, F) instead of (T, B, F); h stays (L*D, B, H)
    dropout: float = 0.0  # on every layer's output but the last, in training mode only
    bidirectional: bool = False
    cell: str = "rnn"  # "rnn" (nn.RNN) | "lstm" (nn.LSTM) | "gru" (nn.GRU)

    def __post_init__(self) -> None:
        for name in ("input_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}: choose one of "
                             f"{', '.join(map(repr, CELLS))}")
        if self.nonlinearity not in NONLINEARITIES:
            raise ValueError(f"unknown nonlinearity {self.nonlinearity!r}: "
                             f"choose one of {', '.join(map(repr, NONLINEARITIES))}")
        if self.cell != "rnn" and self.nonlinearity != "tanh":
            raise ValueError(f"nonlinearity={self.nonlinearity!r} applies to cell='rnn' only: "
                             f"an {self.cell.upper()} has fixed activations, so leave it 'tanh'")
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

    @property
    def mode(self) -> str:
        """nn.RNNBase's `mode`: "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU"."""
        return f"RNN_{self.nonlinearity.upper()}" if self.cell == "rnn" else self.cell.upper()

    @property
    def num_states(self) -> int:
        """1 (h) or, for an LSTM, 2 (h, c)."""
        return 2 if self.cell == "lstm" else 1


def parameter_names(config: RNNConfig) -> list[tuple[str, ...]]:
    """nn.RNN's parameter names, one tuple per (layer, direction) in nn.RNN's order.

    Each tuple is (weight_ih, weight_hh[, bias_ih, bias_hh]) for layer l, direction d, e.g.
    ("weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse").
    """
    kinds = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if config.bias else [])
    return [tuple(f"{kind}_l{layer}{'_reverse' if direction else ''}" for kind in kinds)
            for layer in range(config.num_layers) for direction in range(config.num_directions)]


def add_parameters(module: nn.Module, config: RNNConfig) -> list[tuple[str, ...]]:
    """Register nn.RNN/LSTM/GRU's parameters on `module` (names, shapes, order), initialised.

    Registration order equals nn's and the init draws from the same generator in the same
    order, so under the same seed the values equal a freshly built nn.RNN/LSTM/GRU's too.
    """
    names = parameter_names(config)
    hidden, rows = config.hidden_size, GATES[config.cell] * config.hidden_size
    for index, group in enumerate(names):
        layer = index // config.num_directions
        # layer 0 reads the input; later layers read the previous layer's (T, B, D*H) output
        layer_input = config.input_size if layer == 0 else hidden * config.num_directions
        shapes = [(rows, layer_input), (rows, hidden), (rows,), (rows,)][:len(group)]
        for name, shape in zip(group, shapes, strict=True):
            module.register_parameter(name, nn.Parameter(torch.empty(shape)))
    # nn.RNNBase.reset_parameters: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))
    bound = 1.0 / math.sqrt(hidden)
    for parameter in module.parameters():
        nn.init.uniform_(parameter, -bound, bound)
    return names


class StackedRNN(nn.Module):
    """nn.RNN/LSTM/GRU's interface and parameters around one style's `run_layer` function.

    forward(input, hx=None) -> (output, h_n), or for an LSTM (output, (h_n, c_n)); shapes as nn:
        input (T, B, I) [(B, T, I) if batch_first] or unbatched (T, I)
        hx    (L*D, B, H) or unbatched (L*D, H); an LSTM's (h0, c0) both so; zeros when None
        output (T, B, D*H) [(B, T, D*H) if batch_first] or unbatched (T, D*H)
        h_n, c_n   (L*D, B, H) or unbatched (L*D, H)
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
        # nn.RNNBase's attributes, for code that reads them
        self.mode = config.mode
        for name in ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias",
                     "batch_first", "bidirectional"):
            setattr(self, name, getattr(config, name))
        self.dropout = float(config.dropout)
        self.proj_size = 0
        self.recorded_warnings: list[str] = []  # warnings a style swallowed on purpose
        self._names = add_parameters(self, config)

    def forward(self, input: Tensor, hx: State | None = None) -> tuple[Tensor, State]:
        check_forward_args(self.config, self.weight_ih_l0, input, hx)
        unbatched = input.dim() == 2
        x = input.unsqueeze(1) if unbatched else input  # (T, 1, I) for one sequence
        if self.batch_first and not unbatched:
            x = x.transpose(0, 1)  # (T, B, I)
        if hx is None:  # (L*D, B, H) zeros: h0, and c0 for an LSTM
            states = [x.new_zeros(len(self._names), x.size(1), self.hidden_size)
                      for _ in range(self.config.num_states)]
        else:
            states = list(hx) if self.config.cell == "lstm" else [hx]
            states = [s.unsqueeze(1) for s in states] if unbatched else states  # (L*D, 1, H)
        output, finals = self._run_layers(x, states)  # (T, B, D*H), [(L*D, B, H)] * S
        if unbatched:
            output, finals = output.squeeze(1), [s.squeeze(1) for s in finals]  # (T, D*H) ..
        elif self.batch_first:
            output = output.transpose(0, 1)  # (B, T, D*H)
        return output, (finals[0], finals[1]) if self.config.cell == "lstm" else finals[0]

    def _run_layers(self, x: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        """x (T, B, I), states S x (L*D, B, H) -> output (T, B, D*H), S x (L*D, B, H)."""
        finals: list[list[Tensor]] = []  # per (layer, direction): the state at the end
        for layer in range(self.num_layers):
            x, layer_finals = self._run_layer(layer, x, states)  # (T, B, D*H), D x [S x (B, H)]
            finals.extend(layer_finals)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)  # as ATen's _rnn_impl
        return x, [torch.stack(parts) for parts in zip(*finals, strict=True)]

    def _run_layer(self, layer: int, x: Tensor,
                   states: list[Tensor]) -> tuple[Tensor, list[list[Tensor]]]:
        """Every direction of one layer: x (T, B, I_l) -> (T, B, D*H), D final states."""
        outputs, finals = [], []
        for direction in range(self.config.num_directions):
            index = layer * self.config.num_directions + direction  # nn.RNN's h0/h_n order
            w_ih, w_hh, *biases = [getattr(self, name) for name in self._names[index]]
            b_ih, b_hh = biases or (None, None)
            # the reverse direction is the same recurrence over the time-flipped sequence
            seq = x.flip(0) if direction else x  # (T, B, I_l)
            state = [s[index] for s in states]  # [h] or [h, c], each (B, H)
            out, last = self.run_layer(seq, state, w_ih, w_hh, b_ih, b_hh, self.mode)
            outputs.append(out.flip(0) if direction else out)  # (T, B, H), in time order
            finals.append(last)
        return torch.cat(outputs, dim=2) if len(outputs) > 1 else outputs[0], finals

    def extra_repr(self) -> str:
        c = self.config
        cell = "" if c.cell == "rnn" else f"cell={c.cell!r}, "
        return (f"{c.input_size}, {c.hidden_size}, {cell}num_layers={c.num_layers}, "
                f"nonlinearity={c.nonlinearity!r}, bias={c.bias}, batch_first={c.batch_first}, "
                f"dropout={c.dropout}, bidirectional={c.bidirectional}")


def require_cuda(style: str, input: Tensor) -> None:
    """Stop a CUDA-only style from silently running (as something else) on another device."""
    if isinstance(input, Tensor) and input.device.type != "cuda":
        raise ValueError(f"style {style!r} runs on CUDA only but the input is on "
                         f"{input.device.type}: move module and input to a CUDA device, or pick "
                         f"a style from implementations.rnn.styles({input.device.type!r})")
