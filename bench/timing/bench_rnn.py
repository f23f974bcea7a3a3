"""pytest-benchmark cases for the RNN styles, for each cell (vanilla RNN, LSTM, GRU).

`mnistbench run` runs this module through pytest and parametrises `case` with the profile's RNN
cases (bench.timing.cases.rnn_cases); the `timing` fixture comes from bench.timing.harness. Each
case times one style at one shape in one pass:
  forward           the module's forward under no_grad
  forward_backward  forward, then backward from a fixed random gradient on the output sequence
"""

from __future__ import annotations

import dataclasses

import torch

from bench.system.device import synchronize
from bench.training.modelinfo import step_flops
from implementations import rnn


def make_step(case, device: torch.device):
    """Build the style at the case's shape and return (step, model); step() runs one pass."""
    p = case.params
    model = rnn.build(case.implementation, p["input_size"], p["hidden_size"],
                      num_layers=p["num_layers"], bidirectional=p["bidirectional"],
                      cell=p.get("cell", "rnn")).to(device)
    x = torch.randn(p["seq_len"], p["batch"], p["input_size"], device=device)  # (T, B, I)
    if p["pass"] == "forward":
        def step():
            with torch.no_grad():
                model(x)
            synchronize(device)
        return step, model
    directions = 2 if p["bidirectional"] else 1
    grad_out = torch.randn(p["seq_len"], p["batch"], directions * p["hidden_size"],
                           device=device)  # (T, B, D*H), same shape as the output

    def step():
        # gradients start from None every step, as a training step's zero_grad leaves them:
        # compile-cudagraphs keeps them in its graph pool, which the next step overwrites
        model.zero_grad(set_to_none=True)
        output, _ = model(x)
        torch.autograd.backward(output, grad_out)
        synchronize(device)
    return step, model


def workload_flops(case, device: torch.device) -> int:
    """The FLOPs of one step, counted on the `loop` style at the same shape and pass: every
    style does the same arithmetic, and the counter cannot see inside cuDNN's fused kernels."""
    step, _ = make_step(dataclasses.replace(case, implementation="loop"), device)
    return step_flops(step)


def test_rnn(case, block, benchmark, timing):
    def build():
        step, model = make_step(case, timing.device)
        return step, model, (workload_flops(case, timing.device) if timing.count_flops
                             else None)
    timing.measure(benchmark, build)
