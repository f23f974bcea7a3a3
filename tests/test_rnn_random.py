"""Random configurations, as a user (or an independent checker) would try them: build each CPU
style of each cell, load a torch.nn.RNN's (LSTM's, GRU's) state_dict into it, and compare
outputs, final states and every gradient."""

from __future__ import annotations

import random

import pytest
import torch

from implementations import rnn

pytestmark = pytest.mark.usefixtures("one_thread")

REFERENCE = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def _random_case(rng: random.Random, cell: str) -> dict:
    activation = dict(nonlinearity=rng.choice(["tanh", "relu"])) if cell == "rnn" else {}
    return {
        "config": dict(num_layers=rng.randint(1, 3), **activation,
                       bias=rng.choice([True, False]), batch_first=rng.choice([True, False]),
                       dropout=rng.choice([0.0, 0.3]), bidirectional=rng.choice([True, False])),
        "sizes": (rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 6), rng.randint(1, 4)),
        "dtype": rng.choice([torch.float64, torch.float32]),
        "unbatched": rng.random() < 0.3,
        "h0": rng.random() < 0.5,
    }


def _inputs(case: dict, cell: str) -> tuple[torch.Tensor, object]:
    cfg, (inp, hid, steps, batch) = case["config"], case["sizes"]
    layers = cfg["num_layers"] * (2 if cfg["bidirectional"] else 1)
    if case["unbatched"]:
        x_shape, h_shape = (steps, inp), (layers, hid)
    else:
        x_shape = (batch, steps, inp) if cfg["batch_first"] else (steps, batch, inp)
        h_shape = (layers, batch, hid)
    x = torch.randn(*x_shape, dtype=case["dtype"])
    if not case["h0"]:
        return x, None
    states = [torch.randn(*h_shape, dtype=case["dtype"]) for _ in range(1 + (cell == "lstm"))]
    return x, tuple(states) if cell == "lstm" else states[0]


def _run(module: torch.nn.Module, x: torch.Tensor, hx):
    x = x.clone().requires_grad_()
    output, finals = module(x, hx)
    h_n, c_n = finals if isinstance(finals, tuple) else (finals, torch.zeros(()))
    (output.sum() + h_n.pow(2).sum() + c_n.pow(3).sum()).backward()
    grads = {name: p.grad for name, p in module.named_parameters()}
    return output, h_n, c_n, x.grad, grads


@pytest.mark.filterwarnings("ignore:dropout option adds dropout:UserWarning")
@pytest.mark.parametrize(("cell", "seed"), [(cell, seed) for cell in REFERENCE
                                            for seed in range(12 if cell == "rnn" else 8)])
def test_random_configuration_matches_nn(cell, seed):
    rng = random.Random(seed)
    case = _random_case(rng, cell)
    torch.manual_seed(seed)
    inp, hid = case["sizes"][:2]
    reference = REFERENCE[cell](inp, hid, **case["config"]).to(case["dtype"]).eval()
    x, hx = _inputs(case, cell)
    expected = _run(reference, x, hx)
    tol = 1e-10 if case["dtype"] == torch.float64 else 1e-5
    for style in rnn.styles("cpu", cell):
        if style == "compile":  # compile: see test_rnn_parity.py
            continue
        module = rnn.build(style, inp, hid, cell=cell, **case["config"]).to(case["dtype"]).eval()
        module.load_state_dict(reference.state_dict())
        got = _run(module, x, hx)
        parts = ("output", "h_n", "c_n", "input grad")
        for want, have, what in zip(expected[:4], got[:4], parts, strict=True):
            torch.testing.assert_close(have, want, atol=tol, rtol=tol,
                                       msg=f"{style} {what} differs for {case}")
        assert got[4].keys() == expected[4].keys()
        for name, grad in expected[4].items():
            torch.testing.assert_close(got[4][name], grad, atol=tol * 10, rtol=tol * 10,
                                       msg=f"{style} grad of {name} differs for {case}")
