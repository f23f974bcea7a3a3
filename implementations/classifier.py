"""An MNIST classifier that reads the image row by row through any RNN style.

Each of the 28 rows is one time step of 28 features; the last layer's final hidden state h_n
(an LSTM's too: h, not the cell state c) goes through a linear layer to 10 logits. Because every
style has nn.RNN's (LSTM's, GRU's) parameter names, one state_dict loads into a classifier of
any style of that cell, so styles can be compared on the same weights.

    from implementations.classifier import RowRNNClassifier
    model = RowRNNClassifier("premul", hidden_size=128)   # (N, 1, 28, 28) -> (N, 10)
    model = RowRNNClassifier("bptt", cell="lstm")          # any style, any cell
"""

from __future__ import annotations

import torch
from torch import nn

from implementations import rnn

ROWS = 28  # time steps: one per image row
COLS = 28  # features per step: the pixels of one row
NUM_CLASSES = 10


class RowRNNClassifier(nn.Module):
    """`(N, 1, 28, 28) -> (N, 10)` logits from the last hidden state of an RNN over the rows.

    Args:
        style: a name from `implementations.rnn.styles(cell=cell)`.
        hidden_size, num_layers, nonlinearity, bidirectional: passed to `implementations.rnn.build`.
        cell: "rnn" | "lstm" | "gru" (`implementations.rnn.CELLS`).
    """

    def __init__(self, style: str, hidden_size: int = 128, num_layers: int = 1,
                 nonlinearity: str = "tanh", bidirectional: bool = False,
                 cell: str = "rnn") -> None:
        super().__init__()
        self.style = style
        self.cell = cell
        # what builds the same network in another style (see `in_style`)
        self.hyperparameters = dict(hidden_size=hidden_size, num_layers=num_layers,
                                    nonlinearity=nonlinearity, bidirectional=bidirectional,
                                    cell=cell)
        self.rnn = rnn.build(style, COLS, hidden_size, num_layers=num_layers,
                             nonlinearity=nonlinearity, bidirectional=bidirectional, cell=cell)
        self.directions = 2 if bidirectional else 1
        self.fc = nn.Linear(hidden_size * self.directions, NUM_CLASSES)

    def in_style(self, style: str) -> RowRNNClassifier:
        """A classifier of the same shape in another style (fresh weights, on the CPU)."""
        return RowRNNClassifier(style, **self.hyperparameters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq = x.reshape(x.shape[0], ROWS, COLS).transpose(0, 1).contiguous()  # (T=28, N, 28)
        _, state = self.rnn(seq)  # h_n, or an LSTM's (h_n, c_n)
        h_n = state[0] if isinstance(state, tuple) else state  # (layers * directions, N, H)
        last = h_n[-self.directions:]  # (directions, N, H): the last layer only
        return self.fc(torch.cat(list(last), dim=1))  # (N, H * directions) -> (N, 10)
